/*
 * listen.h -- DNS sockets and the worker threads that serve them.
 *
 * dns_listener_new() binds every listen address of the config, UDP and
 * TCP, once per worker (SO_REUSEPORT), before privileges are dropped.
 * dns_listener_start() then runs, per worker, one thread with its own
 * libevent base for TCP, and one thread per UDP socket that blocks in
 * recvmmsg() and answers each batch (no poll per batch: half the system
 * calls of an event loop, as gdnsd does). Workers answer from the table published in
 * the snapshot given at creation (answer.h); they never wait on anything
 * but their own sockets.
 *
 * TCP follows RFC 7766: two-byte length prefix, pipelined queries answered
 * in order, an idle timeout, and a cap on open connections; when the cap
 * is reached the connection idle the longest is closed for the new one.
 */
#ifndef DNS_LISTEN_H
#define DNS_LISTEN_H

#include <stddef.h>
#include <stdint.h>

struct conf_server;
struct dns_listener;
struct snapshot;

/* Counters of one worker, summed by dns_listener_stats(). */
struct dns_stats {
	uint64_t	udp_queries;
	uint64_t	tcp_queries;
	uint64_t	rcode[6];	/* NOERROR..REFUSED as sent */
	uint64_t	badvers;
	uint64_t	truncated;
	uint64_t	dropped;
	uint64_t	tcp_accepted;
	uint64_t	tcp_shed;	/* closed to make room */
	uint64_t	tcp_timeouts;
};

/* Snapshot reader slots the listener for srv uses (see snapshot.h). */
size_t	dns_listener_nreaders(const struct conf_server *srv);

/*
 * Bind the sockets for srv (borrowed during the call) and prepare
 * srv->workers workers reading tables from snap (borrowed; it must have
 * dns_listener_nreaders(srv) reader slots). Returns 0, or -errno with a
 * new message in *errmsg naming the address.
 */
int	dns_listener_new(const struct conf_server *srv, struct snapshot *snap,
	    struct dns_listener **out, char **errmsg)
	    __attribute__((warn_unused_result));

/* Start the worker threads. Returns 0 or -errno. */
int	dns_listener_start(struct dns_listener *l)
	    __attribute__((warn_unused_result));

/* Stop the workers (if started) and wait for them. Callable once. */
void	dns_listener_stop(struct dns_listener *l);

/* NULL-safe; stops first if needed, closes every socket. */
void	dns_listener_free(struct dns_listener *l);

/* Sum of every worker's counters (relaxed reads). */
void	dns_listener_stats(const struct dns_listener *l, struct dns_stats *out);

#endif
