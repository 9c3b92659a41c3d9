/*
 * test_netaddr.c -- listen addresses and match-clients prefixes.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "util/err.h"
#include "util/netaddr.h"

/* --- netaddr_parse / netaddr_format ------------------------------------- */

struct addr_case {
	const char	*in;
	int		default_port;
	int		ret;
	const char	*out;	/* netaddr_format() of the result */
	int		family;
};

/* Indexes are the parameters: PIE test processes must not share pointers. */
static const struct addr_case addr_cases[] = {
	{"127.0.0.1:53", -1, 0, "127.0.0.1:53", AF_INET},
	{"127.0.0.1", 53, 0, "127.0.0.1:53", AF_INET},
	{"10.1.2.3:5300", 53, 0, "10.1.2.3:5300", AF_INET},
	{"0.0.0.0:0", -1, 0, "0.0.0.0:0", AF_INET},
	{"255.255.255.255:65535", -1, 0, "255.255.255.255:65535", AF_INET},
	{"[::1]:5300", -1, 0, "[::1]:5300", AF_INET6},
	{"[::1]", 53, 0, "[::1]:53", AF_INET6},
	{"::1", 53, 0, "[::1]:53", AF_INET6},
	{"::", 53, 0, "[::]:53", AF_INET6},
	{"2001:DB8::1", 53, 0, "[2001:db8::1]:53", AF_INET6},
	{"[2001:db8:0:0:0:0:0:1]:1", -1, 0, "[2001:db8::1]:1", AF_INET6},
	{"[::ffff:192.0.2.1]:53", -1, 0, "[::ffff:192.0.2.1]:53", AF_INET6},
	{"127.0.0.1", -1, ERR_PARSE, NULL, 0},
	{"::1", -1, ERR_PARSE, NULL, 0},
	{"[::1]", -1, ERR_PARSE, NULL, 0},
	{"", 53, ERR_PARSE, NULL, 0},
	{":53", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:65536", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:-1", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:+53", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1: 53", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:53 ", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:53x", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:0x35", 53, ERR_PARSE, NULL, 0},
	{" 127.0.0.1", 53, ERR_PARSE, NULL, 0},
	{"127.0.0.1:99999999999999999999", 53, ERR_PARSE, NULL, 0},
	{"[::1]53", 53, ERR_PARSE, NULL, 0},
	{"[::1", 53, ERR_PARSE, NULL, 0},
	{"::1]:53", 53, ERR_PARSE, NULL, 0},
	{"[]:53", 53, ERR_PARSE, NULL, 0},
	{"[::1]:", 53, ERR_PARSE, NULL, 0},
	{"localhost", 53, ERR_PARSE, NULL, 0},
	{"localhost:53", 53, ERR_PARSE, NULL, 0},
	{"1.2.3:53", 53, ERR_PARSE, NULL, 0},
	{"256.1.1.1", 53, ERR_PARSE, NULL, 0},
	{"fe80::1%lo", 53, ERR_PARSE, NULL, 0},
	{"[fe80::1%lo]:53", 53, ERR_PARSE, NULL, 0},
	{"[0000:0000:0000:0000:0000:0000:0000:0000:0001]:53", 53, ERR_PARSE,
	    NULL, 0},
	{"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd",
	    53, ERR_PARSE, NULL, 0},
};
#define NADDR (sizeof(addr_cases) / sizeof(addr_cases[0]))

ParameterizedTestParameters(netaddr, parse)
{
	static size_t idx[NADDR];

	for (size_t i = 0; i < NADDR; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NADDR);
}

ParameterizedTest(size_t *i, netaddr, parse)
{
	const struct addr_case *c = &addr_cases[*i];
	struct netaddr a;
	char buf[64];
	int ret;

	memset(&a, 0xa5, sizeof(a));
	ret = netaddr_parse(c->in, c->default_port, &a);
	cr_assert_eq(ret, c->ret, "'%s' (port %d): got %d, want %d", c->in,
	    c->default_port, ret, c->ret);
	if (c->ret != 0) {
		/* Nothing written on error. */
		for (size_t b = 0; b < sizeof(a); b++)
			cr_assert_eq(((unsigned char *)&a)[b], 0xa5,
			    "'%s': output touched", c->in);
		return;
	}
	cr_expect_eq(a.ss.ss_family, c->family, "'%s'", c->in);
	cr_expect_eq(a.len, c->family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	netaddr_format(&a, buf, sizeof(buf));
	cr_expect_str_eq(buf, c->out, "'%s': got '%s'", c->in, buf);
}

Test(netaddr, format_round_trips)
{
	static const char *const in[] = {"192.0.2.1:5353", "[2001:db8::53]:53",
		"[::]:0"};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct netaddr a, b;
		char buf[64];

		cr_assert_eq(netaddr_parse(in[i], -1, &a), 0, "%s", in[i]);
		netaddr_format(&a, buf, sizeof(buf));
		cr_expect_str_eq(buf, in[i]);
		cr_assert_eq(netaddr_parse(buf, -1, &b), 0);
		cr_expect_eq(a.len, b.len);
		cr_expect_eq(memcmp(&a.ss, &b.ss, a.len), 0);
	}
}

Test(netaddr, format_sockaddr_fields)
{
	struct netaddr a;
	const struct sockaddr_in *sin = (const void *)&a.ss;
	const struct sockaddr_in6 *sin6 = (const void *)&a.ss;
	uint8_t loop6[16] = {0};

	cr_assert_eq(netaddr_parse("192.0.2.7:5300", -1, &a), 0);
	cr_expect_eq(ntohs(sin->sin_port), 5300);
	cr_expect_eq(ntohl(sin->sin_addr.s_addr), 0xc0000207u);
	cr_assert_eq(netaddr_parse("[::1]:853", -1, &a), 0);
	cr_expect_eq(ntohs(sin6->sin6_port), 853);
	loop6[15] = 1;
	cr_expect_eq(memcmp(&sin6->sin6_addr, loop6, 16), 0);
}

Test(netaddr, format_unknown_and_small_buffer)
{
	struct netaddr a;
	char buf[64], small[8];

	memset(&a, 0, sizeof(a));
	a.ss.ss_family = AF_UNIX;
	netaddr_format(&a, buf, sizeof(buf));
	cr_expect_str_eq(buf, "(unknown)");

	cr_assert_eq(netaddr_parse("192.0.2.1:53", -1, &a), 0);
	memset(small, 'z', sizeof(small));
	netaddr_format(&a, small, sizeof(small));
	/* Truncated, but terminated inside the buffer. */
	cr_expect_eq(memchr(small, '\0', sizeof(small)) != NULL, true);
	cr_expect_str_eq(small, "192.0.2");
}

/* --- netprefix_parse ------------------------------------------------------ */

struct prefix_case {
	const char	*in;
	int		ret;
	int		family;
	unsigned	bits;
	const char	*addr;	/* the network address, for inet_pton */
};

static const struct prefix_case prefix_cases[] = {
	{"any", 0, AF_UNSPEC, 0, NULL},
	{"10.0.0.0/8", 0, AF_INET, 8, "10.0.0.0"},
	{"10.0.0.0/08", 0, AF_INET, 8, "10.0.0.0"},
	{"172.16.0.0/12", 0, AF_INET, 12, "172.16.0.0"},
	{"192.0.2.1", 0, AF_INET, 32, "192.0.2.1"},
	{"192.0.2.1/32", 0, AF_INET, 32, "192.0.2.1"},
	{"0.0.0.0/0", 0, AF_INET, 0, "0.0.0.0"},
	{"::1", 0, AF_INET6, 128, "::1"},
	{"::/0", 0, AF_INET6, 0, "::"},
	{"2001:db8::/32", 0, AF_INET6, 32, "2001:db8::"},
	{"2001:db8:8000::/33", 0, AF_INET6, 33, "2001:db8:8000::"},
	{"::ffff:10.0.0.0/104", 0, AF_INET6, 104, "::ffff:10.0.0.0"},
	/* Host bits set: an error, not a silently widened ACL. */
	{"10.0.0.1/8", ERR_INVAL, 0, 0, NULL},
	{"172.31.0.0/11", ERR_INVAL, 0, 0, NULL},
	{"192.0.2.1/0", ERR_INVAL, 0, 0, NULL},
	{"2001:db8::1/32", ERR_INVAL, 0, 0, NULL},
	{"2001:db8:8000::/32", ERR_INVAL, 0, 0, NULL},
	{"::1/127", ERR_INVAL, 0, 0, NULL},
	/* Malformed. */
	{"", ERR_PARSE, 0, 0, NULL},
	{"/8", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/33", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/-1", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/+8", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/ 8", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/8 ", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/8x", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/8/8", ERR_PARSE, 0, 0, NULL},
	{"10.0.0.0/99999999999999999999", ERR_PARSE, 0, 0, NULL},
	{"::/129", ERR_PARSE, 0, 0, NULL},
	{"10.0.0/8", ERR_PARSE, 0, 0, NULL},
	{"any/0", ERR_PARSE, 0, 0, NULL},
	{"all", ERR_PARSE, 0, 0, NULL},
	{"localhost", ERR_PARSE, 0, 0, NULL},
	{"[::1]/128", ERR_PARSE, 0, 0, NULL},
};
#define NPREFIX (sizeof(prefix_cases) / sizeof(prefix_cases[0]))

ParameterizedTestParameters(netprefix, parse)
{
	static size_t idx[NPREFIX];

	for (size_t i = 0; i < NPREFIX; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NPREFIX);
}

ParameterizedTest(size_t *i, netprefix, parse)
{
	const struct prefix_case *c = &prefix_cases[*i];
	struct netprefix p, before;
	uint8_t want[16] = {0};
	int ret;

	memset(&p, 0x5a, sizeof(p));
	before = p;
	ret = netprefix_parse(c->in, &p);
	cr_assert_eq(ret, c->ret, "'%s': got %d, want %d", c->in, ret,
	    c->ret);
	if (c->ret != 0) {
		cr_expect_eq(memcmp(&p, &before, sizeof(p)), 0,
		    "'%s': output touched", c->in);
		return;
	}
	cr_expect_eq(p.family, c->family, "'%s'", c->in);
	cr_expect_eq(p.bits, c->bits, "'%s': bits %u", c->in, p.bits);
	if (c->addr != NULL)
		cr_assert_eq(inet_pton(c->family, c->addr, want), 1);
	cr_expect_eq(memcmp(p.addr, want, sizeof(want)), 0, "'%s'", c->in);
}

/* --- netprefix_match ------------------------------------------------------ */

struct match_case {
	const char	*prefix;
	const char	*addr;	/* an IPv4 or IPv6 address */
	bool		match;
};

static const struct match_case match_cases[] = {
	{"10.0.0.0/8", "10.0.0.0", true},
	{"10.0.0.0/8", "10.255.255.255", true},
	{"10.0.0.0/8", "11.0.0.0", false},
	{"10.0.0.0/8", "9.255.255.255", false},
	{"172.16.0.0/12", "172.31.255.255", true},
	{"172.16.0.0/12", "172.32.0.0", false},
	{"172.16.0.0/12", "172.15.255.255", false},
	{"127.0.0.2/32", "127.0.0.2", true},
	{"127.0.0.2", "127.0.0.1", false},
	{"0.0.0.0/0", "203.0.113.9", true},
	{"0.0.0.0/0", "::1", false},
	/* An IPv4 client on a dual-stack socket arrives v4-mapped. */
	{"10.0.0.0/8", "::ffff:10.1.2.3", true},
	{"10.0.0.0/8", "::ffff:11.1.2.3", false},
	{"127.0.0.2/32", "::ffff:127.0.0.2", true},
	{"0.0.0.0/0", "::ffff:1.2.3.4", true},
	/* v4-compatible and NAT64 addresses are not v4-mapped. */
	{"10.0.0.0/8", "::10.1.2.3", false},
	{"10.0.0.0/8", "64:ff9b::10.1.2.3", false},
	{"10.0.0.0/8", "::fffe:10.1.2.3", false},
	{"::1", "::1", true},
	{"::1", "::2", false},
	{"::1", "127.0.0.1", false},
	{"2001:db8::/32", "2001:db8:ffff::1", true},
	{"2001:db8::/32", "2001:db9::1", false},
	{"2001:db8::/33", "2001:db8:7fff::", true},
	{"2001:db8::/33", "2001:db8:8000::", false},
	{"::/0", "2001:db8::1", true},
	{"::/0", "10.0.0.1", false},
	/* An IPv6 prefix covering mapped space does not match bare IPv4. */
	{"::ffff:0:0/96", "10.0.0.1", false},
	{"::ffff:0:0/96", "::ffff:10.0.0.1", true},
	{"any", "10.0.0.1", true},
	{"any", "::1", true},
	{"any", "::ffff:10.0.0.1", true},
};
#define NMATCH (sizeof(match_cases) / sizeof(match_cases[0]))

ParameterizedTestParameters(netprefix, match)
{
	static size_t idx[NMATCH];

	for (size_t i = 0; i < NMATCH; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NMATCH);
}

ParameterizedTest(size_t *i, netprefix, match)
{
	const struct match_case *c = &match_cases[*i];
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct netprefix p;

	cr_assert_eq(netprefix_parse(c->prefix, &p), 0, "%s", c->prefix);
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, c->addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(4242);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, c->addr, &sin6->sin6_addr), 1,
		    "%s", c->addr);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(4242);
	}
	cr_expect_eq(netprefix_match(&p, (struct sockaddr *)&ss), c->match,
	    "%s in %s: want %s", c->addr, c->prefix,
	    c->match ? "match" : "no match");
}

Test(netprefix, other_families_never_match)
{
	struct sockaddr_un sun;
	struct netprefix any, v4;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	cr_assert_eq(netprefix_parse("any", &any), 0);
	cr_assert_eq(netprefix_parse("0.0.0.0/0", &v4), 0);
	cr_expect_not(netprefix_match(&v4, (struct sockaddr *)&sun));
	/* "any" is documented to match everything. */
	cr_expect(netprefix_match(&any, (struct sockaddr *)&sun));
}
