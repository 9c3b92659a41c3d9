/*
 * zone.h -- one zone's data, loaded from an RFC 1035 zone file, indexed by
 * owner name.
 *
 * A zone is built (zone_new, zone_add_rr ..., zone_finish) or loaded from a
 * file (zone_load, which does the same through ldns), and is immutable once
 * finished: any number of threads may read it. Every owner name below the
 * apex has a node, and so does every name between an owner and the apex
 * (empty non-terminals), so a lookup tells "no such name" from "no data".
 *
 * Names are uncompressed wire format in lower case; rdata is uncompressed
 * wire format as written in the file (its case preserved).
 *
 * ldns stays inside zone.c: nothing here exposes its types.
 */
#ifndef ZONE_ZONE_H
#define ZONE_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

enum {
	ZONE_NODE_APEX = 0x01,		/* the zone's origin */
	ZONE_NODE_DELEG = 0x02,		/* NS below the apex: a zone cut */
	ZONE_NODE_OCCLUDED = 0x04,	/* below a zone cut: glue only */
	ZONE_NODE_WILDCARD = 0x08	/* first label is "*" */
};

struct zone_rdata {
	uint16_t	 len;
	uint8_t		*data;
};

struct zone_rrset {
	uint16_t		 type;
	uint32_t		 ttl;	/* the lowest TTL of its records */
	uint16_t		 count;
	int			 line;	/* first record's line, 0 if built */
	bool			 servfail; /* a placeholder without records:
					   the type (every type, for CNAME)
					   answers SERVFAIL (zone_add_servfail) */
	bool			 withdrawn; /* a placeholder without records:
					   the type (every type, for CNAME)
					   answers NODATA with the SOA at TTL
					   0 (zone_add_withdrawn) */
	struct zone_rdata	*rd;
};

struct zone_node {
	uint8_t			*name;	/* lower case wire format */
	uint8_t			 namelen;
	unsigned		 flags;	/* ZONE_NODE_* */
	struct zone_node	*parent; /* NULL at the apex */
	struct zone_node	*wild;	/* the "*" child, if any */
	struct zone_rrset	*sets;
	size_t			 nsets;
};

struct zone {
	char			*file;	/* where it came from, for messages */
	uint8_t			*origin; /* lower case wire format */
	size_t			 originlen;
	struct zone_node	*apex;
	struct zone_node	**nodes; /* every node, in insertion order */
	size_t			 nnodes;
	struct namemap		*index;	/* name -> struct zone_node */
	uint32_t		 serial;
	uint32_t		 neg_ttl; /* min(SOA TTL, SOA minimum) */
	bool			 finished;
	struct arena		 arena;	/* nodes, names, record data */
};

/*
 * Load file as the zone for origin (text, absolute). On success *out is a
 * new finished zone. On failure returns ERR_PARSE/ERR_INVAL/-errno and a
 * new message "file:line: message" in *errmsg.
 */
int	zone_load(const char *file, const char *origin, struct zone **out,
	    char **errmsg) __attribute__((warn_unused_result));

/* New empty, unfinished zone for origin (wire format, any case). */
struct zone	*zone_new(const uint8_t *origin, const char *file);
/* NULL-safe. */
void		 zone_free(struct zone *z);

/*
 * Add one record before zone_finish. owner is wire format (any case),
 * rdata uncompressed wire. line is for messages (0 if none). Returns 0,
 * or ERR_INVAL with *errmsg set (owner outside the zone, class not IN,
 * a second CNAME or SOA, ...).
 */
int	zone_add_rr(struct zone *z, const uint8_t *owner, uint16_t type,
	    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, int line,
	    char **errmsg) __attribute__((warn_unused_result));

/*
 * Make sure owner (wire, any case, inside the zone) has a node, so that
 * it answers NODATA rather than NXDOMAIN. Returns 0 or ERR_INVAL with
 * *errmsg.
 */
int	zone_add_node(struct zone *z, const uint8_t *owner, char **errmsg)
	    __attribute__((warn_unused_result));

/*
 * Mark (owner, type) as unanswerable: an RRset of that type without
 * records and with servfail set. The answer tables turn it into SERVFAIL
 * (for type CNAME: every type at owner), and the zone is not transferred
 * while it holds one (xfr.h: SERVFAIL, so that secondaries keep their
 * copy). ARC-driven names whose state is unknown use this.
 * Returns 0, or ERR_INVAL with *errmsg (outside the zone, or the type is
 * there already).
 */
int	zone_add_servfail(struct zone *z, const uint8_t *owner, uint16_t type,
	    char **errmsg) __attribute__((warn_unused_result));

/*
 * Mark (owner, type) as withdrawn: a fenced writer name between two
 * targets. The answer tables turn it into NODATA with the SOA at TTL 0
 * (for type CNAME: every type at owner), so that no resolver keeps the
 * absence either. Same errors as zone_add_servfail().
 */
int	zone_add_withdrawn(struct zone *z, const uint8_t *owner,
	    uint16_t type, char **errmsg) __attribute__((warn_unused_result));

/*
 * Check the zone (SOA at the apex, NS at the apex, CNAME alone at its
 * name) and compute flags, wildcards and the negative TTL. Returns 0, or
 * ERR_INVAL with *errmsg set. Afterwards the zone is read-only.
 */
int	zone_finish(struct zone *z, char **errmsg)
	    __attribute__((warn_unused_result));

/* The node for a lower-case name, or NULL. Borrowed from z. */
const struct zone_node	*zone_get(const struct zone *z, const uint8_t *name,
			    size_t len);
/* The node's RRset of type, or NULL. Borrowed. */
const struct zone_rrset	*zone_node_rrset(const struct zone_node *n,
			    uint16_t type);
/* The apex SOA (always present in a finished zone). */
const struct zone_rrset	*zone_soa(const struct zone *z);

#endif
