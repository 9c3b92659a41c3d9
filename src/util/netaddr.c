#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static int
parse_port(const char *s, int *port)
{
	char *end;
	long v;

	/* Digits only: strtol would also take blanks and a sign. */
	if (*s < '0' || *s > '9')
		return ERR_PARSE;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < 0 || v > 65535)
		return ERR_PARSE;
	*port = (int)v;
	return 0;
}

int
netaddr_parse(const char *s, int default_port, struct netaddr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *portstr = NULL;
	struct netaddr a;
	size_t hlen;
	int port = default_port;

	memset(&a, 0, sizeof(a));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL)
			return ERR_PARSE;
		hlen = (size_t)(rb - s - 1);
		if (rb[1] == ':')
			portstr = rb + 2;
		else if (rb[1] != '\0')
			return ERR_PARSE;
		if (hlen >= sizeof(host))
			return ERR_PARSE;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
	} else {
		const char *colon = strrchr(s, ':');

		if (colon != NULL && strchr(s, ':') == colon) {
			/* One colon: IPv4 with a port. */
			hlen = (size_t)(colon - s);
			portstr = colon + 1;
		} else
			hlen = strlen(s);	/* IPv4 or bare IPv6 */
		if (hlen >= sizeof(host))
			return ERR_PARSE;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (portstr != NULL && parse_port(portstr, &port) != 0)
		return ERR_PARSE;
	if (port < 0)
		return ERR_PARSE;

	struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;

	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a.len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a.len = sizeof(*sin6);
	} else
		return ERR_PARSE;
	*out = a;
	return 0;
}

void
netaddr_format(const struct netaddr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, size, "(unknown)");
}

int
netprefix_parse(const char *s, struct netprefix *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	struct netprefix p;
	unsigned maxbits;
	size_t hlen;
	long bits = -1;

	memset(&p, 0, sizeof(p));
	if (strcmp(s, "any") == 0) {
		p.family = AF_UNSPEC;
		*out = p;
		return 0;
	}
	slash = strchr(s, '/');
	hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host))
		return ERR_PARSE;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, p.addr) == 1) {
		p.family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, p.addr) == 1) {
		p.family = AF_INET6;
		maxbits = 128;
	} else
		return ERR_PARSE;
	if (slash != NULL) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return ERR_PARSE;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || bits > (long)maxbits)
			return ERR_PARSE;
	} else
		bits = (long)maxbits;
	p.bits = (unsigned)bits;
	for (unsigned i = p.bits; i < maxbits; i++)
		if (p.addr[i / 8] & (0x80 >> (i % 8)))
			return ERR_INVAL;
	*out = p;
	return 0;
}

static bool
bits_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool
netprefix_match(const struct netprefix *p, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff};

	if (p->family == AF_UNSPEC)
		return true;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		return p->family == AF_INET &&
		    bits_match(p->addr, (const uint8_t *)&sin->sin_addr, p->bits);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		const uint8_t *a = sin6->sin6_addr.s6_addr;

		if (p->family == AF_INET6)
			return bits_match(p->addr, a, p->bits);
		if (memcmp(a, mapped, sizeof(mapped)) == 0)
			return bits_match(p->addr, a + 12, p->bits);
	}
	return false;
}
