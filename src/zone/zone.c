#include "zone/zone.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "util/dname.h"
#include "util/err.h"
#include "util/namemap.h"
#include "util/xalloc.h"

#define TYPE_NS		2
#define TYPE_CNAME	5
#define TYPE_DNAME	39
#define TYPE_SOA	6
#define DEFAULT_TTL	3600

struct zone *
zone_new(const uint8_t *origin, const char *file)
{
	struct zone *z = xcalloc(1, sizeof(*z));
	struct zone_node *apex;

	z->file = xstrdup(file != NULL ? file : "(built)");
	z->originlen = dname_len(origin);
	z->origin = xmalloc(z->originlen);
	dname_lower(z->origin, origin, z->originlen);
	z->index = namemap_new(64);
	apex = arena_alloc(&z->arena, sizeof(*apex));
	apex->name = arena_alloc(&z->arena, z->originlen);
	memcpy(apex->name, z->origin, z->originlen);
	apex->namelen = (uint8_t)z->originlen;
	apex->flags = ZONE_NODE_APEX;
	z->apex = apex;
	z->nodes = xmalloc(sizeof(*z->nodes));
	z->nodes[0] = apex;
	z->nnodes = 1;
	(void)namemap_put(z->index, apex->name, apex->namelen, apex);
	return z;
}

/*
 * The node itself, its name and its record data are in z->arena, and in
 * a finished zone its lists too (compact()).
 */
static void
node_free(struct zone_node *n)
{
	for (size_t i = 0; i < n->nsets; i++)
		free(n->sets[i].rd);
	free(n->sets);
}

void
zone_free(struct zone *z)
{
	if (z == NULL)
		return;
	for (size_t i = 0; !z->finished && i < z->nnodes; i++)
		node_free(z->nodes[i]);
	free(z->nodes);
	namemap_free(z->index);
	arena_free(&z->arena);
	free(z->origin);
	free(z->file);
	free(z);
}

const struct zone_node *
zone_get(const struct zone *z, const uint8_t *name, size_t len)
{
	return namemap_get(z->index, name, len);
}

const struct zone_rrset *
zone_node_rrset(const struct zone_node *n, uint16_t type)
{
	for (size_t i = 0; i < n->nsets; i++)
		if (n->sets[i].type == type)
			return &n->sets[i];
	return NULL;
}

const struct zone_rrset *
zone_soa(const struct zone *z)
{
	return zone_node_rrset(z->apex, TYPE_SOA);
}

/* Find or create the node for lower-case name (below or at the apex). */
static struct zone_node *
node_get_or_add(struct zone *z, const uint8_t *name, size_t len)
{
	struct zone_node *n = namemap_get(z->index, name, len);

	if (n != NULL)
		return n;
	n = arena_alloc(&z->arena, sizeof(*n));
	n->name = arena_alloc(&z->arena, len);
	memcpy(n->name, name, len);
	n->namelen = (uint8_t)len;
	if (name[0] == 1 && name[1] == '*')
		n->flags |= ZONE_NODE_WILDCARD;
	z->nodes = xrealloc(z->nodes, z->nnodes + 1, sizeof(*z->nodes));
	z->nodes[z->nnodes++] = n;
	(void)namemap_put(z->index, n->name, n->namelen, n);
	/* Every name between here and the apex gets a node too. */
	const uint8_t *p = dname_parent(n->name);
	n->parent = node_get_or_add(z, p, dname_len(p));
	if (n->flags & ZONE_NODE_WILDCARD)
		n->parent->wild = n;
	return n;
}

static char *
where(const struct zone *z, int line)
{
	return line > 0 ? xstrfmt("%s:%d", z->file, line) : xstrdup(z->file);
}

static int __attribute__((format(printf, 4, 5)))
fail(char **errmsg, const struct zone *z, int line, const char *fmt, ...)
{
	char *w = where(z, line);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*errmsg = xstrfmt("%s: %s", w, msg);
	free(w);
	return ERR_INVAL;
}

/* A well-formed uncompressed name within avail bytes; its length. */
static bool
name_ok(const uint8_t *p, size_t avail, size_t *len)
{
	size_t off = 0;

	while (off < avail && off < DNAME_MAXLEN) {
		uint8_t l = p[off];

		if (l > DNAME_MAXLABEL)
			return false;
		off += (size_t)l + 1;
		if (l == 0) {
			*len = off;
			return off <= avail;
		}
	}
	return false;
}

/* The names inside rdata that the answer tables will read. */
static bool
rdata_ok(uint16_t type, const uint8_t *rd, size_t rdlen)
{
	size_t l1, l2;

	switch (type) {
	case TYPE_NS:
	case TYPE_CNAME:
	case 12:	/* PTR */
		return name_ok(rd, rdlen, &l1) && l1 == rdlen;
	case 15:	/* MX */
		return rdlen > 2 && name_ok(rd + 2, rdlen - 2, &l1) &&
		    l1 + 2 == rdlen;
	case 33:	/* SRV */
		return rdlen > 6 && name_ok(rd + 6, rdlen - 6, &l1) &&
		    l1 + 6 == rdlen;
	case TYPE_SOA:
		/* The fixed fields are zone_finish()'s to check. */
		return name_ok(rd, rdlen, &l1) &&
		    name_ok(rd + l1, rdlen - l1, &l2);
	default:
		return true;
	}
}

/* The node for owner (any case), made if need be; NULL and *errmsg if not. */
static struct zone_node *
node_for(struct zone *z, const uint8_t *owner, int line, char **errmsg)
{
	uint8_t name[DNAME_MAXLEN];
	char text[DNAME_MAXLEN * 4 + 1];
	size_t len;

	if (z->finished) {
		(void)fail(errmsg, z, line, "the zone is finished");
		return NULL;
	}
	if (!name_ok(owner, DNAME_MAXLEN, &len)) {
		(void)fail(errmsg, z, line, "owner name longer than %d bytes",
		    DNAME_MAXLEN);
		return NULL;
	}
	dname_lower(name, owner, len);
	if (!dname_is_subdomain(name, z->origin)) {
		dname_to_str(name, text, sizeof(text));
		(void)fail(errmsg, z, line, "%s is outside the zone", text);
		return NULL;
	}
	return node_get_or_add(z, name, len);
}

int
zone_add_rr(struct zone *z, const uint8_t *owner, uint16_t type,
    uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, int line,
    char **errmsg)
{
	char text[DNAME_MAXLEN * 4 + 1];
	struct zone_node *n = node_for(z, owner, line, errmsg);
	struct zone_rrset *set = NULL;

	if (n == NULL)
		return ERR_INVAL;
	dname_to_str(n->name, text, sizeof(text));
	if (type == TYPE_DNAME)
		return fail(errmsg, z, line, "%s: DNAME is not supported "
		    "(RFC 6672 redirection is not implemented): use CNAME "
		    "records", text);
	for (size_t i = 0; i < n->nsets; i++)
		if (n->sets[i].type == type)
			set = &n->sets[i];
	if (set != NULL && (set->servfail || set->withdrawn))
		return fail(errmsg, z, line, "%s: records of a type marked "
		    "unanswerable", text);
	if (set != NULL) {
		if (type == TYPE_CNAME)
			return fail(errmsg, z, line,
			    "%s has more than one CNAME record", text);
		if (type == TYPE_SOA)
			return fail(errmsg, z, line,
			    "%s has more than one SOA record", text);
		for (size_t i = 0; i < set->count; i++)
			if (set->rd[i].len == rdlen &&
			    memcmp(set->rd[i].data, rdata, rdlen) == 0)
				return 0;	/* duplicate record: one copy */
		if (set->count == UINT16_MAX)
			return fail(errmsg, z, line, "%s: too many records",
			    text);
	}
	if (!rdata_ok(type, rdata, rdlen))
		return fail(errmsg, z, line, "%s: a name in the record data is "
		    "malformed or longer than %d bytes", text, DNAME_MAXLEN);
	if (set == NULL) {
		n->sets = xrealloc(n->sets, n->nsets + 1, sizeof(*n->sets));
		set = &n->sets[n->nsets++];
		*set = (struct zone_rrset){.type = type, .ttl = ttl,
		    .line = line};
	} else if (ttl < set->ttl)
		set->ttl = ttl;
	set->rd = xrealloc(set->rd, set->count + 1u, sizeof(*set->rd));
	set->rd[set->count].len = rdlen;
	set->rd[set->count].data = arena_alloc(&z->arena, rdlen);
	memcpy(set->rd[set->count].data, rdata, rdlen);
	set->count++;
	return 0;
}

/* The node for owner, created if need be; NULL with *errmsg if outside. */

int
zone_add_node(struct zone *z, const uint8_t *owner, char **errmsg)
{
	return node_for(z, owner, 0, errmsg) == NULL ? ERR_INVAL : 0;
}

static int
add_placeholder(struct zone *z, const uint8_t *owner, uint16_t type,
    bool withdrawn, char **errmsg)
{
	struct zone_node *n = node_for(z, owner, 0, errmsg);
	char text[DNAME_MAXLEN * 4 + 1];

	if (n == NULL)
		return ERR_INVAL;
	if (zone_node_rrset(n, type) != NULL) {
		dname_to_str(n->name, text, sizeof(text));
		return fail(errmsg, z, 0, "%s: type %u is there already", text,
		    (unsigned)type);
	}
	n->sets = xrealloc(n->sets, n->nsets + 1, sizeof(*n->sets));
	n->sets[n->nsets++] = (struct zone_rrset){.type = type, .ttl = 0,
	    .servfail = !withdrawn, .withdrawn = withdrawn};
	return 0;
}

int
zone_add_servfail(struct zone *z, const uint8_t *owner, uint16_t type,
    char **errmsg)
{
	return add_placeholder(z, owner, type, false, errmsg);
}

int
zone_add_withdrawn(struct zone *z, const uint8_t *owner, uint16_t type,
    char **errmsg)
{
	return add_placeholder(z, owner, type, true, errmsg);
}

static bool
below_cut(const struct zone_node *n)
{
	for (const struct zone_node *p = n->parent; p != NULL; p = p->parent)
		if (p->flags & ZONE_NODE_DELEG)
			return true;
	return false;
}

/*
 * Nothing is added to a finished zone: its RRset and record lists move
 * into the arena, without the slack of their growth and a malloc()
 * header each.
 */
static void
compact(struct zone *z)
{
	for (size_t i = 0; i < z->nnodes; i++) {
		struct zone_node *n = z->nodes[i];
		struct zone_rrset *sets;

		if (n->nsets == 0)
			continue;
		sets = arena_alloc(&z->arena, n->nsets * sizeof(*sets));
		memcpy(sets, n->sets, n->nsets * sizeof(*sets));
		for (size_t j = 0; j < n->nsets; j++) {
			struct zone_rdata *rd;

			if (sets[j].count == 0)
				continue;	/* a placeholder: no list */
			rd = arena_alloc(&z->arena, sets[j].count * sizeof(*rd));
			memcpy(rd, sets[j].rd, sets[j].count * sizeof(*rd));
			free(sets[j].rd);
			sets[j].rd = rd;
		}
		free(n->sets);
		n->sets = sets;
	}
}

int
zone_finish(struct zone *z, char **errmsg)
{
	const struct zone_rrset *soa = zone_soa(z);
	char text[DNAME_MAXLEN * 4 + 1];

	dname_to_str(z->origin, text, sizeof(text));
	if (soa == NULL)
		return fail(errmsg, z, 0, "no SOA record at the apex %s", text);
	if (zone_node_rrset(z->apex, TYPE_NS) == NULL)
		return fail(errmsg, z, 0, "no NS records at the apex %s", text);
	/* SOA rdata: mname, rname, serial, refresh, retry, expire, minimum. */
	const uint8_t *rd = soa->rd[0].data;
	size_t off = dname_len(rd);
	off += dname_len(rd + off);
	if (off + 20 != soa->rd[0].len)
		return fail(errmsg, z, soa->line, "malformed SOA at %s", text);
	z->serial = (uint32_t)rd[off] << 24 | (uint32_t)rd[off + 1] << 16 |
	    (uint32_t)rd[off + 2] << 8 | rd[off + 3];
	uint32_t minimum = (uint32_t)rd[off + 16] << 24 |
	    (uint32_t)rd[off + 17] << 16 | (uint32_t)rd[off + 18] << 8 |
	    rd[off + 19];
	z->neg_ttl = soa->ttl < minimum ? soa->ttl : minimum;

	for (size_t i = 0; i < z->nnodes; i++) {
		struct zone_node *n = z->nodes[i];
		const struct zone_rrset *cname = zone_node_rrset(n, TYPE_CNAME);

		dname_to_str(n->name, text, sizeof(text));
		if (n != z->apex && zone_node_rrset(n, TYPE_SOA) != NULL)
			return fail(errmsg, z, zone_node_rrset(n, TYPE_SOA)->line,
			    "SOA record at %s, which is not the apex", text);
		if (cname != NULL && n->nsets > 1)
			return fail(errmsg, z, cname->line,
			    "%s has a CNAME and other data", text);
		if (cname != NULL && n == z->apex)
			return fail(errmsg, z, cname->line,
			    "CNAME at the apex %s", text);
		if (n != z->apex && zone_node_rrset(n, TYPE_NS) != NULL)
			n->flags |= ZONE_NODE_DELEG;
	}
	for (size_t i = 0; i < z->nnodes; i++)
		if (below_cut(z->nodes[i]))
			z->nodes[i]->flags |= ZONE_NODE_OCCLUDED;
	compact(z);
	z->finished = true;
	return 0;
}

/* --- loading through ldns ------------------------------------------------ */

static int
add_ldns_rr(struct zone *z, const ldns_rr *rr, int line, char **errmsg)
{
	uint8_t rdata[65535];
	size_t rdlen = 0;
	const ldns_rdf *owner = ldns_rr_owner(rr);

	if (ldns_rr_get_type(rr) == 0) {
		*errmsg = xstrfmt("%s:%d: unknown record type", z->file, line);
		return ERR_PARSE;
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
		*errmsg = xstrfmt("%s:%d: only class IN is supported", z->file,
		    line);
		return ERR_INVAL;
	}
	/* ldns joins relative names to $ORIGIN without the 255-byte check. */
	if (ldns_rdf_size(owner) > DNAME_MAXLEN) {
		*errmsg = xstrfmt("%s:%d: owner name longer than %d bytes",
		    z->file, line, DNAME_MAXLEN);
		return ERR_PARSE;
	}
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		size_t sz = ldns_rdf_size(f);

		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME &&
		    sz > DNAME_MAXLEN) {
			*errmsg = xstrfmt("%s:%d: name longer than %d bytes",
			    z->file, line, DNAME_MAXLEN);
			return ERR_PARSE;
		}

		if (rdlen + sz > sizeof(rdata)) {
			*errmsg = xstrfmt("%s:%d: record data too long",
			    z->file, line);
			return ERR_INVAL;
		}
		memcpy(rdata + rdlen, ldns_rdf_data(f), sz);
		rdlen += sz;
	}
	return zone_add_rr(z, ldns_rdf_data(owner), (uint16_t)ldns_rr_get_type(rr),
	    ldns_rr_ttl(rr), rdata, (uint16_t)rdlen, line, errmsg);
}

/*
 * ldns takes a record whose "(" is never closed at the end of the file as
 * complete: find that here. Returns the line of the unclosed "(", or 0.
 */
static int
unclosed_paren(FILE *fp)
{
	bool quoted = false, comment = false, escaped = false;
	int depth = 0, line = 1, open_line = 0, c;

	while ((c = getc(fp)) != EOF) {
		if (c == '\n') {
			line++;
			comment = false;
			escaped = false;
			continue;
		}
		if (comment)
			continue;
		if (escaped) {
			escaped = false;
			continue;
		}
		if (c == '\\')
			escaped = true;
		else if (c == '"')
			quoted = !quoted;
		else if (quoted)
			continue;
		else if (c == ';')
			comment = true;
		else if (c == '(' && depth++ == 0)
			open_line = line;
		else if (c == ')' && depth > 0)
			depth--;
	}
	rewind(fp);
	return depth > 0 ? open_line : 0;
}

int
zone_load(const char *file, const char *origin, struct zone **out,
    char **errmsg)
{
	ldns_rdf *ldorigin = NULL, *prev = NULL;
	uint32_t ttl = DEFAULT_TTL;
	struct zone *z = NULL;
	int line = 1, ret = ERR_PARSE;
	FILE *fp;

	fp = fopen(file, "r");
	if (fp == NULL) {
		ret = -errno;
		*errmsg = xstrfmt("%s: cannot open: %s", file, strerror(errno));
		return ret;
	}
	if (ldns_str2rdf_dname(&ldorigin, origin) != LDNS_STATUS_OK) {
		*errmsg = xstrfmt("%s: invalid origin '%s'", file, origin);
		goto out;
	}
	line = unclosed_paren(fp);
	if (line != 0) {
		*errmsg = xstrfmt("%s:%d: '(' is never closed", file, line);
		goto out;
	}
	line = 1;
	prev = ldns_rdf_clone(ldorigin);
	z = zone_new(ldns_rdf_data(ldorigin), file);
	for (;;) {
		ldns_rr *rr = NULL;
		int before = line;	/* a multi-line record ends at line - 1 */
		ldns_status s = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &ldorigin,
		    &prev, &line);

		if (s == LDNS_STATUS_OK) {
			/* ldns counts the newline it stopped at. */
			int at = line > before ? line - 1 : line;

			ret = add_ldns_rr(z, rr, at, errmsg);
			ldns_rr_free(rr);
			if (ret != 0)
				goto out;
			continue;
		}
		ldns_rr_free(rr);
		if (ferror(fp)) {
			/* A directory opens, then every read fails. */
			ret = ERR_IO;
			*errmsg = xstrfmt("%s: cannot read: %s", file,
			    strerror(errno != 0 ? errno : EIO));
			goto out;
		}
		if (s == LDNS_STATUS_SYNTAX_EMPTY || s == LDNS_STATUS_SYNTAX_TTL ||
		    s == LDNS_STATUS_SYNTAX_ORIGIN) {
			if (feof(fp))
				break;
			continue;
		}
		/* As above: the line ldns stopped on, not the next one. */
		*errmsg = xstrfmt("%s:%d: %s", file,
		    line > before ? line - 1 : line,
		    s == LDNS_STATUS_SYNTAX_INCLUDE ? "$INCLUDE is not supported" :
		    ldns_get_errorstr_by_id(s));
		ret = ERR_PARSE;
		goto out;
	}
	ret = zone_finish(z, errmsg);
out:
	fclose(fp);
	ldns_rdf_deep_free(ldorigin);
	ldns_rdf_deep_free(prev);
	if (ret != 0) {
		zone_free(z);
		return ret;
	}
	*out = z;
	return 0;
}
