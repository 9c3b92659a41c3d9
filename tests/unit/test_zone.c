/*
 * test_zone.c -- zone loading and indexing: the good zone's nodes, flags,
 * RRsets, TTLs and negative TTL; every loader error with its exact
 * "file:line: message"; zones built record by record.
 *
 * Zone files live in tests/data/unit/ (their line numbers are asserted
 * here). Zones written on the fly go to a mkdtemp directory.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dname.h"
#include "util/err.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define DATA(name)	TEST_DATA_DIR "/unit/" name
#define W(s)		((const uint8_t *)(s))

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_SOA	6
#define T_TXT	16
#define T_AAAA	28
#define T_DS	43

/* --- helpers ------------------------------------------------------------- */

static char tmpdir[64];

static void
tmp_setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/zoneXXXXXX",
	    base != NULL && strlen(base) < 40 ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

static void
tmp_teardown(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/zone", tmpdir);
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	(void)rmdir(path);
	(void)rmdir(tmpdir);
}

/* Write text to <tmpdir>/zone; returns the path (new). */
static char *
write_zone(const char *text)
{
	char *path = xstrfmt("%s/zone", tmpdir);
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	cr_assert_eq(fputs(text, fp) >= 0, true);
	cr_assert_eq(fclose(fp), 0);
	return path;
}

static struct zone *
load_ok(const char *path, const char *origin)
{
	struct zone *z = NULL;
	char *err = NULL;
	int ret = zone_load(path, origin, &z, &err);

	cr_assert_eq(ret, 0, "zone_load(%s): %d: %s", path, ret,
	    err != NULL ? err : "(no message)");
	cr_assert_not_null(z);
	cr_assert_null(err);
	return z;
}

/* Load must fail with code; returns the message (new). */
static char *
load_bad(const char *path, const char *origin, int code)
{
	struct zone *z = NULL;
	char *err = NULL;
	int ret = zone_load(path, origin, &z, &err);

	cr_assert_eq(ret, code, "zone_load(%s): got %d, want %d (%s)", path,
	    ret, code, err != NULL ? err : "no message");
	cr_assert_null(z);
	cr_assert_not_null(err);
	return err;
}

static const struct zone_node *
node(const struct zone *z, const char *text)
{
	uint8_t wire[DNAME_MAXLEN];
	size_t len;

	cr_assert_eq(dname_from_str(text, NULL, wire, &len), 0, "%s", text);
	return zone_get(z, wire, len);
}

static const struct zone_node *
node_ok(const struct zone *z, const char *text)
{
	const struct zone_node *n = node(z, text);

	cr_assert_not_null(n, "no node for %s", text);
	return n;
}

static const struct zone_rrset *
set_ok(const struct zone *z, const char *text, uint16_t type)
{
	const struct zone_rrset *s = zone_node_rrset(node_ok(z, text), type);

	cr_assert_not_null(s, "no type %u at %s", type, text);
	return s;
}

/* --- the good zone --------------------------------------------------------- */

static struct zone *good;

static void
good_setup(void)
{
	good = load_ok(DATA("good.zone"), "example.test.");
}

static void
good_teardown(void)
{
	zone_free(good);
}

TestSuite(zone_good, .init = good_setup, .fini = good_teardown);

Test(zone_good, header_fields)
{
	cr_expect_str_eq(good->file, DATA("good.zone"));
	cr_expect_eq(good->originlen, 14);
	cr_expect_arr_eq(good->origin, "\7example\4test", 14);
	cr_expect(good->finished);
	cr_expect_eq(good->serial, 2024010101u);
	/* SOA TTL 7200, minimum 300: the lower one. */
	cr_expect_eq(good->neg_ttl, 300);
	cr_expect_eq(zone_soa(good), zone_node_rrset(good->apex, T_SOA));
	cr_expect_eq(zone_soa(good)->ttl, 7200);
	cr_expect_eq(zone_soa(good)->line, 5);
}

Test(zone_good, every_node_and_only_those)
{
	static const char *const names[] = {
		"example.test.", "ns1.example.test.", "www.example.test.",
		"c.example.test.", "b.c.example.test.", "a.b.c.example.test.",
		"wild.example.test.", "*.wild.example.test.",
		"alias.example.test.", "sub.example.test.",
		"ns.sub.example.test.", "deep.ns.sub.example.test.",
		"mixed.example.test.", "upper.example.test.",
	};
	size_t n = sizeof(names) / sizeof(names[0]);

	for (size_t i = 0; i < n; i++)
		cr_expect_not_null(node(good, names[i]), "%s", names[i]);
	cr_expect_eq(good->nnodes, n);
	cr_expect_eq(node(good, "example.test."), good->apex);
	/* Misses: absent names, names above the apex, other zones. */
	cr_expect_null(node(good, "nothere.example.test."));
	cr_expect_null(node(good, "x.www.example.test."));
	cr_expect_null(node(good, "test."));
	cr_expect_null(node(good, "ns2.other.test."));
	cr_expect_null(node(good, "elsewhere.test."));
	/* Keys are lower case: an upper-case lookup misses. */
	cr_expect_null(node(good, "MiXeD.example.test."));
}

Test(zone_good, empty_non_terminals)
{
	const struct zone_node *c = node_ok(good, "c.example.test.");
	const struct zone_node *bc = node_ok(good, "b.c.example.test.");
	const struct zone_node *abc = node_ok(good, "a.b.c.example.test.");

	cr_expect_eq(c->nsets, 0);
	cr_expect_eq(bc->nsets, 0);
	cr_expect_eq(abc->nsets, 1);
	cr_expect_eq(abc->parent, bc);
	cr_expect_eq(bc->parent, c);
	cr_expect_eq(c->parent, good->apex);
	cr_expect_null(good->apex->parent);
	cr_expect_eq(c->flags, 0);
	cr_expect_eq(bc->flags, 0);
}

Test(zone_good, flags)
{
	cr_expect_eq(good->apex->flags, ZONE_NODE_APEX);
	cr_expect_eq(node_ok(good, "www.example.test.")->flags, 0);
	cr_expect_eq(node_ok(good, "sub.example.test.")->flags,
	    ZONE_NODE_DELEG);
	/* Glue and anything else below the cut is occluded. */
	cr_expect_eq(node_ok(good, "ns.sub.example.test.")->flags,
	    ZONE_NODE_OCCLUDED);
	cr_expect_eq(node_ok(good, "deep.ns.sub.example.test.")->flags,
	    ZONE_NODE_OCCLUDED);
	cr_expect_eq(node_ok(good, "*.wild.example.test.")->flags,
	    ZONE_NODE_WILDCARD);
	cr_expect_eq(node_ok(good, "wild.example.test.")->flags, 0);
}

Test(zone_good, wildcard_link)
{
	const struct zone_node *w = node_ok(good, "wild.example.test.");
	const struct zone_node *star = node_ok(good, "*.wild.example.test.");

	cr_expect_eq(w->wild, star);
	cr_expect_eq(star->parent, w);
	cr_expect_eq(w->nsets, 0);
	cr_expect_null(good->apex->wild);
	cr_expect_null(node_ok(good, "www.example.test.")->wild);
	cr_expect_eq(set_ok(good, "*.wild.example.test.", T_A)->count, 1);
}

Test(zone_good, rrsets_ttls_and_duplicates)
{
	const struct zone_rrset *a = set_ok(good, "www.example.test.", T_A);
	const struct zone_rrset *aaaa = set_ok(good, "www.example.test.",
	    T_AAAA);
	const struct zone_rrset *ns = zone_node_rrset(good->apex, T_NS);

	/* 192.0.2.10 twice (line 12 repeats line 9): one copy. */
	cr_expect_eq(a->count, 2);
	cr_expect_eq(a->ttl, 300, "the lowest TTL of the set");
	cr_expect_eq(a->line, 9);
	cr_expect_eq(a->rd[0].len, 4);
	cr_expect_arr_eq(a->rd[0].data, "\xc0\x00\x02\x0a", 4);
	cr_expect_arr_eq(a->rd[1].data, "\xc0\x00\x02\x0b", 4);
	/* $TTL applies when the record has none. */
	cr_expect_eq(aaaa->ttl, 3600);
	cr_expect_eq(aaaa->rd[0].len, 16);
	cr_assert_not_null(ns);
	cr_expect_eq(ns->count, 2);
	cr_expect_eq(ns->ttl, 3600);
	cr_expect_null(zone_node_rrset(node_ok(good, "www.example.test."),
	    T_TXT));
	cr_expect_eq(node_ok(good, "www.example.test.")->nsets, 2);
}

Test(zone_good, delegation_sets)
{
	const struct zone_node *sub = node_ok(good, "sub.example.test.");
	const struct zone_rrset *ns = zone_node_rrset(sub, T_NS);
	const struct zone_rrset *ds = zone_node_rrset(sub, T_DS);

	cr_assert_not_null(ns);
	cr_assert_not_null(ds);
	cr_expect_eq(ns->count, 2);
	cr_expect_eq(ds->count, 1);
	/* key tag, algorithm, digest type, 32-byte digest */
	cr_expect_eq(ds->rd[0].len, 4 + 32);
	cr_expect_eq(set_ok(good, "ns.sub.example.test.", T_A)->count, 1);
}

Test(zone_good, names_lower_case_rdata_case_kept)
{
	const struct zone_rrset *cn = set_ok(good, "upper.example.test.",
	    T_CNAME);
	const struct zone_node *m = node_ok(good, "mixed.example.test.");

	cr_expect_arr_eq(m->name, "\5mixed\7example\4test", 20);
	cr_expect_eq(m->namelen, 20);
	cr_expect_eq(cn->rd[0].len, 18);
	cr_expect_arr_eq(cn->rd[0].data, "\3WWW\7Example\4TEST", 18);
}

Test(zone_good, soa_relative_names_expanded)
{
	const struct zone_rrset *soa = zone_soa(good);
	const uint8_t *rd = soa->rd[0].data;

	cr_expect_arr_eq(rd, "\3ns1\7example\4test", 18);
	cr_expect_arr_eq(rd + 18, "\12hostmaster\7example\4test", 25);
	cr_expect_eq(soa->rd[0].len, 18 + 25 + 20);
}

Test(zone_good, rrset_lookup_misses)
{
	cr_expect_null(zone_node_rrset(good->apex, T_A));
	cr_expect_null(zone_node_rrset(node_ok(good, "c.example.test."),
	    T_A));
}

/* --- loading variants ------------------------------------------------------ */

TestSuite(zone_load, .init = tmp_setup, .fini = tmp_teardown);

Test(zone_load, origin_any_case_and_without_origin_directive)
{
	char *path = write_zone(
	    "$TTL 60\n"
	    "@ IN SOA ns1 hostmaster 7 3600 900 604800 30\n"
	    "@ IN NS ns1\n"
	    "ns1 IN A 192.0.2.1\n"
	    "Host.Sub IN A 192.0.2.2\n");
	struct zone *z = load_ok(path, "ExAmPlE.TeSt.");

	cr_expect_arr_eq(z->origin, "\7example\4test", 14);
	cr_expect_not_null(node(z, "host.sub.example.test."));
	cr_expect_not_null(node(z, "sub.example.test."));
	cr_expect_eq(z->serial, 7);
	/* SOA TTL 60, minimum 30. */
	cr_expect_eq(z->neg_ttl, 30);
	zone_free(z);
	free(path);
}

Test(zone_load, neg_ttl_is_soa_ttl_when_lower)
{
	char *path = write_zone(
	    "$ORIGIN example.test.\n"
	    "@ 20 IN SOA ns1 hostmaster 1 3600 900 604800 86400\n"
	    "@ IN NS ns1\n");
	struct zone *z = load_ok(path, "example.test.");

	cr_expect_eq(z->neg_ttl, 20);
	zone_free(z);
	free(path);
}

Test(zone_load, multi_line_soa_and_comments)
{
	char *path = write_zone(
	    "; leading comment\n"
	    "$ORIGIN example.test.\n"
	    "$TTL 3600\n"
	    "@ IN SOA ns1 hostmaster (\n"
	    "    4294967295 ; serial\n"
	    "    3600 900 604800\n"
	    "    0 )        ; minimum\n"
	    "\n"
	    "@ IN NS ns1 ; trailing comment\n"
	    "ns1 IN A 192.0.2.1\n");
	struct zone *z = load_ok(path, "example.test.");

	cr_expect_eq(z->serial, 4294967295u);
	cr_expect_eq(z->neg_ttl, 0);
	cr_expect_eq(set_ok(z, "ns1.example.test.", T_A)->line, 10);
	cr_expect_eq(zone_node_rrset(z->apex, T_NS)->line, 9);
	zone_free(z);
	free(path);
}

Test(zone_load, last_line_without_newline)
{
	char *path = write_zone(
	    "$ORIGIN example.test.\n"
	    "@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n"
	    "@ IN NS ns1\n"
	    "ns1 IN A 192.0.2.1");
	struct zone *z = load_ok(path, "example.test.");

	cr_expect_not_null(zone_node_rrset(node_ok(z, "ns1.example.test."),
	    T_A));
	zone_free(z);
	free(path);
}

Test(zone_load, invalid_origin)
{
	char *err = load_bad(DATA("good.zone"), "a..b.", ERR_PARSE);

	cr_expect_str_eq(err, DATA("good.zone") ": invalid origin 'a..b.'");
	free(err);
}

Test(zone_load, file_for_another_origin)
{
	char *err = load_bad(DATA("good.zone"), "other.test.", ERR_INVAL);

	/* $ORIGIN example.test. puts line 5's SOA outside other.test. */
	cr_expect_str_eq(err, DATA("good.zone")
	    ":5: example.test. is outside the zone");
	free(err);
}

Test(zone_load, nonexistent_file)
{
	char *err = load_bad(DATA("no-such.zone"), "example.test.", -ENOENT);

	cr_expect_str_eq(err, DATA("no-such.zone")
	    ": cannot open: No such file or directory");
	free(err);
}

/*
 * A directory opens fine with fopen() but every read fails (EISDIR): the
 * loader must report it, not spin. The timeout turns a hang into a
 * failure.
 */
Test(zone_load, directory_is_an_error, .timeout = 10)
{
	char *dir = xstrfmt("%s/dir", tmpdir);
	struct zone *z = NULL;
	char *err = NULL;
	int ret;

	cr_assert_eq(mkdir(dir, 0700), 0);
	ret = zone_load(dir, "example.test.", &z, &err);
	cr_expect_neq(ret, 0);
	cr_expect_null(z);
	cr_assert_not_null(err);
	cr_expect_eq(strncmp(err, dir, strlen(dir)), 0, "message: %s", err);
	zone_free(z);
	free(err);
	free(dir);
}

/* --- loader errors, from files in tests/data/unit ----------------------------- */

struct file_case {
	const char	*file;
	int		 code;
	/* The message after "<path>"; ldns's own wording when ldns is
	 * NULL: then only the ":line: " prefix is checked exactly. */
	const char	*msg;
	bool		 ldns;
};

static const struct file_case file_cases[] = {
	{"nosoa.zone", ERR_INVAL,
	    ": no SOA record at the apex example.test.", false},
	{"nons.zone", ERR_INVAL,
	    ": no NS records at the apex example.test.", false},
	{"syntax.zone", ERR_PARSE, ":5: ", true},
	{"syntax-multiline.zone", ERR_PARSE, ":13: ", true},
	{"syntax-lastline.zone", ERR_PARSE, ":6: ", true},
	{"outside.zone", ERR_INVAL,
	    ":7: www.other.test. is outside the zone", false},
	{"cname-other.zone", ERR_INVAL,
	    ":6: alias.example.test. has a CNAME and other data", false},
	{"two-cnames.zone", ERR_INVAL,
	    ":7: alias.example.test. has more than one CNAME record", false},
	{"include.zone", ERR_PARSE, ":3: $INCLUDE is not supported", false},
	{"two-soas.zone", ERR_INVAL,
	    ":5: example.test. has more than one SOA record", false},
	{"soa-below.zone", ERR_INVAL,
	    ":5: SOA record at sub.example.test., which is not the apex",
	    false},
	{"class-ch.zone", ERR_INVAL, ":5: only class IN is supported", false},
	{"dname.zone", ERR_INVAL, ":6: old.example.test.: DNAME is not "
	    "supported (RFC 6672 redirection is not implemented): use CNAME "
	    "records", false},
	{"dname-generic.zone", ERR_INVAL, ":5: old.example.test.: DNAME is "
	    "not supported (RFC 6672 redirection is not implemented): use "
	    "CNAME records", false},
	/* The apex always has SOA and NS, so a CNAME there is "other data". */
	{"cname-apex.zone", ERR_INVAL,
	    ":5: example.test. has a CNAME and other data", false},
};
#define NFILE	(sizeof(file_cases) / sizeof(file_cases[0]))

ParameterizedTestParameters(zone_errors, files)
{
	static size_t idx[NFILE];

	for (size_t i = 0; i < NFILE; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NFILE);
}

ParameterizedTest(size_t *i, zone_errors, files)
{
	const struct file_case *c = &file_cases[*i];
	char *path = xstrfmt("%s/unit/%s", TEST_DATA_DIR, c->file);
	char *want = xstrfmt("%s%s", path, c->msg);
	char *err = load_bad(path, "example.test.", c->code);

	if (c->ldns) {
		cr_expect_eq(strncmp(err, want, strlen(want)), 0,
		    "got:  %s\nwant: %s...", err, want);
		cr_expect_gt(strlen(err), strlen(want), "no reason in: %s",
		    err);
	} else
		cr_expect_str_eq(err, want);
	free(err);
	free(want);
	free(path);
}

/* --- loader errors, from text ------------------------------------------------- */

#define HEAD	"$ORIGIN example.test.\n$TTL 3600\n" \
		"@ IN SOA ns1 hostmaster 1 3600 900 604800 300\n" \
		"@ IN NS ns1\n"			/* lines 1-4 */

#define L10	"bbbbbbbbbb"
#define L49	L10 L10 L10 L10 "bbbbbbbbb"
#define L60	L10 L10 L10 L10 L10 L10
#define L63	L60 "aaa"
#define ANY_ERR	1	/* any negative code */

struct text_case {
	const char	*text;
	int		 code;
	int		 line;		/* the error's line */
	const char	*msg;		/* NULL: ldns wording, not checked */
};

static const struct text_case text_cases[] = {
	/* A type nobody knows, with no rdata: ldns makes it TYPE0, which
	 * must not be loaded (and then served to qtype 0). */
	{HEAD "www IN BOGUSTYPE\n", ERR_PARSE, 5, NULL},
	{HEAD "www IN AAA\nns1 IN A 192.0.2.1\n", ERR_PARSE, 5, NULL},
	/* A syntax error on the last line must not be taken for trailing
	 * blank text: the record would be dropped without a word. */
	{HEAD "a..b IN A 192.0.2.1\n", ERR_PARSE, 5, NULL},
	{HEAD "ns1 IN A 192.0.2.1\nb..c IN A 192.0.2.1", ERR_PARSE, 6, NULL},
	/* A "(" never closed before the end of the file. */
	{HEAD "www IN A 192.0.2.1 (\n", ERR_PARSE, 5, NULL},
	/* Relative names joined to the origin past 255 bytes: ldns does not
	 * check, and the loader must (a 256+ byte name overflows every
	 * DNAME_MAXLEN buffer downstream). 3 x 64 + 50 + 14 = 256 bytes. */
	{HEAD L63 "." L63 "." L63 "." L49 " IN A 192.0.2.9\n", ANY_ERR, 5,
	    NULL},
	{HEAD "www IN CNAME " L63 "." L63 "." L63 "." L60 "\n", ANY_ERR, 5,
	    NULL},
	{HEAD "@ IN MX 10 " L63 "." L63 "." L63 "." L60 "\n", ANY_ERR, 5,
	    NULL},
	/* The same errors before other records are reported today. */
	{HEAD "a..b IN A 192.0.2.1\nns1 IN A 192.0.2.1\n", ERR_PARSE, 5,
	    NULL},
	{HEAD "www IN A\n", ERR_PARSE, 5, NULL},
	{HEAD "www IN MX 10\n", ERR_PARSE, 5, NULL},
	{HEAD "www IN A 1.2.3\n", ERR_PARSE, 5, NULL},
	{HEAD "\n\n; comment\nwww IN AAAA 192.0.2.1\n", ERR_PARSE, 8, NULL},
	{HEAD "ns1 IN A 192.0.2.1\nx.example.test.example.test. IN A 192.0.2.1\n"
	    "www.example.com. IN A 192.0.2.1\n", ERR_INVAL, 7,
	    "www.example.com. is outside the zone"},
	{HEAD "test. IN A 192.0.2.1\n", ERR_INVAL, 5,
	    "test. is outside the zone"},
	{HEAD "ns1 IN A 192.0.2.1\n$INCLUDE /etc/passwd\n", ERR_PARSE, 6,
	    "$INCLUDE is not supported"},
	{HEAD "www IN CNAME a\nwww IN TXT \"x\"\n", ERR_INVAL, 5,
	    "www.example.test. has a CNAME and other data"},
	{HEAD "www IN TXT \"x\"\nwww IN CNAME a\n", ERR_INVAL, 6,
	    "www.example.test. has a CNAME and other data"},
	{HEAD "x IN CNAME a\nx IN CNAME b\n", ERR_INVAL, 6,
	    "x.example.test. has more than one CNAME record"},
	{HEAD "x CH TXT \"chaos\"\n", ERR_INVAL, 5,
	    "only class IN is supported"},
	{HEAD "x HS TXT \"hesiod\"\n", ERR_INVAL, 5,
	    "only class IN is supported"},
};
#define NTEXT	(sizeof(text_cases) / sizeof(text_cases[0]))

ParameterizedTestParameters(zone_errors, text)
{
	static size_t idx[NTEXT];

	for (size_t i = 0; i < NTEXT; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NTEXT);
}

ParameterizedTest(size_t *i, zone_errors, text, .init = tmp_setup,
    .fini = tmp_teardown, .timeout = 10)
{
	const struct text_case *c = &text_cases[*i];
	char *path = write_zone(c->text);
	struct zone *z = NULL;
	char *err = NULL;
	int ret = zone_load(path, "example.test.", &z, &err);
	char *want = xstrfmt("%s:%d: %s", path, c->line,
	    c->msg != NULL ? c->msg : "");

	if (c->code == ANY_ERR)
		cr_expect_lt(ret, 0, "case %zu: got %d (%s)\n%s", *i, ret,
		    err != NULL ? err : "loaded", c->text);
	else
		cr_expect_eq(ret, c->code, "case %zu: got %d (%s), want %d\n%s",
		    *i, ret, err != NULL ? err : "loaded", c->code, c->text);
	cr_expect_null(z, "case %zu loaded", *i);
	if (ret != 0 && err != NULL) {
		if (c->msg == NULL)
			cr_expect_eq(strncmp(err, want, strlen(want)), 0,
			    "case %zu:\ngot:  %s\nwant: %s...", *i, err, want);
		else
			cr_expect_str_eq(err, want, "case %zu", *i);
	}
	zone_free(z);
	free(err);
	free(want);
	free(path);
}

/* --- built zones ----------------------------------------------------------- */

#define ORIGIN	"\7example\4test"

/* SOA rdata: ns1.example.test. hostmaster.example.test. serial ... min */
static size_t
soa_rdata(uint8_t *rd, uint32_t serial, uint32_t minimum)
{
	static const uint8_t names[] = "\3ns1\7example\4test\0"
	    "\12hostmaster\7example\4test";
	size_t off = sizeof(names);
	uint32_t v[5] = {serial, 3600, 900, 604800, minimum};

	memcpy(rd, names, off);
	for (int i = 0; i < 5; i++) {
		rd[off++] = (uint8_t)(v[i] >> 24);
		rd[off++] = (uint8_t)(v[i] >> 16);
		rd[off++] = (uint8_t)(v[i] >> 8);
		rd[off++] = (uint8_t)v[i];
	}
	return off;
}

static void
add_ok(struct zone *z, const char *owner, uint16_t type, uint32_t ttl,
    const void *rd, size_t rdlen)
{
	uint8_t wire[DNAME_MAXLEN];
	size_t len;
	char *err = NULL;

	cr_assert_eq(dname_from_str(owner, NULL, wire, &len), 0);
	cr_assert_eq(zone_add_rr(z, wire, type, ttl, rd, (uint16_t)rdlen, 0,
	    &err), 0, "%s: %s", owner, err != NULL ? err : "?");
}

static char *
add_bad(struct zone *z, const char *owner, uint16_t type, int line)
{
	uint8_t wire[DNAME_MAXLEN];
	size_t len;
	char *err = NULL;

	cr_assert_eq(dname_from_str(owner, NULL, wire, &len), 0);
	cr_assert_eq(zone_add_rr(z, wire, type, 60, W("\1x"), 2, line, &err),
	    ERR_INVAL, "%s was accepted", owner);
	cr_assert_not_null(err);
	return err;
}

static struct zone *
built_base(uint32_t soa_ttl, uint32_t minimum)
{
	struct zone *z = zone_new(W("\7ExAmPlE\4TEST"), NULL);
	uint8_t rd[128];
	size_t len = soa_rdata(rd, 42, minimum);

	add_ok(z, "example.test.", T_SOA, soa_ttl, rd, len);
	add_ok(z, "example.test.", T_NS, 3600, "\3ns1\7example\4test", 18);
	return z;
}

Test(zone_built, new_zone_is_an_unfinished_apex)
{
	struct zone *z = zone_new(W("\7ExAmPlE\4TEST"), NULL);

	cr_expect_str_eq(z->file, "(built)");
	cr_expect_arr_eq(z->origin, ORIGIN, sizeof(ORIGIN));
	cr_expect_eq(z->nnodes, 1);
	cr_expect_eq(z->apex->flags, ZONE_NODE_APEX);
	cr_expect_not(z->finished);
	cr_expect_eq(zone_get(z, W(ORIGIN), sizeof(ORIGIN)), z->apex);
	zone_free(z);
	zone_free(NULL);
}

Test(zone_built, finish_computes_serial_neg_ttl_and_flags)
{
	struct zone *z = built_base(60, 300);
	char *err = NULL;

	add_ok(z, "WWW.Example.Test.", T_A, 30, "\xc0\0\2\1", 4);
	add_ok(z, "www.example.test.", T_A, 10, "\xc0\0\2\2", 4);
	add_ok(z, "www.example.test.", T_A, 90, "\xc0\0\2\1", 4);
	add_ok(z, "a.b.example.test.", T_TXT, 60, "\1x", 2);
	add_ok(z, "*.example.test.", T_TXT, 60, "\1w", 2);
	add_ok(z, "cut.example.test.", T_NS, 60, "\2ns\3cut\7example\4test",
	    21);
	add_ok(z, "ns.cut.example.test.", T_A, 60, "\xc0\0\2\3", 4);
	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
	cr_expect(z->finished);
	cr_expect_eq(z->serial, 42);
	cr_expect_eq(z->neg_ttl, 60, "min(SOA TTL 60, minimum 300)");

	const struct zone_rrset *a = set_ok(z, "www.example.test.", T_A);

	cr_expect_eq(a->count, 2, "duplicate rdata kept once");
	cr_expect_eq(a->ttl, 10);
	cr_expect_eq(a->line, 0);
	cr_expect_eq(node_ok(z, "b.example.test.")->nsets, 0);
	cr_expect_eq(z->apex->wild, node_ok(z, "*.example.test."));
	cr_expect_eq(node_ok(z, "*.example.test.")->flags, ZONE_NODE_WILDCARD);
	cr_expect_eq(node_ok(z, "cut.example.test.")->flags, ZONE_NODE_DELEG);
	cr_expect_eq(node_ok(z, "ns.cut.example.test.")->flags,
	    ZONE_NODE_OCCLUDED);
	zone_free(z);
}

Test(zone_built, nested_cuts_and_wildcard_below_cut)
{
	struct zone *z = built_base(3600, 300);
	char *err = NULL;

	add_ok(z, "a.example.test.", T_NS, 60, "\2ns\3far\4test", 13);
	add_ok(z, "b.a.example.test.", T_NS, 60, "\2ns\3far\4test", 13);
	add_ok(z, "*.a.example.test.", T_A, 60, "\xc0\0\2\3", 4);
	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
	cr_expect_eq(node_ok(z, "a.example.test.")->flags, ZONE_NODE_DELEG);
	/* A cut below a cut is occluded (and still a cut). */
	cr_expect(node_ok(z, "b.a.example.test.")->flags & ZONE_NODE_OCCLUDED);
	cr_expect_eq(node_ok(z, "*.a.example.test.")->flags,
	    ZONE_NODE_WILDCARD | ZONE_NODE_OCCLUDED);
	cr_expect_eq(z->neg_ttl, 300);
	zone_free(z);
}

Test(zone_built, owner_outside_the_zone)
{
	struct zone *z = built_base(60, 60);
	char *err;

	err = add_bad(z, "www.example.com.", T_A, 0);
	cr_expect_str_eq(err, "(built): www.example.com. is outside the zone");
	free(err);
	err = add_bad(z, "test.", T_A, 12);
	cr_expect_str_eq(err, "(built):12: test. is outside the zone");
	free(err);
	/* "aexample.test." shares bytes, not labels. */
	err = add_bad(z, "aexample.test.", T_A, 3);
	cr_expect_str_eq(err, "(built):3: aexample.test. is outside the zone");
	free(err);
	zone_free(z);
}

Test(zone_built, second_cname_and_second_soa)
{
	struct zone *z = built_base(60, 60);
	char *err;

	add_ok(z, "c.example.test.", T_CNAME, 60, "\1x\7example\4test", 16);
	err = add_bad(z, "c.example.test.", T_CNAME, 8);
	cr_expect_str_eq(err,
	    "(built):8: c.example.test. has more than one CNAME record");
	free(err);
	err = add_bad(z, "example.test.", T_SOA, 9);
	cr_expect_str_eq(err,
	    "(built):9: example.test. has more than one SOA record");
	free(err);
	zone_free(z);
}

Test(zone_built, finish_errors)
{
	struct zone *z = zone_new(W(ORIGIN), "f.zone");
	uint8_t rd[128];
	size_t len = soa_rdata(rd, 1, 1);
	char *err = NULL;

	cr_expect_eq(zone_finish(z, &err), ERR_INVAL);
	cr_expect_str_eq(err, "f.zone: no SOA record at the apex example.test.");
	free(err);
	zone_free(z);

	z = zone_new(W(ORIGIN), "f.zone");
	add_ok(z, "example.test.", T_SOA, 60, rd, len);
	err = NULL;
	cr_expect_eq(zone_finish(z, &err), ERR_INVAL);
	cr_expect_str_eq(err, "f.zone: no NS records at the apex example.test.");
	free(err);
	zone_free(z);

	/* An SOA whose fixed fields are cut short. */
	z = zone_new(W(ORIGIN), "f.zone");
	add_ok(z, "example.test.", T_SOA, 60, rd, len - 1);
	add_ok(z, "example.test.", T_NS, 60, "\3ns1\7example\4test", 18);
	err = NULL;
	cr_expect_eq(zone_finish(z, &err), ERR_INVAL);
	cr_expect_str_eq(err, "f.zone: malformed SOA at example.test.");
	free(err);
	zone_free(z);

	/* CNAME and other data, with the CNAME's line. */
	z = built_base(60, 60);
	cr_assert_eq(zone_add_rr(z, W("\1c\7example\4test"), T_CNAME, 60,
	    W("\1x\7example\4test"), 16, 21, &err), 0);
	add_ok(z, "c.example.test.", T_TXT, 60, "\1t", 2);
	err = NULL;
	cr_expect_eq(zone_finish(z, &err), ERR_INVAL);
	cr_expect_str_eq(err,
	    "(built):21: c.example.test. has a CNAME and other data");
	free(err);
	zone_free(z);
}

Test(zone_built, many_records_in_one_set)
{
	struct zone *z = built_base(60, 60);
	char *err = NULL;

	for (unsigned i = 0; i < 1000; i++) {
		uint8_t rd[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
		    (uint8_t)i};

		add_ok(z, "many.example.test.", T_A, 60, rd, 4);
	}
	cr_assert_eq(zone_finish(z, &err), 0);
	cr_expect_eq(set_ok(z, "many.example.test.", T_A)->count, 1000);
	zone_free(z);
}

Test(zone_built, many_names)
{
	struct zone *z = built_base(60, 60);
	char *err = NULL;

	for (unsigned i = 0; i < 5000; i++) {
		char name[64];

		snprintf(name, sizeof(name), "h%u.g%u.example.test.", i, i % 7);
		add_ok(z, name, T_A, 60, "\xc0\0\2\1", 4);
	}
	cr_assert_eq(zone_finish(z, &err), 0);
	/* apex + 7 group ENTs + 5000 hosts */
	cr_expect_eq(z->nnodes, 1 + 7 + 5000);
	for (unsigned i = 0; i < 5000; i += 499) {
		char name[64];

		snprintf(name, sizeof(name), "h%u.g%u.example.test.", i, i % 7);
		cr_expect_eq(node_ok(z, name)->parent->nsets, 0);
	}
	zone_free(z);
}

Test(zone_built, servfail_marks_and_bare_nodes)
{
	struct zone *z = built_base(60, 60);
	char *err = NULL;
	const struct zone_rrset *s;

	cr_assert_eq(zone_add_servfail(z, W("\3api\7Example\4test"), T_A,
	    &err), 0, "%s", err);
	cr_assert_eq(zone_add_node(z, W("\4none\1x\7example\4test"), &err), 0,
	    "%s", err);
	/* Records of a type marked unanswerable, or a second mark: errors. */
	err = add_bad(z, "api.example.test.", T_A, 0);
	cr_expect_str_eq(err, "(built): api.example.test.: records of a type "
	    "marked unanswerable");
	free(err);
	err = NULL;
	cr_expect_eq(zone_add_servfail(z, W("\3api\7example\4test"), T_A,
	    &err), ERR_INVAL);
	cr_expect_str_eq(err, "(built): api.example.test.: type 1 is there "
	    "already");
	free(err);
	err = NULL;
	cr_expect_eq(zone_add_servfail(z, W("\3api\7example\3com"), T_A,
	    &err), ERR_INVAL);
	cr_expect_str_eq(err, "(built): api.example.com. is outside the zone");
	free(err);
	err = NULL;
	cr_expect_eq(zone_add_node(z, W("\3api\7example\3com"), &err),
	    ERR_INVAL);
	free(err);
	err = NULL;
	/* Other types at the name are still fine. */
	add_ok(z, "api.example.test.", T_TXT, 60, "\1x", 2);
	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
	s = set_ok(z, "api.example.test.", T_A);
	cr_expect(s->servfail);
	cr_expect_eq(s->count, 0);
	cr_expect_not(set_ok(z, "api.example.test.", T_TXT)->servfail);
	cr_expect_eq(node_ok(z, "none.x.example.test.")->nsets, 0);
	cr_expect_eq(node_ok(z, "x.example.test.")->nsets, 0);
	zone_free(z);
}

Test(zone_built, servfail_cname_counts_as_a_cname)
{
	struct zone *z = built_base(60, 60);
	char *err = NULL;

	cr_assert_eq(zone_add_servfail(z, W("\1w\7example\4test"), T_CNAME,
	    &err), 0, "%s", err);
	add_ok(z, "w.example.test.", T_A, 60, "\xc0\0\2\1", 4);
	cr_expect_eq(zone_finish(z, &err), ERR_INVAL);
	cr_expect_str_eq(err, "(built): w.example.test. has a CNAME and other "
	    "data");
	free(err);
	zone_free(z);
}

/* A finished zone is read only: its lists live in its arena now. */
Test(zone_built, finished_zone_keeps_its_records_and_takes_no_more)
{
	struct zone *z = built_base(60, 60);
	const struct zone_rrset *a;
	uint8_t wire[DNAME_MAXLEN];
	size_t len;
	char *err = NULL;

	add_ok(z, "www.example.test.", T_A, 60, "\xc0\0\2\1", 4);
	add_ok(z, "www.example.test.", T_A, 60, "\xc0\0\2\2", 4);
	add_ok(z, "www.example.test.", T_AAAA, 60,
	    "\x20\1\xd\xb8\0\0\0\0\0\0\0\0\0\0\0\1", 16);
	/* A placeholder (ARC state unknown) has no records to move. */
	cr_assert_eq(dname_from_str("api.example.test.", NULL, wire, &len), 0);
	cr_assert_eq(zone_add_servfail(z, wire, T_A, &err), 0, "%s", err);
	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
	cr_expect(set_ok(z, "api.example.test.", T_A)->servfail);
	cr_expect_eq(set_ok(z, "api.example.test.", T_A)->count, 0);
	a = set_ok(z, "www.example.test.", T_A);
	cr_expect_eq(a->count, 2);
	cr_expect_eq(memcmp(a->rd[0].data, "\xc0\0\2\1", 4), 0);
	cr_expect_eq(memcmp(a->rd[1].data, "\xc0\0\2\2", 4), 0);
	cr_expect_eq(set_ok(z, "www.example.test.", T_AAAA)->rd[0].len, 16);
	cr_expect_eq(set_ok(z, "example.test.", T_NS)->count, 1);
	err = add_bad(z, "www.example.test.", T_A, 9);
	cr_expect_str_eq(err, "(built):9: the zone is finished");
	free(err);
	err = NULL;
	cr_assert_eq(dname_from_str("new.example.test.", NULL, wire, &len), 0);
	cr_expect_eq(zone_add_node(z, wire, &err), ERR_INVAL);
	cr_expect_str_eq(err, "(built): the zone is finished");
	free(err);
	zone_free(z);
}
