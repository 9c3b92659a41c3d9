#include "dns/table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "dns/xfr.h"
#include "mirror/mirror.h"
#include "util/arena.h"
#include "util/netaddr.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/namemap.h"
#include "util/xalloc.h"
#include "view/view.h"
#include "zone/zone.h"

#define T_A		1
#define T_NS		2
#define T_CNAME		5
#define T_SOA		6
#define T_PTR		12
#define T_HINFO		13
#define T_MX		15
#define T_TXT		16
#define T_AAAA		28
#define T_SRV		33
#define T_DS		43
#define T_ANY		255
#define C_IN		1
#define C_CH		3

#define FLAG_AA		0x0400
#define RCODE_SERVFAIL	2
#define RCODE_NXDOMAIN	3

#define MAX_CHAIN	8	/* CNAME hops followed at build time */
#define MAX_RRREF	256	/* RRsets in one section */
#define MAX_DICT	256	/* names remembered for compression */
#define MAX_MSG		65535	/* a template's data */
#define MAX_PATCH	4096	/* its compression pointers */
/* Internal pointers must stay below 0x4000 whatever the question. */
#define MAX_INTERNAL_OFF (0x3fff - 12 - DNAME_MAXLEN - 4)

/* --- the built table ----------------------------------------------------- */

struct ttype {
	uint16_t		 type;
	const struct tmpl	*t;
};

struct tnode {
	const struct tmpl	*nodata;	/* a type the name lacks */
	const struct tmpl	*any;		/* RFC 8482 */
	const struct tmpl	*referral;	/* zone cut: all but DS */
	const struct tmpl	*nxdomain;	/* names below without a node */
	const struct tnode	*wild;		/* synthesized from "*" */
	struct ttype		*types;
	uint16_t		 ntypes;
	uint8_t			 namelen;
	uint8_t			 name[];
};

struct tview {
	struct namemap		*names;		/* lname -> struct tnode */
	struct xfr		**xfr;		/* per zone of the view; NULL:
						   no allow-transfer */
	size_t			 nxfr;
};

struct tchaos {
	uint8_t			 name[32];
	size_t			 len;
	const struct tmpl	*txt;		/* NULL: REFUSED */
	const struct tmpl	*nodata;
};

/* One control as CHAOS state.arcdns shows it (copied at build time). */
struct tstate {
	char			*name;
	char			*endpoint;	/* NULL: unknown */
	enum mirror_state	 state;
	bool			 missing;
	uint64_t		 changed_ms;
};

struct table {
	struct viewset		*viewset;
	struct netprefix	*chaos_clients;
	size_t			 nchaos_clients;
	bool			 arc;		/* table_set_state() with a mirror */
	struct tstate		*ctls;
	size_t			 nctls;
	char			 hash[13];
	char			**extra;	/* more state.arcdns strings */
	size_t			 nextra;
	const _Atomic uint64_t	*last_success_ms;
	uint64_t		 stale_after_ms;
	struct tview		*views;
	size_t			 nviews;
	struct tchaos		 chaos[4];
	uint16_t		 edns_size;
	struct arena		 arena;		/* everything the table holds */
};

void
table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nviews; i++) {
		namemap_free(t->views[i].names);
		for (size_t j = 0; j < t->views[i].nxfr; j++)
			xfr_free(t->views[i].xfr[j]);
		free(t->views[i].xfr);
	}
	arena_free(&t->arena);
	free(t->views);
	viewset_free(t->viewset);
	free(t);
}

/* --- what an answer holds, before encoding -------------------------------- */

struct rrref {
	const uint8_t			*owner;	/* NULL: the question name */
	uint16_t			 type;
	uint32_t			 ttl;
	uint16_t			 count;
	const struct zone_rdata		*rd;
};

struct ans {
	struct rrref	sec[3][MAX_RRREF];	/* answer, authority, additional */
	size_t		n[3];
	uint16_t	rcode;
	bool		aa;
	bool		need_ar;
	bool		stop;			/* chain loop or limit */
	bool		servfail;		/* reached an unknown state */
};

enum { SEC_AN = 0, SEC_NS = 1, SEC_AR = 2 };

static bool
same_owner(const uint8_t *a, const uint8_t *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return dname_equal(a, b);
}

/* Add an RRset to a section once; false if it was there already. */
static bool
add_rr(struct ans *a, int sec, const uint8_t *owner, uint16_t type,
    uint32_t ttl, uint16_t count, const struct zone_rdata *rd)
{
	for (size_t i = 0; i < a->n[sec]; i++) {
		const struct rrref *r = &a->sec[sec][i];

		if (r->type == type && r->rd == rd && same_owner(r->owner, owner))
			return false;
	}
	if (a->n[sec] == MAX_RRREF)
		return false;
	a->sec[sec][a->n[sec]++] = (struct rrref){owner, type, ttl, count, rd};
	return true;
}

static bool
add_set(struct ans *a, int sec, const uint8_t *owner,
    const struct zone_rrset *set)
{
	return add_rr(a, sec, owner, set->type, set->ttl, set->count, set->rd);
}

static void
add_soa_ttl(struct ans *a, const struct zone *z, uint32_t ttl)
{
	const struct zone_rrset *soa = zone_soa(z);

	add_rr(a, SEC_NS, z->apex->name, T_SOA, ttl, 1, soa->rd);
}

static void
add_soa(struct ans *a, const struct zone *z)
{
	add_soa_ttl(a, z, z->neg_ttl);
}

/* A and AAAA of an in-zone name, into the additional section. */
static void
add_addresses(struct ans *a, const struct zone *z, const uint8_t *target,
    bool required)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t len = dname_len(target);
	const struct zone_node *n;
	bool found = false;
	static const uint16_t types[] = {T_A, T_AAAA};

	dname_lower(lname, target, len);
	if (!dname_is_subdomain(lname, z->origin))
		return;
	n = zone_get(z, lname, len);
	if (n == NULL)
		return;
	for (size_t i = 0; i < 2; i++) {
		const struct zone_rrset *s = zone_node_rrset(n, types[i]);

		if (s != NULL) {
			add_set(a, SEC_AR, n->name, s);
			found = true;
		}
	}
	if (found && required)
		a->need_ar = true;
}

/* Offset of the name inside rdata of a type whose rdata holds one. */
static int
rdata_name_off(uint16_t type)
{
	switch (type) {
	case T_NS:
	case T_CNAME:
	case T_PTR:
		return 0;
	case T_MX:
		return 2;
	case T_SRV:
		return 6;
	default:
		return -1;
	}
}

/* Additional-section processing for NS, MX and SRV answers. */
static void
add_additional_for(struct ans *a, const struct zone *z,
    const struct zone_rrset *set)
{
	int off = rdata_name_off(set->type);

	if (off < 0 || set->type == T_CNAME || set->type == T_PTR)
		return;
	for (size_t i = 0; i < set->count; i++)
		if (set->rd[i].len > (size_t)off)
			add_addresses(a, z, set->rd[i].data + off, false);
}

static void
add_referral(struct ans *a, const struct zone *z, const struct zone_node *cut)
{
	const struct zone_rrset *ns = zone_node_rrset(cut, T_NS);

	if (a->n[SEC_AN] == 0)
		a->aa = false;
	add_set(a, SEC_NS, cut->name, ns);
	for (size_t i = 0; i < ns->count; i++) {
		uint8_t lname[DNAME_MAXLEN];
		size_t len = dname_len(ns->rd[i].data);

		dname_lower(lname, ns->rd[i].data, len);
		add_addresses(a, z, ns->rd[i].data,
		    dname_is_subdomain(lname, cut->name));
	}
}

/* The closest zone cut at or above n (not the apex), or NULL. */
static const struct zone_node *
cut_above(const struct zone_node *n)
{
	for (; n != NULL; n = n->parent)
		if (n->flags & ZONE_NODE_DELEG)
			return n;
	return NULL;
}

static void chase(struct ans *a, const struct zone *z, const uint8_t *target,
    uint16_t qtype, int depth);

/*
 * The answer for qtype at node n (not a zone cut), with owner as the owner
 * name of what it finds there (NULL for the question name).
 */
static void
node_answer(struct ans *a, const struct zone *z, const struct zone_node *n,
    const uint8_t *owner, uint16_t qtype, int depth)
{
	const struct zone_rrset *cname = zone_node_rrset(n, T_CNAME);
	const struct zone_rrset *set;

	if (cname != NULL && cname->servfail) {
		a->servfail = true;		/* ARC state unknown */
		return;
	}
	if (cname != NULL && cname->withdrawn) {
		add_soa_ttl(a, z, 0);		/* a fenced writer, withdrawn */
		return;
	}
	if (cname != NULL && qtype != T_CNAME) {
		if (!add_set(a, SEC_AN, owner, cname)) {
			a->stop = true;		/* a CNAME loop */
			return;
		}
		chase(a, z, cname->rd[0].data, qtype, depth + 1);
		return;
	}
	set = zone_node_rrset(n, qtype);
	if (set != NULL && set->servfail) {
		a->servfail = true;
		return;
	}
	if (set != NULL && set->withdrawn) {
		add_soa_ttl(a, z, 0);
		return;
	}
	if (set != NULL) {
		add_set(a, SEC_AN, owner, set);
		add_additional_for(a, z, set);
		return;
	}
	add_soa(a, z);				/* NODATA */
}

/* Follow a CNAME target inside zone z. */
static void
chase(struct ans *a, const struct zone *z, const uint8_t *target,
    uint16_t qtype, int depth)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t len = dname_len(target);
	const struct zone_node *n, *enc, *cut;
	const uint8_t *p;

	if (depth > MAX_CHAIN || a->stop)
		return;
	dname_lower(lname, target, len);
	if (!dname_is_subdomain(lname, z->origin))
		return;		/* out of zone: the resolver goes on */
	n = zone_get(z, lname, len);
	if (n != NULL) {
		cut = cut_above(n);
		if (cut != NULL && !(cut == n && qtype == T_DS))
			add_referral(a, z, cut);
		else
			node_answer(a, z, n, n->name, qtype, depth);
		return;
	}
	/* No such name: the closest encloser decides. */
	for (p = dname_parent(lname), enc = NULL; enc == NULL;
	    p = dname_parent(p))
		enc = zone_get(z, p, dname_len(p));
	cut = cut_above(enc);
	if (cut != NULL)
		add_referral(a, z, cut);
	else if (enc->wild != NULL)
		node_answer(a, z, enc->wild, target, qtype, depth);
	else {
		a->rcode = RCODE_NXDOMAIN;
		add_soa(a, z);
	}
}

/* --- encoding -------------------------------------------------------------- */

struct dict_entry {
	uint8_t		name[DNAME_MAXLEN];	/* lower case suffix */
	uint16_t	val;			/* patch value */
};

struct enc {
	uint8_t			 buf[MAX_MSG];
	size_t			 len;
	struct tmpl_patch	 patch[MAX_PATCH];
	size_t			 npatch;
	struct dict_entry	 dict[MAX_DICT];
	size_t			 ndict;
	bool			 overflow;
	/*
	 * The templates made so far, keyed by their bytes (header, patches,
	 * data): most names share their NODATA and ANY answers, and many
	 * their data ones, and one copy serves all. cand is the next one.
	 */
	struct namemap		*seen;
	_Alignas(struct tmpl) uint8_t cand[sizeof(struct tmpl) +
	    MAX_PATCH * sizeof(struct tmpl_patch) + MAX_MSG];
};

static void
put(struct enc *e, const void *p, size_t n)
{
	if (e->len + n > sizeof(e->buf)) {
		e->overflow = true;
		return;
	}
	memcpy(e->buf + e->len, p, n);
	e->len += n;
}

static void
put16(struct enc *e, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(e, b, 2);
}

static void
put32(struct enc *e, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	put(e, b, 4);
}

static void
put_pointer(struct enc *e, uint16_t val)
{
	if (e->npatch == sizeof(e->patch) / sizeof(e->patch[0]) ||
	    e->len + 2 > sizeof(e->buf)) {
		e->overflow = true;
		return;
	}
	e->patch[e->npatch++] = (struct tmpl_patch){(uint16_t)e->len, val};
	put16(e, 0xc000);
}

static void
dict_add(struct enc *e, const uint8_t *lname, uint16_t val)
{
	if (e->ndict == MAX_DICT)
		return;
	memcpy(e->dict[e->ndict].name, lname, dname_len(lname));
	e->dict[e->ndict].val = val;
	e->ndict++;
}

static int
dict_find(const struct enc *e, const uint8_t *lname)
{
	for (size_t i = 0; i < e->ndict; i++)
		if (dname_equal(e->dict[i].name, lname))
			return (int)i;
	return -1;
}

/*
 * Start a template whose question name ends in pattern (lower case): every
 * suffix of pattern is known to sit at the end of the question.
 */
static void
enc_start(struct enc *e, const uint8_t *pattern)
{
	e->len = 0;
	e->npatch = 0;
	e->ndict = 0;
	e->overflow = false;
	for (const uint8_t *p = pattern; *p != 0; p = dname_parent(p))
		dict_add(e, p, (uint16_t)dname_len(p));
}

/* Write name (any case), compressed against what came before. */
static void
enc_name(struct enc *e, const uint8_t *name)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t len;
	const uint8_t *p, *o;

	if (name == NULL) {
		put_pointer(e, TMPL_QNAME_FULL);
		return;
	}
	len = dname_len(name);
	dname_lower(lname, name, len);
	for (p = lname, o = name; *p != 0; p += *p + 1, o += *o + 1) {
		int hit = dict_find(e, p);

		if (hit >= 0) {
			put_pointer(e, e->dict[hit].val);
			return;
		}
		if (e->len <= MAX_INTERNAL_OFF)
			dict_add(e, p, (uint16_t)(TMPL_PATCH_INTERNAL | e->len));
		put(e, o, (size_t)*o + 1);
	}
	put(e, "", 1);
}

/* rdata, with the names of NS, CNAME, PTR, MX and SOA compressed. */
static void
enc_rdata(struct enc *e, uint16_t type, const struct zone_rdata *rd)
{
	size_t lenpos = e->len, start;
	int off = rdata_name_off(type);

	put16(e, 0);
	start = e->len;
	if (type == T_SOA) {
		size_t l1 = dname_len(rd->data);
		size_t l2 = dname_len(rd->data + l1);

		enc_name(e, rd->data);
		enc_name(e, rd->data + l1);
		put(e, rd->data + l1 + l2, rd->len - l1 - l2);
	} else if (off >= 0 && type != T_SRV) {
		put(e, rd->data, (size_t)off);
		enc_name(e, rd->data + off);
	} else
		put(e, rd->data, rd->len);
	if (!e->overflow) {
		size_t n = e->len - start;

		e->buf[lenpos] = (uint8_t)(n >> 8);
		e->buf[lenpos + 1] = (uint8_t)n;
	}
}

static uint16_t
enc_section(struct enc *e, const struct rrref *rr, size_t n, uint16_t class)
{
	uint16_t count = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < rr[i].count; j++) {
			enc_name(e, rr[i].owner);
			put16(e, rr[i].type);
			put16(e, class);
			put32(e, rr[i].ttl);
			enc_rdata(e, rr[i].type, &rr[i].rd[j]);
			count++;
		}
	}
	return count;
}

/*
 * Encode a resolved answer into a template owned by t: a new one, or the
 * same one as before when an earlier answer encoded to the same bytes.
 */
static const struct tmpl *
make_tmpl(struct table *t, struct enc *e, const struct ans *a,
    const uint8_t *pattern, uint16_t class, char **errmsg)
{
	struct tmpl *c = (struct tmpl *)e->cand, *tp;
	size_t ar_off, npatch_noar = 0, size;

	enc_start(e, pattern);
	memset(c, 0, sizeof(*c));	/* padding too: the bytes are the key */
	if (a->servfail) {
		/* Nothing but the rcode: not authoritative for this one. */
		static const struct ans empty;

		a = &empty;
		c->flags = RCODE_SERVFAIL;
	} else
		c->flags = (uint16_t)((a->aa ? FLAG_AA : 0) |
		    (a->rcode & 0xf));
	c->an = enc_section(e, a->sec[SEC_AN], a->n[SEC_AN], class);
	c->ns = enc_section(e, a->sec[SEC_NS], a->n[SEC_NS], class);
	ar_off = e->len;
	c->ar = enc_section(e, a->sec[SEC_AR], a->n[SEC_AR], class);
	if (e->overflow || e->len > 65535 - 12 - DNAME_MAXLEN - 4 - 11) {
		char text[DNAME_MAXLEN * 4 + 1];

		dname_to_str(pattern, text, sizeof(text));
		*errmsg = xstrfmt("the answer at %s is too large for a DNS "
		    "message", text);
		return NULL;
	}
	for (size_t i = 0; i < e->npatch; i++)
		if (e->patch[i].pos < ar_off)
			npatch_noar++;
	c->len = (uint16_t)e->len;
	c->ar_off = (uint16_t)ar_off;
	c->npatch = (uint16_t)e->npatch;
	c->npatch_noar = (uint16_t)npatch_noar;
	c->need_ar = a->need_ar;
	memcpy(c + 1, e->patch, e->npatch * sizeof(*e->patch));
	memcpy((uint8_t *)(c + 1) + e->npatch * sizeof(*e->patch), e->buf,
	    e->len);
	size = sizeof(*c) + e->npatch * sizeof(*e->patch) + e->len;
	tp = namemap_get(e->seen, e->cand, size);
	if (tp != NULL)
		return tp;
	tp = arena_alloc(&t->arena, size);
	memcpy(tp, c, size);
	(void)namemap_put(e->seen, (const uint8_t *)tp, size, tp);
	return tp;
}

/* --- compiling a view ------------------------------------------------------ */

struct build {
	struct table	*t;
	struct enc	*e;
	char		**errmsg;
	int		 ret;
};

static void
ans_init(struct ans *a)
{
	a->n[0] = a->n[1] = a->n[2] = 0;
	a->rcode = 0;
	a->aa = true;
	a->need_ar = false;
	a->stop = false;
	a->servfail = false;
}

/* RFC 8482: one synthesized HINFO instead of everything. */
static const struct zone_rdata hinfo_rd = {
	9, (uint8_t *)"\x07RFC8482\x00"
};

static uint32_t
min_ttl(const struct zone_node *n)
{
	uint32_t ttl = UINT32_MAX;

	for (size_t i = 0; i < n->nsets; i++)
		if (n->sets[i].ttl < ttl)
			ttl = n->sets[i].ttl;
	return ttl;
}

/*
 * Compile the answers at node n of zone z into tn. owner is n's own name
 * for exact matches, NULL for a wildcard (synthesized answers carry the
 * question name); pattern is the known suffix of the question. A CNAME
 * chain depends on the type asked, so a CNAME node gets one template per
 * type that occurs in the zone (ztypes), and the chain for any other type
 * as its default.
 */
static int
compile_node(struct build *b, struct ans *a, const struct zone *z,
    const struct zone_node *n, struct tnode *tn, const uint8_t *owner,
    const uint8_t *pattern, const uint16_t *ztypes, size_t nztypes)
{
	const struct zone_rrset *cname = zone_node_rrset(n, T_CNAME);
	size_t ntypes = cname != NULL ? nztypes : n->nsets;

	tn->types = arena_alloc(&b->t->arena,
	    (ntypes + 1) * sizeof(*tn->types));
	for (size_t i = 0; i < ntypes; i++) {
		uint16_t type = cname != NULL ? ztypes[i] : n->sets[i].type;

		ans_init(a);
		node_answer(a, z, n, owner, type, 0);
		tn->types[tn->ntypes].type = type;
		tn->types[tn->ntypes].t = make_tmpl(b->t, b->e, a, pattern, C_IN,
		    b->errmsg);
		if (tn->types[tn->ntypes++].t == NULL)
			return ERR_INVAL;
	}
	/* Any other type: NODATA, or the chain to a type nobody has. */
	ans_init(a);
	node_answer(a, z, n, owner, 0, 0);
	tn->nodata = make_tmpl(b->t, b->e, a, pattern, C_IN, b->errmsg);
	if (tn->nodata == NULL)
		return ERR_INVAL;
	ans_init(a);
	if (cname != NULL && cname->servfail)
		a->servfail = true;
	else if (cname != NULL && cname->withdrawn)
		add_soa_ttl(a, z, 0);
	else if (cname != NULL)
		add_set(a, SEC_AN, owner, cname);
	else if (n->nsets > 0)
		add_rr(a, SEC_AN, owner, T_HINFO, min_ttl(n), 1, &hinfo_rd);
	else
		add_soa(a, z);
	tn->any = make_tmpl(b->t, b->e, a, pattern, C_IN, b->errmsg);
	return tn->any == NULL ? ERR_INVAL : 0;
}

/* Every type that occurs in z, plus CNAME. */
static size_t
zone_types(const struct zone *z, uint16_t **out)
{
	uint16_t *types = xcalloc(1, sizeof(*types));
	size_t n = 0;

	types[n++] = T_CNAME;
	for (size_t i = 0; i < z->nnodes; i++) {
		for (size_t j = 0; j < z->nodes[i]->nsets; j++) {
			uint16_t ty = z->nodes[i]->sets[j].type;
			size_t k;

			for (k = 0; k < n && types[k] != ty; k++)
				;
			if (k == n) {
				types = xrealloc(types, n + 1, sizeof(*types));
				types[n++] = ty;
			}
		}
	}
	*out = types;
	return n;
}

static struct tnode *
tnode_new(struct table *t, const uint8_t *name)
{
	size_t len = dname_len(name);
	struct tnode *tn = arena_alloc(&t->arena, sizeof(*tn) + len);

	memcpy(tn->name, name, len);
	tn->namelen = (uint8_t)len;
	return tn;
}

/* Is name at or below the origin of another zone of the view? */
static bool
occluded_by(const uint8_t *name, const struct zone *self,
    struct zone *const *vz, size_t nvz)
{
	for (size_t i = 0; i < nvz; i++)
		if (vz[i] != self && vz[i]->originlen > self->originlen &&
		    dname_is_subdomain(name, vz[i]->origin))
			return true;
	return false;
}

static int
compile_zone(struct build *b, struct ans *a, struct tview *tv,
    const struct zone *z, struct zone *const *vz, size_t nvz)
{
	const struct tmpl *nxdomain;
	uint16_t *ztypes;
	size_t nztypes = zone_types(z, &ztypes);
	int ret = 0;

	/* NXDOMAIN for names below the apex that have no node. */
	ans_init(a);
	a->rcode = RCODE_NXDOMAIN;
	add_soa(a, z);
	nxdomain = make_tmpl(b->t, b->e, a, z->origin, C_IN, b->errmsg);
	if (nxdomain == NULL) {
		free(ztypes);
		return ERR_INVAL;
	}
	for (size_t i = 0; i < z->nnodes && ret == 0; i++) {
		const struct zone_node *n = z->nodes[i];
		struct tnode *tn;

		if ((n->flags & ZONE_NODE_OCCLUDED) ||
		    occluded_by(n->name, z, vz, nvz))
			continue;
		tn = tnode_new(b->t, n->name);
		tn->nxdomain = nxdomain;
		if (n->flags & ZONE_NODE_DELEG) {
			ans_init(a);
			add_referral(a, z, n);
			tn->referral = make_tmpl(b->t, b->e, a, n->name, C_IN,
			    b->errmsg);
			if (tn->referral == NULL) {
				ret = ERR_INVAL;
				break;
			}
			/* DS belongs to the parent side of the cut. */
			ans_init(a);
			if (zone_node_rrset(n, T_DS) != NULL)
				add_set(a, SEC_AN, n->name,
				    zone_node_rrset(n, T_DS));
			else
				add_soa(a, z);
			tn->nodata = make_tmpl(b->t, b->e, a, n->name, C_IN,
			    b->errmsg);
			if (tn->nodata == NULL)
				ret = ERR_INVAL;
		} else
			ret = compile_node(b, a, z, n, tn, n->name, n->name,
			    ztypes, nztypes);
		if (ret == 0 && n->wild != NULL &&
		    !(n->wild->flags & ZONE_NODE_OCCLUDED)) {
			struct tnode *w = tnode_new(b->t, n->wild->name);

			ret = compile_node(b, a, z, n->wild, w, NULL, n->name,
			    ztypes, nztypes);
			tn->wild = w;
		}
		/* Origins are unique in a view, and names below another
		 * zone's origin were skipped: every name is new here. */
		(void)namemap_put(tv->names, tn->name, tn->namelen, tn);
	}
	free(ztypes);
	return ret;
}

/*
 * DS belongs to the parent side of a zone cut (RFC 4035 3.1.4.1): when a
 * view serves a zone and the zone above it, the child's apex answers DS as
 * the parent would: the DS RRset or NODATA at a delegation, a referral
 * from a cut above it, NODATA at an empty non-terminal, what a wildcard
 * gives, NXDOMAIN where the parent has no such name (a child served
 * without a delegation), each with the parent's SOA.
 * compile_node() left room for one more type at every node.
 */
static int
parent_side_ds(struct build *b, struct ans *a, struct tview *tv,
    struct zone *const *vz, size_t nvz)
{
	for (size_t i = 0; i < nvz; i++) {
		const struct zone *child = vz[i], *parent = NULL;
		struct tnode *apex;
		const struct tmpl *tp;
		uint16_t k;

		for (size_t j = 0; j < nvz; j++)
			if (vz[j]->originlen < child->originlen &&
			    dname_is_subdomain(child->origin, vz[j]->origin) &&
			    (parent == NULL ||
			    vz[j]->originlen > parent->originlen))
				parent = vz[j];
		if (parent == NULL)
			continue;
		apex = namemap_get(tv->names, child->origin,
		    child->originlen);
		if (apex == NULL || apex->referral != NULL)
			continue;
		ans_init(a);
		chase(a, parent, child->origin, T_DS, 0);
		tp = make_tmpl(b->t, b->e, a, child->origin, C_IN,
		    b->errmsg);
		if (tp == NULL)
			return ERR_INVAL;
		for (k = 0; k < apex->ntypes &&
		    apex->types[k].type != T_DS; k++)
			;
		apex->types[k].type = T_DS;
		apex->types[k].t = tp;
		if (k == apex->ntypes)
			apex->ntypes++;
	}
	return 0;
}

/* --- CHAOS ------------------------------------------------------------------ */

static int
compile_chaos(struct build *b, struct ans *a, const struct conf *conf)
{
	static const char *const names[4] = {
		"\x02id\x06server", "\x08hostname\x04" "bind",
		"\x07version\x04" "bind", "\x07version\x06server"
	};

	for (size_t i = 0; i < 4; i++) {
		struct tchaos *c = &b->t->chaos[i];
		const char *text = i < 2 ? conf->server.identity :
		    conf->server.version;
		size_t tlen = strlen(text);
		struct zone_rdata *rd;

		c->len = strlen(names[i]) + 1;
		memcpy(c->name, names[i], c->len);
		ans_init(a);
		c->nodata = make_tmpl(b->t, b->e, a, c->name, C_CH, b->errmsg);
		if (i >= 2 && conf->server.hide_version)
			continue;
		if (tlen > 255)
			tlen = 255;
		rd = arena_alloc(&b->t->arena, sizeof(*rd) + tlen + 1);
		rd->len = (uint16_t)(tlen + 1);
		rd->data = (uint8_t *)(rd + 1);
		rd->data[0] = (uint8_t)tlen;
		memcpy(rd->data + 1, text, tlen);
		add_rr(a, SEC_AN, NULL, T_TXT, 0, 1, rd);
		c->txt = make_tmpl(b->t, b->e, a, c->name, C_CH, b->errmsg);
		if (c->txt == NULL)
			return ERR_INVAL;
	}
	return 0;
}

int
table_build(const struct conf *conf, struct zone *const *zones,
    struct table **out, char **errmsg)
{
	struct table *t = xcalloc(1, sizeof(*t));
	struct ans *a = xmalloc(sizeof(*a));
	struct enc *e = xmalloc(sizeof(*e));
	struct build b = {t, e, errmsg, 0};
	int ret = 0;

	e->seen = namemap_new(1024);
	t->viewset = viewset_new(conf);
	t->edns_size = conf->server.edns_size;
	t->nchaos_clients = conf->server.nchaos_clients;
	t->chaos_clients = arena_alloc(&t->arena, (t->nchaos_clients + 1) *
	    sizeof(*t->chaos_clients));
	memcpy(t->chaos_clients, conf->server.chaos_clients,
	    t->nchaos_clients * sizeof(*t->chaos_clients));
	t->nviews = conf->nviews;
	t->views = xcalloc(conf->nviews, sizeof(*t->views));
	for (size_t v = 0; v < conf->nviews && ret == 0; v++) {
		const struct conf_view *cv = &conf->views[v];
		struct zone **vz = xcalloc(cv->nzones, sizeof(*vz));
		size_t names = 0;

		for (size_t i = 0; i < cv->nzones; i++) {
			vz[i] = zones[cv->zones[i]];
			names += vz[i]->nnodes;
		}
		t->views[v].names = namemap_new(names);
		for (size_t i = 0; i < cv->nzones && ret == 0; i++)
			ret = compile_zone(&b, a, &t->views[v], vz[i], vz,
			    cv->nzones);
		if (ret == 0)
			ret = parent_side_ds(&b, a, &t->views[v], vz,
			    cv->nzones);
		/* Zone transfers of this view's copy, where allowed. */
		t->views[v].nxfr = cv->nzones;
		t->views[v].xfr = xcalloc(cv->nzones + 1,
		    sizeof(*t->views[v].xfr));
		for (size_t i = 0; i < cv->nzones && ret == 0; i++) {
			const struct conf_zone *cz = &conf->zones[cv->zones[i]];

			if (cz->nallow_transfer > 0)
				t->views[v].xfr[i] = xfr_build(vz[i],
				    cz->allow_transfer, cz->nallow_transfer,
				    cz->key >= 0 ? &conf->keys[cz->key] : NULL);
		}
		free(vz);
	}
	if (ret == 0)
		ret = compile_chaos(&b, a, conf);
	free(a);
	namemap_free(e->seen);
	free(e);
	if (ret != 0) {
		table_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

/* --- lookups (query path) ---------------------------------------------------- */

int
table_view(const struct table *t, const struct sockaddr *client)
{
	return view_select(t->viewset, client);
}

static const struct tmpl *
type_tmpl(const struct tnode *tn, uint16_t qtype)
{
	if (qtype == T_ANY)
		return tn->any;
	for (uint16_t i = 0; i < tn->ntypes; i++)
		if (tn->types[i].type == qtype)
			return tn->types[i].t;
	return tn->nodata;
}

const struct tmpl *
table_lookup(const struct table *t, int view, const uint8_t *lname,
    size_t len, uint16_t qtype)
{
	const struct namemap *names = t->views[view].names;
	const struct tnode *tn = namemap_get(names, lname, len);
	const uint8_t *p = lname;

	if (tn != NULL) {
		if (tn->referral != NULL)
			return qtype == T_DS ? tn->nodata : tn->referral;
		return type_tmpl(tn, qtype);
	}
	/* Walk up to the closest encloser. */
	while (*p != 0) {
		len -= (size_t)*p + 1;
		p += *p + 1;
		tn = namemap_get(names, p, len);
		if (tn != NULL) {
			if (tn->referral != NULL)
				return tn->referral;
			if (tn->wild != NULL)
				return type_tmpl(tn->wild, qtype);
			return tn->nxdomain;
		}
	}
	return NULL;
}

const struct tmpl *
table_chaos(const struct table *t, const uint8_t *lname, size_t len,
    uint16_t qtype)
{
	for (size_t i = 0; i < 4; i++) {
		const struct tchaos *c = &t->chaos[i];

		if (c->len != len || memcmp(c->name, lname, len) != 0)
			continue;
		if (qtype == T_TXT || qtype == T_ANY)
			return c->txt;
		return c->nodata;
	}
	return NULL;
}

const struct xfr *
table_xfr(const struct table *t, int view, const uint8_t *lname, size_t len)
{
	const struct tview *tv = &t->views[view];

	for (size_t i = 0; i < tv->nxfr; i++) {
		const struct xfr *x = tv->xfr[i];

		if (x != NULL && len == dname_len(xfr_origin(x)) &&
		    memcmp(xfr_origin(x), lname, len) == 0)
			return x;
	}
	return NULL;
}

uint16_t
table_edns_size(const struct table *t)
{
	return t->edns_size;
}

size_t
table_view_names(const struct table *t, int view)
{
	return namemap_count(t->views[view].names);
}

/* --- CHAOS state.arcdns. ------------------------------------------------------ */

static const uint8_t state_name[] = "\5state\6arcdns";	/* + root */

void
table_set_state(struct table *t, const struct mirror *m,
    const _Atomic uint64_t *last_success_ms, uint64_t stale_after_ms)
{
	uint64_t h = 0xcbf29ce484222325ull;

	t->arc = m != NULL;
	t->last_success_ms = last_success_ms;
	t->stale_after_ms = stale_after_ms;
	t->nctls = m != NULL ? mirror_count(m) : 0;
	t->ctls = arena_alloc(&t->arena, (t->nctls + 1) * sizeof(*t->ctls));
	for (size_t i = 0; i < t->nctls; i++) {
		const struct mirror_control *c = mirror_control(m, i);
		struct tstate *ts = &t->ctls[i];
		const char *st = mirror_state_name(c->state);

		ts->name = arena_strdup(&t->arena, c->name);
		ts->endpoint = c->endpoint != NULL ?
		    arena_strdup(&t->arena, c->endpoint) : NULL;
		ts->state = c->state;
		ts->missing = c->missing;
		ts->changed_ms = c->changed_ms;
		/* FNV-1a over "name\0state\0": names and states only. */
		for (const char *p = c->name; ; p++) {
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
			if (*p == '\0')
				break;
		}
		for (const char *p = st; ; p++) {
			h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
			if (*p == '\0')
				break;
		}
	}
	snprintf(t->hash, sizeof(t->hash), "%012" PRIx64,
	    (uint64_t)((h ^ (h >> 48)) & 0xffffffffffffull));
}

void
table_set_extra(struct table *t, const char *const *lines, size_t n)
{
	t->extra = arena_alloc(&t->arena, (n + 1) * sizeof(*t->extra));
	for (size_t i = 0; i < n; i++)
		t->extra[i] = arena_strdup(&t->arena, lines[i]);
	t->nextra = n;
}

const char *
table_state_hash(const struct table *t)
{
	return t->hash;
}

bool
table_is_state_name(const uint8_t *lname, size_t len)
{
	return len == sizeof(state_name) &&
	    memcmp(lname, state_name, len) == 0;
}

bool
table_state_allowed(const struct table *t, const struct sockaddr *client)
{
	for (size_t i = 0; i < t->nchaos_clients; i++)
		if (netprefix_match(&t->chaos_clients[i], client))
			return true;
	return false;
}

/* One TXT record with text (cut at 255 bytes); false if it does not fit. */
static bool
state_rr(uint8_t *out, size_t cap, size_t *off, const char *text)
{
	size_t len = strlen(text);

	if (len > 255)
		len = 255;
	if (*off + 2 + 10 + 1 + len > cap)
		return false;
	uint8_t *p = out + *off;
	p[0] = 0xc0;			/* the question name */
	p[1] = 12;
	p[2] = 0;
	p[3] = T_TXT;
	p[4] = 0;
	p[5] = C_CH;
	memset(p + 6, 0, 4);		/* TTL 0 */
	p[10] = (uint8_t)((len + 1) >> 8);
	p[11] = (uint8_t)(len + 1);
	p[12] = (uint8_t)len;
	memcpy(p + 13, text, len);
	*off += 13 + len;
	return true;
}

/* Milliseconds as "12s" (whole seconds) or "0.4s" (under a minute). */
static void
fmt_age(char *buf, size_t size, uint64_t now_ms, uint64_t then_ms)
{
	uint64_t d = now_ms > then_ms ? now_ms - then_ms : 0;

	if (d < 60000)
		snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "s", d / 1000,
		    d % 1000 / 100);
	else
		snprintf(buf, size, "%" PRIu64 "s", d / 1000);
}

size_t
table_state_rrs(const struct table *t, uint64_t now_ms, uint8_t *out,
    size_t cap, uint16_t *count)
{
	char text[400], age[32];
	size_t off = 0;
	uint16_t n = 0;

	for (size_t i = 0; i < t->nctls; i++) {
		const struct tstate *c = &t->ctls[i];

		if (c->state == MIRROR_UNKNOWN)
			snprintf(text, sizeof(text), "%s unknown", c->name);
		else {
			fmt_age(age, sizeof(age), now_ms, c->changed_ms);
			snprintf(text, sizeof(text), "%s %s age=%s endpoint=%s%s",
			    c->name, c->state == MIRROR_ON ? "On" : "Off", age,
			    c->endpoint != NULL ? c->endpoint : "state-file",
			    c->missing ? " missing" : "");
		}
		if (!state_rr(out, cap, &off, text))
			return *count = 0;
		n++;
	}
	for (size_t i = 0; i < t->nextra; i++) {
		if (!state_rr(out, cap, &off, t->extra[i]))
			return *count = 0;
		n++;
	}
	if (!t->arc)
		snprintf(text, sizeof(text), "mirror off");
	else {
		uint64_t last = t->last_success_ms != NULL ?
		    *t->last_success_ms : 0;

		if (last == 0)
			snprintf(text, sizeof(text), "mirror never");
		else {
			bool stale = now_ms > last &&
			    now_ms - last > t->stale_after_ms;

			fmt_age(age, sizeof(age), now_ms, last);
			snprintf(text, sizeof(text), "mirror %s last-success=%s",
			    stale ? "stale" : "fresh", age);
		}
	}
	if (!state_rr(out, cap, &off, text))
		return *count = 0;
	snprintf(text, sizeof(text), "hash=%s controls=%zu", t->hash,
	    t->nctls);
	if (!state_rr(out, cap, &off, text))
		return *count = 0;
	*count = (uint16_t)(n + 2);
	return off;
}
