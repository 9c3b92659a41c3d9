/*
 * test_policy.c -- the policy engine on built zones: each policy and each
 * when-none-on under every combination of states that matters, unknown
 * states, the checks against the zone file, the single-target invariant,
 * and serials (proposal, commit, monotonic, file round trip, inheritance).
 *
 * Configs are parsed from memory; their zone files are never opened: the
 * static zones are built here.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "policy/policy.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_SOA	6
#define T_TXT	16

#define ON	MIRROR_ON
#define OFF	MIRROR_OFF
#define UNK	MIRROR_UNKNOWN

static void
wire(const char *text, uint8_t *out)
{
	size_t len;

	cr_assert_eq(dname_from_str(text, NULL, out, &len), 0, "%s", text);
}

static void
add(struct zone *z, const char *owner, uint16_t type, const void *rd,
    size_t rdlen, int line)
{
	uint8_t w[DNAME_MAXLEN];
	char *err = NULL;

	wire(owner, w);
	cr_assert_eq(zone_add_rr(z, w, type, 300, rd, (uint16_t)rdlen, line,
	    &err), 0, "%s: %s", owner, err);
}

/* svc.test. with SOA serial 100, NS, www A, a delegation at sub. */
static struct zone *
static_zone(uint32_t serial)
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
	rd[off] = (uint8_t)(serial >> 24);
	rd[off + 1] = (uint8_t)(serial >> 16);
	rd[off + 2] = (uint8_t)(serial >> 8);
	rd[off + 3] = (uint8_t)serial;
	rd[off + 19] = 60;
	add(z, "svc.test.", T_SOA, rd, off + 20, 1);
	wire("ns1.svc.test.", ns);
	add(z, "svc.test.", T_NS, ns, dname_len(ns), 2);
	add(z, "ns1.svc.test.", T_A, "\xc0\0\2\1", 4, 3);
	add(z, "www.svc.test.", T_A, "\xc0\0\2\2", 4, 4);
	wire("ns.elsewhere.test.", ns);
	add(z, "sub.svc.test.", T_NS, ns, dname_len(ns), 5);
	add(z, "eu-west-1.lb.svc.test.", T_TXT, "\1x", 2, 6);
	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
	return z;
}

#define PREAMBLE \
	"arc:\n" \
	"  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n" \
	"controls:\n" \
	"  east: { name: e }\n" \
	"  west: { name: w }\n" \
	"  third: { name: t }\n" \
	"zones:\n" \
	"  - id: svc\n" \
	"    origin: svc.test.\n" \
	"    file: svc.zone\n" \
	"    ttl: 5\n" \
	"    records:\n"

struct world {
	struct conf	*conf;
	struct zone	*stat;
	struct policy	*p;
	struct zone	**out;
};

static struct world w;

static void
world_new(const char *records, uint32_t serial)
{
	char *yaml = xstrfmt(PREAMBLE "%s", records);
	char *err = NULL;

	cr_assert_eq(conf_load_string("p.yaml", yaml, strlen(yaml), &w.conf,
	    &err), 0, "%s", err);
	free(yaml);
	w.stat = static_zone(serial);
	cr_assert_eq(policy_new(w.conf, &w.stat, &w.p, &err), 0, "%s", err);
}

static void
world_free(void)
{
	policy_zones_free(w.p, w.out);
	policy_free(w.p);
	zone_free(w.stat);
	conf_free(w.conf);
	memset(&w, 0, sizeof(w));
}

/* Evaluate for (east, west, third). */
static const struct zone *
eval3(enum mirror_state e, enum mirror_state we, enum mirror_state t)
{
	enum mirror_state st[3] = {e, we, t};
	char *err = NULL;

	policy_zones_free(w.p, w.out);
	w.out = NULL;
	cr_assert_eq(policy_eval(w.p, st, &w.out, &err), 0, "%s", err);
	return w.out[0];
}

static const struct zone_rrset *
rrset(const struct zone *z, const char *name, uint16_t type)
{
	uint8_t n[DNAME_MAXLEN];
	const struct zone_node *node;

	wire(name, n);
	node = zone_get(z, n, dname_len(n));
	return node == NULL ? NULL : zone_node_rrset(node, type);
}

/* The A values of name as "a,b,c" (sorted as stored), "-" for none. */
static char *
addrs(const struct zone *z, const char *name)
{
	const struct zone_rrset *s = rrset(z, name, T_A);
	static char buf[256];
	size_t off = 0;

	if (s == NULL)
		return "-";
	if (s->servfail)
		return "SERVFAIL";
	buf[0] = '\0';
	for (size_t i = 0; i < s->count; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, s->rd[i].data, a, sizeof(a));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i > 0 ? "," : "", a);
	}
	return buf;
}

static char *
txt(const struct zone *z, const char *name)
{
	const struct zone_rrset *s = rrset(z, name, T_TXT);
	static char buf[64];

	if (s == NULL)
		return "-";
	if (s->servfail)
		return "SERVFAIL";
	cr_assert_eq(s->count, 1);
	snprintf(buf, sizeof(buf), "%.*s", s->rd[0].data[0],
	    (const char *)s->rd[0].data + 1);
	return buf;
}

static bool
has_node(const struct zone *z, const char *name)
{
	uint8_t n[DNAME_MAXLEN];

	wire(name, n);
	return zone_get(z, n, dname_len(n)) != NULL;
}

#define FAILOVER(none) \
	"      - name: api\n" \
	"        type: A\n" \
	"        policy: failover\n" none \
	"        targets:\n" \
	"          - { control: east, region: us-east-1, values: [10.0.1.10, 10.0.1.11] }\n" \
	"          - { control: west, region: us-west-2, values: [10.1.1.10] }\n" \
	"          - { control: third, values: [10.2.1.10] }\n"

TestSuite(policy, .fini = world_free);

Test(policy, failover_first_on_wins)
{
	world_new(FAILOVER(""), 100);
	cr_expect_str_eq(addrs(eval3(ON, ON, ON), "api.svc.test."),
	    "10.0.1.10,10.0.1.11");
	cr_expect_str_eq(addrs(eval3(OFF, ON, ON), "api.svc.test."),
	    "10.1.1.10");
	cr_expect_str_eq(addrs(eval3(OFF, OFF, ON), "api.svc.test."),
	    "10.2.1.10");
	/* None On: the first target (when-none-on: first, the default). */
	cr_expect_str_eq(addrs(eval3(OFF, OFF, OFF), "api.svc.test."),
	    "10.0.1.10,10.0.1.11");
	cr_expect_eq(rrset(w.out[0], "api.svc.test.", T_A)->ttl, 5,
	    "the zone block's ttl");
	/* Static names are copied untouched. */
	cr_expect_str_eq(addrs(w.out[0], "www.svc.test."), "192.0.2.2");
	cr_expect_eq(rrset(w.out[0], "www.svc.test.", T_A)->ttl, 300);
}

Test(policy, failover_unknown_state)
{
	world_new(FAILOVER(""), 100);
	/* Unknown before the first On: cannot decide. */
	cr_expect_str_eq(addrs(eval3(UNK, ON, ON), "api.svc.test."),
	    "SERVFAIL");
	cr_expect_str_eq(addrs(eval3(OFF, UNK, ON), "api.svc.test."),
	    "SERVFAIL");
	/* Unknown after the first On: not needed. */
	cr_expect_str_eq(addrs(eval3(ON, UNK, UNK), "api.svc.test."),
	    "10.0.1.10,10.0.1.11");
	/* No states at all. */
	policy_zones_free(w.p, w.out);
	char *err = NULL;
	cr_assert_eq(policy_eval(w.p, NULL, &w.out, &err), 0, "%s", err);
	cr_expect_str_eq(addrs(w.out[0], "api.svc.test."), "SERVFAIL");
	cr_expect_str_eq(addrs(w.out[0], "www.svc.test."), "192.0.2.2");
}

Test(policy, failover_when_none_on)
{
	world_new(FAILOVER("        when-none-on: servfail\n"), 100);
	cr_expect_str_eq(addrs(eval3(OFF, OFF, OFF), "api.svc.test."),
	    "SERVFAIL");
	cr_expect_str_eq(addrs(eval3(OFF, OFF, ON), "api.svc.test."),
	    "10.2.1.10");
	world_free();
	world_new(FAILOVER("        when-none-on: nodata\n"), 100);
	cr_expect_str_eq(addrs(eval3(OFF, OFF, OFF), "api.svc.test."), "-");
	cr_expect(has_node(w.out[0], "api.svc.test."), "NODATA, not NXDOMAIN");
	world_free();
	world_new(FAILOVER("        when-none-on: first\n"), 100);
	cr_expect_str_eq(addrs(eval3(OFF, OFF, OFF), "api.svc.test."),
	    "10.0.1.10,10.0.1.11");
}

#define MULTI(none) \
	"      - name: pool\n" \
	"        type: A\n" \
	"        policy: multivalue\n" none \
	"        targets:\n" \
	"          - { control: east, values: [10.0.0.1, 10.0.0.2] }\n" \
	"          - { control: west, values: [10.0.0.2, 10.0.0.3] }\n" \
	"          - { control: third, values: [10.0.0.4] }\n"

Test(policy, multivalue)
{
	world_new(MULTI(""), 100);
	cr_expect_str_eq(addrs(eval3(ON, ON, ON), "pool.svc.test."),
	    "10.0.0.1,10.0.0.2,10.0.0.3,10.0.0.4", "duplicates once");
	cr_expect_str_eq(addrs(eval3(OFF, ON, ON), "pool.svc.test."),
	    "10.0.0.2,10.0.0.3,10.0.0.4");
	cr_expect_str_eq(addrs(eval3(ON, OFF, ON), "pool.svc.test."),
	    "10.0.0.1,10.0.0.2,10.0.0.4");
	/* None On: the first target's values (fail open, as Route 53). */
	cr_expect_str_eq(addrs(eval3(OFF, OFF, OFF), "pool.svc.test."),
	    "10.0.0.1,10.0.0.2");
	/* Any unknown state: every On target cannot be known. */
	cr_expect_str_eq(addrs(eval3(ON, ON, UNK), "pool.svc.test."),
	    "SERVFAIL");
	world_free();
	world_new(MULTI("        when-none-on: servfail\n"), 100);
	cr_expect_str_eq(addrs(eval3(OFF, OFF, OFF), "pool.svc.test."),
	    "SERVFAIL");
	world_free();
	world_new(MULTI("        when-none-on: nodata\n"), 100);
	cr_expect_str_eq(addrs(eval3(OFF, OFF, OFF), "pool.svc.test."), "-");
	cr_expect(has_node(w.out[0], "pool.svc.test."));
}

#define ROLE(none) \
	"      - name: role\n" \
	"        type: TXT\n" \
	"        policy: role\n" none \
	"        targets:\n" \
	"          - { control: east, region: us-east-1 }\n" \
	"          - { control: west, region: us-west-2 }\n"

Test(policy, role)
{
	const struct zone *z;

	world_new(ROLE(""), 100);
	z = eval3(ON, ON, OFF);
	cr_expect_str_eq(txt(z, "us-east-1.role.svc.test."), "active");
	cr_expect_str_eq(txt(z, "us-west-2.role.svc.test."), "passive");
	cr_expect_eq(rrset(z, "us-east-1.role.svc.test.", T_TXT)->ttl, 5);
	z = eval3(OFF, ON, OFF);
	cr_expect_str_eq(txt(z, "us-east-1.role.svc.test."), "passive");
	cr_expect_str_eq(txt(z, "us-west-2.role.svc.test."), "active");
	/* None On: the first region is active (when-none-on: first). */
	z = eval3(OFF, OFF, OFF);
	cr_expect_str_eq(txt(z, "us-east-1.role.svc.test."), "active");
	cr_expect_str_eq(txt(z, "us-west-2.role.svc.test."), "passive");
	z = eval3(UNK, ON, OFF);
	cr_expect_str_eq(txt(z, "us-east-1.role.svc.test."), "SERVFAIL");
	cr_expect_str_eq(txt(z, "us-west-2.role.svc.test."), "SERVFAIL");
	/* "role" itself is an empty non-terminal. */
	cr_expect(has_node(z, "role.svc.test."));
	world_free();
	world_new(ROLE("        when-none-on: nodata\n"), 100);
	z = eval3(OFF, OFF, OFF);
	cr_expect_str_eq(txt(z, "us-east-1.role.svc.test."), "-");
	cr_expect(has_node(z, "us-east-1.role.svc.test."));
}

Test(policy, cname_failover)
{
	const struct zone_rrset *s;
	uint8_t want[DNAME_MAXLEN];

	world_new("      - name: writer.db\n"
	    "        type: CNAME\n"
	    "        policy: failover\n"
	    "        targets:\n"
	    "          - { control: east, values: [east-writer.example.com.] }\n"
	    "          - { control: west, values: [west-writer.example.com.] }\n",
	    100);
	s = rrset(eval3(OFF, ON, ON), "writer.db.svc.test.", T_CNAME);
	cr_assert_not_null(s);
	cr_assert_eq(s->count, 1);
	wire("west-writer.example.com.", want);
	cr_expect_eq(s->rd[0].len, dname_len(want));
	cr_expect_arr_eq(s->rd[0].data, want, dname_len(want));
	s = rrset(eval3(UNK, ON, ON), "writer.db.svc.test.", T_CNAME);
	cr_expect(s->servfail);
	cr_expect(has_node(w.out[0], "db.svc.test."));
}

/* --- checks against the zone file ------------------------------------------- */

static char *
new_fails(const char *records)
{
	char *yaml = xstrfmt(PREAMBLE "%s", records);
	char *err = NULL;
	struct policy *p = NULL;

	cr_assert_eq(conf_load_string("p.yaml", yaml, strlen(yaml), &w.conf,
	    &err), 0, "%s", err);
	free(yaml);
	w.stat = static_zone(100);
	cr_assert_eq(policy_new(w.conf, &w.stat, &p, &err), ERR_INVAL,
	    "accepted:\n%s", records);
	cr_assert_null(p);
	return err;
}

Test(policy, static_name_conflict)
{
	char *err = new_fails("      - name: www\n"
	    "        type: A\n"
	    "        policy: failover\n"
	    "        targets: [{ control: east, values: [10.0.0.1] }]\n");

	cr_expect_str_eq(err, "p.yaml:13:9: www.svc.test. is also in the zone "
	    "file svc.zone:4: a name is either static or ARC-driven");
	free(err);
}

Test(policy, other_type_at_a_static_name_conflicts_too)
{
	char *err = new_fails("      - name: www\n"
	    "        type: AAAA\n"
	    "        policy: failover\n"
	    "        targets: [{ control: east, values: [\"2001:db8::1\"] }]\n");

	cr_expect(strstr(err, "is also in the zone file svc.zone:4") != NULL,
	    "%s", err);
	free(err);
}

Test(policy, below_a_zone_cut)
{
	char *err = new_fails("      - name: x.sub\n"
	    "        type: A\n"
	    "        policy: failover\n"
	    "        targets: [{ control: east, values: [10.0.0.1] }]\n");

	cr_expect_str_eq(err, "p.yaml:13:9: x.sub.svc.test. is at or below the "
	    "zone cut sub.svc.test. (svc.zone:5)");
	free(err);
}

Test(policy, apex)
{
	char *err = new_fails("      - name: \"@\"\n"
	    "        type: CNAME\n"
	    "        policy: failover\n"
	    "        targets: [{ control: east, values: [a.example.] }]\n");

	cr_expect_str_eq(err, "p.yaml:13:9: a CNAME at the apex svc.test.");
	free(err);
	world_free();
	/* An address at the apex is fine: the apex holds no A. */
	world_new("      - name: \"@\"\n"
	    "        type: A\n"
	    "        policy: failover\n"
	    "        targets: [{ control: east, values: [10.9.9.9] }]\n", 100);
	cr_expect_str_eq(addrs(eval3(ON, ON, ON), "svc.test."), "10.9.9.9");
}

Test(policy, role_name_conflict)
{
	char *err = new_fails("      - name: lb\n"
	    "        policy: role\n"
	    "        targets: [{ control: east, region: eu-west-1 }]\n");

	cr_expect_str_eq(err, "p.yaml:13:9: eu-west-1.lb.svc.test. is also in "
	    "the zone file svc.zone:6: a name is either static or ARC-driven");
	free(err);
}

/* --- the single-target invariant -------------------------------------------- */

Test(policy, single_target_invariant)
{
	const struct conf_record *r;
	const struct conf_rdata *v[4];

	world_new(FAILOVER(""), 100);
	r = &w.conf->zones[0].records[0];
	v[0] = &r->targets[0].values[1];
	v[1] = &r->targets[0].values[0];
	cr_expect(policy_single_target(r, v, 2), "one target, any order");
	cr_expect_not(policy_single_target(r, v, 1), "part of a target");
	v[2] = &r->targets[1].values[0];
	cr_expect_not(policy_single_target(r, v, 3), "two targets at once");
	cr_expect(policy_single_target(r, v + 2, 1));
	cr_expect_not(policy_single_target(r, v, 0), "nothing");
}

/* --- serials ------------------------------------------------------------------ */

static uint32_t
soa_serial(const struct zone *z)
{
	return z->serial;
}

Test(policy, serials_move_only_on_change)
{
	world_new(FAILOVER(""), 100);
	cr_expect_eq(soa_serial(eval3(ON, ON, ON)), 100, "first: the file's");
	cr_expect(policy_changed(w.p, 0));
	policy_commit(w.p);
	cr_expect_eq(soa_serial(eval3(ON, OFF, ON)), 100,
	    "west does not matter while east is On");
	cr_expect_not(policy_changed(w.p, 0));
	cr_expect_eq(soa_serial(eval3(OFF, ON, ON)), 101);
	cr_expect(policy_changed(w.p, 0));
	cr_expect_eq(policy_serial(w.p, 0), 101);
	/* Not committed: a new proposal starts from the committed 100. */
	cr_expect_eq(soa_serial(eval3(OFF, OFF, ON)), 101);
	policy_commit(w.p);
	cr_expect_not(policy_changed(w.p, 0));
	cr_expect_eq(soa_serial(eval3(OFF, OFF, ON)), 101);
	cr_expect_eq(soa_serial(eval3(ON, OFF, ON)), 102);
	policy_commit(w.p);
	cr_expect_eq(soa_serial(eval3(OFF, OFF, ON)), 103);
}

Test(policy, serial_arithmetic)
{
	cr_expect(serial_gt(1, 0));
	cr_expect(serial_gt(0, 0xffffffffu), "wraps");
	cr_expect_not(serial_gt(5, 5));
	cr_expect_not(serial_gt(0, 1));
	cr_expect(serial_gt(0x7fffffffu, 0));
	cr_expect_not(serial_gt(0x80000000u, 0), "undefined: not after");
}

Test(policy, serial_wraps_forward)
{
	world_new(FAILOVER(""), 0xffffffffu);
	cr_expect_eq(soa_serial(eval3(ON, ON, ON)), 0xffffffffu);
	policy_commit(w.p);
	cr_expect_eq(soa_serial(eval3(OFF, ON, ON)), 0);
}

static char *
tmpfile_path(void)
{
	char tmpl[] = "/tmp/test_policy.XXXXXX";
	int fd = mkstemp(tmpl);

	cr_assert_geq(fd, 0);
	close(fd);
	unlink(tmpl);
	return xstrdup(tmpl);
}

Test(policy, serial_file_round_trip_and_inheritance)
{
	char *path = tmpfile_path(), *err = NULL;
	struct policy *again;

	world_new(FAILOVER(""), 100);
	eval3(ON, ON, ON);
	policy_commit(w.p);
	eval3(OFF, ON, ON);
	policy_commit(w.p);
	cr_assert_eq(policy_save_serials(w.p, path, &err), 0, "%s", err);

	/* A restart with the same state: the same serial, unchanged. */
	cr_assert_eq(policy_new(w.conf, &w.stat, &again, &err), 0, "%s", err);
	cr_assert_eq(policy_load_serials(again, path, &err), 0, "%s", err);
	policy_free(w.p);
	w.p = again;
	cr_expect_eq(soa_serial(eval3(OFF, ON, ON)), 101);
	cr_expect_not(policy_changed(w.p, 0));
	/* ... and a different state moves it on. */
	cr_expect_eq(soa_serial(eval3(ON, ON, ON)), 102);
	policy_commit(w.p);

	/* A reload takes the serials over in memory. */
	cr_assert_eq(policy_new(w.conf, &w.stat, &again, &err), 0, "%s", err);
	policy_inherit(again, w.p);
	policy_free(w.p);
	w.p = again;
	cr_expect_eq(soa_serial(eval3(ON, ON, ON)), 102);
	cr_expect_not(policy_changed(w.p, 0));

	/* A zone file with a newer serial wins. */
	zone_free(w.stat);
	w.stat = static_zone(5000);
	cr_assert_eq(policy_new(w.conf, &w.stat, &again, &err), 0, "%s", err);
	cr_assert_eq(policy_load_serials(again, path, &err), 0, "%s", err);
	policy_free(w.p);
	w.p = again;
	cr_expect_eq(soa_serial(eval3(OFF, ON, ON)), 5000);
	cr_expect(policy_changed(w.p, 0));
	unlink(path);
	free(path);
}

Test(policy, serial_file_errors)
{
	char *path = tmpfile_path(), *err = NULL;
	static const char *const bad[] = {
		"{",
		"[]",
		"{\"version\":2,\"zones\":[]}",
		"{\"version\":1,\"zones\":[{\"id\":\"svc\"}]}",
		"{\"version\":1,\"zones\":[{\"id\":\"svc\",\"origin\":"
		    "\"svc.test.\",\"serial\":-1,\"hash\":\"0000000000000000\"}]}",
		"{\"version\":1,\"zones\":[{\"id\":\"svc\",\"origin\":"
		    "\"svc.test.\",\"serial\":7,\"hash\":\"xyz\"}]}",
	};

	world_new(FAILOVER(""), 100);
	cr_expect_eq(policy_load_serials(w.p, path, &err), 0, "missing: fine");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");

		fputs(bad[i], f);
		fclose(f);
		cr_expect_eq(policy_load_serials(w.p, path, &err), ERR_PARSE,
		    "%s", bad[i]);
		cr_expect(err != NULL && strncmp(err, path, strlen(path)) == 0);
		free(err);
		err = NULL;
	}
	/* Nothing was taken: the file's serial. */
	cr_expect_eq(soa_serial(eval3(ON, ON, ON)), 100);
	unlink(path);
	free(path);
}

Test(policy, static_only_blocks_serve_the_file_serial)
{
	char *yaml = xstrdup("zones: [{ id: svc, origin: svc.test., file: svc.zone }]\n");
	char *err = NULL;
	struct policy *again;

	cr_assert_eq(conf_load_string("p.yaml", yaml, strlen(yaml), &w.conf,
	    &err), 0, "%s", err);
	free(yaml);
	w.stat = static_zone(100);
	cr_assert_eq(policy_new(w.conf, &w.stat, &w.p, &err), 0, "%s", err);
	cr_expect_eq(soa_serial(eval3(ON, ON, ON)), 100);
	policy_commit(w.p);
	/* The file went back to an older serial: served as it is. (The
	 * answer zones go first: a static-only block's is the file's.) */
	policy_zones_free(w.p, w.out);
	w.out = NULL;
	zone_free(w.stat);
	w.stat = static_zone(90);
	cr_assert_eq(policy_new(w.conf, &w.stat, &again, &err), 0, "%s", err);
	policy_inherit(again, w.p);
	policy_free(w.p);
	w.p = again;
	cr_expect_eq(soa_serial(eval3(ON, ON, ON)), 90);
	cr_expect(policy_changed(w.p, 0));
}

Test(policy, role_and_region_questions)
{
	enum mirror_state st[3] = {ON, ON, OFF};

	world_new(FAILOVER("") ROLE(""), 100);
	cr_expect_eq(policy_role(w.p, st, "us-east-1"), POLICY_ROLE_ACTIVE);
	cr_expect_eq(policy_role(w.p, st, "us-west-2"), POLICY_ROLE_PASSIVE);
	cr_expect_eq(policy_role(w.p, st, "eu-west-1"), POLICY_ROLE_NONE);
	st[0] = OFF;
	cr_expect_eq(policy_role(w.p, st, "us-east-1"), POLICY_ROLE_PASSIVE);
	cr_expect_eq(policy_role(w.p, st, "us-west-2"), POLICY_ROLE_ACTIVE);
	cr_expect_eq(policy_role(w.p, NULL, "us-west-2"), POLICY_ROLE_UNKNOWN);
	/* Regions: the failover record comes first in config order. */
	cr_expect_eq(policy_region_control(w.p, "us-east-1"), 0);
	cr_expect_eq(policy_region_control(w.p, "us-west-2"), 1);
	cr_expect_eq(policy_region_control(w.p, "ap-south-1"), -1);
	world_free();
	world_new(ROLE("        when-none-on: servfail\n"), 100);
	st[0] = st[1] = OFF;
	cr_expect_eq(policy_role(w.p, st, "us-east-1"), POLICY_ROLE_UNKNOWN);
}

/* --- fenced writers ----------------------------------------------------------------- */

static int gate_answer;

static int
gate(void *arg, size_t fence)
{
	(void)arg;
	cr_expect_eq(fence, 0);
	return gate_answer;
}

#define FENCED \
	"      - name: writer\n" \
	"        type: A\n" \
	"        policy: failover\n" \
	"        fence: db\n" \
	"        targets:\n" \
	"          - { control: east, values: [10.0.9.1] }\n" \
	"          - { control: west, values: [10.1.9.1] }\n"

Test(policy, fenced_writer_publishes_only_what_the_gate_cleared)
{
	const struct zone *z;
	const struct zone_rrset *s;
	enum mirror_state st[3] = {OFF, ON, ON};
	char *yaml = xstrfmt(PREAMBLE FENCED "fences: { db: { hook: [/bin/true] } }\n");
	char *err = NULL;

	cr_assert_eq(conf_load_string("p.yaml", yaml, strlen(yaml), &w.conf,
	    &err), 0, "%s", err);
	free(yaml);
	w.stat = static_zone(100);
	cr_assert_eq(policy_new(w.conf, &w.stat, &w.p, &err), 0, "%s", err);
	cr_expect_eq(policy_fence_desired(w.p, st, 0), 1);
	cr_expect_eq(policy_fence_desired(w.p, NULL, 0), -1, "unknown");
	/* Without a gate: withdrawn (fail closed). */
	z = eval3(ON, ON, ON);
	s = rrset(z, "writer.svc.test.", T_A);
	cr_assert_not_null(s);
	cr_expect(s->withdrawn);
	policy_set_gate(w.p, gate, NULL);
	gate_answer = 0;
	cr_expect_str_eq(addrs(eval3(ON, ON, ON), "writer.svc.test."),
	    "10.0.9.1");
	/* Selected west, the fence still holds east: withdrawn. */
	s = rrset(eval3(OFF, ON, ON), "writer.svc.test.", T_A);
	cr_expect(s->withdrawn);
	gate_answer = -1;
	s = rrset(eval3(OFF, ON, ON), "writer.svc.test.", T_A);
	cr_expect(s->withdrawn);
	gate_answer = 1;
	cr_expect_str_eq(addrs(eval3(OFF, ON, ON), "writer.svc.test."),
	    "10.1.9.1");
	/* Unknown states: SERVFAIL whatever the gate says. */
	cr_expect_str_eq(addrs(eval3(UNK, ON, ON), "writer.svc.test."),
	    "SERVFAIL");
	/* A withdrawal is new content: the serial moves. */
	policy_commit(w.p);
	gate_answer = -1;
	eval3(OFF, ON, ON);
	cr_expect(policy_changed(w.p, 0));
}

/* A block without records answers from its zone file: the static zone
 * itself, not a copy, with the file's serial; freeing leaves it. */
Test(policy, block_without_records_is_its_zone_file)
{
	char *yaml = xstrdup("zones:\n"
	    "  - { id: svc, origin: svc.test., file: svc.zone }\n");
	char *err = NULL;
	struct zone **out = NULL;

	cr_assert_eq(conf_load_string("p.yaml", yaml, strlen(yaml), &w.conf,
	    &err), 0, "%s", err);
	free(yaml);
	w.stat = static_zone(77);
	cr_assert_eq(policy_new(w.conf, &w.stat, &w.p, &err), 0, "%s", err);
	cr_assert_eq(policy_eval(w.p, NULL, &out, &err), 0, "%s", err);
	cr_expect_eq(out[0], w.stat, "the static zone, borrowed");
	cr_expect_eq(policy_serial(w.p, 0), 77);
	cr_expect(policy_changed(w.p, 0), "first evaluation: new");
	policy_zones_free(w.p, out);
	policy_commit(w.p);
	/* Still whole after the free: look a record up. */
	cr_expect_not_null(rrset(w.stat, "www.svc.test.", T_A));
	cr_assert_eq(policy_eval(w.p, NULL, &out, &err), 0, "%s", err);
	cr_expect_not(policy_changed(w.p, 0), "same file: unchanged");
	policy_zones_free(w.p, out);
}
