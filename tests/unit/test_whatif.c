/*
 * test_whatif.c -- report/whatif.h: the states of a what-if (mirror plus
 * overrides, and every error), the answer read back from evaluated zones
 * (values of each type, SERVFAIL, NODATA, role names, CNAME placeholders,
 * views), and whatif_run(): now vs what-if, and the policy's proposal and
 * committed serials untouched.
 *
 * Configs are parsed from memory; the static zone is built here.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "mirror/mirror.h"
#include "policy/policy.h"
#include "report/whatif.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/jsonx.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_SOA	6
#define T_TXT	16
#define T_AAAA	28

static void
wire(const char *text, uint8_t *out)
{
	size_t len;

	cr_assert_eq(dname_from_str(text, NULL, out, &len), 0, "%s", text);
}

static void
add(struct zone *z, const char *owner, uint16_t type, const void *rd,
    size_t rdlen)
{
	uint8_t w[DNAME_MAXLEN];
	char *err = NULL;

	wire(owner, w);
	cr_assert_eq(zone_add_rr(z, w, type, 300, rd, (uint16_t)rdlen, 1,
	    &err), 0, "%s: %s", owner, err);
}

/* svc.test. with SOA serial 100, NS and one static name. */
static struct zone *
static_zone(void)
{
	uint8_t o[DNAME_MAXLEN], rd[DNAME_MAXLEN * 2 + 20], ns[DNAME_MAXLEN];
	size_t off;
	struct zone *z;
	char *err = NULL;

	wire("svc.test.", o);
	z = zone_new(o, "svc.zone");
	wire("ns1.svc.test.", rd);
	off = dname_len(rd);
	wire("hostmaster.svc.test.", rd + off);
	off += dname_len(rd + off);
	memset(rd + off, 0, 20);
	rd[off + 3] = 100;
	rd[off + 19] = 60;
	add(z, "svc.test.", T_SOA, rd, off + 20);
	wire("ns1.svc.test.", ns);
	add(z, "svc.test.", T_NS, ns, dname_len(ns));
	add(z, "ns1.svc.test.", T_A, "\xc0\0\2\1", 4);
	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
	return z;
}

static const char CONF[] =
	"arc:\n"
	"  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n"
	"controls:\n"
	"  east: { name: e }\n"
	"  west: { name: w }\n"
	"zones:\n"
	"  - id: svc\n"
	"    origin: svc.test.\n"
	"    file: svc.zone\n"
	"    ttl: 5\n"
	"    records:\n"
	"      - name: api\n"
	"        type: A\n"
	"        policy: failover\n"
	"        targets:\n"
	"          - { control: east, region: us-east-1, values: [10.0.1.10, 10.0.1.11] }\n"
	"          - { control: west, region: us-west-2, values: [10.1.1.10] }\n"
	"      - name: api\n"
	"        type: AAAA\n"
	"        policy: failover\n"
	"        targets:\n"
	"          - { control: east, values: [\"2001:db8::e\"] }\n"
	"          - { control: west, values: [\"2001:db8::f\"] }\n"
	"      - name: nd\n"
	"        type: A\n"
	"        policy: failover\n"
	"        when-none-on: nodata\n"
	"        targets:\n"
	"          - { control: east, values: [10.0.3.10] }\n"
	"          - { control: west, values: [10.1.3.10] }\n"
	"      - name: www\n"
	"        type: CNAME\n"
	"        policy: failover\n"
	"        targets:\n"
	"          - { control: east, values: [east-lb.example.net.] }\n"
	"          - { control: west, values: [west-lb.example.net.] }\n"
	"      - name: role\n"
	"        policy: role\n"
	"        targets:\n"
	"          - { control: east, region: us-east-1 }\n"
	"          - { control: west, region: us-west-2 }\n"
	"  - id: vpc\n"
	"    origin: svc.test.\n"
	"    file: svc.zone\n"
	"    ttl: 3\n"
	"    records:\n"
	"      - name: api\n"
	"        type: A\n"
	"        policy: multivalue\n"
	"        targets:\n"
	"          - { control: east, values: [10.50.1.10] }\n"
	"          - { control: west, values: [10.51.1.10] }\n"
	"views:\n"
	"  - name: inside\n"
	"    match-clients: [\"10.0.0.0/8\"]\n"
	"    zones: [vpc]\n"
	"  - name: default\n"
	"    match-clients: [any]\n"
	"    zones: [svc]\n";

static struct {
	struct conf	*conf;
	struct zone	*stat;
	struct zone	*stats[2];
	struct policy	*p;
	struct mirror	*m;
	json_t		*doc;
} w;

static void
setup(void)
{
	char *err = NULL;

	cr_assert_eq(conf_load_string("w.yaml", CONF, strlen(CONF), &w.conf,
	    &err), 0, "%s", err);
	w.stat = static_zone();
	w.stats[0] = w.stat;
	w.stats[1] = w.stat;
	cr_assert_eq(policy_new(w.conf, w.stats, &w.p, &err), 0, "%s", err);
}

static void
teardown(void)
{
	json_decref(w.doc);
	mirror_free(w.m);
	policy_free(w.p);
	zone_free(w.stat);
	conf_free(w.conf);
	memset(&w, 0, sizeof(w));
}

TestSuite(whatif, .init = setup, .fini = teardown);

/* A mirror that saw east and west in these states. */
static void
mirror_with(bool east, bool west)
{
	struct mirror_entry e[2] = {
		{"arn:aws:route53-recovery-control::1:controlpanel/p/"
		    "routingcontrol/e", "e", "arn:p", east},
		{"arn:aws:route53-recovery-control::1:controlpanel/p/"
		    "routingcontrol/w", "w", "arn:p", west},
	};

	mirror_free(w.m);
	w.m = mirror_new(w.conf);
	(void)mirror_apply(w.m, e, 2, "us-east-1", 1000);
}

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	cr_assert_not_null(j, "%s", jerr.text);
	return j;
}

/* --- states --------------------------------------------------------------- */

Test(whatif, states_from_mirror_and_overrides)
{
	enum mirror_state st[2];
	char *err = NULL;
	json_t *over;

	cr_assert_eq(whatif_states(w.conf, NULL, NULL, st, &err), 0);
	cr_expect_eq(st[0], MIRROR_UNKNOWN);
	cr_expect_eq(st[1], MIRROR_UNKNOWN);
	mirror_with(true, false);
	cr_assert_eq(whatif_states(w.conf, w.m, NULL, st, &err), 0);
	cr_expect_eq(st[0], MIRROR_ON);
	cr_expect_eq(st[1], MIRROR_OFF);
	over = parse("{\"east\":\"OFF\",\"west\":\"On\"}");
	cr_assert_eq(whatif_states(w.conf, w.m, over, st, &err), 0, "%s", err);
	cr_expect_eq(st[0], MIRROR_OFF);
	cr_expect_eq(st[1], MIRROR_ON);
	json_decref(over);
	over = parse("{\"west\":\"on\"}");
	cr_assert_eq(whatif_states(w.conf, NULL, over, st, &err), 0);
	cr_expect_eq(st[0], MIRROR_UNKNOWN, "not overridden: the mirror's");
	cr_expect_eq(st[1], MIRROR_ON);
	json_decref(over);
}

Test(whatif, state_errors)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"{\"nosuch\":\"on\"}", "unknown control 'nosuch'"},
		{"{\"east\":\"maybe\"}", "'east' must be on or off"},
		{"{\"east\":1}", "'east' must be on or off"},
		{"{\"east\":null}", "'east' must be on or off"},
		{"[\"east\"]", "states must be an object"},
		{"\"east=off\"", "states must be an object"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum mirror_state st[2];
		json_t *over = parse(cases[i].json);
		char *err = NULL;

		cr_expect_eq(whatif_states(w.conf, NULL, over, st, &err),
		    ERR_INVAL, "%s", cases[i].json);
		cr_expect(err != NULL && strstr(err, cases[i].msg) != NULL,
		    "%s: %s", cases[i].json, err);
		free(err);
		json_decref(over);
	}
}

/* --- answers -------------------------------------------------------------- */

/* "view name type: answer v1 v2" lines of an answers array. */
static char *
lines(const json_t *arr, const char *which)
{
	char *s = xstrdup(""), *t;
	size_t i, j;
	json_t *a, *v;

	json_array_foreach(arr, i, a) {
		const json_t *ans = which != NULL ? json_object_get(a, which) : a;
		char *vals = xstrdup("");

		json_array_foreach(json_object_get(ans, "values"), j, v) {
			t = xstrfmt("%s %s", vals, json_string_value(v));
			free(vals);
			vals = t;
		}
		t = xstrfmt("%s%s %s %s: %s%s\n", s,
		    json_string_value(json_object_get(a, "view")),
		    json_string_value(json_object_get(a, "name")),
		    json_string_value(json_object_get(a, "type")),
		    json_string_value(json_object_get(ans, "answer")), vals);
		free(vals);
		free(s);
		s = t;
	}
	return s;
}

static char *
answers_for(enum mirror_state east, enum mirror_state west)
{
	enum mirror_state st[2] = {east, west};
	struct zone **zones;
	char *err = NULL, *s;
	json_t *arr;

	cr_assert_eq(policy_eval(w.p, st, &zones, &err), 0, "%s", err);
	arr = whatif_answers(w.conf, zones);
	policy_zones_free(w.p, zones);
	s = lines(arr, NULL);
	json_decref(arr);
	return s;
}

Test(whatif, answers_east_on)
{
	char *s = answers_for(MIRROR_ON, MIRROR_ON);

	cr_expect_str_eq(s,
	    "inside api.svc.test. A: values 10.50.1.10 10.51.1.10\n"
	    "default api.svc.test. A: values 10.0.1.10 10.0.1.11\n"
	    "default api.svc.test. AAAA: values 2001:db8::e\n"
	    "default nd.svc.test. A: values 10.0.3.10\n"
	    "default www.svc.test. CNAME: values east-lb.example.net.\n"
	    "default us-east-1.role.svc.test. TXT: values active\n"
	    "default us-west-2.role.svc.test. TXT: values passive\n");
	free(s);
}

Test(whatif, answers_east_off)
{
	char *s = answers_for(MIRROR_OFF, MIRROR_ON);

	cr_expect_str_eq(s,
	    "inside api.svc.test. A: values 10.51.1.10\n"
	    "default api.svc.test. A: values 10.1.1.10\n"
	    "default api.svc.test. AAAA: values 2001:db8::f\n"
	    "default nd.svc.test. A: values 10.1.3.10\n"
	    "default www.svc.test. CNAME: values west-lb.example.net.\n"
	    "default us-east-1.role.svc.test. TXT: values passive\n"
	    "default us-west-2.role.svc.test. TXT: values active\n");
	free(s);
}

Test(whatif, answers_none_on)
{
	char *s = answers_for(MIRROR_OFF, MIRROR_OFF);

	/* when-none-on first (the default), nodata for nd */
	cr_expect_str_eq(s,
	    "inside api.svc.test. A: values 10.50.1.10\n"
	    "default api.svc.test. A: values 10.0.1.10 10.0.1.11\n"
	    "default api.svc.test. AAAA: values 2001:db8::e\n"
	    "default nd.svc.test. A: NODATA\n"
	    "default www.svc.test. CNAME: values east-lb.example.net.\n"
	    "default us-east-1.role.svc.test. TXT: values active\n"
	    "default us-west-2.role.svc.test. TXT: values passive\n");
	free(s);
}

Test(whatif, answers_unknown)
{
	char *s = answers_for(MIRROR_UNKNOWN, MIRROR_UNKNOWN);

	cr_expect_str_eq(s,
	    "inside api.svc.test. A: SERVFAIL\n"
	    "default api.svc.test. A: SERVFAIL\n"
	    "default api.svc.test. AAAA: SERVFAIL\n"
	    "default nd.svc.test. A: SERVFAIL\n"
	    "default www.svc.test. CNAME: SERVFAIL\n"
	    "default us-east-1.role.svc.test. TXT: SERVFAIL\n"
	    "default us-west-2.role.svc.test. TXT: SERVFAIL\n");
	free(s);
	/* east On decides failover alone; multivalue needs both */
	s = answers_for(MIRROR_ON, MIRROR_UNKNOWN);
	cr_expect(strstr(s, "inside api.svc.test. A: SERVFAIL\n") != NULL,
	    "%s", s);
	cr_expect(strstr(s, "default api.svc.test. A: values 10.0.1.10 "
	    "10.0.1.11\n") != NULL, "%s", s);
	free(s);
}

Test(whatif, answer_of_one_name)
{
	enum mirror_state st[2] = {MIRROR_UNKNOWN, MIRROR_ON};
	uint8_t n[DNAME_MAXLEN];
	struct zone **zones;
	char *err = NULL;
	json_t *a;

	cr_assert_eq(policy_eval(w.p, st, &zones, &err), 0, "%s", err);
	/* the CNAME placeholder answers SERVFAIL for any type */
	wire("www.svc.test.", n);
	a = whatif_answer(zones[0], n, T_A);
	cr_expect_str_eq(json_string_value(json_object_get(a, "answer")),
	    "SERVFAIL");
	json_decref(a);
	/* a static name without the type: NODATA; no name: NXDOMAIN */
	wire("ns1.svc.test.", n);
	a = whatif_answer(zones[0], n, T_TXT);
	cr_expect_str_eq(json_string_value(json_object_get(a, "answer")),
	    "NODATA");
	json_decref(a);
	wire("nope.svc.test.", n);
	a = whatif_answer(zones[0], n, T_A);
	cr_expect_str_eq(json_string_value(json_object_get(a, "answer")),
	    "NXDOMAIN");
	cr_expect_eq(json_array_size(json_object_get(a, "values")), 0);
	json_decref(a);
	policy_zones_free(w.p, zones);
}

/* --- the dry run ---------------------------------------------------------- */

/* Evaluate and commit the mirror's states, as runtime's rebuild does. */
static void
serve_current(void)
{
	enum mirror_state st[2];
	struct zone **zones;
	char *err = NULL;

	cr_assert_eq(whatif_states(w.conf, w.m, NULL, st, &err), 0);
	cr_assert_eq(policy_eval(w.p, w.m != NULL ? st : NULL, &zones, &err),
	    0, "%s", err);
	policy_commit(w.p);
	policy_zones_free(w.p, zones);
}

Test(whatif, run_east_off)
{
	json_t *over = parse("{\"east\":\"off\"}");
	uint32_t before[2];
	char *err = NULL, *s;

	mirror_with(true, true);
	serve_current();
	serve_current();	/* a second one: serials as in a steady state */
	for (size_t i = 0; i < 2; i++)
		before[i] = policy_serial(w.p, i);
	cr_assert_eq(whatif_run(w.p, w.conf, w.m, over, &w.doc, &err), 0,
	    "%s", err);
	json_decref(over);
	s = jsonx_dump(json_object_get(w.doc, "states"));
	cr_expect_str_eq(s, "{\"east\":\"Off\",\"west\":\"On\"}");
	free(s);
	s = lines(json_object_get(w.doc, "answers"), "what-if");
	cr_expect_str_eq(s,
	    "inside api.svc.test. A: values 10.51.1.10\n"
	    "default api.svc.test. A: values 10.1.1.10\n"
	    "default api.svc.test. AAAA: values 2001:db8::f\n"
	    "default nd.svc.test. A: values 10.1.3.10\n"
	    "default www.svc.test. CNAME: values west-lb.example.net.\n"
	    "default us-east-1.role.svc.test. TXT: values passive\n"
	    "default us-west-2.role.svc.test. TXT: values active\n");
	free(s);
	s = lines(json_object_get(w.doc, "answers"), "now");
	cr_expect_str_eq(s,
	    "inside api.svc.test. A: values 10.50.1.10 10.51.1.10\n"
	    "default api.svc.test. A: values 10.0.1.10 10.0.1.11\n"
	    "default api.svc.test. AAAA: values 2001:db8::e\n"
	    "default nd.svc.test. A: values 10.0.3.10\n"
	    "default www.svc.test. CNAME: values east-lb.example.net.\n"
	    "default us-east-1.role.svc.test. TXT: values active\n"
	    "default us-west-2.role.svc.test. TXT: values passive\n");
	free(s);
	for (size_t i = 0; i < 7; i++)
		cr_expect(json_is_true(json_object_get(json_array_get(
		    json_object_get(w.doc, "answers"), i), "changed")), "%zu",
		    i);
	/* nothing moved: the proposal is the served one again */
	for (size_t i = 0; i < 2; i++) {
		cr_expect_eq(policy_serial(w.p, i), before[i], "block %zu", i);
		cr_expect(!policy_changed(w.p, i), "block %zu", i);
	}
}

Test(whatif, run_same_states_changes_nothing)
{
	json_t *over = parse("{\"east\":\"on\"}");
	char *err = NULL;
	size_t i;
	json_t *a;

	mirror_with(true, false);
	serve_current();
	cr_assert_eq(whatif_run(w.p, w.conf, w.m, over, &w.doc, &err), 0,
	    "%s", err);
	json_decref(over);
	json_array_foreach(json_object_get(w.doc, "answers"), i, a) {
		cr_expect(json_is_false(json_object_get(a, "changed")), "%zu",
		    i);
		cr_expect(json_equal(json_object_get(a, "now"),
		    json_object_get(a, "what-if")), "%zu", i);
	}
	for (i = 0; i < 2; i++)
		cr_expect(!policy_changed(w.p, i), "block %zu", i);
}

Test(whatif, run_without_mirror_and_errors)
{
	json_t *over = parse("{\"west\":\"on\"}");
	char *err = NULL, *s;

	serve_current();	/* no mirror: all unknown */
	cr_assert_eq(whatif_run(w.p, w.conf, NULL, over, &w.doc, &err), 0,
	    "%s", err);
	json_decref(over);
	s = lines(json_object_get(w.doc, "answers"), "now");
	cr_expect(strstr(s, "default api.svc.test. A: SERVFAIL\n") != NULL,
	    "%s", s);
	free(s);
	/* east unknown: failover needs it, so SERVFAIL still */
	s = lines(json_object_get(w.doc, "answers"), "what-if");
	cr_expect(strstr(s, "default api.svc.test. A: SERVFAIL\n") != NULL,
	    "%s", s);
	free(s);
	over = parse("{\"north\":\"on\"}");
	json_decref(w.doc);
	w.doc = NULL;
	cr_expect_eq(whatif_run(w.p, w.conf, NULL, over, &w.doc, &err),
	    ERR_INVAL);
	cr_expect_str_eq(err, "unknown control 'north'");
	cr_expect_null(w.doc);
	free(err);
	json_decref(over);
}

/* A fenced writer the gate withholds is withdrawn: NODATA, not values. */
Test(whatif, fenced_writer_withdrawn)
{
	static const char yaml[] =
	    "arc:\n"
	    "  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n"
	    "controls:\n"
	    "  east: { name: e }\n"
	    "  west: { name: w }\n"
	    "fences: { db: { hook: [/bin/true] } }\n"
	    "zones:\n"
	    "  - id: svc\n"
	    "    origin: svc.test.\n"
	    "    file: svc.zone\n"
	    "    records:\n"
	    "      - name: writer\n"
	    "        type: A\n"
	    "        policy: failover\n"
	    "        fence: db\n"
	    "        targets:\n"
	    "          - { control: east, values: [10.0.0.1] }\n"
	    "          - { control: west, values: [10.0.0.2] }\n";
	enum mirror_state st[2] = {MIRROR_ON, MIRROR_OFF};
	struct conf *conf;
	struct policy *p;
	struct zone **zones;
	char *err = NULL, *s;
	json_t *arr;

	cr_assert_eq(conf_load_string("f.yaml", yaml, strlen(yaml), &conf,
	    &err), 0, "%s", err);
	cr_assert_eq(policy_new(conf, w.stats, &p, &err), 0, "%s", err);
	/* no gate: every fenced name is withdrawn (fail closed) */
	cr_assert_eq(policy_eval(p, st, &zones, &err), 0, "%s", err);
	arr = whatif_answers(conf, zones);
	s = lines(arr, NULL);
	cr_expect_str_eq(s, "default writer.svc.test. A: NODATA\n");
	free(s);
	json_decref(arr);
	policy_zones_free(p, zones);
	policy_free(p);
	conf_free(conf);
}
