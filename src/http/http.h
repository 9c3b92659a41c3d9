/*
 * http.h -- the HTTP health responder (server.http): libevent's evhttp on
 * the main loop, read-only, answering from report/state.h (and
 * report/metrics.h for /metrics).
 *
 * Routes (GET and HEAD; any other method: 405 with "Allow: GET, HEAD"):
 *   /healthz               200 "ok" while the process serves
 *   /readyz                200 or 503, JSON {"ready":..,"reasons":[..]}
 *   /v1/state              200, JSON (report_state())
 *   /v1/controls/<name>    200 On, 503 Off or unknown, 404 unknown name
 *   /v1/regions/<region>   200 active (its control On), 503, 404
 *   /v1/role/<region>      200 "active"/"passive", 503 "unknown", 404
 *   /metrics               200, Prometheus text format 0.0.4
 *   anything else          404
 * JSON bodies end in a newline; every answer has "Cache-Control:
 * no-store". Path segments are percent-decoded; a segment with a '/' or
 * a NUL in it is 404.
 *
 * Limits, so that a slow or hostile client costs little and never
 * delays DNS (which runs on its own threads anyway): request line and
 * headers HTTP_MAX_HEADERS bytes (beyond: the connection is failed),
 * body HTTP_MAX_BODY bytes (413), HTTP_TIMEOUT_S seconds of read/write
 * inactivity per connection (then closed), HTTP_LIFETIME_S seconds per
 * connection whatever it does (keep-alive clients reconnect), at most
 * HTTP_MAX_CONNECTIONS
 * open connections: at the cap the listener stops accepting and further
 * clients wait in the kernel's listen queue (HTTP_BACKLOG) until a
 * connection closes. When accept() fails (out of file descriptors) the
 * listener stops for a second rather than spin. Handlers are O(state
 * size) and never block.
 *
 * libevent 2.1 has no evhttp_set_max_connections: connections are
 * counted in the bufferevent callback (evhttp_set_bevcb) and uncounted in
 * the connection's close callback, attached right after the accept from a
 * deferred event (see http.c), which also arms the lifetime deadline.
 */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http;
struct netaddr;
struct runtime;

#define HTTP_MAX_HEADERS	8192
#define HTTP_MAX_BODY		1024
#define HTTP_TIMEOUT_S		5
#define HTTP_LIFETIME_S		10
#define HTTP_MAX_CONNECTIONS	64
#define HTTP_BACKLOG		128

/*
 * Open the listening socket for addr (before privileges are dropped).
 * Returns 0 with *out, or -errno with a new message in *errmsg ("cannot
 * listen on 127.0.0.1:8053 (http): Address already in use").
 */
int	http_bind(const struct netaddr *addr, struct http **out,
	    char **errmsg) __attribute__((warn_unused_result));

/*
 * Serve on base (the main loop), answering from rt (borrowed: both must
 * outlive h). Returns 0, or ERR_IO with *errmsg.
 */
int	http_start(struct http *h, struct event_base *base,
	    const struct runtime *rt, char **errmsg)
	    __attribute__((warn_unused_result));

/* NULL-safe: closes every connection and the socket. */
void	http_free(struct http *h);

/* Counters, for tests and logs. */
struct http_stats {
	size_t		open;		/* connections open now */
	uint64_t	accepted;	/* connections accepted */
	uint64_t	requests;	/* requests answered by a route */
	uint64_t	paused;		/* times the cap stopped accepting */
	uint64_t	expired;	/* closed at HTTP_LIFETIME_S */
};
void	http_stats(const struct http *h, struct http_stats *out);

#endif
