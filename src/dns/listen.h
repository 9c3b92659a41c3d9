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

#include <stdbool.h>
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

/*
 * Queries by (view, qtype, rcode) for /metrics: a fixed matrix of
 * counters per UDP socket thread and per TCP worker, bumped with relaxed
 * stores by its one writer (no lock, no allocation) for every query that
 * gets an answer (rcode as sent; a zone transfer counts once). Cell
 * dns_qm_cell(): (view * DNS_QM_QTYPES + qtype bucket) * DNS_QM_RCODES +
 * rcode bucket. Views are indexes into the published table's views (the
 * config's order, conf->views): 0..DNS_QM_MAXVIEWS-1, DNS_QM_VIEW_OTHER
 * for a higher index, DNS_QM_VIEW_NONE when no view answered (REFUSED,
 * CHAOS, malformed). Buckets are named by dns_qm_qtype_name() ("A" "AAAA"
 * "CNAME" "MX" "NS" "SOA" "TXT" "SRV" "PTR" "DS" "ANY" "AXFR" "IXFR"
 * "other") and dns_qm_rcode_name() ("NOERROR" "FORMERR" "SERVFAIL"
 * "NXDOMAIN" "NOTIMP" "REFUSED" "NOTAUTH" "BADVERS" "other").
 */
#define DNS_QM_MAXVIEWS		32
#define DNS_QM_VIEW_OTHER	DNS_QM_MAXVIEWS
#define DNS_QM_VIEW_NONE	(DNS_QM_MAXVIEWS + 1)
#define DNS_QM_VIEWS		(DNS_QM_MAXVIEWS + 2)
#define DNS_QM_QTYPES		14
#define DNS_QM_RCODES		9
#define DNS_QM_CELLS		(DNS_QM_VIEWS * DNS_QM_QTYPES * DNS_QM_RCODES)

/* The cell of a query: view index (-1: none), qtype, 12-bit rcode. */
size_t		 dns_qm_cell(int view, uint16_t qtype, uint16_t rcode);
/* Bucket names (static strings); NULL past the last bucket. */
const char	*dns_qm_qtype_name(size_t bucket);
const char	*dns_qm_rcode_name(size_t bucket);
/*
 * out[DNS_QM_CELLS] = the sum over every UDP socket thread (tcp false) or
 * every TCP worker (tcp true), relaxed reads. Any thread.
 */
void	dns_listener_queries(const struct dns_listener *l, bool tcp,
	    uint64_t *out);

#endif
