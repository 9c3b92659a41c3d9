/*
 * metrics.h -- GET /metrics: the running daemon's counters and states in
 * the Prometheus text exposition format, version 0.0.4 (what `promtool
 * check metrics` accepts). The HTTP responder (http/http.h) serves it.
 *
 * Families (every one with its # HELP and # TYPE lines, printed once,
 * even when it has no sample yet; label values escaped per the format):
 *
 *   arcdns_build_info{version}                          gauge, 1
 *   arcdns_dns_queries_total{view,qtype,rcode,transport} counter
 *       answered queries (dns/listen.h: view by name, "(none)" when no
 *       view answered, "(other)" beyond the 32nd view; qtype and rcode
 *       buckets as dns_qm_*_name(); transport udp|tcp). Only cells that
 *       counted something are printed.
 *   arcdns_dns_dropped_total, arcdns_dns_truncated_total   counters
 *   arcdns_dns_tcp_accepted_total, arcdns_dns_tcp_shed_total,
 *   arcdns_dns_tcp_timeouts_total                          counters
 *   arcdns_reloads_total, arcdns_table_rebuilds_total      counters
 *   arcdns_zone_serial{zone,origin}                        gauge
 *       the SOA serial of each zone block (config order)
 *   arcdns_control_state{control}                          gauge
 *       1 On, 0 Off, -1 unknown, per configured control
 *   arcdns_mirror_stale                                    gauge, 1/0
 *   arcdns_mirror_staleness_seconds                        gauge
 *       seconds since the last successful ARC poll (+Inf: none yet)
 *   arcdns_mirror_last_success_timestamp_seconds           gauge
 *       wall clock of the last successful poll (0: none yet)
 *   arcdns_mirror_stale_after_seconds                      gauge
 *   arcdns_arc_polls_total{outcome}                        counter
 *       outcome ok|failed (complete polls)
 *   arcdns_arc_control_changes_total                       counter
 *   arcdns_arc_requests_started_total{endpoint,url}        counter
 *   arcdns_arc_requests_total{endpoint,url,outcome}        counter
 *       finished requests; outcome ok|endpoint|throttle|auth|config
 *       (arc_client.h: started >= the sum; a cancelled hedge never ends)
 *   arcdns_arc_request_duration_seconds{endpoint,url}      histogram
 *       le 0.005 .. 2.5, +Inf (arc_lat_bound_ms())
 *   arcdns_arc_endpoint_healthy{endpoint,url}              gauge, 1/0
 *   arcdns_fence_state{fence,phase}                        gauge
 *       per fence, one sample per phase (fence_phase_name()): 1 for the
 *       current phase, 0 for the others
 * "endpoint" is the endpoint's region, "url" its URL, in config order.
 * The mirror and ARC families have no samples without an arc: section.
 *
 * Main thread only (the loop that runs the ARC client and the policy);
 * the DNS counters are read with relaxed loads while the workers run.
 * Costs O(controls + endpoints + zones + fences + DNS_QM_CELLS), no I/O.
 */
#ifndef REPORT_METRICS_H
#define REPORT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct runtime;

#define REPORT_METRICS_CONTENT_TYPE \
	"text/plain; version=0.0.4; charset=utf-8"

/* The whole exposition: a new string (free()), never NULL. */
char	*report_metrics(const struct runtime *rt);
/* The same at now_ms (wall clock, ms since the epoch), for tests. */
char	*report_metrics_at(const struct runtime *rt, uint64_t now_ms);

/* ---- the format, exposed for the unit tests ------------------------- */

struct metrics_out;

struct metrics_label {
	const char	*name;		/* [a-zA-Z_][a-zA-Z0-9_]* */
	const char	*value;		/* any UTF-8; escaped on output */
};

/* A new, empty exposition. Never fails (aborts on OOM). */
struct metrics_out	*metrics_out_new(void);
/* The text so far as a new string (free()); o is freed. */
char			*metrics_out_finish(struct metrics_out *o);

/*
 * Start family name (borrowed during the call): its # HELP (help escaped:
 * '\\' and newline) and # TYPE lines (type: counter, gauge, histogram).
 * Every sample until the next family belongs to it. A family started
 * twice is a bug (assert).
 */
void	metrics_family(struct metrics_out *o, const char *name,
	    const char *type, const char *help);
/*
 * One sample of the current family: its name plus suffix ("" or e.g.
 * "_bucket"), nlabels labels, and value as text (e.g. "1", "-1", "+Inf",
 * "0.25").
 */
void	metrics_sample(struct metrics_out *o, const char *suffix,
	    const struct metrics_label *labels, size_t nlabels,
	    const char *value);
void	metrics_sample_u64(struct metrics_out *o, const char *suffix,
	    const struct metrics_label *labels, size_t nlabels, uint64_t v);
void	metrics_sample_i64(struct metrics_out *o, const char *suffix,
	    const struct metrics_label *labels, size_t nlabels, int64_t v);
/*
 * A histogram of the current family: cum[k] (cumulative counts) for the
 * nbuckets upper bounds bound_ms[k] (milliseconds, printed as seconds;
 * UINT64_MAX: +Inf, which must be the last), then _sum (sum_ms as
 * seconds) and _count (cum of the last bucket). labels come before le.
 * At most 8 labels.
 */
void	metrics_histogram(struct metrics_out *o,
	    const struct metrics_label *labels, size_t nlabels,
	    const uint64_t *bound_ms, const uint64_t *cum, size_t nbuckets,
	    uint64_t sum_ms);

/* ms as seconds, shortest exact decimal ("0.005", "2.5", "12"). */
void	metrics_fmt_ms(uint64_t ms, char *buf, size_t bufsz);
/*
 * A label value escaped for the format ('\\' -> "\\\\", '"' -> "\\\"",
 * newline -> "\\n"), as a new string.
 */
char	*metrics_escape(const char *value);

#endif
