/*
 * test_table.c -- precompiled answer tables on zones built record by
 * record: which template a lookup returns (flags, counts, glue), the
 * template invariants that answer.c relies on (patches sorted, inside the
 * data, internal pointers backwards), CHAOS, limits (an answer too large
 * for a message, big and deep zones) and responses checked with ldns.
 *
 * Configs are parsed from memory; their zone files are never opened: the
 * zones are built here and handed to table_build() in config order.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "dns/answer.h"
#include "dns/table.h"
#include "dns/wire.h"
#include "dns/xfr.h"
#include "mirror/mirror.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_SOA	6
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28
#define T_DS	43
#define T_ANY	255

/* --- building zones ---------------------------------------------------------- */

static void
wire(const char *text, uint8_t *out, size_t *len)
{
	cr_assert_eq(dname_from_str(text, NULL, out, len), 0, "%s", text);
}

static void
add(struct zone *z, const char *owner, uint16_t type, uint32_t ttl,
    const void *rd, size_t rdlen)
{
	uint8_t w[DNAME_MAXLEN];
	size_t wl;
	char *err = NULL;

	wire(owner, w, &wl);
	cr_assert_eq(zone_add_rr(z, w, type, ttl, rd, (uint16_t)rdlen, 0, &err),
	    0, "%s: %s", owner, err);
}

/* A record whose rdata is one name (NS, CNAME). */
static void
add_name(struct zone *z, const char *owner, uint16_t type, const char *target)
{
	uint8_t w[DNAME_MAXLEN];
	size_t wl;

	wire(target, w, &wl);
	add(z, owner, type, 300, w, wl);
}

static void
add_a(struct zone *z, const char *owner, const char *addr)
{
	uint8_t a[4];

	cr_assert_eq(inet_pton(AF_INET, addr, a), 1);
	add(z, owner, T_A, 300, a, 4);
}

/* New zone for origin with SOA (TTL 600, minimum 60) and NS ns1.<origin>. */
static struct zone *
zone_start(const char *origin)
{
	uint8_t o[DNAME_MAXLEN], rd[DNAME_MAXLEN * 2 + 20];
	size_t ol, off;
	char ns[300];
	static const uint8_t nums[20] = {0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0,
	    3, 0x84, 0, 9, 0x3a, 0x80, 0, 0, 0, 60};

	wire(origin, o, &ol);
	struct zone *z = zone_new(o, NULL);

	snprintf(ns, sizeof(ns), "ns1.%s", origin);
	wire(ns, rd, &off);
	memcpy(rd + off, "\12hostmaster", 11);
	memcpy(rd + off + 11, o, ol);
	off += 11 + ol;
	memcpy(rd + off, nums, 20);
	off += 20;
	add(z, origin, T_SOA, 600, rd, off);
	add_name(z, origin, T_NS, ns);
	add_a(z, ns, "192.0.2.1");
	return z;
}

static void
zone_end(struct zone *z)
{
	char *err = NULL;

	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
}

/* --- a table over built zones -------------------------------------------------- */

struct tworld {
	struct conf	*conf;
	struct zone	**zones;
	struct table	*t;
};

static struct conf *
conf_text(const char *yaml)
{
	struct conf *c = NULL;
	char *err = NULL;

	cr_assert_eq(conf_load_string("t.yaml", yaml, strlen(yaml), &c, &err),
	    0, "%s", err);
	return c;
}

static void
tworld_build(struct tworld *w, const char *yaml, struct zone **zones,
    size_t n)
{
	char *err = NULL;

	w->conf = conf_text(yaml);
	cr_assert_eq(w->conf->nzones, n);
	w->zones = zones;
	cr_assert_eq(table_build(w->conf, zones, &w->t, &err), 0, "%s", err);
}

static void
tworld_free(struct tworld *w)
{
	table_free(w->t);
	for (size_t i = 0; i < w->conf->nzones; i++)
		zone_free(w->zones[i]);
	conf_free(w->conf);
}

/*
 * The main synthetic zone: example.test. with data, a CNAME, an empty
 * non-terminal, a wildcard, a delegation with in-bailiwick glue and a DS,
 * a delegation without glue.
 */
static struct zone *zs[2];
static struct tworld tw;

static void
main_setup(void)
{
	struct zone *z = zone_start("example.test.");

	add_a(z, "www.example.test.", "192.0.2.10");
	add_a(z, "www.example.test.", "192.0.2.11");
	add(z, "www.example.test.", T_TXT, 60, "\2hi", 3);
	add_name(z, "alias.example.test.", T_CNAME, "www.example.test.");
	add(z, "a.b.ent.example.test.", T_TXT, 60, "\1x", 2);
	add_a(z, "*.wild.example.test.", "192.0.2.50");
	add_name(z, "sub.example.test.", T_NS, "ns.sub.example.test.");
	add(z, "sub.example.test.", T_DS, 300, "\x30\x39\x08\x02\xaa\xbb", 6);
	add_a(z, "ns.sub.example.test.", "192.0.2.53");
	add_name(z, "out.example.test.", T_NS, "ns.elsewhere.test.");
	zone_end(z);
	zs[0] = z;
	z = zone_start("other.test.");
	zone_end(z);
	zs[1] = z;
	tworld_build(&tw,
	    "server: { identity: tbl-id, edns-buffer-size: 1400 }\n"
	    "zones:\n"
	    "  - { id: ex, origin: example.test., file: ex.zone }\n"
	    "  - { id: ot, origin: other.test., file: ot.zone }\n"
	    "views:\n"
	    "  - { name: ex-only, match-clients: [\"10.0.0.0/8\"], zones: [ex] }\n"
	    "  - { name: both, match-clients: [\"127.0.0.0/8\"], "
	    "zones: [ot, ex] }\n", zs, 2);
}

static void
main_teardown(void)
{
	tworld_free(&tw);
}

TestSuite(table, .init = main_setup, .fini = main_teardown);

static const struct tmpl *
look(int view, const char *name, uint16_t type)
{
	uint8_t w[DNAME_MAXLEN], l[DNAME_MAXLEN];
	size_t wl;

	wire(name, w, &wl);
	dname_lower(l, w, wl);
	return table_lookup(tw.t, view, l, wl, type);
}

/* Invariants of every template (what copy_tmpl in answer.c assumes). */
static void
check_tmpl(const struct tmpl *t, const char *what)
{
	size_t noar = 0;

	cr_assert_not_null(t, "%s: no template", what);
	cr_assert_leq(t->ar_off, t->len, "%s", what);
	cr_assert_leq(t->npatch_noar, t->npatch, "%s", what);
	for (size_t i = 0; i < t->npatch; i++) {
		const struct tmpl_patch *p = &tmpl_patches(t)[i];

		cr_assert_leq(p->pos + 2u, t->len, "%s: patch %zu at %u", what,
		    i, p->pos);
		if (i > 0)
			cr_assert_gt(p->pos, tmpl_patches(t)[i - 1].pos,
			    "%s: patches not sorted", what);
		if (p->val & TMPL_PATCH_INTERNAL)
			cr_assert_lt(p->val & 0x7fff, p->pos, "%s: internal "
			    "pointer %zu does not point backwards", what, i);
		else if (p->val != TMPL_QNAME_FULL)
			cr_assert(p->val >= 1 && p->val <= DNAME_MAXLEN,
			    "%s: suffix length %u", what, p->val);
		if (p->pos < t->ar_off)
			noar++;
	}
	cr_assert_eq(noar, t->npatch_noar, "%s", what);
}

Test(table, view_and_size_accessors)
{
	struct sockaddr_in a = {.sin_family = AF_INET};

	cr_expect_eq(table_edns_size(tw.t), 1400);
	inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
	cr_expect_eq(table_view(tw.t, (struct sockaddr *)&a), 0);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	cr_expect_eq(table_view(tw.t, (struct sockaddr *)&a), 1);
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	cr_expect_eq(table_view(tw.t, (struct sockaddr *)&a), -1);
}

Test(table, names_per_view)
{
	/*
	 * example.test.: apex, ns1, www, alias, ent, b.ent, a.b.ent, wild,
	 * *.wild, sub, out = 11 (ns.sub is below the cut); other.test.:
	 * apex and ns1.
	 */
	cr_expect_eq(table_view_names(tw.t, 0), 11);
	cr_expect_eq(table_view_names(tw.t, 1), 13);
}

Test(table, exact_nodata_nxdomain)
{
	const struct tmpl *t = look(0, "www.example.test.", T_A);

	check_tmpl(t, "www A");
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 2);
	cr_expect_eq(t->ns, 0);
	cr_expect_eq(t->ar, 0);
	t = look(0, "www.example.test.", T_TXT);
	cr_expect_eq(t->an, 1);
	t = look(0, "www.example.test.", T_AAAA);
	check_tmpl(t, "www AAAA");
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
	/* The same template for every type the name lacks. */
	cr_expect_eq(look(0, "www.example.test.", 99), t);
	t = look(0, "nothere.example.test.", T_A);
	check_tmpl(t, "nxdomain");
	cr_expect_eq(t->flags, WIRE_AA | WIRE_NXDOMAIN);
	cr_expect_eq(t->ns, 1);
	/* One NXDOMAIN template per zone, whatever the name or type. */
	cr_expect_eq(look(0, "a.b.c.nothere.example.test.", T_MX), t);
	cr_expect_eq(look(0, "x.www.example.test.", T_A), t);
	/* Empty non-terminal: NODATA. */
	t = look(0, "b.ent.example.test.", T_TXT);
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
}

Test(table, case_insensitive_lookup_needs_lower_case_input)
{
	/* look() lowers the name; table_lookup itself takes lower case. */
	cr_expect_eq(look(0, "WWW.Example.TEST.", T_A),
	    look(0, "www.example.test.", T_A));
}

Test(table, out_of_zone_is_null)
{
	cr_expect_null(look(0, "www.example.com.", T_A));
	cr_expect_null(look(0, "test.", T_A));
	cr_expect_null(look(0, ".", T_A));
	/* other.test. is only in view 1. */
	cr_expect_null(look(0, "other.test.", T_SOA));
	cr_expect_not_null(look(1, "other.test.", T_SOA));
	cr_expect_not_null(look(1, "www.example.test.", T_A));
}

Test(table, cname_templates_per_type)
{
	const struct tmpl *a = look(0, "alias.example.test.", T_A);
	const struct tmpl *txt = look(0, "alias.example.test.", T_TXT);
	const struct tmpl *cn = look(0, "alias.example.test.", T_CNAME);
	const struct tmpl *mx = look(0, "alias.example.test.", T_MX);

	check_tmpl(a, "alias A");
	cr_expect_eq(a->an, 3);		/* CNAME + 2 A */
	cr_expect_eq(txt->an, 2);	/* CNAME + TXT */
	cr_expect_eq(cn->an, 1);
	/* MX occurs nowhere in the zone: the chain ends in NODATA. */
	cr_expect_eq(mx->an, 1);
	cr_expect_eq(mx->ns, 1);
	cr_expect_eq(mx->flags, WIRE_AA);
}

Test(table, wildcard_template)
{
	const struct tmpl *t = look(0, "x.y.wild.example.test.", T_A);

	check_tmpl(t, "wildcard");
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 1);
	/* The owner is the question name: one whole-name patch. */
	cr_assert_geq(t->npatch, 1);
	cr_expect_eq(tmpl_patches(t)[0].val, TMPL_QNAME_FULL);
	cr_expect_eq(tmpl_patches(t)[0].pos, 0);
	cr_expect_eq(look(0, "other.wild.example.test.", T_A), t);
	/* A type the wildcard lacks: NODATA. */
	t = look(0, "x.wild.example.test.", T_TXT);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
}

Test(table, referral_templates)
{
	const struct tmpl *t = look(0, "host.sub.example.test.", T_A);

	check_tmpl(t, "referral");
	cr_expect_eq(t->flags & WIRE_AA, 0);
	cr_expect_eq(t->flags & WIRE_RCODE_MASK, 0);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
	cr_expect_eq(t->ar, 1);
	cr_expect(t->need_ar, "in-bailiwick glue is required");
	cr_expect_lt(t->ar_off, t->len);
	cr_expect_eq(look(0, "sub.example.test.", T_A), t);
	cr_expect_eq(look(0, "sub.example.test.", T_NS), t);
	cr_expect_eq(look(0, "ns.sub.example.test.", T_A), t);
	cr_expect_eq(look(0, "sub.example.test.", T_ANY), t);
	/* DS at the cut: the parent's answer. */
	t = look(0, "sub.example.test.", T_DS);
	check_tmpl(t, "DS");
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 1);
	/* No glue: nothing required. */
	t = look(0, "x.out.example.test.", T_A);
	check_tmpl(t, "referral without glue");
	cr_expect_eq(t->ar, 0);
	cr_expect_not(t->need_ar);
	t = look(0, "out.example.test.", T_DS);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
}

Test(table, any_templates)
{
	const struct tmpl *t = look(0, "www.example.test.", T_ANY);

	check_tmpl(t, "ANY");
	cr_expect_eq(t->an, 1);
	cr_expect_eq(t->flags, WIRE_AA);
	t = look(0, "ent.example.test.", T_ANY);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
}

Test(table, chaos)
{
	const uint8_t id[] = "\2id\6server";
	const uint8_t hb[] = "\10hostname\4bind";
	const uint8_t vb[] = "\7version\4bind";
	const uint8_t vs[] = "\7version\6server";
	const uint8_t other[] = "\7authors\4bind";
	const struct tmpl *t = table_chaos(tw.t, id, sizeof(id), T_TXT);

	check_tmpl(t, "id.server");
	cr_expect_eq(t->an, 1);
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(table_chaos(tw.t, id, sizeof(id), T_ANY), t);
	cr_expect_not_null(table_chaos(tw.t, hb, sizeof(hb), T_TXT));
	cr_expect_not_null(table_chaos(tw.t, vb, sizeof(vb), T_TXT));
	cr_expect_not_null(table_chaos(tw.t, vs, sizeof(vs), T_TXT));
	cr_expect_null(table_chaos(tw.t, other, sizeof(other), T_TXT));
	t = table_chaos(tw.t, id, sizeof(id), T_A);
	cr_assert_not_null(t);
	cr_expect_eq(t->an, 0);
	/* Lengths must match too. */
	cr_expect_null(table_chaos(tw.t, id, sizeof(id) - 1, T_TXT));
}

Test(table, every_template_keeps_the_invariants)
{
	static const char *const names[] = {
		"example.test.", "www.example.test.", "alias.example.test.",
		"ent.example.test.", "a.b.ent.example.test.", "x.wild.example.test.",
		"*.wild.example.test.", "wild.example.test.", "sub.example.test.",
		"x.sub.example.test.", "out.example.test.", "no.example.test.",
		"ns1.example.test.",
	};
	static const uint16_t types[] = {0, T_A, T_NS, T_CNAME, T_SOA, T_MX,
	    T_TXT, T_AAAA, T_DS, T_ANY, 999};

	for (int v = 0; v < 2; v++)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			for (size_t j = 0; j < sizeof(types) / sizeof(types[0]);
			    j++) {
				char what[128];

				snprintf(what, sizeof(what), "view %d %s %u", v,
				    names[i], types[j]);
				check_tmpl(look(v, names[i], types[j]), what);
			}
}

/* --- multi-zone views ----------------------------------------------------------- */

Test(table_zones, child_zone_replaces_the_parent_below_its_origin)
{
	struct zone *z[2];
	struct tworld w;
	uint8_t l[DNAME_MAXLEN];
	size_t len;
	const struct tmpl *t;

	z[0] = zone_start("example.test.");
	add_name(z[0], "kid.example.test.", T_NS, "ns1.kid.example.test.");
	add_a(z[0], "ns1.kid.example.test.", "192.0.2.7");
	add_a(z[0], "only.parent.example.test.", "192.0.2.8");
	zone_end(z[0]);
	z[1] = zone_start("kid.example.test.");
	add_a(z[1], "www.kid.example.test.", "192.0.2.9");
	zone_end(z[1]);
	tworld_build(&w, "zones:\n"
	    "  - { id: p, origin: example.test., file: p }\n"
	    "  - { id: k, origin: kid.example.test., file: k }\n", z, 2);
	/* parent: apex, ns1, kid (skipped), only, parent.example = 4;
	 * kid: apex, ns1, www = 3. */
	cr_expect_eq(table_view_names(w.t, 0), 4 + 3);
	wire("kid.example.test.", l, &len);
	t = table_lookup(w.t, 0, l, len, T_SOA);
	check_tmpl(t, "kid SOA");
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 1);
	wire("nothing.kid.example.test.", l, &len);
	t = table_lookup(w.t, 0, l, len, T_A);
	cr_expect_eq(t->flags, WIRE_AA | WIRE_NXDOMAIN);
	tworld_free(&w);
}

/* A lookup in a world of its own, checked. */
static const struct tmpl *
look_in(const struct tworld *w, const char *name, uint16_t type)
{
	uint8_t l[DNAME_MAXLEN];
	size_t len;
	const struct tmpl *t;

	wire(name, l, &len);
	t = table_lookup(w->t, 0, l, len, type);
	check_tmpl(t, name);
	return t;
}

/* DS at the apex of a child zone: look up as the parent answers it. */
static const struct tmpl *
ds_at(const struct tworld *w, const char *name)
{
	return look_in(w, name, T_DS);
}

Test(table_zones, identical_answers_share_one_template)
{
	struct zone *z[1];
	struct tworld w;
	const struct tmpl *a1, *a2, *a3, *b;

	z[0] = zone_start("example.test.");
	add_a(z[0], "aa.example.test.", "192.0.2.1");
	add_a(z[0], "bb.example.test.", "192.0.2.1");	/* same length */
	add_a(z[0], "ccc.example.test.", "192.0.2.1");	/* longer owner */
	add_a(z[0], "dd.example.test.", "192.0.2.2");
	zone_end(z[0]);
	tworld_build(&w, "zones: [{ id: e, origin: example.test., "
	    "file: f }]\n", z, 1);
	a1 = ds_at(&w, "aa.example.test.");	/* NODATA for DS */
	a2 = ds_at(&w, "bb.example.test.");
	a3 = ds_at(&w, "ccc.example.test.");
	cr_expect_eq(a1, a2, "one NODATA template for the zone");
	cr_expect_eq(a1, a3, "one NODATA template for the zone");
	/* The owner is a pointer to the question: same data and length,
	 * same bytes; another address is another template. */
	a1 = look_in(&w, "aa.example.test.", T_A);
	a2 = look_in(&w, "bb.example.test.", T_A);
	b = look_in(&w, "dd.example.test.", T_A);
	cr_expect_eq(a1, a2);
	cr_expect_neq(a1, b);
	cr_expect_eq(a1->an, 1);
	cr_expect_eq(b->an, 1);
	cr_expect_neq(memcmp(tmpl_data(a1), tmpl_data(b), a1->len), 0);
	/* ANY (RFC 8482 HINFO with the node's TTL) is shared too. */
	cr_expect_eq(look_in(&w, "aa.example.test.", T_ANY),
	    look_in(&w, "dd.example.test.", T_ANY));
	tworld_free(&w);
}

Test(table_zones, ds_at_a_child_apex_is_the_parents_answer)
{
	enum { N = 7 };
	static const char *const origins[N] = {
		"example.test.", "kid.example.test.", "signed.example.test.",
		"orphan.example.test.", "ent.example.test.",
		"x.wc.example.test.", "deeper.kid.example.test."
	};
	static const uint8_t ds[] = {0x30, 0x39, 0x08, 0x02, 0xaa, 0xbb};
	struct zone *z[N];
	struct tworld w;
	char *yaml = xstrdup("zones:\n");
	const struct tmpl *t;

	for (int i = 0; i < N; i++) {
		char *more;

		z[i] = zone_start(origins[i]);
		more = xstrfmt("%s  - { id: z%d, origin: %s, file: f }\n",
		    yaml, i, origins[i]);
		free(yaml);
		yaml = more;
	}
	/* The parent: two delegations (one with a DS), an empty
	 * non-terminal above a.ent, a wildcard below wc; no orphan. */
	add_name(z[0], "kid.example.test.", T_NS, "ns1.kid.example.test.");
	add_a(z[0], "ns1.kid.example.test.", "192.0.2.7");
	add_name(z[0], "signed.example.test.", T_NS, "ns.example.net.");
	add(z[0], "signed.example.test.", T_DS, 300, ds, sizeof(ds));
	add_a(z[0], "a.ent.example.test.", "192.0.2.8");
	add_a(z[0], "*.wc.example.test.", "192.0.2.9");
	/* kid has deeper.kid without a delegation. */
	for (int i = 0; i < N; i++)
		zone_end(z[i]);
	tworld_build(&w, yaml, z, N);
	free(yaml);

	t = ds_at(&w, "kid.example.test.");	/* cut, no DS: NODATA */
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
	t = ds_at(&w, "signed.example.test.");	/* cut with a DS */
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 1);
	cr_expect_eq(t->ns, 0);
	t = ds_at(&w, "orphan.example.test.");	/* not in the parent */
	cr_expect_eq(t->flags, WIRE_AA | WIRE_NXDOMAIN);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
	t = ds_at(&w, "ent.example.test.");	/* empty non-terminal */
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
	t = ds_at(&w, "x.wc.example.test.");	/* the wildcard: no DS */
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
	/* The closest parent is kid, where deeper does not exist. */
	t = ds_at(&w, "deeper.kid.example.test.");
	cr_expect_eq(t->flags, WIRE_AA | WIRE_NXDOMAIN);
	cr_expect_eq(t->ns, 1);
	/* The top zone has no parent here: its own NODATA. */
	t = ds_at(&w, "example.test.");
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 0);
	/* Below a child's apex the child answers. */
	t = ds_at(&w, "ns1.orphan.example.test.");
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 0);
	tworld_free(&w);
}

Test(table_zones, many_zones_in_one_view)
{
	enum { N = 60 };
	struct zone *z[N];
	struct tworld w;
	char *yaml = xstrdup("zones:\n");

	for (int i = 0; i < N; i++) {
		char origin[64], name[80];
		char *more;

		snprintf(origin, sizeof(origin), "z%d.test.", i);
		z[i] = zone_start(origin);
		snprintf(name, sizeof(name), "www.%s", origin);
		add_a(z[i], name, "192.0.2.1");
		zone_end(z[i]);
		more = xstrfmt("%s  - { id: z%d, origin: %s, file: f }\n", yaml, i,
		    origin);
		free(yaml);
		yaml = more;
	}
	tworld_build(&w, yaml, z, N);
	free(yaml);
	for (int i = 0; i < N; i++) {
		char name[80];
		uint8_t l[DNAME_MAXLEN];
		size_t len;

		snprintf(name, sizeof(name), "www.z%d.test.", i);
		wire(name, l, &len);
		cr_assert_not_null(table_lookup(w.t, 0, l, len, T_A), "%s", name);
		cr_assert_eq(table_lookup(w.t, 0, l, len, T_A)->an, 1);
	}
	cr_expect_eq(table_view_names(w.t, 0), N * 3);
	tworld_free(&w);
}

/* --- limits ------------------------------------------------------------------------ */

Test(table_limits, answer_too_large_for_a_message)
{
	struct zone *z = zone_start("example.test.");
	struct zone *zz[1] = {z};
	struct conf *c;
	struct table *t = NULL;
	char *err = NULL;
	uint8_t rd[256];

	/* 300 TXT records of 250 bytes: about 78 KB. */
	for (int i = 0; i < 300; i++) {
		memset(rd, 'a', sizeof(rd));
		rd[0] = 250;
		snprintf((char *)rd + 1, 8, "%05d", i);
		rd[6] = 'a';
		add(z, "fat.example.test.", T_TXT, 60, rd, 251);
	}
	zone_end(z);
	c = conf_text("zones: [{ id: e, origin: example.test., file: f }]\n");
	cr_expect_eq(table_build(c, zz, &t, &err), ERR_INVAL);
	cr_expect_null(t);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, "the answer at fat.example.test. is too large "
	    "for a DNS message");
	free(err);
	conf_free(c);
	zone_free(z);
	table_free(NULL);
}

Test(table_limits, deep_and_long_names)
{
	struct zone *z = zone_start("example.test.");
	struct zone *zz[1] = {z};
	struct tworld w;
	char name[300];
	size_t off = 0;
	uint8_t l[DNAME_MAXLEN];
	size_t len;
	const struct tmpl *t;

	/* 3 x 64 + (1 + 48) + "example.test." (14) = 255 bytes. */
	for (int i = 0; i < 3; i++) {
		memset(name + off, 'a' + i, 63);
		off += 63;
		name[off++] = '.';
	}
	memset(name + off, 'd', 48);
	off += 48;
	snprintf(name + off, sizeof(name) - off, ".example.test.");
	wire(name, l, &len);
	cr_assert_eq(len, 255);
	add_a(z, name, "192.0.2.99");
	/* Many labels: 110 one-letter labels. */
	off = 0;
	for (int i = 0; i < 110; i++) {
		name[off++] = 'x';
		name[off++] = '.';
	}
	snprintf(name + off, sizeof(name) - off, "example.test.");
	add_a(z, name, "192.0.2.98");
	zone_end(z);
	tworld_build(&w, "zones: [{ id: e, origin: example.test., file: f }]\n",
	    zz, 1);
	wire(name, l, &len);
	t = table_lookup(w.t, 0, l, len, T_A);
	check_tmpl(t, "110 labels");
	cr_expect_eq(t->an, 1);
	/* Every ancestor is an empty non-terminal. */
	t = table_lookup(w.t, 0, l + 2, len - 2, T_A);
	cr_expect_eq(t->an, 0);
	cr_expect_eq(t->ns, 1);
	cr_expect_eq(t->flags, WIRE_AA);
	tworld_free(&w);
}

/* --- responses checked by ldns -------------------------------------------------------- */

static ldns_pkt *
query_ldns(const struct table *t, const char *qname, uint16_t qtype,
    bool tcp, size_t *outlen)
{
	uint8_t q[600], *out = xmalloc(65535);
	size_t ql = 12, wl;
	struct sockaddr_in a = {.sin_family = AF_INET};
	ldns_pkt *p = NULL;

	memset(q, 0, 12);
	q[0] = 0x42;
	q[5] = 1;
	wire(qname, q + ql, &wl);
	ql += wl;
	wire_put16(q + ql, qtype);
	wire_put16(q + ql + 2, 1);
	ql += 4;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	*outlen = answer_query(t, q, ql, (struct sockaddr *)&a, tcp, out,
	    tcp ? 65535 : 4096, NULL);
	cr_assert_gt(*outlen, 0);
	cr_assert_eq(ldns_wire2pkt(&p, out, *outlen), LDNS_STATUS_OK,
	    "%s: ldns cannot parse the response", qname);
	free(out);
	return p;
}

/*
 * An answer far larger than 16 KB: compression pointers can only reach
 * the first 16383 bytes, and the dictionary is bounded. Every name must
 * still come out right.
 */
Test(table_limits, large_answer_compresses_validly)
{
	enum { N = 700 };
	struct zone *z = zone_start("example.test.");
	struct zone *zz[1] = {z};
	struct tworld w;
	ldns_pkt *p;
	size_t len;

	for (int i = 0; i < N; i++) {
		char target[64];
		uint8_t rd[80];
		size_t tl;

		snprintf(target, sizeof(target), "mx%d.host%d.example.test.", i,
		    i % 37);
		rd[0] = (uint8_t)(i >> 8);
		rd[1] = (uint8_t)i;
		wire(target, rd + 2, &tl);
		add(z, "mail.example.test.", T_MX, 60, rd, tl + 2);
		add_a(z, target, "198.51.100.1");
	}
	zone_end(z);
	tworld_build(&w, "zones: [{ id: e, origin: example.test., file: f }]\n",
	    zz, 1);
	p = query_ldns(w.t, "MAIL.example.test.", T_MX, true, &len);
	cr_expect_gt(len, 16384, "only %zu bytes", len);
	cr_assert_eq(ldns_pkt_ancount(p), N);
	/* Additional data is optional; the encoder keeps at most 256
	 * RRsets per section (MAX_RRREF), in the order of the MX records. */
	cr_assert_gt(ldns_pkt_arcount(p), 0);
	cr_assert_leq(ldns_pkt_arcount(p), N);
	for (int i = 0; i < N; i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), (size_t)i);
		char *owner = ldns_rdf2str(ldns_rr_owner(rr));
		char *target = ldns_rdf2str(ldns_rr_rdf(rr, 1));
		char want[64];

		snprintf(want, sizeof(want), "mx%d.host%d.example.test.", i,
		    i % 37);
		cr_assert_str_eq(owner, "MAIL.example.test.");
		cr_assert_str_eq(target, want, "record %d", i);
		free(owner);
		free(target);
		if ((size_t)i < ldns_pkt_arcount(p)) {
			ldns_rr *ar = ldns_rr_list_rr(ldns_pkt_additional(p),
			    (size_t)i);
			char *arowner = ldns_rdf2str(ldns_rr_owner(ar));

			cr_assert_str_eq(arowner, want, "additional %d", i);
			free(arowner);
		}
	}
	ldns_pkt_free(p);
	/* Over UDP it does not fit: TC. */
	p = query_ldns(w.t, "mail.example.test.", T_MX, false, &len);
	cr_expect(ldns_pkt_tc(p));
	cr_expect_leq(len, 512);
	ldns_pkt_free(p);
	tworld_free(&w);
}

Test(table_limits, thousands_of_names)
{
	enum { N = 5000 };
	struct zone *z = zone_start("example.test.");
	struct zone *zz[1] = {z};
	struct tworld w;

	for (int i = 0; i < N; i++) {
		char name[64];

		snprintf(name, sizeof(name), "h%d.example.test.", i);
		add_a(z, name, "192.0.2.1");
	}
	zone_end(z);
	tworld_build(&w, "zones: [{ id: e, origin: example.test., file: f }]\n",
	    zz, 1);
	cr_expect_eq(table_view_names(w.t, 0), N + 2);
	for (int i = 0; i < N; i += 97) {
		char name[64];
		uint8_t l[DNAME_MAXLEN];
		size_t len;

		snprintf(name, sizeof(name), "h%d.example.test.", i);
		wire(name, l, &len);
		cr_assert_eq(table_lookup(w.t, 0, l, len, T_A)->an, 1);
	}
	tworld_free(&w);
}

/* --- ARC-driven placeholders: SERVFAIL -------------------------------------- */

Test(table_servfail, unknown_state_answers_servfail)
{
	struct zone *z = zone_start("svc.test.");
	struct zone *zz[1];
	struct tworld w;
	uint8_t n[DNAME_MAXLEN];
	size_t nl;
	char *err = NULL;
	const struct tmpl *t;

	wire("api.svc.test.", n, &nl);
	cr_assert_eq(zone_add_servfail(z, n, T_A, &err), 0, "%s", err);
	wire("db.svc.test.", n, &nl);
	cr_assert_eq(zone_add_servfail(z, n, T_CNAME, &err), 0, "%s", err);
	/* A static alias into an unknown name fails too. */
	add_name(z, "alias.svc.test.", T_CNAME, "api.svc.test.");
	add_a(z, "www.svc.test.", "192.0.2.7");
	zone_end(z);
	zz[0] = z;
	tworld_build(&w, "zones: [{ id: s, origin: svc.test., file: s.zone }]\n",
	    zz, 1);
	wire("api.svc.test.", n, &nl);
	t = table_lookup(w.t, 0, n, nl, T_A);
	check_tmpl(t, "api A");
	cr_expect_eq(t->flags, WIRE_SERVFAIL, "no AA, SERVFAIL");
	cr_expect_eq(t->an + t->ns + t->ar, 0);
	/* The name exists: other types are NODATA. */
	t = table_lookup(w.t, 0, n, nl, T_AAAA);
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->ns, 1);
	/* An unknown CNAME: every type, ANY included. */
	wire("db.svc.test.", n, &nl);
	cr_expect_eq(table_lookup(w.t, 0, n, nl, T_A)->flags, WIRE_SERVFAIL);
	cr_expect_eq(table_lookup(w.t, 0, n, nl, T_TXT)->flags, WIRE_SERVFAIL);
	cr_expect_eq(table_lookup(w.t, 0, n, nl, T_CNAME)->flags,
	    WIRE_SERVFAIL);
	cr_expect_eq(table_lookup(w.t, 0, n, nl, T_ANY)->flags, WIRE_SERVFAIL);
	wire("alias.svc.test.", n, &nl);
	cr_expect_eq(table_lookup(w.t, 0, n, nl, T_A)->flags, WIRE_SERVFAIL);
	cr_expect_eq(table_lookup(w.t, 0, n, nl, T_CNAME)->an, 1,
	    "the alias itself is known");
	/* Static names are untouched. */
	wire("www.svc.test.", n, &nl);
	t = table_lookup(w.t, 0, n, nl, T_A);
	cr_expect_eq(t->flags, WIRE_AA);
	cr_expect_eq(t->an, 1);
	tworld_free(&w);
}

/* --- zone transfers ------------------------------------------------------------- */

Test(table_xfr, per_view_where_allowed)
{
	struct zone *zz[2] = {zone_start("a.test."), zone_start("b.test.")};
	struct tworld w;
	uint8_t n[DNAME_MAXLEN];
	size_t nl;
	const struct xfr *x;

	add_a(zz[0], "www.a.test.", "192.0.2.9");
	zone_end(zz[0]);
	zone_end(zz[1]);
	tworld_build(&w,
	    "zones:\n"
	    "  - { id: a, origin: a.test., file: a.zone, allow-transfer: [\"127.0.0.0/8\"] }\n"
	    "  - { id: b, origin: b.test., file: b.zone }\n"
	    "views:\n"
	    "  - { name: one, match-clients: [\"10.0.0.0/8\"], zones: [b] }\n"
	    "  - { name: two, match-clients: [any], zones: [b, a] }\n", zz, 2);
	wire("a.test.", n, &nl);
	x = table_xfr(w.t, 1, n, nl);
	cr_assert_not_null(x);
	cr_expect_eq(xfr_serial(x), 1);
	cr_expect_eq(xfr_records(x), 5, "SOA, NS, ns1 A, www A, SOA");
	cr_expect_null(table_xfr(w.t, 0, n, nl), "a.test. is not in view one");
	wire("b.test.", n, &nl);
	cr_expect_null(table_xfr(w.t, 1, n, nl), "no allow-transfer for b");
	wire("www.a.test.", n, &nl);
	cr_expect_null(table_xfr(w.t, 1, n, nl), "not an apex");
	tworld_free(&w);
}

/* --- CHAOS state.arcdns -------------------------------------------------------- */

/* The TXT strings of a state.arcdns answer written at buf. */
static size_t
state_texts(const uint8_t *buf, size_t len, uint16_t count, char out[][300])
{
	size_t off = 0;

	for (uint16_t i = 0; i < count; i++) {
		cr_assert_leq(off + 13, len);
		cr_expect_eq(buf[off], 0xc0, "owner: a pointer");
		cr_expect_eq(buf[off + 1], 12);
		cr_expect_eq(buf[off + 3], T_TXT);
		cr_expect_eq(buf[off + 5], 3, "class CH");
		cr_expect_eq(buf[off + 9], 0, "TTL 0");
		snprintf(out[i], 300, "%.*s", buf[off + 12],
		    (const char *)buf + off + 13);
		off += 13 + buf[off + 12];
	}
	cr_expect_eq(off, len);
	return count;
}

Test(table_state, controls_freshness_and_hash)
{
	struct zone *zz[1] = {zone_start("s.test.")};
	struct tworld w1, w2;
	struct mirror *m;
	struct mirror_entry e[2] = {
		{"arn:x/routingcontrol/1", "r-east", "arn:x", true},
		{"arn:x/routingcontrol/2", "r-west", "arn:x", false},
	};
	_Atomic uint64_t last = 0;
	uint8_t buf[2048], name[DNAME_MAXLEN];
	char txt[8][300];
	uint16_t n;
	size_t len, nl;
	struct sockaddr_in a = {.sin_family = AF_INET};
	static const char yaml[] =
	    "server: { chaos-clients: [\"127.0.0.2/32\"] }\n"
	    "arc: { endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }] }\n"
	    "controls: { east: { name: r-east }, west: { name: r-west } }\n"
	    "zones: [{ id: s, origin: s.test., file: s.zone }]\n";

	zone_end(zz[0]);
	tworld_build(&w1, yaml, zz, 1);
	wire("state.arcdns.", name, &nl);
	cr_expect(table_is_state_name(name, nl));
	wire("state.arcdns.x.", name, &nl);
	cr_expect_not(table_is_state_name(name, nl));
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	cr_expect(table_state_allowed(w1.t, (struct sockaddr *)&a));
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	cr_expect_not(table_state_allowed(w1.t, (struct sockaddr *)&a));

	/* No state yet. */
	m = mirror_new(w1.conf);
	table_set_state(w1.t, m, &last, 3000);
	len = table_state_rrs(w1.t, 50000, buf, sizeof(buf), &n);
	cr_assert_eq(state_texts(buf, len, n, txt), 4);
	cr_expect_str_eq(txt[0], "east unknown");
	cr_expect_str_eq(txt[1], "west unknown");
	cr_expect_str_eq(txt[2], "mirror never");
	cr_expect(strncmp(txt[3], "hash=", 5) == 0 && strlen(txt[3]) ==
	    5 + 12 + strlen(" controls=2"), "%s", txt[3]);

	/* A poll at 10 s; queried at 12.5 s (fresh) and at 20 s (stale). */
	cr_assert_eq(mirror_apply(m, e, 2, "us-west-2", 10000), 2);
	last = 10000;
	zone_free(w1.zones[0]);
	table_free(w1.t);
	zz[0] = zone_start("s.test.");
	zone_end(zz[0]);
	w1.zones = zz;
	cr_assert_eq(table_build(w1.conf, zz, &w1.t, &(char *){NULL}), 0);
	table_set_state(w1.t, m, &last, 3000);
	len = table_state_rrs(w1.t, 12500, buf, sizeof(buf), &n);
	cr_assert_eq(state_texts(buf, len, n, txt), 4);
	cr_expect_str_eq(txt[0], "east On age=2.5s endpoint=us-west-2");
	cr_expect_str_eq(txt[1], "west Off age=2.5s endpoint=us-west-2");
	cr_expect_str_eq(txt[2], "mirror fresh last-success=2.5s");
	len = table_state_rrs(w1.t, 100000, buf, sizeof(buf), &n);
	cr_assert_eq(state_texts(buf, len, n, txt), 4);
	cr_expect_str_eq(txt[0], "east On age=90s endpoint=us-west-2");
	cr_expect_str_eq(txt[2], "mirror stale last-success=90s");
	/* Too small a buffer: nothing (the caller sets TC). */
	cr_expect_eq(table_state_rrs(w1.t, 12500, buf, 40, &n), 0);
	cr_expect_eq(n, 0);

	/* Another table over the same states: the same hash; a flip: not. */
	{
		struct zone *z2[1] = {zone_start("s.test.")};
		char h1[300];

		zone_end(z2[0]);
		tworld_build(&w2, yaml, z2, 1);
		table_set_state(w2.t, m, &last, 3000);
		len = table_state_rrs(w2.t, 12500, buf, sizeof(buf), &n);
		state_texts(buf, len, n, txt);
		snprintf(h1, sizeof(h1), "%s", txt[3]);
		cr_expect(strncmp(h1 + 5, table_state_hash(w2.t), 12) == 0,
		    "%s vs %s", h1, table_state_hash(w2.t));
		len = table_state_rrs(w1.t, 12500, buf, sizeof(buf), &n);
		state_texts(buf, len, n, txt);
		cr_expect_str_eq(txt[3], h1);
		e[1].on = true;
		cr_assert_eq(mirror_apply(m, e, 2, "us-west-2", 11000), 1);
		table_set_state(w2.t, m, &last, 3000);
		len = table_state_rrs(w2.t, 12500, buf, sizeof(buf), &n);
		state_texts(buf, len, n, txt);
		cr_expect_str_neq(txt[3], h1);
		tworld_free(&w2);
	}
	/* Without a mirror. */
	table_set_state(w1.t, NULL, NULL, 0);
	len = table_state_rrs(w1.t, 12500, buf, sizeof(buf), &n);
	cr_assert_eq(state_texts(buf, len, n, txt), 2);
	cr_expect_str_eq(txt[0], "mirror off");
	mirror_free(m);
	tworld_free(&w1);
}

/* --- a fenced writer between two targets: withdrawn ------------------------------ */

Test(table_withdrawn, nodata_with_the_soa_at_ttl_0)
{
	struct zone *z = zone_start("svc.test.");
	struct zone *zz[1];
	struct tworld w;
	uint8_t n[DNAME_MAXLEN];
	size_t nl, len;
	char *err = NULL;
	ldns_pkt *p;
	static const char *const names[] = {"writer.svc.test.",
	    "cwriter.svc.test."};

	wire("writer.svc.test.", n, &nl);
	cr_assert_eq(zone_add_withdrawn(z, n, T_A, &err), 0, "%s", err);
	wire("cwriter.svc.test.", n, &nl);
	cr_assert_eq(zone_add_withdrawn(z, n, T_CNAME, &err), 0, "%s", err);
	add_a(z, "www.svc.test.", "192.0.2.7");
	zone_end(z);
	zz[0] = z;
	tworld_build(&w, "zones: [{ id: s, origin: svc.test., file: s.zone }]\n",
	    zz, 1);
	for (size_t i = 0; i < 2; i++) {
		p = query_ldns(w.t, names[i], T_A, false, &len);
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		cr_expect(ldns_pkt_aa(p));
		cr_expect_eq(ldns_pkt_ancount(p), 0, "%s", names[i]);
		cr_assert_eq(ldns_pkt_nscount(p), 1);
		cr_expect_eq(ldns_rr_get_type(ldns_rr_list_rr(
		    ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_SOA);
		cr_expect_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p),
		    0)), 0, "%s: negative TTL 0", names[i]);
		ldns_pkt_free(p);
	}
	/* Other types at the A writer: the usual NODATA (SOA minimum). */
	p = query_ldns(w.t, "writer.svc.test.", T_TXT, false, &len);
	cr_expect_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p), 0)),
	    60);
	ldns_pkt_free(p);
	/* The withdrawn CNAME: every type, CNAME included. */
	p = query_ldns(w.t, "cwriter.svc.test.", T_CNAME, false, &len);
	cr_expect_eq(ldns_pkt_ancount(p), 0);
	cr_expect_eq(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_authority(p), 0)),
	    0);
	ldns_pkt_free(p);
	tworld_free(&w);
}
