#include "report/metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc/arc_client.h"
#include "conf/conf.h"
#include "dns/listen.h"
#include "fence/fence.h"
#include "mirror/mirror.h"
#include "policy/policy.h"
#include "runtime.h"
#include "util/xalloc.h"

#define MAX_FAMILIES	64
#define MAX_LABELS	8

struct metrics_out {
	char		*buf;
	size_t		 len, cap;
	char		*family;		/* the current one */
	char		*seen[MAX_FAMILIES];	/* families started */
	size_t		 nseen;
};

/* --- the format ------------------------------------------------------------- */

static void
put(struct metrics_out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		while (o->len + n + 1 > o->cap)
			o->cap = o->cap < 4096 ? 4096 : o->cap * 2;
		o->buf = xrealloc(o->buf, o->cap, 1);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
puts_(struct metrics_out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* s with '\\' and newline escaped, and '"' too when quote. */
static void
put_escaped(struct metrics_out *o, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			put(o, "\\\\", 2);
		else if (*s == '\n')
			put(o, "\\n", 2);
		else if (*s == '"' && quote)
			put(o, "\\\"", 2);
		else
			put(o, s, 1);
	}
}

struct metrics_out *
metrics_out_new(void)
{
	struct metrics_out *o = xcalloc(1, sizeof(*o));

	put(o, "", 0);
	return o;
}

char *
metrics_out_finish(struct metrics_out *o)
{
	char *s = o->buf;

	for (size_t i = 0; i < o->nseen; i++)
		free(o->seen[i]);
	free(o);
	return s;
}

void
metrics_family(struct metrics_out *o, const char *name, const char *type,
    const char *help)
{
	for (size_t i = 0; i < o->nseen; i++)
		assert(strcmp(o->seen[i], name) != 0);
	assert(o->nseen < MAX_FAMILIES);
	o->seen[o->nseen++] = o->family = xstrdup(name);
	puts_(o, "# HELP ");
	puts_(o, name);
	puts_(o, " ");
	put_escaped(o, help, false);
	puts_(o, "\n# TYPE ");
	puts_(o, name);
	puts_(o, " ");
	puts_(o, type);
	puts_(o, "\n");
}

void
metrics_sample(struct metrics_out *o, const char *suffix,
    const struct metrics_label *labels, size_t nlabels, const char *value)
{
	assert(o->family != NULL);
	puts_(o, o->family);
	puts_(o, suffix);
	for (size_t i = 0; i < nlabels; i++) {
		puts_(o, i == 0 ? "{" : ",");
		puts_(o, labels[i].name);
		puts_(o, "=\"");
		put_escaped(o, labels[i].value, true);
		puts_(o, "\"");
	}
	puts_(o, nlabels > 0 ? "} " : " ");
	puts_(o, value);
	puts_(o, "\n");
}

void
metrics_sample_u64(struct metrics_out *o, const char *suffix,
    const struct metrics_label *labels, size_t nlabels, uint64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRIu64, v);
	metrics_sample(o, suffix, labels, nlabels, text);
}

void
metrics_sample_i64(struct metrics_out *o, const char *suffix,
    const struct metrics_label *labels, size_t nlabels, int64_t v)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRId64, v);
	metrics_sample(o, suffix, labels, nlabels, text);
}

void
metrics_fmt_ms(uint64_t ms, char *buf, size_t bufsz)
{
	unsigned frac = (unsigned)(ms % 1000);
	int n;

	if (frac == 0) {
		snprintf(buf, bufsz, "%" PRIu64, ms / 1000);
		return;
	}
	n = snprintf(buf, bufsz, "%" PRIu64 ".%03u", ms / 1000, frac);
	/* Exact decimals: drop the trailing zeros of the fraction. */
	while (n > 0 && (size_t)n < bufsz && buf[n - 1] == '0')
		buf[--n] = '\0';
}

void
metrics_histogram(struct metrics_out *o, const struct metrics_label *labels,
    size_t nlabels, const uint64_t *bound_ms, const uint64_t *cum,
    size_t nbuckets, uint64_t sum_ms)
{
	struct metrics_label l[MAX_LABELS + 1];
	char le[32];

	assert(nlabels <= MAX_LABELS && nbuckets > 0 &&
	    bound_ms[nbuckets - 1] == UINT64_MAX);
	if (nlabels > 0)
		memcpy(l, labels, nlabels * sizeof(*l));
	for (size_t k = 0; k < nbuckets; k++) {
		if (bound_ms[k] == UINT64_MAX)
			snprintf(le, sizeof(le), "+Inf");
		else
			metrics_fmt_ms(bound_ms[k], le, sizeof(le));
		l[nlabels] = (struct metrics_label){"le", le};
		metrics_sample_u64(o, "_bucket", l, nlabels + 1, cum[k]);
	}
	metrics_fmt_ms(sum_ms, le, sizeof(le));
	metrics_sample(o, "_sum", labels, nlabels, le);
	metrics_sample_u64(o, "_count", labels, nlabels, cum[nbuckets - 1]);
}

char *
metrics_escape(const char *value)
{
	struct metrics_out *o = metrics_out_new();

	put_escaped(o, value, true);
	return metrics_out_finish(o);
}

/* --- the daemon's families ---------------------------------------------------- */

static void
build_info(struct metrics_out *o)
{
	struct metrics_label l[] = {{"version", PACKAGE_VERSION}};

	metrics_family(o, "arcdns_build_info", "gauge",
	    "arcdns build information; always 1.");
	metrics_sample(o, "", l, 1, "1");
}

/* The name of view bucket v for the current config. */
static const char *
view_label(const struct conf *conf, size_t v)
{
	if (v == DNS_QM_VIEW_NONE)
		return "(none)";
	if (v == DNS_QM_VIEW_OTHER || v >= conf->nviews)
		return "(other)";
	return conf->views[v].name;
}

static void
dns_queries(struct metrics_out *o, const struct runtime *rt)
{
	static const char *const transports[] = {"udp", "tcp"};
	uint64_t *cells = xcalloc(DNS_QM_CELLS, sizeof(*cells));
	struct metrics_label l[4];

	metrics_family(o, "arcdns_dns_queries_total", "counter",
	    "DNS queries answered, by view, query type bucket, response "
	    "code as sent and transport.");
	for (size_t t = 0; rt->dns != NULL && t < 2; t++) {
		dns_listener_queries(rt->dns, t == 1, cells);
		for (size_t c = 0; c < DNS_QM_CELLS; c++) {
			size_t r = c % DNS_QM_RCODES;
			size_t q = c / DNS_QM_RCODES % DNS_QM_QTYPES;
			size_t v = c / DNS_QM_RCODES / DNS_QM_QTYPES;

			if (cells[c] == 0)
				continue;
			l[0] = (struct metrics_label){"view",
			    view_label(rt->cur.conf, v)};
			l[1] = (struct metrics_label){"qtype",
			    dns_qm_qtype_name(q)};
			l[2] = (struct metrics_label){"rcode",
			    dns_qm_rcode_name(r)};
			l[3] = (struct metrics_label){"transport",
			    transports[t]};
			metrics_sample_u64(o, "", l, 4, cells[c]);
		}
	}
	free(cells);
}

static void
counter(struct metrics_out *o, const char *name, const char *help,
    bool have, uint64_t v)
{
	metrics_family(o, name, "counter", help);
	if (have)
		metrics_sample_u64(o, "", NULL, 0, v);
}

static void
dns_stats(struct metrics_out *o, const struct runtime *rt)
{
	struct dns_stats st = {0};
	bool have = rt->dns != NULL;

	if (have)
		dns_listener_stats(rt->dns, &st);
	counter(o, "arcdns_dns_dropped_total", "DNS messages that got no "
	    "response at all (not queries, runts, garbage on TCP).", have,
	    st.dropped);
	counter(o, "arcdns_dns_truncated_total", "UDP responses sent "
	    "truncated (TC).", have, st.truncated);
	counter(o, "arcdns_dns_tcp_accepted_total", "DNS TCP connections "
	    "accepted.", have, st.tcp_accepted);
	counter(o, "arcdns_dns_tcp_shed_total", "DNS TCP connections closed "
	    "to make room for a new one (tcp-max-connections).", have,
	    st.tcp_shed);
	counter(o, "arcdns_dns_tcp_timeouts_total", "DNS TCP connections "
	    "closed after tcp-idle-timeout.", have, st.tcp_timeouts);
}

static void
runtime_counters(struct metrics_out *o, const struct runtime *rt)
{
	counter(o, "arcdns_reloads_total", "Successful reloads of the "
	    "configuration (SIGHUP, arcdnsctl reload).", true, rt->reloads);
	counter(o, "arcdns_table_rebuilds_total", "Answer tables built and "
	    "published after a control state change.", true, rt->rebuilds);
}

static void
zone_serials(struct metrics_out *o, const struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;

	metrics_family(o, "arcdns_zone_serial", "gauge",
	    "The SOA serial each zone block serves.");
	for (size_t i = 0; rt->cur.policy != NULL && i < conf->nzones; i++) {
		struct metrics_label l[] = {
			{"zone", conf->zones[i].id},
			{"origin", conf->zones[i].origin},
		};

		metrics_sample_u64(o, "", l, 2, policy_serial(rt->cur.policy,
		    i));
	}
}

static void
controls(struct metrics_out *o, const struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;

	metrics_family(o, "arcdns_control_state", "gauge",
	    "Mirrored state of each configured routing control: 1 On, "
	    "0 Off, -1 unknown.");
	for (size_t i = 0; i < conf->ncontrols; i++) {
		const struct mirror_control *c = rt->mirror != NULL ?
		    mirror_control(rt->mirror, i) : NULL;
		struct metrics_label l[] = {{"control",
		    conf->controls[i].name}};
		int64_t v = c == NULL || c->state == MIRROR_UNKNOWN ? -1 :
		    c->state == MIRROR_ON ? 1 : 0;

		metrics_sample_i64(o, "", l, 1, v);
	}
}

/* As the ARC client computes it when the option is 0 (report/state.c). */
static uint64_t
stale_after(const struct conf *conf)
{
	const struct conf_arc *a = &conf->arc;

	return a->stale_after_ms ? a->stale_after_ms :
	    3ull * a->poll_interval_ms + a->timeout_ms;
}

static void
freshness(struct metrics_out *o, const struct runtime *rt, uint64_t now_ms)
{
	const struct conf *conf = rt->cur.conf;
	bool on = conf->arc.enabled;
	uint64_t last = on && rt->mirror != NULL ?
	    mirror_last_success(rt->mirror) : 0;
	char text[32];

	metrics_family(o, "arcdns_mirror_stale", "gauge", "1 when no poll "
	    "of the ARC cluster succeeded within stale-after, else 0.");
	if (on)
		metrics_sample(o, "", NULL, 0, rt->mirror == NULL ||
		    mirror_is_stale(rt->mirror, now_ms, stale_after(conf)) ?
		    "1" : "0");
	metrics_family(o, "arcdns_mirror_staleness_seconds", "gauge",
	    "Seconds since the last successful poll of the ARC cluster "
	    "(+Inf: none yet).");
	if (on) {
		if (last == 0)
			snprintf(text, sizeof(text), "+Inf");
		else
			metrics_fmt_ms(now_ms > last ? now_ms - last : 0, text,
			    sizeof(text));
		metrics_sample(o, "", NULL, 0, text);
	}
	metrics_family(o, "arcdns_mirror_last_success_timestamp_seconds",
	    "gauge", "Wall clock of the last successful poll of the ARC "
	    "cluster, seconds since the epoch (0: none yet).");
	if (on) {
		metrics_fmt_ms(last, text, sizeof(text));
		metrics_sample(o, "", NULL, 0, text);
	}
	metrics_family(o, "arcdns_mirror_stale_after_seconds", "gauge",
	    "The mirror is stale after this long without a successful "
	    "poll (arc.stale-after).");
	if (on) {
		metrics_fmt_ms(stale_after(conf), text, sizeof(text));
		metrics_sample(o, "", NULL, 0, text);
	}
}

static void
arc_polls(struct metrics_out *o, const struct runtime *rt)
{
	struct arc_stats st;
	struct metrics_label ok = {"outcome", "ok"};
	struct metrics_label failed = {"outcome", "failed"};

	if (rt->arc != NULL)
		arc_client_stats(rt->arc, &st);
	metrics_family(o, "arcdns_arc_polls_total", "counter",
	    "Polls of the ARC cluster (every page of ListRoutingControls), "
	    "by outcome.");
	if (rt->arc != NULL) {
		metrics_sample_u64(o, "", &ok, 1, st.polls_ok);
		metrics_sample_u64(o, "", &failed, 1, st.polls_failed);
	}
	counter(o, "arcdns_arc_control_changes_total", "Routing control "
	    "state changes the ARC client applied to the mirror.",
	    rt->arc != NULL, rt->arc != NULL ? st.changes : 0);
}

static void
arc_endpoints(struct metrics_out *o, const struct runtime *rt)
{
	static const char *const outcomes[] = {"ok", "endpoint", "throttle",
	    "auth", "config"};
	size_t n = arc_client_endpoints(rt->arc);
	struct arc_ep_info *eps = xcalloc(n + 1, sizeof(*eps));
	uint64_t bounds[ARC_LAT_BUCKETS];
	struct metrics_label l[3];

	for (size_t i = 0; i < n; i++)
		arc_client_endpoint(rt->arc, i, &eps[i]);
	for (size_t k = 0; k < ARC_LAT_BUCKETS; k++)
		bounds[k] = arc_lat_bound_ms(k);

	metrics_family(o, "arcdns_arc_requests_started_total", "counter",
	    "HTTP requests (one page each) sent to each ARC endpoint.");
	for (size_t i = 0; i < n; i++) {
		l[0] = (struct metrics_label){"endpoint", eps[i].region};
		l[1] = (struct metrics_label){"url", eps[i].url};
		metrics_sample_u64(o, "", l, 2, eps[i].requests);
	}
	metrics_family(o, "arcdns_arc_requests_total", "counter",
	    "Finished HTTP requests to each ARC endpoint, by outcome (ok or "
	    "the error class).");
	for (size_t i = 0; i < n; i++) {
		const uint64_t v[] = {eps[i].ok, eps[i].err_endpoint,
		    eps[i].err_throttle, eps[i].err_auth, eps[i].err_config};

		l[0] = (struct metrics_label){"endpoint", eps[i].region};
		l[1] = (struct metrics_label){"url", eps[i].url};
		for (size_t k = 0; k < 5; k++) {
			l[2] = (struct metrics_label){"outcome", outcomes[k]};
			metrics_sample_u64(o, "", l, 3, v[k]);
		}
	}
	metrics_family(o, "arcdns_arc_request_duration_seconds", "histogram",
	    "Duration of finished HTTP requests to each ARC endpoint, "
	    "whatever their outcome.");
	for (size_t i = 0; i < n; i++) {
		l[0] = (struct metrics_label){"endpoint", eps[i].region};
		l[1] = (struct metrics_label){"url", eps[i].url};
		metrics_histogram(o, l, 2, bounds, eps[i].latency_le,
		    ARC_LAT_BUCKETS, eps[i].latency_sum_ms);
	}
	metrics_family(o, "arcdns_arc_endpoint_healthy", "gauge",
	    "1 unless the endpoint's last request failed (and until it "
	    "succeeds again), else 0.");
	for (size_t i = 0; i < n; i++) {
		l[0] = (struct metrics_label){"endpoint", eps[i].region};
		l[1] = (struct metrics_label){"url", eps[i].url};
		metrics_sample(o, "", l, 2, eps[i].healthy ? "1" : "0");
	}
	free(eps);
}

/* Every phase of every fence: 1 for the one it is in (a state set). */
static void
fences(struct metrics_out *o, const struct runtime *rt)
{
	size_t n = rt->fences != NULL ? fences_count(rt->fences) : 0;

	metrics_family(o, "arcdns_fence_state", "gauge",
	    "1 for the phase each fence is in, 0 for the other phases.");
	for (size_t i = 0; i < n; i++) {
		struct fence_status st;
		struct metrics_label l[2];

		fences_status(rt->fences, i, &st);
		l[0] = (struct metrics_label){"fence", st.name};
		for (int p = FENCE_IDLE; p <= FENCE_FAILED; p++) {
			l[1] = (struct metrics_label){"phase",
			    fence_phase_name((enum fence_phase)p)};
			metrics_sample(o, "", l, 2, p == (int)st.phase ? "1" :
			    "0");
		}
	}
}

char *
report_metrics_at(const struct runtime *rt, uint64_t now_ms)
{
	struct metrics_out *o = metrics_out_new();

	build_info(o);
	dns_queries(o, rt);
	dns_stats(o, rt);
	runtime_counters(o, rt);
	zone_serials(o, rt);
	controls(o, rt);
	freshness(o, rt, now_ms);
	arc_polls(o, rt);
	arc_endpoints(o, rt);
	fences(o, rt);
	return metrics_out_finish(o);
}

char *
report_metrics(const struct runtime *rt)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return report_metrics_at(rt, (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000);
}
