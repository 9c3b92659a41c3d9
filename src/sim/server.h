/*
 * server.h -- arcsim's I/O shell: five regional endpoints and the admin
 * interface, all evhttp servers on one event base.
 *
 * Endpoint i (0..4) listens on listen:base_port+i and stands for the
 * region sim_server_region(i): us-east-1, us-west-2, eu-west-1,
 * ap-northeast-1, ap-southeast-2. Each serves HTTPS (a bufferevent_openssl
 * per connection) or, with no TLS context, plain HTTP. A request goes
 * through, in order:
 *   1. the endpoint's fault (below);
 *   2. POST on /v1, /v1/ or / (else UnknownOperationException, 405/404);
 *   3. SigV4 (arc/sigv4.h) with the endpoint's region, service
 *      route53-recovery-cluster, 300 s of skew: refusals are 403
 *      MissingAuthenticationTokenException, InvalidSignatureException,
 *      UnrecognizedClientException or ExpiredTokenException;
 *   4. for UpdateRoutingControlState(s), the rate limit: at most
 *      rate_limit such calls in any second per endpoint (ARC's quota is
 *      3), beyond that ThrottlingException (429, retryAfterSeconds 1);
 *   5. sim_api_call() (api.h); after an update that changed something,
 *      the cluster is saved to state_path when one is given.
 * Replies carry Content-Type application/x-amz-json-1.0, x-amzn-RequestId
 * (a random UUID), X-Amzn-ErrorType on errors and Retry-After when the
 * error has retryAfterSeconds. Every request is logged on one line (http
 * source, info): region, operation, status and __type, latency.
 *
 * Faults, per endpoint, set through the admin interface:
 *   ok           normal service
 *   down         the listening socket is closed and every open connection
 *                dropped: clients get "connection refused"
 *   hang         requests are read and held, never answered (until the
 *                fault changes: then their connections are closed; at
 *                most 256 per endpoint, beyond that the oldest is dropped)
 *   http500      500 InternalServerException
 *   unavailable  503 EndpointTemporarilyUnavailableException
 *   throttle     429 ThrottlingException, retryAfterSeconds = retry_after
 *                (and Retry-After)
 *   garbage      200 with a body that is not JSON
 *   slow         normal service, each answer delay_ms late (a timer: the
 *                loop never blocks, the other endpoints are not slowed)
 *
 * Admin interface (plain HTTP, not part of AWS; JSON in and out; errors
 * are {"error": "..."} with 400, 404 or 405):
 *   GET  /state                     the cluster's controls (cluster.h
 *                                   sim_cluster_state_json) plus
 *                                   "endpoints": [{"index", "region",
 *                                   "url", "fault": {"mode", "delay_ms",
 *                                   "retry_after"}}]
 *   PUT  /endpoints/{0..4}/fault    {"mode": "...", "delay_ms": N,
 *                                   "retry_after": N}; mode required,
 *                                   delay_ms 0..600000 (default 1000, slow
 *                                   only), retry_after 0..3600 (default 1,
 *                                   throttle only); answers the endpoint
 *   POST /reset                     every endpoint back to ok (and the
 *                                   rate limit windows cleared)
 *
 * Everything here runs on the loop's thread; nothing blocks.
 */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "util/netaddr.h"

struct event_base;
struct sim_cluster;
struct sim_tls;
struct sim_server;

#define SIM_NENDPOINTS		5
#define SIM_MAX_SKEW		300	/* seconds, X-Amz-Date vs now */
#define SIM_RATE_LIMIT		3	/* updates per second per endpoint */

struct sim_server_opts {
	const char		*listen;	/* address, e.g. "127.0.0.1", "::1" */
	int			 base_port;	/* endpoints base..base+4 */
	const struct netaddr	*admin;		/* NULL: no admin interface */
	struct sim_tls		*tls;		/* NULL: plain HTTP */
	const char		*state_path;	/* NULL: nothing saved */
	int			 rate_limit;	/* updates/s/endpoint; 0: none */
	/* Wall clock, ms since the epoch; NULL: the system clock. */
	uint64_t		(*now_ms)(void *arg);
	void			*now_arg;
};

/* The region of endpoint i (static string), or NULL when i is out of range. */
const char	*sim_server_region(int i);

/*
 * Create the endpoints and the admin interface on base and bind them all.
 * Everything in opts is borrowed and must outlive the server; so must
 * cluster. Returns 0 and a new server, or a negative code with a new
 * message in *errmsg ("127.0.0.1:8440: Address already in use").
 */
int	sim_server_new(struct event_base *base, struct sim_cluster *cluster,
	    const struct sim_server_opts *opts, struct sim_server **out,
	    char **errmsg) __attribute__((warn_unused_result));

/* NULL-safe. Closes every socket and drops held requests. */
void	sim_server_free(struct sim_server *s);

/* The URL of endpoint i, "https://127.0.0.1:8440/v1" (borrowed). */
const char	*sim_server_url(const struct sim_server *s, int i);

/* "http://127.0.0.1:8445" or NULL without an admin interface (borrowed). */
const char	*sim_server_admin_url(const struct sim_server *s);

/* "https://127.0.0.1:N..N+4"-style summary for the ready line (new). */
char		*sim_server_describe(const struct sim_server *s);

#endif
