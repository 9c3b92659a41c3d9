/*
 * test_metrics.c -- report/metrics.h: the Prometheus text format pieces
 * (label escaping, HELP escaping, seconds from ms, histograms with
 * cumulative buckets, one family printed once), the DNS query matrix's
 * buckets (dns/listen.h), and the whole exposition of a runtime loaded
 * from a config (runtime_load, no sockets) with a mirror fed by hand:
 * every family once with HELP and TYPE, control gauges, staleness, and
 * the phases of a fence.
 */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "arc/arc_client.h"
#include "dns/listen.h"
#include "fence/fence.h"
#include "mirror/mirror.h"
#include "report/metrics.h"
#include "runtime.h"
#include "rt_fixture.h"

/* --- the format ------------------------------------------------------------ */

Test(format, escape_label_values)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"", ""},
		{"plain-view_1.x", "plain-view_1.x"},
		{"a\\b", "a\\\\b"},
		{"say \"hi\"", "say \\\"hi\\\""},
		{"two\nlines", "two\\nlines"},
		{"\\\"\n", "\\\\\\\"\\n"},
		{"caf\xc3\xa9 {x=1,y}", "caf\xc3\xa9 {x=1,y}"},	/* UTF-8 as is */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = metrics_escape(cases[i].in);

		cr_expect_str_eq(s, cases[i].out, "escape(%s)", cases[i].in);
		free(s);
	}
}

Test(format, family_help_type_and_samples)
{
	struct metrics_out *o = metrics_out_new();
	struct metrics_label l[] = {{"view", "a\"b\\c\nd"}, {"x", ""}};
	char *s;

	metrics_family(o, "t_total", "counter", "Help with \\ and\nnewline "
	    "and \"quotes\".");
	metrics_sample_u64(o, "", l, 2, 18446744073709551615ull);
	metrics_sample_u64(o, "", NULL, 0, 0);
	metrics_family(o, "t_gauge", "gauge", "g");
	metrics_sample_i64(o, "", l, 1, -1);
	metrics_sample(o, "", NULL, 0, "+Inf");
	s = metrics_out_finish(o);
	cr_expect_str_eq(s,
	    "# HELP t_total Help with \\\\ and\\nnewline and \"quotes\".\n"
	    "# TYPE t_total counter\n"
	    "t_total{view=\"a\\\"b\\\\c\\nd\",x=\"\"} 18446744073709551615\n"
	    "t_total 0\n"
	    "# HELP t_gauge g\n"
	    "# TYPE t_gauge gauge\n"
	    "t_gauge{view=\"a\\\"b\\\\c\\nd\"} -1\n"
	    "t_gauge +Inf\n");
	free(s);
}

Test(format, empty_exposition)
{
	char *s = metrics_out_finish(metrics_out_new());

	cr_expect_str_eq(s, "");
	free(s);
}

#ifndef NDEBUG
Test(format, family_twice_is_a_bug, .signal = SIGABRT)
{
	struct metrics_out *o = metrics_out_new();

	metrics_family(o, "x_total", "counter", "x");
	metrics_family(o, "y", "gauge", "y");
	metrics_family(o, "x_total", "counter", "x");
}
#endif

Test(format, ms_as_seconds)
{
	static const struct {
		uint64_t ms;
		const char *out;
	} cases[] = {
		{0, "0"}, {1, "0.001"}, {5, "0.005"}, {10, "0.01"},
		{25, "0.025"}, {100, "0.1"}, {250, "0.25"}, {1000, "1"},
		{1001, "1.001"}, {2500, "2.5"}, {12345, "12.345"},
		{60000, "60"}, {1714566896000ull, "1714566896"},
		{1714566896120ull, "1714566896.12"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		metrics_fmt_ms(cases[i].ms, buf, sizeof(buf));
		cr_expect_str_eq(buf, cases[i].out, "%llu ms",
		    (unsigned long long)cases[i].ms);
	}
}

Test(format, histogram_cumulative_buckets)
{
	struct metrics_out *o = metrics_out_new();
	struct metrics_label l[] = {{"endpoint", "us-east-1"},
	    {"url", "http://127.0.0.1:1/\"x\""}};
	uint64_t bounds[ARC_LAT_BUCKETS], cum[ARC_LAT_BUCKETS] = {
		1, 1, 3, 3, 4, 4, 4, 6, 6, 7
	};
	char *s;

	for (size_t k = 0; k < ARC_LAT_BUCKETS; k++)
		bounds[k] = arc_lat_bound_ms(k);
	metrics_family(o, "h_seconds", "histogram", "h");
	metrics_histogram(o, l, 2, bounds, cum, ARC_LAT_BUCKETS, 4321);
	s = metrics_out_finish(o);
#define B(le, n) "h_seconds_bucket{endpoint=\"us-east-1\"," \
	"url=\"http://127.0.0.1:1/\\\"x\\\"\",le=\"" le "\"} " n "\n"
	cr_expect_str_eq(s,
	    "# HELP h_seconds h\n"
	    "# TYPE h_seconds histogram\n"
	    B("0.005", "1") B("0.01", "1") B("0.025", "3") B("0.05", "3")
	    B("0.1", "4") B("0.25", "4") B("0.5", "4") B("1", "6")
	    B("2.5", "6") B("+Inf", "7")
	    "h_seconds_sum{endpoint=\"us-east-1\","
	    "url=\"http://127.0.0.1:1/\\\"x\\\"\"} 4.321\n"
	    "h_seconds_count{endpoint=\"us-east-1\","
	    "url=\"http://127.0.0.1:1/\\\"x\\\"\"} 7\n");
#undef B
	free(s);
}

Test(format, histogram_without_labels)
{
	struct metrics_out *o = metrics_out_new();
	uint64_t bounds[] = {100, UINT64_MAX}, cum[] = {0, 0};
	char *s;

	metrics_family(o, "h_seconds", "histogram", "h");
	metrics_histogram(o, NULL, 0, bounds, cum, 2, 0);
	s = metrics_out_finish(o);
	cr_expect_str_eq(s, "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
	    "h_seconds_bucket{le=\"0.1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 0\n"
	    "h_seconds_sum 0\nh_seconds_count 0\n");
	free(s);
}

/* --- the query matrix's buckets (dns/listen.h) ------------------------------ */

static void
split(size_t cell, size_t *v, size_t *q, size_t *r)
{
	*r = cell % DNS_QM_RCODES;
	*q = cell / DNS_QM_RCODES % DNS_QM_QTYPES;
	*v = cell / DNS_QM_RCODES / DNS_QM_QTYPES;
}

Test(qm, buckets)
{
	static const struct {
		int view;
		uint16_t qtype, rcode;
		size_t v;
		const char *q, *r;
	} cases[] = {
		{0, 1, 0, 0, "A", "NOERROR"},
		{1, 28, 3, 1, "AAAA", "NXDOMAIN"},
		{31, 5, 2, 31, "CNAME", "SERVFAIL"},
		{32, 15, 1, DNS_QM_VIEW_OTHER, "MX", "FORMERR"},
		{1000, 2, 4, DNS_QM_VIEW_OTHER, "NS", "NOTIMP"},
		{-1, 6, 5, DNS_QM_VIEW_NONE, "SOA", "REFUSED"},
		{2, 16, 9, 2, "TXT", "NOTAUTH"},
		{2, 33, 16, 2, "SRV", "BADVERS"},
		{2, 12, 6, 2, "PTR", "other"},
		{2, 43, 10, 2, "DS", "other"},
		{2, 255, 0, 2, "ANY", "NOERROR"},
		{2, 252, 0, 2, "AXFR", "NOERROR"},
		{2, 251, 0, 2, "IXFR", "NOERROR"},
		{2, 0, 1, 2, "other", "FORMERR"},
		{2, 99, 0, 2, "other", "NOERROR"},
		{2, 65535, 4095, 2, "other", "other"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t c = dns_qm_cell(cases[i].view, cases[i].qtype,
		    cases[i].rcode), v, q, r;

		cr_assert_lt(c, DNS_QM_CELLS);
		split(c, &v, &q, &r);
		cr_expect_eq(v, cases[i].v, "case %zu: view %zu", i, v);
		cr_expect_str_eq(dns_qm_qtype_name(q), cases[i].q, "case %zu",
		    i);
		cr_expect_str_eq(dns_qm_rcode_name(r), cases[i].r, "case %zu",
		    i);
	}
	cr_expect_null(dns_qm_qtype_name(DNS_QM_QTYPES));
	cr_expect_null(dns_qm_rcode_name(DNS_QM_RCODES));
}

Test(qm, cells_are_distinct)
{
	static bool seen[DNS_QM_CELLS];
	static const uint16_t qt[] = {1, 28, 5, 15, 2, 6, 16, 33, 12, 43, 255,
	    252, 251, 99};
	static const uint16_t rc[] = {0, 1, 2, 3, 4, 5, 9, 16, 7};
	size_t n = 0;

	for (int v = -1; v <= DNS_QM_MAXVIEWS; v++)
		for (size_t q = 0; q < sizeof(qt) / sizeof(qt[0]); q++)
			for (size_t r = 0; r < sizeof(rc) / sizeof(rc[0]);
			    r++) {
				size_t c = dns_qm_cell(v, qt[q], rc[r]);

				cr_assert_lt(c, DNS_QM_CELLS);
				cr_expect_not(seen[c], "cell %zu twice", c);
				seen[c] = true;
				n++;
			}
	cr_expect_eq(n, DNS_QM_CELLS);
}

/* --- a runtime's exposition -------------------------------------------------- */


static const char conf_text[] =
    "server:\n"
    "  listen: \"127.0.0.1:5300\"\n"
    "  state-dir: \"%s/state\"\n"
    "arc:\n"
    "  endpoints:\n"
    "    - { region: us-east-1, url: \"http://127.0.0.1:9/v1\" }\n"
    "  poll-interval: 1s\n"
    "  timeout: 500ms\n"
    "  stale-after: 5s\n"
    "  credentials: env\n"
    "controls:\n"
    "  east: { arn: \"" ARN("e") "\" }\n"
    "  west: { arn: \"" ARN("w") "\" }\n"
    "  spare: { name: spare }\n"
    "zones:\n"
    "  - id: svc\n"
    "    origin: svc.test.\n"
    "    file: " TEST_DATA_DIR "/policy.svc.test.zone\n"
    "    ttl: 7\n"
    "    records:\n"
    "      - name: api\n"
    "        type: A\n"
    "        policy: failover\n"
    "        targets:\n"
    "          - { control: east, region: us-east-1, values: [10.0.0.1] }\n"
    "          - { control: west, region: us-west-2, values: [10.0.0.2] }\n"
    "views:\n"
    "  - name: inside\n"
    "    match-clients: [\"10.0.0.0/8\"]\n"
    "    zones: [svc]\n"
    "  - name: default\n"
    "    match-clients: [any]\n"
    "    zones: [svc]\n";

static const char fence_conf_text[] =
    "server:\n"
    "  listen: \"127.0.0.1:5300\"\n"
    "  state-dir: \"%s/state\"\n"
    "arc:\n"
    "  endpoints:\n"
    "    - { region: us-east-1, url: \"http://127.0.0.1:9/v1\" }\n"
    "  credentials: env\n"
    "controls:\n"
    "  east: { arn: \"" ARN("e") "\" }\n"
    "  west: { arn: \"" ARN("w") "\" }\n"
    "fences:\n"
    "  \"db\": { hook: [/bin/true] }\n"
    "zones:\n"
    "  - id: svc\n"
    "    origin: svc.test.\n"
    "    file: " TEST_DATA_DIR "/policy.svc.test.zone\n"
    "    records:\n"
    "      - name: writer\n"
    "        type: A\n"
    "        policy: failover\n"
    "        fence: db\n"
    "        targets:\n"
    "          - { control: east, region: us-east-1, values: [10.0.0.1] }\n"
    "          - { control: west, region: us-west-2, values: [10.0.0.2] }\n";

static struct {
	struct rtfx		 fx;
	struct runtime		*rt;
	struct event_base	*base;
} R;

static void
load(bool fence)
{
	rtfx_init(&R.fx, "test_metrics");
	R.rt = rtfx_runtime(&R.fx, fence ? fence_conf_text : conf_text, true);
}

static void
setup(void)
{
	load(false);
}

static void
teardown(void)
{
	runtime_free(R.rt);		/* and the fences, if any */
	if (R.base != NULL)
		event_base_free(R.base);
	rtfx_cleanup(&R.fx);
}

TestSuite(report, .init = setup, .fini = teardown);

static void
poll_at(bool east, bool west, uint64_t t)
{
	rtfx_poll(R.rt->mirror, east, west, t);
}

/* True when text has line (without its newline) as a whole line. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p != '\0';
	    p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/*
 * The shape of an exposition: every family has exactly one HELP then
 * TYPE line, and every sample follows its own family's TYPE line (its
 * name is the family's, plus _bucket/_sum/_count for a histogram).
 */
static void
check_shape(const char *text, size_t *nfamilies)
{
	char *copy = strdup(text), *save = NULL, *line;
	char fam[128] = "", type[32] = "", help[128] = "";
	char seen[64][128];
	size_t nseen = 0;

	cr_assert_not_null(copy);
	cr_expect(text[0] == '\0' || text[strlen(text) - 1] == '\n',
	    "ends in a newline");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char name[128], t[32];
		size_t n;

		if (strncmp(line, "# HELP ", 7) == 0) {
			cr_assert_eq(sscanf(line + 7, "%127s", help), 1);
			for (size_t i = 0; i < nseen; i++)
				cr_expect_str_neq(seen[i], help,
				    "%s: HELP twice", help);
			cr_assert_lt(nseen, 64);
			strcpy(seen[nseen++], help);
			fam[0] = '\0';
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			cr_assert_eq(sscanf(line + 7, "%127s %31s", fam, t), 2);
			cr_expect_str_eq(fam, help, "TYPE %s right after its "
			    "HELP", fam);
			strcpy(type, t);
			continue;
		}
		cr_assert_neq(line[0], '#', "unexpected comment: %s", line);
		cr_assert_neq(fam[0], '\0', "sample before TYPE: %s", line);
		n = strcspn(line, "{ ");
		cr_assert_lt(n, sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		if (strcmp(type, "histogram") == 0) {
			char b[160], s[160], c[160];

			snprintf(b, sizeof(b), "%s_bucket", fam);
			snprintf(s, sizeof(s), "%s_sum", fam);
			snprintf(c, sizeof(c), "%s_count", fam);
			cr_expect(strcmp(name, b) == 0 || strcmp(name, s) == 0 ||
			    strcmp(name, c) == 0, "%s in histogram %s", name,
			    fam);
		} else
			cr_expect_str_eq(name, fam, "sample of family %s", fam);
	}
	*nfamilies = nseen;
	free(copy);
}

Test(report, every_family_once_before_any_poll)
{
	char *s = report_metrics_at(R.rt, NOW);
	size_t n = 0;

	check_shape(s, &n);
	cr_expect_geq(n, 20, "%zu families", n);
	cr_expect(has_line(s, "arcdns_build_info{version=\"" PACKAGE_VERSION
	    "\"} 1"), "%s", s);
	cr_expect(has_line(s, "# TYPE arcdns_dns_queries_total counter"));
	cr_expect(has_line(s, "# TYPE arcdns_arc_request_duration_seconds "
	    "histogram"));
	cr_expect(has_line(s, "# TYPE arcdns_fence_state gauge"));
	cr_expect(has_line(s, "arcdns_control_state{control=\"east\"} -1"));
	cr_expect(has_line(s, "arcdns_control_state{control=\"west\"} -1"));
	cr_expect(has_line(s, "arcdns_control_state{control=\"spare\"} -1"));
	cr_expect(has_line(s, "arcdns_mirror_stale 1"));
	cr_expect(has_line(s, "arcdns_mirror_staleness_seconds +Inf"));
	cr_expect(has_line(s, "arcdns_mirror_last_success_timestamp_seconds 0"));
	cr_expect(has_line(s, "arcdns_mirror_stale_after_seconds 5"));
	cr_expect(has_line(s, "arcdns_reloads_total 0"));
	cr_expect(has_line(s, "arcdns_table_rebuilds_total 0"));
	/* No listener, no ARC client: those families have no samples. */
	cr_expect_null(strstr(s, "\narcdns_dns_queries_total"));
	cr_expect_null(strstr(s, "\narcdns_dns_dropped_total "));
	cr_expect_null(strstr(s, "\narcdns_arc_requests_total"));
	free(s);
}

Test(report, controls_and_staleness_follow_the_mirror)
{
	char *s;
	size_t n;

	poll_at(true, false, NOW);
	s = report_metrics_at(R.rt, NOW + 1500);
	check_shape(s, &n);
	cr_expect(has_line(s, "arcdns_control_state{control=\"east\"} 1"), "%s",
	    s);
	cr_expect(has_line(s, "arcdns_control_state{control=\"west\"} 0"));
	cr_expect(has_line(s, "arcdns_control_state{control=\"spare\"} -1"));
	cr_expect(has_line(s, "arcdns_mirror_stale 0"));
	cr_expect(has_line(s, "arcdns_mirror_staleness_seconds 1.5"));
	cr_expect(has_line(s, "arcdns_mirror_last_success_timestamp_seconds "
	    "1714566896"));
	free(s);

	s = report_metrics_at(R.rt, NOW + 5001);
	cr_expect(has_line(s, "arcdns_mirror_stale 1"), "%s", s);
	cr_expect(has_line(s, "arcdns_mirror_staleness_seconds 5.001"));
	cr_expect(has_line(s, "arcdns_control_state{control=\"east\"} 1"),
	    "the last known state stays while stale");
	free(s);

	poll_at(false, true, NOW + 6000);
	s = report_metrics_at(R.rt, NOW + 6000);
	cr_expect(has_line(s, "arcdns_control_state{control=\"east\"} 0"), "%s",
	    s);
	cr_expect(has_line(s, "arcdns_control_state{control=\"west\"} 1"));
	cr_expect(has_line(s, "arcdns_mirror_staleness_seconds 0"));
	cr_expect(has_line(s, "arcdns_mirror_stale 0"));
	free(s);
}

Test(report, zone_serial_per_block)
{
	char *s = report_metrics_at(R.rt, NOW);
	const char *p = strstr(s, "\narcdns_zone_serial{zone=\"svc\","
	    "origin=\"svc.test.\"} ");

	cr_expect_not_null(p, "%s", s);
	free(s);
}

/* --- fences ------------------------------------------------------------------ */

static void
fence_changed_cb(void *arg)
{
	(void)arg;
}

static void
fence_setup(void)
{
	load(true);
	R.base = event_base_new();
	cr_assert_not_null(R.base);
	R.rt->fences = fences_new(R.base, R.rt->cur.conf, NULL, NULL,
	    fence_changed_cb, NULL);
}

TestSuite(fences, .init = fence_setup, .fini = teardown);

/* The value of arcdns_fence_state{fence="db",phase=...} in s, or -1. */
static int
phase_value(const char *s, const char *phase)
{
	char line[128];
	const char *p;

	snprintf(line, sizeof(line), "\narcdns_fence_state{fence=\"db\","
	    "phase=\"%s\"} ", phase);
	p = strstr(s, line);
	return p == NULL ? -1 : atoi(p + strlen(line));
}

Test(fences, one_sample_per_phase_one_set)
{
	static const char *const phases[] = {"idle", "serving", "fencing",
	    "fenced", "promoting", "checking", "failed"};
	char *s = report_metrics_at(R.rt, NOW);
	size_t n;

	check_shape(s, &n);
	for (size_t i = 0; i < 7; i++)
		cr_expect_eq(phase_value(s, phases[i]), i == 0 ? 1 : 0,
		    "idle at start: %s", phases[i]);
	free(s);

	fences_update(R.rt->fences, 0, 0);	/* first selection: serving */
	s = report_metrics_at(R.rt, NOW);
	for (size_t i = 0; i < 7; i++)
		cr_expect_eq(phase_value(s, phases[i]), i == 1 ? 1 : 0,
		    "serving: %s\n%s", phases[i], s);
	free(s);
}
