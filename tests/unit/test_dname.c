/*
 * test_dname.c -- wire-format domain names: length, labels, case, subdomain
 * tests, and the text conversions in both directions (escapes, limits).
 *
 * Names in the tables are written as C string literals in wire format
 * ("\3www\7example\3com" plus the terminating NUL, which is the root
 * label), so every expectation is spelled out byte by byte.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dname.h"
#include "util/err.h"

/* Wire name from a literal: sizeof includes the final NUL (root label). */
#define W(s)	((const uint8_t *)(s))

static const char *
to_str(const uint8_t *n)
{
	static char buf[DNAME_MAXLEN * 4 + 2];

	dname_to_str(n, buf, sizeof(buf));
	return buf;
}

/* --- len, labels, parent ------------------------------------------------ */

Test(dname, len_and_labels)
{
	cr_expect_eq(dname_len(W("")), 1);
	cr_expect_eq(dname_labels(W("")), 0);
	cr_expect_eq(dname_len(W("\3com")), 5);
	cr_expect_eq(dname_labels(W("\3com")), 1);
	cr_expect_eq(dname_len(W("\3www\7example\3com")), 17);
	cr_expect_eq(dname_labels(W("\3www\7example\3com")), 3);
	cr_expect_eq(dname_labels(W("\1*\4wild\7example")), 3);
}

Test(dname, len_of_longest_name)
{
	uint8_t n[DNAME_MAXLEN];
	size_t off = 0;

	/* 3 x 63-byte labels + one of 61 + root = 255 bytes. */
	for (int i = 0; i < 3; i++) {
		n[off++] = 63;
		memset(n + off, 'a', 63);
		off += 63;
	}
	n[off++] = 61;
	memset(n + off, 'b', 61);
	off += 61;
	n[off++] = 0;
	cr_assert_eq(off, DNAME_MAXLEN);
	cr_expect_eq(dname_len(n), DNAME_MAXLEN);
	cr_expect_eq(dname_labels(n), 4);
}

Test(dname, parent)
{
	const uint8_t *n = W("\3www\7example\3com");

	cr_expect_eq(dname_parent(n), n + 4);
	cr_expect_eq(dname_parent(n + 4), n + 12);
	cr_expect_eq(dname_parent(n + 12), n + 16);
	cr_expect_eq(*dname_parent(n + 12), 0);
	/* The root stays the root. */
	cr_expect_eq(dname_parent(n + 16), n + 16);
}

Test(dname, parent_of_root_is_root)
{
	static const uint8_t root[1] = {0};

	cr_expect_eq(dname_parent(root), root);
}

/* --- lower, equal ----------------------------------------------------------- */

Test(dname, lower_copies_and_only_folds_ascii)
{
	const uint8_t src[] = "\3WwW\7EXAMPLE\4\xc4\xd6Z@\0";
	uint8_t dst[sizeof(src)];

	dname_lower(dst, src, sizeof(src));
	cr_expect_arr_eq(dst, "\3www\7example\4\xc4\xd6z@\0", sizeof(src));
	/* The source is untouched. */
	cr_expect_eq(src[1], 'W');
}

Test(dname, lower_in_place)
{
	uint8_t n[] = "\3ABC\3Def";

	dname_lower(n, n, sizeof(n));
	cr_expect_str_eq((char *)n, "\3abc\3def");
}

Test(dname, lower_leaves_length_bytes_alone)
{
	/* Length bytes are at most 63, below 'A': folding must not touch
	 * them, only the label bytes. */
	uint8_t n[2 + 63] = {0};

	n[0] = 63;
	memset(n + 1, 'Q', 63);
	n[64] = 0;
	dname_lower(n, n, 65);
	cr_expect_eq(n[0], 63);
	cr_expect_eq(n[1], 'q');
	cr_expect_eq(n[63], 'q');
}

struct eq_case {
	const char	*a;
	const char	*b;
	bool		 equal;
};

static const struct eq_case eq_cases[] = {
	{"", "", true},
	{"\3com", "\3com", true},
	{"\3COM", "\3com", true},
	{"\3www\7ExAmPlE\3com", "\3WWW\7example\3COM", true},
	{"\3com", "", false},
	{"\3com", "\3con", false},
	{"\3www\3com", "\3www\4comx", false},
	/* Same bytes, different label boundaries. */
	{"\1a\2bc", "\2ab\1c", false},
	/* Case folding is ASCII only: 0xc4 and 0xe4 differ. */
	{"\1\xc4", "\1\xe4", false},
	/* '@' (0x40) and '`' (0x60) are not letters. */
	{"\1@", "\1`", false},
	{"\1[", "\1{", false},
};
#define NEQ	(sizeof(eq_cases) / sizeof(eq_cases[0]))

ParameterizedTestParameters(dname, equal_table)
{
	static size_t idx[NEQ];

	for (size_t i = 0; i < NEQ; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NEQ);
}

ParameterizedTest(size_t *i, dname, equal_table)
{
	const struct eq_case *c = &eq_cases[*i];

	cr_expect_eq(dname_equal(W(c->a), W(c->b)), c->equal,
	    "case %zu: %s vs %s", *i, to_str(W(c->a)), to_str(W(c->b)));
	cr_expect_eq(dname_equal(W(c->b), W(c->a)), c->equal,
	    "case %zu reversed", *i);
}

/* --- is_subdomain --------------------------------------------------------- */

struct sub_case {
	const char	*child;
	const char	*parent;
	bool		 sub;
};

static const struct sub_case sub_cases[] = {
	{"\7example\3com", "\7example\3com", true},
	{"\3www\7example\3com", "\7example\3com", true},
	{"\1a\1b\3www\7example\3com", "\7example\3com", true},
	{"\3www\7example\3com", "", true},
	{"", "", true},
	{"\7example\3com", "\3www\7example\3com", false},
	{"", "\3com", false},
	/* Label boundaries: "aexample.com." is not below "example.com.". */
	{"\10aexample\3com", "\7example\3com", false},
	{"\3www\7example\3net", "\7example\3com", false},
	/* Same number of labels, different names. */
	{"\3www\3com", "\3ftp\3com", false},
	{"\3www\7example\3com", "\3com", true},
};
#define NSUB	(sizeof(sub_cases) / sizeof(sub_cases[0]))

ParameterizedTestParameters(dname, subdomain_table)
{
	static size_t idx[NSUB];

	for (size_t i = 0; i < NSUB; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NSUB);
}

ParameterizedTest(size_t *i, dname, subdomain_table)
{
	const struct sub_case *c = &sub_cases[*i];
	char child[DNAME_MAXLEN * 4 + 2];

	snprintf(child, sizeof(child), "%s", to_str(W(c->child)));
	cr_expect_eq(dname_is_subdomain(W(c->child), W(c->parent)), c->sub,
	    "case %zu: %s under %s", *i, child, to_str(W(c->parent)));
}

/* --- to_str ---------------------------------------------------------------- */

struct str_case {
	const char	*wire;
	size_t		 wirelen;	/* with the root label */
	const char	*text;
};

#define SC(w, t)	{w, sizeof(w), t}

static const struct str_case str_cases[] = {
	SC("", "."),
	SC("\3com", "com."),
	SC("\3www\7Example\3com", "www.Example.com."),
	SC("\1*\4wild", "*.wild."),
	/* Specials are escaped with a backslash. */
	SC("\3a.b\3com", "a\\.b.com."),
	SC("\3a\\b", "a\\\\b."),
	SC("\1\"", "\\\"."),
	SC("\2()", "\\(\\)."),
	SC("\1;", "\\;."),
	SC("\1$", "\\$."),
	SC("\1@", "\\@."),
	/* Space, controls and non-ASCII are \DDD. */
	SC("\3a b", "a\\032b."),
	SC("\1\x7f", "\\127."),
	SC("\1\xff", "\\255."),
	SC("\2\x01\x1f", "\\001\\031."),
	/* A zero byte inside a label. */
	{"\3a\0b\3com", 9, "a\\000b.com."},
	/* Printable punctuation that needs no escape. */
	SC("\5a-b_c", "a-b_c."),
};
#define NSTR	(sizeof(str_cases) / sizeof(str_cases[0]))

ParameterizedTestParameters(dname, to_str_table)
{
	static size_t idx[NSTR];

	for (size_t i = 0; i < NSTR; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NSTR);
}

ParameterizedTest(size_t *i, dname, to_str_table)
{
	const struct str_case *c = &str_cases[*i];
	uint8_t back[DNAME_MAXLEN];
	size_t backlen = 0;

	cr_expect_str_eq(to_str(W(c->wire)), c->text, "case %zu", *i);
	/* And back: the text form parses to the same wire bytes. */
	cr_assert_eq(dname_from_str(c->text, NULL, back, &backlen), 0,
	    "case %zu: %s does not parse back", *i, c->text);
	cr_expect_eq(backlen, c->wirelen, "case %zu: %zu vs %zu", *i, backlen,
	    c->wirelen);
	cr_expect_arr_eq(back, c->wire, c->wirelen, "case %zu", *i);
}

Test(dname, to_str_small_buffer_is_bounded_and_terminated)
{
	const uint8_t *n = W("\3www\7example\3com");
	char buf[64];

	for (size_t size = 1; size < 24; size++) {
		memset(buf, 'Z', sizeof(buf));
		dname_to_str(n, buf, size);
		cr_expect_lt(strlen(buf), size, "size %zu", size);
		for (size_t j = size; j < sizeof(buf); j++)
			cr_assert_eq(buf[j], 'Z', "size %zu: byte %zu written",
			    size, j);
	}
}

Test(dname, to_str_small_buffer_with_escapes)
{
	const uint8_t *n = W("\4\x01\x02\x03\x04\4\xff\xfe\xfd\xfc");
	char buf[64];

	for (size_t size = 1; size < 40; size++) {
		memset(buf, 'Z', sizeof(buf));
		dname_to_str(n, buf, size);
		cr_expect_lt(strlen(buf), size, "size %zu", size);
		for (size_t j = size; j < sizeof(buf); j++)
			cr_assert_eq(buf[j], 'Z', "size %zu: byte %zu written",
			    size, j);
	}
	dname_to_str(n, buf, sizeof(buf));
	cr_expect_str_eq(buf, "\\001\\002\\003\\004.\\255\\254\\253\\252.");
}

Test(dname, to_str_size_zero_writes_nothing)
{
	char buf[4] = "xyz";

	dname_to_str(W("\3com"), buf, 0);
	cr_expect_str_eq(buf, "xyz");
}

Test(dname, to_str_longest_name_fits_documented_buffer)
{
	uint8_t n[DNAME_MAXLEN];
	char buf[DNAME_MAXLEN * 4 + 1];
	size_t off = 0;

	/* Worst case: every byte escaped as \DDD. */
	for (int i = 0; i < 3; i++) {
		n[off++] = 63;
		memset(n + off, 0xff, 63);
		off += 63;
	}
	n[off++] = 61;
	memset(n + off, 0x01, 61);
	off += 61;
	n[off++] = 0;
	dname_to_str(n, buf, sizeof(buf));
	/* 250 escaped bytes and 4 dots. */
	cr_expect_eq(strlen(buf), 250 * 4 + 4);
	cr_expect_eq(buf[strlen(buf) - 1], '.');
}

/* --- from_str ---------------------------------------------------------------- */

struct parse_case {
	const char	*text;
	const char	*origin;	/* wire, NULL for none */
	int		 ret;
	const char	*wire;		/* expected, when ret == 0 */
	size_t		 wirelen;
};

#define OK(t, o, w)	{t, o, 0, w, sizeof(w)}
#define BAD(t, o)	{t, o, ERR_PARSE, NULL, 0}

static const struct parse_case parse_cases[] = {
	OK(".", NULL, ""),
	OK(".", "\7example", ""),
	OK("com.", NULL, "\3com"),
	OK("www.example.com.", NULL, "\3www\7example\3com"),
	/* Case is kept. */
	OK("WWW.Example.COM.", NULL, "\3WWW\7Example\3COM"),
	/* Relative names join the origin. */
	OK("www", "\7example\3com", "\3www\7example\3com"),
	OK("a.b", "\7example\3com", "\1a\1b\7example\3com"),
	OK("www", "", "\3www"),
	/* An absolute name ignores the origin. */
	OK("www.", "\7example\3com", "\3www"),
	/* No origin, no trailing dot: taken as absolute. */
	OK("www.example", NULL, "\3www\7example"),
	/* Escapes. */
	OK("a\\.b.com.", NULL, "\3a.b\3com"),
	OK("\\065\\066c.", NULL, "\3ABc"),
	OK("\\000.", NULL, "\1\0"),
	OK("\\255.", NULL, "\1\xff"),
	OK("a\\\\b.", NULL, "\3a\\b"),
	OK("\\@.", NULL, "\1@"),
	OK("a\\032b", "\3com", "\3a b\3com"),
	OK("*.wild.", NULL, "\1*\4wild"),
	/* Errors: empty name and empty labels. */
	BAD("", NULL),
	BAD("", "\3com"),
	BAD("..", NULL),
	BAD(".com.", NULL),
	BAD("a..b.", NULL),
	BAD("a..", NULL),
	BAD("www..", "\3com"),
	/* Bad escapes. */
	BAD("a\\", NULL),
	BAD("\\25", NULL),
	BAD("\\2x5.", NULL),
	BAD("\\256.", NULL),
	BAD("\\999.", NULL),
	BAD("a\\1.", NULL),
};
#define NPARSE	(sizeof(parse_cases) / sizeof(parse_cases[0]))

ParameterizedTestParameters(dname, from_str_table)
{
	static size_t idx[NPARSE];

	for (size_t i = 0; i < NPARSE; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NPARSE);
}

ParameterizedTest(size_t *i, dname, from_str_table)
{
	const struct parse_case *c = &parse_cases[*i];
	uint8_t out[DNAME_MAXLEN + 16];
	size_t outlen = 9999;
	int ret;

	memset(out, 0xee, sizeof(out));
	ret = dname_from_str(c->text, W(c->origin), out, &outlen);
	cr_assert_eq(ret, c->ret, "case %zu '%s': got %d, want %d", *i,
	    c->text, ret, c->ret);
	if (c->ret != 0)
		return;
	cr_expect_eq(outlen, c->wirelen, "case %zu '%s': len %zu, want %zu",
	    *i, c->text, outlen, c->wirelen);
	cr_expect_arr_eq(out, c->wire, c->wirelen, "case %zu '%s'", *i,
	    c->text);
	cr_expect_eq(dname_len(out), outlen, "case %zu", *i);
	/* Nothing written past the name. */
	cr_expect_eq(out[outlen], 0xee, "case %zu: wrote past the end", *i);
}

/* Build text of labels with the given lengths, each filled with 'a'. */
static char *
labels_text(const int *lens, size_t n, bool dot)
{
	char *s = calloc(1, 2048);
	size_t off = 0;

	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++) {
		memset(s + off, 'a' + (int)(i % 26), (size_t)lens[i]);
		off += (size_t)lens[i];
		if (i + 1 < n || dot)
			s[off++] = '.';
	}
	s[off] = '\0';
	return s;
}

static int
parse_labels(const int *lens, size_t n, bool dot, const uint8_t *origin,
    size_t *outlen)
{
	uint8_t out[DNAME_MAXLEN + 64];
	char *s = labels_text(lens, n, dot);
	int ret;

	memset(out, 0xee, sizeof(out));
	ret = dname_from_str(s, origin, out, outlen);
	free(s);
	if (ret == 0) {
		cr_expect_leq(*outlen, DNAME_MAXLEN);
		cr_expect_eq(dname_len(out), *outlen);
	}
	/* Never more than DNAME_MAXLEN bytes written, even on error. */
	for (size_t i = DNAME_MAXLEN; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0xee, "byte %zu written", i);
	return ret;
}

Test(dname, from_str_label_limits)
{
	size_t len = 0;
	const int l63[] = {63, 3}, l64[] = {64, 3};
	const int last63[] = {3, 63}, last64[] = {3, 64};

	cr_expect_eq(parse_labels(l63, 2, true, NULL, &len), 0);
	cr_expect_eq(len, 64 + 4 + 1);
	cr_expect_eq(parse_labels(l64, 2, true, NULL, &len), ERR_PARSE);
	cr_expect_eq(parse_labels(last63, 2, false, NULL, &len), 0);
	cr_expect_eq(parse_labels(last64, 2, false, NULL, &len), ERR_PARSE);
	cr_expect_eq(parse_labels(last64, 2, true, NULL, &len), ERR_PARSE);
}

Test(dname, from_str_name_limits)
{
	size_t len = 0;
	/* 3*64 + 62 + 1 = 255: the longest name. */
	const int max[] = {63, 63, 63, 61};
	const int over[] = {63, 63, 63, 62};
	int many_short[128];

	cr_expect_eq(parse_labels(max, 4, true, NULL, &len), 0);
	cr_expect_eq(len, 255);
	cr_expect_eq(parse_labels(max, 4, false, NULL, &len), 0);
	cr_expect_eq(len, 255);
	cr_expect_eq(parse_labels(over, 4, true, NULL, &len), ERR_PARSE);
	cr_expect_eq(parse_labels(over, 4, false, NULL, &len), ERR_PARSE);
	/* 127 one-byte labels: 254 bytes + root = 255; 128 do not fit. */
	for (size_t i = 0; i < 128; i++)
		many_short[i] = 1;
	cr_expect_eq(parse_labels(many_short, 127, true, NULL, &len), 0);
	cr_expect_eq(len, 255);
	cr_expect_eq(parse_labels(many_short, 127, false, NULL, &len), 0);
	cr_expect_eq(parse_labels(many_short, 128, true, NULL, &len),
	    ERR_PARSE);
	cr_expect_eq(parse_labels(many_short, 128, false, NULL, &len),
	    ERR_PARSE);
}

Test(dname, from_str_relative_joined_name_limits)
{
	uint8_t origin[DNAME_MAXLEN];
	size_t olen = 0, len = 0;
	const int o[] = {63, 63, 63};		/* 192 + root = 193 bytes */
	char *os = labels_text(o, 3, true);
	const int fits[] = {61}, over[] = {62};

	cr_assert_eq(dname_from_str(os, NULL, origin, &olen), 0);
	free(os);
	cr_assert_eq(olen, 193);
	/* 62 + 193 = 255 */
	cr_expect_eq(parse_labels(fits, 1, false, origin, &len), 0);
	cr_expect_eq(len, 255);
	cr_expect_eq(parse_labels(over, 1, false, origin, &len), ERR_PARSE);
}

Test(dname, from_str_escaped_dot_counts_as_one_byte)
{
	uint8_t out[DNAME_MAXLEN];
	size_t len = 0;
	char text[512];
	size_t off = 0;

	/* 63 escaped dots: a 63-byte label of '.' characters. */
	for (int i = 0; i < 63; i++) {
		text[off++] = '\\';
		text[off++] = '.';
	}
	text[off++] = '.';
	text[off] = '\0';
	cr_assert_eq(dname_from_str(text, NULL, out, &len), 0);
	cr_expect_eq(len, 65);
	cr_expect_eq(out[0], 63);
	cr_expect_eq(out[1], '.');
	/* One more is a 64-byte label. */
	text[off - 1] = '\\';
	text[off++] = '.';
	text[off++] = '.';
	text[off] = '\0';
	cr_expect_eq(dname_from_str(text, NULL, out, &len), ERR_PARSE);
}

/* --- round trips ------------------------------------------------------------ */

/* Deterministic xorshift so that failures reproduce. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

Test(dname, random_wire_names_round_trip_through_text)
{
	uint32_t seed = 0x2545f491;

	for (int iter = 0; iter < 5000; iter++) {
		uint8_t n[DNAME_MAXLEN], back[DNAME_MAXLEN];
		char text[DNAME_MAXLEN * 4 + 1];
		size_t off = 0, backlen = 0;
		unsigned nlabels = rnd(&seed) % 8;

		for (unsigned l = 0; l < nlabels; l++) {
			unsigned len = 1 + rnd(&seed) % 40;

			if (off + len + 2 > DNAME_MAXLEN)
				break;
			n[off++] = (uint8_t)len;
			for (unsigned j = 0; j < len; j++)
				n[off++] = (uint8_t)rnd(&seed);
		}
		n[off++] = 0;
		dname_to_str(n, text, sizeof(text));
		cr_assert_eq(dname_from_str(text, NULL, back, &backlen), 0,
		    "iteration %d: '%s' does not parse", iter, text);
		cr_assert_eq(backlen, off, "iteration %d: '%s'", iter, text);
		cr_assert_arr_eq(back, n, off, "iteration %d: '%s'", iter,
		    text);
	}
}
