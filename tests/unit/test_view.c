/*
 * test_view.c -- client address -> view: first match wins, IPv4, IPv6,
 * v4-mapped IPv6, "any", and no match (-1, which the caller REFUSEs).
 *
 * Viewsets come from configs parsed in memory (conf_load_string) and from
 * a struct conf filled in by hand.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf/conf.h"
#include "util/netaddr.h"
#include "view/view.h"

static struct sockaddr_storage
addr(const char *text, unsigned port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		cr_assert_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1, "%s",
		    text);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		cr_assert_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1, "%s",
		    text);
	}
	return ss;
}

static int
select_view(const struct viewset *vs, const char *text)
{
	struct sockaddr_storage ss = addr(text, 53000);

	return view_select(vs, (const struct sockaddr *)&ss);
}

static struct conf *
load(const char *yaml)
{
	struct conf *c = NULL;
	char *err = NULL;
	int ret = conf_load_string("t.yaml", yaml, strlen(yaml), &c, &err);

	cr_assert_eq(ret, 0, "%s", err != NULL ? err : "?");
	return c;
}

#define ZONES \
	"zones:\n" \
	"  - { id: a, origin: example.test., file: a.zone }\n" \
	"  - { id: b, origin: example.test., file: b.zone }\n" \
	"  - { id: c, origin: other.test., file: c.zone }\n"

/* The split used by most tests: overlapping prefixes, IPv6, any last. */
static const char split_yaml[] = ZONES
    "views:\n"
    "  - name: narrow\n"
    "    match-clients: [\"10.1.0.0/16\", 127.0.0.2]\n"
    "    zones: [a]\n"
    "  - name: wide\n"
    "    match-clients: [\"10.0.0.0/8\", \"127.0.0.2/31\"]\n"
    "    zones: [b, c]\n"
    "  - name: six\n"
    "    match-clients: [\"2001:db8::/32\", \"::1\"]\n"
    "    zones: [b]\n"
    "  - name: rest\n"
    "    match-clients: [any]\n"
    "    zones: [a]\n";

static struct conf *conf;
static struct viewset *vs;

static void
split_setup(void)
{
	conf = load(split_yaml);
	vs = viewset_new(conf);
}

static void
split_teardown(void)
{
	viewset_free(vs);
	conf_free(conf);
}

TestSuite(view_split, .init = split_setup, .fini = split_teardown);

Test(view_split, names_and_count)
{
	cr_assert_eq(viewset_count(vs), 4);
	cr_expect_str_eq(viewset_name(vs, 0), "narrow");
	cr_expect_str_eq(viewset_name(vs, 1), "wide");
	cr_expect_str_eq(viewset_name(vs, 2), "six");
	cr_expect_str_eq(viewset_name(vs, 3), "rest");
}

struct pick {
	const char	*client;
	int		 view;
};

static const struct pick picks[] = {
	/* First match wins: 10.1/16 is inside 10/8 too. */
	{"10.1.2.3", 0},
	{"10.1.0.0", 0},
	{"10.1.255.255", 0},
	{"10.2.0.1", 1},
	{"10.0.255.255", 1},
	{"10.255.255.255", 1},
	/* 127.0.0.2 is a host entry of "narrow" and inside "wide"'s /31. */
	{"127.0.0.2", 0},
	{"127.0.0.3", 1},
	{"127.0.0.1", 3},
	{"127.0.0.4", 3},
	{"11.0.0.0", 3},
	{"9.255.255.255", 3},
	/* IPv6. */
	{"2001:db8::1", 2},
	{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 2},
	{"2001:db9::", 3},
	{"2001:db7:ffff::", 3},
	{"::1", 2},
	{"::2", 3},
	{"fe80::1", 3},
	/* v4-mapped IPv6 clients are matched as IPv4. */
	{"::ffff:10.1.2.3", 0},
	{"::ffff:10.9.9.9", 1},
	{"::ffff:127.0.0.2", 0},
	{"::ffff:127.0.0.3", 1},
	{"::ffff:192.0.2.1", 3},
};
#define NPICKS	(sizeof(picks) / sizeof(picks[0]))

ParameterizedTestParameters(view_split, pick_table)
{
	static size_t idx[NPICKS];

	for (size_t i = 0; i < NPICKS; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NPICKS);
}

ParameterizedTest(size_t *i, view_split, pick_table)
{
	const struct pick *p = &picks[*i];
	int got = select_view(vs, p->client);

	cr_expect_eq(got, p->view, "%s: got view %d (%s), want %d (%s)",
	    p->client, got, got >= 0 ? viewset_name(vs, (size_t)got) : "none",
	    p->view, viewset_name(vs, (size_t)p->view));
}

Test(view_split, port_does_not_matter)
{
	struct sockaddr_storage a = addr("10.1.2.3", 1);
	struct sockaddr_storage b = addr("10.1.2.3", 65535);

	cr_expect_eq(view_select(vs, (struct sockaddr *)&a), 0);
	cr_expect_eq(view_select(vs, (struct sockaddr *)&b), 0);
}

/* --- no view matches ---------------------------------------------------------- */

static const char closed_yaml[] = ZONES
    "views:\n"
    "  - name: vpc\n"
    "    match-clients: [\"10.0.0.0/16\"]\n"
    "    zones: [a]\n"
    "  - name: v6\n"
    "    match-clients: [\"fd00::/8\"]\n"
    "    zones: [b]\n";

Test(view, no_match_is_minus_one)
{
	struct conf *c = load(closed_yaml);
	struct viewset *v = viewset_new(c);

	cr_expect_eq(select_view(v, "10.0.1.1"), 0);
	cr_expect_eq(select_view(v, "fd12::1"), 1);
	cr_expect_eq(select_view(v, "10.1.0.1"), -1);
	cr_expect_eq(select_view(v, "127.0.0.1"), -1);
	cr_expect_eq(select_view(v, "::1"), -1);
	cr_expect_eq(select_view(v, "::ffff:127.0.0.1"), -1);
	cr_expect_eq(select_view(v, "fe00::1"), -1);
	viewset_free(v);
	conf_free(c);
}

Test(view, non_ip_client_matches_no_prefix)
{
	struct conf *c = load(closed_yaml);
	struct viewset *v = viewset_new(c);
	struct sockaddr_un un;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	cr_expect_eq(view_select(v, (struct sockaddr *)&un), -1);
	viewset_free(v);
	conf_free(c);
}

Test(view, implicit_default_view_takes_everyone)
{
	struct conf *c = load("zones:\n"
	    "  - { id: a, origin: example.test., file: a.zone }\n"
	    "  - { id: c, origin: other.test., file: c.zone }\n");
	struct viewset *v = viewset_new(c);

	cr_assert_eq(viewset_count(v), 1);
	cr_expect_str_eq(viewset_name(v, 0), "default");
	cr_expect_eq(select_view(v, "192.0.2.1"), 0);
	cr_expect_eq(select_view(v, "2001:db8::1"), 0);
	cr_expect_eq(select_view(v, "::ffff:1.2.3.4"), 0);
	cr_expect_eq(select_view(v, "0.0.0.0"), 0);
	cr_expect_eq(select_view(v, "::"), 0);
	viewset_free(v);
	conf_free(c);
}

Test(view, any_in_the_middle_shadows_later_views)
{
	struct conf *c = load(ZONES
	    "views:\n"
	    "  - { name: one, match-clients: [\"10.0.0.1\"], zones: [a] }\n"
	    "  - { name: all, match-clients: [any], zones: [b] }\n"
	    "  - { name: never, match-clients: [\"10.0.0.2\"], zones: [c] }\n");
	struct viewset *v = viewset_new(c);

	cr_expect_eq(select_view(v, "10.0.0.1"), 0);
	cr_expect_eq(select_view(v, "10.0.0.2"), 1);
	cr_expect_eq(select_view(v, "::1"), 1);
	viewset_free(v);
	conf_free(c);
}

/* --- a conf built by hand ------------------------------------------------------ */

static struct netprefix
prefix(const char *text)
{
	struct netprefix p;

	cr_assert_eq(netprefix_parse(text, &p), 0, "%s", text);
	return p;
}

Test(view, hand_built_conf_is_copied)
{
	struct netprefix m0[] = {prefix("192.0.2.0/25")};
	struct netprefix m1[] = {prefix("192.0.2.128/25"), prefix("::/0")};
	struct conf_view views[2];
	struct conf c;
	struct viewset *v;

	memset(&c, 0, sizeof(c));
	memset(views, 0, sizeof(views));
	views[0].name = strdup("low");
	views[0].match = m0;
	views[0].nmatch = 1;
	views[1].name = strdup("high");
	views[1].match = m1;
	views[1].nmatch = 2;
	c.views = views;
	c.nviews = 2;
	v = viewset_new(&c);
	/* The viewset owns copies: wipe the originals. */
	free(views[0].name);
	free(views[1].name);
	memset(m0, 0xff, sizeof(m0));
	memset(m1, 0xff, sizeof(m1));
	memset(views, 0, sizeof(views));

	cr_assert_eq(viewset_count(v), 2);
	cr_expect_str_eq(viewset_name(v, 0), "low");
	cr_expect_str_eq(viewset_name(v, 1), "high");
	cr_expect_eq(select_view(v, "192.0.2.1"), 0);
	cr_expect_eq(select_view(v, "192.0.2.127"), 0);
	cr_expect_eq(select_view(v, "192.0.2.128"), 1);
	cr_expect_eq(select_view(v, "192.0.2.255"), 1);
	cr_expect_eq(select_view(v, "192.0.3.0"), -1);
	cr_expect_eq(select_view(v, "2001:db8::1"), 1);
	viewset_free(v);
}

Test(view, zero_views_match_nothing)
{
	struct conf c;
	struct viewset *v;

	memset(&c, 0, sizeof(c));
	v = viewset_new(&c);
	cr_expect_eq(viewset_count(v), 0);
	cr_expect_eq(select_view(v, "127.0.0.1"), -1);
	viewset_free(v);
	viewset_free(NULL);
}

Test(view, many_views_first_match_wins)
{
	enum { N = 200 };
	struct netprefix *m = calloc(N, sizeof(*m));
	struct conf_view *views = calloc(N, sizeof(*views));
	struct conf c;
	struct viewset *v;

	cr_assert_not_null(m);
	cr_assert_not_null(views);
	/* View i matches 10.i.0.0/16 for i < 199; the last one, /8. */
	for (int i = 0; i < N; i++) {
		char text[32];

		if (i == N - 1)
			snprintf(text, sizeof(text), "10.0.0.0/8");
		else
			snprintf(text, sizeof(text), "10.%d.0.0/16", i);
		m[i] = prefix(text);
		views[i].name = "v";
		views[i].match = &m[i];
		views[i].nmatch = 1;
	}
	memset(&c, 0, sizeof(c));
	c.views = views;
	c.nviews = N;
	v = viewset_new(&c);
	for (int i = 0; i < N - 1; i++) {
		char text[32];

		snprintf(text, sizeof(text), "10.%d.7.7", i);
		cr_assert_eq(select_view(v, text), i, "%s", text);
	}
	cr_expect_eq(select_view(v, "10.200.0.1"), N - 1);
	cr_expect_eq(select_view(v, "11.0.0.1"), -1);
	viewset_free(v);
	free(views);
	free(m);
}
