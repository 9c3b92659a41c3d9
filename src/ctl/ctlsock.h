/*
 * ctlsock.h -- the control socket: arcdnsctl's way into a running daemon.
 *
 * A unix stream socket at server.control, mode 0660, group
 * server.control-group when set. The protocol (arcdnsctl(8) PROTOCOL):
 * one JSON object per line in, one JSON object per line out, in order,
 * any number of requests per connection:
 *
 *   {"cmd":"status"}                       -> report of the running state
 *   {"cmd":"controls"}                     -> the mirror's controls
 *   {"cmd":"stats"}                        -> DNS, rebuild and ARC counters
 *   {"cmd":"reload"}                       -> runtime_reload()
 *   {"cmd":"what-if","states":{"east":"off"}} -> report/whatif.h
 *   {"cmd":"fence-status"}                 -> every fence (fences_json)
 *   {"cmd":"fence","name":"db"}            -> fences_manual()
 *   {"cmd":"fence-confirm","name":"db"}    -> fences_confirm()
 *
 * Every reply has "ok": true with the command's fields, or "ok": false
 * with "error": a message (bad JSON, unknown command, a failed reload...).
 *
 * Limits: a request line is at most CTLSOCK_MAX_LINE bytes (a longer one
 * gets an error reply and the connection is closed); at most
 * CTLSOCK_MAX_CLIENTS connections (more are closed at once). A client
 * that does not read its replies is not read from while more than
 * CTLSOCK_MAX_OUT bytes wait for it; a client that sends nothing, or
 * takes none of its replies, for CTLSOCK_IDLE_MS is dropped. The daemon
 * never blocks on a client.
 *
 * The socket is created by ctlsock_bind() before privileges are dropped
 * and served on the main loop from ctlsock_start(). Main thread only.
 */
#ifndef CTL_CTLSOCK_H
#define CTL_CTLSOCK_H

#include <jansson.h>
#include <stddef.h>

#define CTLSOCK_MAX_LINE	65536
#define CTLSOCK_MAX_CLIENTS	64
#define CTLSOCK_MAX_OUT		(1024u * 1024)
#define CTLSOCK_IDLE_MS		60000

struct conf_server;
struct ctlsock;
struct event_base;
struct runtime;

/*
 * Create the socket file srv->control (borrowed during the call) and
 * listen. A socket file nobody listens on (left by a previous run) is
 * replaced; a live one (another daemon) or any other kind of file is an
 * error, never removed. srv->control_group (when set) must name a group:
 * the file is chowned to it. Returns 0 with *out new, or a negative
 * error with a new message in *errmsg.
 */
int	ctlsock_bind(const struct conf_server *srv, struct ctlsock **out,
	    char **errmsg) __attribute__((warn_unused_result));

/*
 * Accept connections on base, answering with rt (both borrowed until
 * ctlsock_free). Returns 0, or ERR_IO with *errmsg.
 */
int	ctlsock_start(struct ctlsock *cs, struct event_base *base,
	    struct runtime *rt, char **errmsg)
	    __attribute__((warn_unused_result));

/* NULL-safe: closes every connection and removes the socket file. */
void	ctlsock_free(struct ctlsock *cs);

/*
 * One request line (len bytes, no newline needed) -> a new reply object.
 * Runs the command against rt (reload and what-if included). For tests
 * and fuzzers as well as the socket.
 */
json_t	*ctlsock_handle(struct runtime *rt, const char *line, size_t len);

#endif
