/*
 * netaddr.h -- socket addresses and CIDR prefixes.
 *
 * Pure parsing and matching: no I/O, no allocation. Used by the config
 * parser (listen addresses, match-clients) and by the view matcher on the
 * query path, where netaddr_prefix_match() must stay cheap.
 */
#ifndef UTIL_NETADDR_H
#define UTIL_NETADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* A listen or peer address: IPv4 or IPv6 with a port. */
struct netaddr {
	struct sockaddr_storage	ss;
	socklen_t		len;
};

/* An address prefix; family AF_UNSPEC with bits 0 matches everything. */
struct netprefix {
	int		family;		/* AF_INET, AF_INET6 or AF_UNSPEC */
	unsigned	bits;		/* 0..32 or 0..128 */
	uint8_t		addr[16];	/* network order, host bits zero */
};

/*
 * Parse "1.2.3.4:53", "[::1]:53", or a bare address when default_port is
 * not negative. Returns 0, or ERR_PARSE with nothing written to *out.
 */
int	netaddr_parse(const char *s, int default_port, struct netaddr *out)
	    __attribute__((warn_unused_result));

/* Format as "1.2.3.4:53" or "[::1]:53" into buf (at least 64 bytes). */
void	netaddr_format(const struct netaddr *a, char *buf, size_t size);

/*
 * Parse "10.0.0.0/16", "::1/128", a bare address (a host prefix) or "any".
 * Host bits set below the prefix length are an error (ERR_INVAL), as in
 * BIND's acl parser, so that a typo does not widen an ACL silently.
 */
int	netprefix_parse(const char *s, struct netprefix *out)
	    __attribute__((warn_unused_result));

/*
 * True when sa (an AF_INET or AF_INET6 sockaddr; v4-mapped IPv6 counts as
 * IPv4) lies inside p.
 */
bool	netprefix_match(const struct netprefix *p, const struct sockaddr *sa);

#endif
