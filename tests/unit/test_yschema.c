/*
 * test_yschema.c -- the schema helpers shared by arcdns.yaml (conf.c) and
 * sim.yaml (sim/simconf.c): first-error recording, the key walk, typed
 * getters with their exact messages, the root check and the loaders.
 *
 * Each test parses a small document from memory as "t.yaml" and applies
 * one helper to the value of key "k" (or to the root).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/yamltree.h"
#include "conf/yschema.h"
#include "util/err.h"
#include "util/xalloc.h"

static struct ytree *
parse(const char *text)
{
	struct ytree *t = NULL;
	char *err = NULL;

	cr_assert_eq(ytree_parse("t.yaml", text, strlen(text), &t, &err), 0,
	    "%s", err != NULL ? err : "?");
	return t;
}

/* A schema state for t, with the key node and value of "k". */
struct fx {
	struct ytree		*t;
	struct yschema		 s;
	const struct ynode	*key;
	const struct ynode	*val;
};

static void
fx_init(struct fx *f, const char *text)
{
	const struct ynode *root;

	memset(f, 0, sizeof(*f));
	f->t = parse(text);
	f->s.name = ytree_name(f->t);
	root = ytree_root(f->t);
	f->key = ys_key_node(root, "k");
	f->val = ynode_get(root, "k");
	cr_assert_not_null(f->key, "no key k in %s", text);
}

static void
fx_fini(struct fx *f)
{
	free(f->s.err);
	ytree_free(f->t);
}

/* The helper failed with ERR_INVAL and this message. */
static void
expect_err(struct fx *f, int ret, const char *msg)
{
	cr_expect_eq(ret, ERR_INVAL);
	cr_assert_not_null(f->s.err, "no error recorded, want %s", msg);
	cr_expect_str_eq(f->s.err, msg);
}

Test(yschema, first_error_wins)
{
	struct fx f;

	fx_init(&f, "a: 1\nk: 2\n");
	cr_expect_eq(ys_fail(&f.s, f.val, "one %d", 1), ERR_INVAL);
	cr_expect_eq(ys_fail(&f.s, NULL, "two"), ERR_INVAL);
	cr_expect_str_eq(f.s.err, "t.yaml:2:4: one 1");
	free(f.s.err);
	f.s.err = NULL;
	(void)ys_fail(&f.s, NULL, "at no node");
	cr_expect_str_eq(f.s.err, "t.yaml:1:1: at no node");
	fx_fini(&f);
}

Test(yschema, shown)
{
	struct fx f;
	char buf[80];

	fx_init(&f, "k: \"a\\tb\\x7f\"\n");
	cr_expect_str_eq(ys_shown(f.val, buf, sizeof(buf)), "a?b?");
	fx_fini(&f);
	fx_init(&f, "k: "
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4\n");
	cr_expect_str_eq(ys_shown(f.val, buf, sizeof(buf)),
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "...");
	fx_fini(&f);
}

struct root_case {
	const char	*text;
	const char	*msg;	/* NULL: a mapping */
};

static const struct root_case root_cases[] = {
	{"", "t.yaml:1:1: empty configuration (expected a mapping)"},
	{"# only a comment\n", "t.yaml:1:1: empty configuration (expected a "
	    "mapping)"},
	{"~\n", "t.yaml:1:1: empty configuration (expected a mapping)"},
	{"[a]\n", "t.yaml:1:1: the top level must be a mapping, not a "
	    "sequence"},
	{"\n  text\n", "t.yaml:2:3: the top level must be a mapping, not a "
	    "scalar"},
	{"a: 1\n", NULL},
	{"{}\n", NULL},
};

ParameterizedTestParameters(yschema, root)
{
	static size_t ix[sizeof(root_cases) / sizeof(root_cases[0])];

	for (size_t i = 0; i < sizeof(ix) / sizeof(ix[0]); i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, sizeof(ix) / sizeof(ix[0]));
}

ParameterizedTest(size_t *i, yschema, root)
{
	const struct root_case *rc = &root_cases[*i];
	struct ytree *t = parse(rc->text);
	struct yschema s = {0};
	const struct ynode *root = NULL;
	int ret = ys_root(&s, t, "a mapping", &root);

	cr_expect_str_eq(s.name, "t.yaml");
	if (rc->msg == NULL) {
		cr_expect_eq(ret, 0);
		cr_expect_null(s.err);
		cr_expect_eq(root, ytree_root(t));
	} else {
		cr_expect_eq(ret, ERR_INVAL);
		cr_expect_null(root);
		cr_expect_str_eq(s.err, rc->msg);
	}
	free(s.err);
	ytree_free(t);
}

/* --- walk ------------------------------------------------------------------ */

struct seen {
	char	order[64];
	int	fail_on;	/* 'b': the handler of b fails */
};

static int
note_cb(struct yschema *s, const struct ynode *key, const struct ynode *val,
    void *obj)
{
	struct seen *sn = obj;
	size_t n = strlen(sn->order);

	(void)val;
	sn->order[n] = key->str[0];
	sn->order[n + 1] = '\0';
	if (key->str[0] == sn->fail_on)
		return ys_fail(s, key, "handler refused '%s'", key->str);
	return 0;
}

static const struct ys_key keys[] = {
	{"a", note_cb},
	{"b", note_cb},
	{"c", note_cb},
	{NULL, NULL}
};

static const char *const later[] = {"arc", "fences", NULL};

struct walk_case {
	const char	*text;
	const char	*section;
	int		 fail_on;
	const char	*order;	/* handlers called */
	const char	*msg;	/* NULL: success */
};

static const struct walk_case walk_cases[] = {
	{"c: 1\na: 2\nb: 3\n", NULL, 0, "cab", NULL},
	{"{}\n", NULL, 0, "", NULL},
	{"a: 1\nd: 2\nb: 3\n", NULL, 0, "a", "t.yaml:2:1: unknown top-level "
	    "key 'd'"},
	{"a: 1\nd: 2\n", "server.log", 0, "a", "t.yaml:2:1: unknown key 'd' "
	    "in 'server.log'"},
	{"arc: {}\na: 1\n", "x", 0, "", "t.yaml:1:1: 'arc' is not supported "
	    "by this version of arcdns yet"},
	{"a: 1\nb: 2\nc: 3\n", NULL, 'b', "ab", "t.yaml:2:1: handler refused "
	    "'b'"},
	{"\"A\": 1\n", NULL, 0, "", "t.yaml:1:1: unknown top-level key 'A'"},
	{"\"x\\ty\": 1\n", NULL, 0, "", "t.yaml:1:1: unknown top-level key "
	    "'x?y'"},
};

ParameterizedTestParameters(yschema, walk)
{
	static size_t ix[sizeof(walk_cases) / sizeof(walk_cases[0])];

	for (size_t i = 0; i < sizeof(ix) / sizeof(ix[0]); i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, sizeof(ix) / sizeof(ix[0]));
}

ParameterizedTest(size_t *i, yschema, walk)
{
	const struct walk_case *wc = &walk_cases[*i];
	struct ytree *t = parse(wc->text);
	struct yschema s = {.name = "t.yaml"};
	struct seen sn = {.fail_on = wc->fail_on};
	int ret = ys_walk(&s, ytree_root(t), wc->section, keys, later, &sn);

	cr_expect_str_eq(sn.order, wc->order, "%s", wc->text);
	if (wc->msg == NULL) {
		cr_expect_eq(ret, 0);
		cr_expect_null(s.err);
	} else {
		cr_expect_eq(ret, ERR_INVAL);
		cr_expect_str_eq(s.err, wc->msg);
	}
	free(s.err);
	ytree_free(t);
}

Test(yschema, walk_without_later_list)
{
	struct ytree *t = parse("arc: 1\n");
	struct yschema s = {.name = "t.yaml"};
	struct seen sn = {0};

	cr_expect_eq(ys_walk(&s, ytree_root(t), NULL, keys, NULL, &sn),
	    ERR_INVAL);
	cr_expect_str_eq(s.err, "t.yaml:1:1: unknown top-level key 'arc'");
	free(s.err);
	ytree_free(t);
}

Test(yschema, key_node)
{
	struct ytree *t = parse("a: 1\nk: [x]\n");
	const struct ynode *root = ytree_root(t);

	cr_assert_not_null(ys_key_node(root, "k"));
	cr_expect_eq(ys_key_node(root, "k")->line, 2);
	cr_expect_str_eq(ys_key_node(root, "k")->str, "k");
	cr_expect_null(ys_key_node(root, "z"));
	cr_expect_null(ys_key_node(ynode_get(root, "k"), "x"));
	cr_expect_null(ys_key_node(NULL, "k"));
	ytree_free(t);
}

/* --- typed getters ---------------------------------------------------------- */

struct get_case {
	const char	*text;		/* the document, with key k */
	char		 kind;		/* s=scalar S=string i=int b=bool
					 * d=duration l=list L=list or one */
	const char	*msg;		/* NULL: success */
	const char	*want;		/* success: value as text */
};

static const struct get_case get_cases[] = {
	/* scalar and string */
	{"k:\n", 's', "t.yaml:1:1: 'k' has no value", NULL},
	{"k: ~\n", 's', "t.yaml:1:1: 'k' has no value", NULL},
	{"k: [a]\n", 's', "t.yaml:1:4: 'k' must be a string", NULL},
	{"k: {a: 1}\n", 'S', "t.yaml:1:4: 'k' must be a string", NULL},
	{"k: \"\"\n", 's', "t.yaml:1:4: 'k' must not be empty", NULL},
	{"k: 'null'\n", 's', NULL, "null"},
	{"k: abc\n", 'S', NULL, "abc"},
	{"k: abcdefghi\n", 'S', "t.yaml:1:4: 'k' must be at most 8 "
	    "characters", NULL},
	{"k: \"a\\x01\"\n", 'S', "t.yaml:1:4: 'k' must not contain control "
	    "characters", NULL},
	{"k: \"a\\x7f\"\n", 'S', "t.yaml:1:4: 'k' must not contain control "
	    "characters", NULL},
	/* integers, range -5..100 */
	{"k: 0\n", 'i', NULL, "0"},
	{"k: -5\n", 'i', NULL, "-5"},
	{"k: 100\n", 'i', NULL, "100"},
	{"k: 101\n", 'i', "t.yaml:1:4: 'k' must be between -5 and 100", NULL},
	{"k: -6\n", 'i', "t.yaml:1:4: 'k' must be between -5 and 100", NULL},
	{"k: \"7\"\n", 'i', "t.yaml:1:4: 'k' must be an integer, not a string",
	    NULL},
	{"k: 007\n", 'i', "t.yaml:1:4: 'k' must be an integer", NULL},
	{"k: +1\n", 'i', "t.yaml:1:4: 'k' must be an integer", NULL},
	{"k: 1.0\n", 'i', "t.yaml:1:4: 'k' must be an integer", NULL},
	{"k: 0x10\n", 'i', "t.yaml:1:4: 'k' must be an integer", NULL},
	{"k: 99999999999999999999\n", 'i', "t.yaml:1:4: 'k' must be an "
	    "integer", NULL},
	{"k: [1]\n", 'i', "t.yaml:1:4: 'k' must be an integer", NULL},
	{"k:\n", 'i', "t.yaml:1:1: 'k' has no value", NULL},
	/* booleans */
	{"k: true\n", 'b', NULL, "1"}, {"k: YES\n", 'b', NULL, "1"},
	{"k: No\n", 'b', NULL, "0"}, {"k: FALSE\n", 'b', NULL, "0"},
	{"k: \"true\"\n", 'b', "t.yaml:1:4: 'k' must be true or false", NULL},
	{"k: on\n", 'b', "t.yaml:1:4: 'k' must be true or false", NULL},
	{"k: 1\n", 'b', "t.yaml:1:4: 'k' must be true or false", NULL},
	{"k:\n", 'b', "t.yaml:1:1: 'k' has no value", NULL},
	/* durations, range 100ms..1h */
	{"k: 100ms\n", 'd', NULL, "100"},
	{"k: 2m\n", 'd', NULL, "120000"},
	{"k: 5\n", 'd', NULL, "5000"},
	{"k: 1h\n", 'd', NULL, "3600000"},
	{"k: 99ms\n", 'd', "t.yaml:1:4: 'k' must be between 100ms and 1h",
	    NULL},
	{"k: 61m\n", 'd', "t.yaml:1:4: 'k' must be between 100ms and 1h",
	    NULL},
	{"k: 1d\n", 'd', "t.yaml:1:4: 'k' must be a duration such as 500ms, "
	    "10s, 2m or 1h", NULL},
	{"k: [1s]\n", 'd', "t.yaml:1:4: 'k' must be a duration such as 500ms, "
	    "10s, 2m or 1h", NULL},
	{"k:\n", 'd', "t.yaml:1:1: 'k' has no value", NULL},
	/* lists */
	{"k: [a, b]\n", 'l', NULL, "a,b"},
	{"k: a\n", 'L', NULL, "a"},
	{"k: [a]\n", 'L', NULL, "a"},
	{"k: a\n", 'l', "t.yaml:1:4: 'k' must be a list", NULL},
	{"k: {a: 1}\n", 'L', "t.yaml:1:4: 'k' must be a list or a string",
	    NULL},
	{"k: []\n", 'L', "t.yaml:1:4: 'k' must not be empty", NULL},
	{"k: [a, [b]]\n", 'l', "t.yaml:1:8: each entry of 'k' must be a "
	    "string", NULL},
	{"k: [a, ~]\n", 'l', "t.yaml:1:8: each entry of 'k' must be a string",
	    NULL},
	{"k:\n", 'l', "t.yaml:1:1: 'k' has no value", NULL},
};
#define NGET (sizeof(get_cases) / sizeof(get_cases[0]))

ParameterizedTestParameters(yschema, getters)
{
	static size_t ix[NGET];

	for (size_t i = 0; i < NGET; i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, NGET);
}

/* Run the getter of gc on f; the value as text (new) on success. */
static int
run_getter(const struct get_case *gc, struct fx *f, char **got)
{
	const struct ynode *const *items;
	const char *str;
	long long n;
	uint64_t ms;
	bool b;
	size_t count;
	int ret;

	switch (gc->kind) {
	case 's':
		ret = ys_get_scalar(&f->s, f->key, f->val);
		*got = ret == 0 ? xstrdup(f->val->str) : NULL;
		return ret;
	case 'S':
		ret = ys_get_string(&f->s, f->key, f->val, 8, &str);
		*got = ret == 0 ? xstrdup(str) : NULL;
		return ret;
	case 'i':
		ret = ys_get_int(&f->s, f->key, f->val, -5, 100, &n);
		*got = ret == 0 ? xstrfmt("%lld", n) : NULL;
		return ret;
	case 'b':
		ret = ys_get_bool(&f->s, f->key, f->val, &b);
		*got = ret == 0 ? xstrfmt("%d", b) : NULL;
		return ret;
	case 'd':
		ret = ys_get_duration(&f->s, f->key, f->val, 100, 3600000, &ms);
		*got = ret == 0 ? xstrfmt("%llu", (unsigned long long)ms) :
		    NULL;
		return ret;
	default:
		ret = ys_get_list(&f->s, f->key, f->val, gc->kind == 'L',
		    &items, &count);
		*got = NULL;
		if (ret != 0)
			return ret;
		*got = xstrdup("");
		for (size_t i = 0; i < count; i++) {
			char *t = xstrfmt("%s%s%s", *got, i > 0 ? "," : "",
			    ys_list_item(f->val, items, i)->str);

			free(*got);
			*got = t;
		}
		return 0;
	}
}

ParameterizedTest(size_t *i, yschema, getters)
{
	const struct get_case *gc = &get_cases[*i];
	struct fx f;
	char *got = NULL;
	int ret;

	fx_init(&f, gc->text);
	ret = run_getter(gc, &f, &got);
	if (gc->msg != NULL) {
		expect_err(&f, ret, gc->msg);
	} else {
		cr_expect_eq(ret, 0, "%s (%c): %s", gc->text, gc->kind,
		    f.s.err != NULL ? f.s.err : "?");
		cr_expect_null(f.s.err);
		if (got != NULL)
			cr_expect_str_eq(got, gc->want, "%s", gc->text);
	}
	free(got);
	fx_fini(&f);
}

Test(yschema, parse_integer_and_duration)
{
	struct fx f;
	long long n = 7;
	uint64_t ms = 7;

	fx_init(&f, "k: -0\n");
	cr_expect(ys_parse_integer(f.val, &n), "-0 is a plain integer");
	cr_expect_eq(n, 0);
	fx_fini(&f);
	fx_init(&f, "k: '5'\n");
	cr_expect_not(ys_parse_integer(f.val, &n), "quoted");
	fx_fini(&f);
	cr_expect_eq(ys_parse_duration("0", &ms), 0);
	cr_expect_eq(ms, 0);
	cr_expect_eq(ys_parse_duration("18446744073709551615ms", &ms), 0);
	cr_expect_eq(ms, UINT64_MAX);
	cr_expect_eq(ys_parse_duration("18446744073709552s", &ms), ERR_PARSE);
	cr_expect_eq(ys_parse_duration("1m30s", &ms), ERR_PARSE);
	cr_expect_eq(ys_parse_duration("", &ms), ERR_PARSE);
}

/* --- loading ------------------------------------------------------------------ */

/* A build function: the number of top-level keys, or an error for "bad". */
static int
count_cb(const struct ytree *t, void *out, char **errmsg)
{
	struct yschema s = {0};
	const struct ynode *root;

	if (ys_root(&s, t, "a mapping", &root) != 0) {
		*errmsg = s.err;
		return ERR_INVAL;
	}
	if (ynode_get(root, "bad") != NULL) {
		(void)ys_fail(&s, ys_key_node(root, "bad"), "bad key");
		*errmsg = s.err;
		return ERR_INVAL;
	}
	*(size_t *)out = root->npairs;
	return 0;
}

Test(yschema, load_string)
{
	size_t n = 0;
	char *err = NULL;

	cr_expect_eq(ys_load_string("t.yaml", "a: 1\nb: 2\n", 10, count_cb,
	    &n, &err), 0);
	cr_expect_eq(n, 2);
	cr_expect_null(err);
	cr_expect_eq(ys_load_string("t.yaml", "a: 1\nbad: 2\n", 12, count_cb,
	    &n, &err), ERR_INVAL);
	cr_expect_str_eq(err, "t.yaml:2:1: bad key");
	free(err);
	err = NULL;
	/* YAML errors never reach the build function. */
	cr_expect_eq(ys_load_string("t.yaml", "a: [1\n", 6, count_cb, &n,
	    &err), ERR_PARSE);
	cr_expect_not_null(err);
	cr_expect(strncmp(err, "t.yaml:2:1: syntax error", 24) == 0, "%s",
	    err);
	free(err);
}

Test(yschema, load_file)
{
	size_t n = 0;
	char *err = NULL;

	cr_expect_eq(ys_load(TEST_DATA_DIR "/sim/full.yaml", count_cb, &n,
	    &err), 0, "%s", err);
	cr_expect_eq(n, 4);
	cr_expect_eq(ys_load(TEST_DATA_DIR "/sim/nonexistent.yaml", count_cb,
	    &n, &err), -ENOENT);
	cr_expect_str_eq(err, TEST_DATA_DIR "/sim/nonexistent.yaml: No such "
	    "file or directory");
	free(err);
}
