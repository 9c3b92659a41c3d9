#include "policy/policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf/conf.h"
#include "log/log.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/jsonx.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define T_CNAME		5
#define T_SOA		6
#define T_TXT		16
#define SERIALS_VERSION	1
#define MAX_TARGETS	16		/* conf.c allows 1..16 */

enum verdict {
	V_VALUES,	/* answer with the values of the targets in the mask */
	V_SERVFAIL,	/* a needed state is unknown, or when-none-on */
	V_NODATA
};

struct pblock {
	const struct conf_zone	*cz;
	const struct zone	*stat;		/* the zone file's data */
	/* committed */
	bool			 have;
	uint32_t		 serial;
	uint64_t		 hash;
	/* proposed by the last policy_eval() */
	bool			 evaluated;
	uint32_t		 p_serial;
	uint64_t		 p_hash;
	bool			 changed;
};

struct policy {
	const struct conf	*conf;
	struct pblock		*b;
	size_t			 nb;
	policy_gate_fn		 gate;
	void			*gate_arg;
};

bool
serial_gt(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* --- checks against the zone files --------------------------------------- */

static int __attribute__((format(printf, 3, 4)))
fail_at(char **errmsg, const struct conf *conf, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*errmsg = xstrfmt("%s:%s", conf->path, msg);
	return ERR_INVAL;
}

/* One ARC-driven owner against the static zone. */
static int
check_owner(const struct conf *conf, const struct conf_record *r,
    const struct zone *z, const uint8_t *owner, uint16_t type,
    char **errmsg)
{
	char text[DNAME_MAXLEN * 4 + 1];
	const struct zone_node *n;
	size_t len = dname_len(owner);

	dname_to_str(owner, text, sizeof(text));
	if (!dname_is_subdomain(owner, z->origin))
		return fail_at(errmsg, conf, "%d:%d: %s is outside the zone "
		    "%s", r->line, r->column, text, z->file);
	n = zone_get(z, owner, len);
	if (n != NULL && n->nsets > 0) {
		if (n == z->apex && type == T_CNAME)
			return fail_at(errmsg, conf, "%d:%d: a CNAME at the "
			    "apex %s", r->line, r->column, text);
		if (n != z->apex || zone_node_rrset(n, type) != NULL)
			return fail_at(errmsg, conf, "%d:%d: %s is also in the "
			    "zone file %s:%d: a name is either static or "
			    "ARC-driven", r->line, r->column, text, z->file,
			    n->sets[0].line);
	}
	/* Not at or below a zone cut of the static zone. */
	for (const uint8_t *p = owner; dname_len(p) > z->originlen;
	    p = dname_parent(p)) {
		n = zone_get(z, p, dname_len(p));
		if (n != NULL && (n->flags & ZONE_NODE_DELEG)) {
			char cut[DNAME_MAXLEN * 4 + 1];

			dname_to_str(p, cut, sizeof(cut));
			return fail_at(errmsg, conf, "%d:%d: %s is at or below "
			    "the zone cut %s (%s:%d)", r->line, r->column,
			    text, cut, z->file, n->sets[0].line);
		}
	}
	return 0;
}

static int
check_record(const struct conf *conf, const struct conf_record *r,
    const struct zone *z, char **errmsg)
{
	uint8_t owner[DNAME_MAXLEN];

	if (r->ntargets == 0 || r->ntargets > MAX_TARGETS)
		return fail_at(errmsg, conf, "%d:%d: %zu targets (1..%d)",
		    r->line, r->column, r->ntargets, MAX_TARGETS);
	if (r->policy != CONF_POLICY_ROLE)
		return check_owner(conf, r, z, r->owner, r->type, errmsg);
	for (size_t i = 0; i < r->ntargets; i++) {
		int ret;

		if (!conf_role_owner(r, i, owner))
			return fail_at(errmsg, conf, "%d:%d: the role name for "
			    "region '%s' is too long", r->targets[i].line,
			    r->targets[i].column, r->targets[i].region != NULL ?
			    r->targets[i].region : "");
		ret = check_owner(conf, r, z, owner, T_TXT, errmsg);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int
policy_new(const struct conf *conf, struct zone *const *zones,
    struct policy **out, char **errmsg)
{
	struct policy *p = xcalloc(1, sizeof(*p));

	p->conf = conf;
	p->nb = conf->nzones;
	p->b = xcalloc(p->nb, sizeof(*p->b));
	for (size_t i = 0; i < p->nb; i++) {
		const struct conf_zone *cz = &conf->zones[i];

		p->b[i].cz = cz;
		p->b[i].stat = zones[i];
		for (size_t j = 0; j < cz->nrecords; j++) {
			int ret = check_record(conf, &cz->records[j], zones[i],
			    errmsg);

			if (ret != 0) {
				policy_free(p);
				return ret;
			}
		}
	}
	*out = p;
	return 0;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->b);
	free(p);
}

void
policy_inherit(struct policy *p, const struct policy *old)
{
	for (size_t i = 0; old != NULL && i < p->nb; i++) {
		struct pblock *b = &p->b[i];

		for (size_t j = 0; j < old->nb; j++) {
			const struct pblock *o = &old->b[j];

			if (o->have && strcmp(o->cz->id, b->cz->id) == 0 &&
			    strcmp(o->cz->origin, b->cz->origin) == 0) {
				b->have = true;
				b->serial = o->serial;
				b->hash = o->hash;
			}
		}
	}
}

/* --- evaluation ---------------------------------------------------------- */

/* FNV-1a, 64 bits, over length-prefixed fields. */
static void
hash_bytes(uint64_t *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t x = *h;
	uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};

	for (size_t i = 0; i < 2; i++) {
		x ^= pre[i];
		x *= 0x100000001b3ull;
	}
	for (size_t i = 0; i < len; i++) {
		x ^= p[i];
		x *= 0x100000001b3ull;
	}
	*h = x;
}

static void
hash_rr(uint64_t *h, const uint8_t *owner, uint16_t type, uint32_t ttl,
    const uint8_t *rd, size_t rdlen)
{
	uint8_t fix[6] = {(uint8_t)(type >> 8), (uint8_t)type,
	    (uint8_t)(ttl >> 24), (uint8_t)(ttl >> 16), (uint8_t)(ttl >> 8),
	    (uint8_t)ttl};

	hash_bytes(h, owner, dname_len(owner));
	hash_bytes(h, fix, sizeof(fix));
	hash_bytes(h, rd, rdlen);
}

/* What states decide for r: the verdict, and the targets to answer with. */
static enum verdict
decide(const struct conf_record *r, const enum mirror_state *st,
    uint32_t *mask)
{
	*mask = 0;
	for (size_t i = 0; i < r->ntargets; i++) {
		enum mirror_state s = st != NULL ?
		    st[r->targets[i].control] : MIRROR_UNKNOWN;

		if (s == MIRROR_UNKNOWN)
			return V_SERVFAIL;
		if (s != MIRROR_ON)
			continue;
		*mask |= 1u << i;
		if (r->policy != CONF_POLICY_MULTIVALUE)
			return V_VALUES;	/* failover, role: the first */
	}
	if (*mask != 0)
		return V_VALUES;
	switch (r->none_on) {
	case CONF_NONE_ON_SERVFAIL:
		return V_SERVFAIL;
	case CONF_NONE_ON_NODATA:
		return V_NODATA;
	case CONF_NONE_ON_FIRST:
	default:
		*mask = 1;
		return V_VALUES;
	}
}

static bool
rdata_in(const struct conf_rdata *v, const struct conf_rdata *const *set,
    size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i]->len == v->len &&
		    memcmp(set[i]->data, v->data, v->len) == 0)
			return true;
	return false;
}

/*
 * The single-target invariant of a failover (or fenced) name: vals must
 * be exactly the value set of one target. Checked on what is about to be
 * published, independently of how it was chosen.
 */
static bool
rdata_in_target(const struct conf_rdata *v, const struct conf_target *t)
{
	for (size_t i = 0; i < t->nvalues; i++)
		if (t->values[i].len == v->len &&
		    memcmp(t->values[i].data, v->data, v->len) == 0)
			return true;
	return false;
}

bool
policy_single_target(const struct conf_record *r, const struct conf_rdata *const *vals,
    size_t n)
{
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct conf_target *t = &r->targets[i];
		bool same = n > 0;

		for (size_t j = 0; j < t->nvalues && same; j++)
			same = rdata_in(&t->values[j], vals, n);
		for (size_t j = 0; j < n && same; j++)
			same = rdata_in_target(vals[j], t);
		if (same)
			return true;
	}
	return false;
}

struct evalctx {
	struct zone		*z;
	uint64_t		 h;
	const char		*zid;
	char			**errmsg;
	const struct policy	*p;
};

static int
put_rr(struct evalctx *c, const uint8_t *owner, uint16_t type, uint32_t ttl,
    const uint8_t *rd, uint16_t rdlen)
{
	hash_rr(&c->h, owner, type, ttl, rd, rdlen);
	if (c->z == NULL)
		return 0;		/* hashed only: see eval_block() */
	return zone_add_rr(c->z, owner, type, ttl, rd, rdlen, 0, c->errmsg);
}

static int
put_servfail(struct evalctx *c, const uint8_t *owner, uint16_t type)
{
	hash_rr(&c->h, owner, type, 0, (const uint8_t *)"SERVFAIL", 8);
	return zone_add_servfail(c->z, owner, type, c->errmsg);
}

static int
put_withdrawn(struct evalctx *c, const uint8_t *owner, uint16_t type)
{
	hash_rr(&c->h, owner, type, 0, (const uint8_t *)"WITHDRAWN", 9);
	return zone_add_withdrawn(c->z, owner, type, c->errmsg);
}

static int
put_nodata(struct evalctx *c, const uint8_t *owner, uint16_t type)
{
	hash_rr(&c->h, owner, type, 0, (const uint8_t *)"NODATA", 6);
	return zone_add_node(c->z, owner, c->errmsg);
}

static int
eval_role(struct evalctx *c, const struct conf_record *r, uint32_t ttl,
    enum verdict v, uint32_t mask)
{
	static const uint8_t active[] = "\6active", passive[] = "\7passive";
	uint8_t owner[DNAME_MAXLEN];
	int ret = 0;

	for (size_t i = 0; i < r->ntargets && ret == 0; i++) {
		if (!conf_role_owner(r, i, owner))
			continue;	/* policy_new() said no */
		if (v == V_SERVFAIL)
			ret = put_servfail(c, owner, T_TXT);
		else if (v == V_NODATA)
			ret = put_nodata(c, owner, T_TXT);
		else if (mask & (1u << i))
			ret = put_rr(c, owner, T_TXT, ttl, active, 7);
		else
			ret = put_rr(c, owner, T_TXT, ttl, passive, 8);
	}
	return ret;
}

static int
eval_record(struct evalctx *c, const struct conf_record *r, uint32_t ttl,
    const enum mirror_state *st)
{
	const struct conf_rdata *vals[MAX_TARGETS * 64] = {NULL};
	uint32_t mask;
	enum verdict v = decide(r, st, &mask);
	size_t n = 0;
	int ret = 0;

	if (r->policy == CONF_POLICY_ROLE)
		return eval_role(c, r, ttl, v, mask);
	if (v == V_SERVFAIL)
		return put_servfail(c, r->owner, r->type);
	if (v == V_NODATA)
		return put_nodata(c, r->owner, r->type);
	if (r->fence_index >= 0) {
		/* A writer: only the target the fence has cleared. */
		int sel = __builtin_ctz(mask);
		int pub = c->p->gate != NULL ?
		    c->p->gate(c->p->gate_arg, (size_t)r->fence_index) : -1;

		if (pub != sel)
			return put_withdrawn(c, r->owner, r->type);
	}
	for (size_t i = 0; i < r->ntargets; i++) {
		const struct conf_target *t = &r->targets[i];

		if (!(mask & (1u << i)))
			continue;
		for (size_t j = 0; j < t->nvalues; j++)
			if (n < sizeof(vals) / sizeof(vals[0]) &&
			    !rdata_in(&t->values[j], vals, n))
				vals[n++] = &t->values[j];
	}
	/*
	 * A failover name, and a fenced writer name, never carries two
	 * targets at once, whatever the states said. (The fence state
	 * machine, issue "Fence", decides here whether the chosen writer
	 * may be published yet.)
	 */
	if ((r->policy == CONF_POLICY_FAILOVER || r->fence != NULL) &&
	    !policy_single_target(r, vals, n)) {
		log_err(LOG_SRC_MAIN, "zone %s: %s: the answer would carry "
		    "more than one target; withheld (SERVFAIL)", c->zid,
		    r->name);
		return put_servfail(c, r->owner, r->type);
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = put_rr(c, r->owner, r->type, ttl, vals[i]->data,
		    vals[i]->len);
	return ret;
}

/* Offset of the serial in SOA rdata. */
static size_t
soa_serial_off(const struct zone_rdata *rd)
{
	size_t off = dname_len(rd->data);

	return off + dname_len(rd->data + off);
}

static struct zone *
eval_block(struct policy *p, struct pblock *b, const enum mirror_state *st,
    char **errmsg)
{
	const struct zone *s = b->stat;
	const struct zone_rrset *soa = zone_soa(s);
	struct evalctx c = {NULL, 0xcbf29ce484222325ull, b->cz->id, errmsg, p};
	uint8_t soard[DNAME_MAXLEN * 2 + 20];
	size_t off;
	uint32_t serial;
	int ret = 0;

	/*
	 * A block of static records only is its zone file: the zone itself
	 * is the answer (borrowed; policy_zones_free() leaves it), and its
	 * records are only hashed. Nothing is copied, however large.
	 */
	if (b->cz->nrecords > 0)
		c.z = zone_new(s->origin, s->file);
	for (size_t i = 0; i < s->nnodes && ret == 0; i++) {
		const struct zone_node *n = s->nodes[i];

		for (size_t j = 0; j < n->nsets && ret == 0; j++) {
			const struct zone_rrset *set = &n->sets[j];

			if (set->type == T_SOA)
				continue;
			for (size_t k = 0; k < set->count && ret == 0; k++)
				ret = put_rr(&c, n->name, set->type, set->ttl,
				    set->rd[k].data, set->rd[k].len);
		}
	}
	for (size_t i = 0; i < b->cz->nrecords && ret == 0; i++)
		ret = eval_record(&c, &b->cz->records[i], b->cz->ttl, st);
	if (ret != 0) {
		zone_free(c.z);
		return NULL;
	}
	/* The SOA: hashed without its serial, then stamped. */
	memcpy(soard, soa->rd[0].data, soa->rd[0].len);
	off = soa_serial_off(&soa->rd[0]);
	memset(soard + off, 0, 4);
	hash_rr(&c.h, s->origin, T_SOA, soa->ttl, soard, soa->rd[0].len);
	if (!b->have || b->cz->nrecords == 0)
		serial = s->serial;	/* static only: the file's, as NSD */
	else if (serial_gt(s->serial, b->serial))
		serial = s->serial;	/* the zone file moved on */
	else if (c.h != b->hash)
		serial = b->serial + 1;
	else
		serial = b->serial;
	soard[off] = (uint8_t)(serial >> 24);
	soard[off + 1] = (uint8_t)(serial >> 16);
	soard[off + 2] = (uint8_t)(serial >> 8);
	soard[off + 3] = (uint8_t)serial;
	if (c.z != NULL) {
		ret = zone_add_rr(c.z, s->origin, T_SOA, soa->ttl, soard,
		    soa->rd[0].len, 0, errmsg);
		if (ret == 0)
			ret = zone_finish(c.z, errmsg);
		if (ret != 0) {
			zone_free(c.z);
			return NULL;
		}
	}
	b->evaluated = true;
	b->p_serial = serial;
	b->p_hash = c.h;
	b->changed = !b->have || serial != b->serial;
	return c.z != NULL ? c.z : (struct zone *)s;
}

int
policy_eval(struct policy *p, const enum mirror_state *states,
    struct zone ***out, char **errmsg)
{
	struct zone **zones = xcalloc(p->nb, sizeof(*zones));

	for (size_t i = 0; i < p->nb; i++) {
		char *err = NULL;

		zones[i] = eval_block(p, &p->b[i], states, &err);
		if (zones[i] == NULL) {
			*errmsg = xstrfmt("zone %s: %s", p->b[i].cz->id,
			    err != NULL ? err : "cannot build");
			free(err);
			policy_zones_free(p, zones);
			return ERR_INVAL;
		}
	}
	*out = zones;
	return 0;
}

void
policy_zones_free(const struct policy *p, struct zone **zones)
{
	if (zones == NULL)
		return;
	for (size_t i = 0; i < p->nb; i++)
		if (zones[i] != p->b[i].stat)
			zone_free(zones[i]);
	free(zones);
}

void
policy_commit(struct policy *p)
{
	for (size_t i = 0; i < p->nb; i++) {
		struct pblock *b = &p->b[i];

		if (!b->evaluated)
			continue;
		b->have = true;
		b->serial = b->p_serial;
		b->hash = b->p_hash;
		b->changed = false;
	}
}

uint32_t
policy_serial(const struct policy *p, size_t i)
{
	const struct pblock *b = &p->b[i];

	return b->evaluated ? b->p_serial : b->have ? b->serial :
	    b->stat->serial;
}

bool
policy_changed(const struct policy *p, size_t i)
{
	return p->b[i].evaluated && p->b[i].changed;
}

/* --- fences ------------------------------------------------------------------ */

void
policy_set_gate(struct policy *p, policy_gate_fn fn, void *arg)
{
	p->gate = fn;
	p->gate_arg = arg;
}

int
policy_fence_desired(const struct policy *p, const enum mirror_state *states,
    size_t fence)
{
	for (size_t i = 0; i < p->nb; i++) {
		const struct conf_zone *cz = p->b[i].cz;

		for (size_t j = 0; j < cz->nrecords; j++) {
			const struct conf_record *r = &cz->records[j];
			uint32_t mask;

			if (r->fence_index != (int)fence)
				continue;
			if (decide(r, states, &mask) != V_VALUES || mask == 0)
				return -1;
			return __builtin_ctz(mask);
		}
	}
	return -1;
}

/* --- questions from the health responder ---------------------------------- */

enum policy_role
policy_role(const struct policy *p, const enum mirror_state *states,
    const char *region)
{
	for (size_t i = 0; i < p->nb; i++) {
		const struct conf_zone *cz = p->b[i].cz;

		for (size_t j = 0; j < cz->nrecords; j++) {
			const struct conf_record *r = &cz->records[j];
			uint32_t mask;
			enum verdict v;

			if (r->policy != CONF_POLICY_ROLE)
				continue;
			for (size_t k = 0; k < r->ntargets; k++) {
				if (r->targets[k].region == NULL ||
				    strcmp(r->targets[k].region, region) != 0)
					continue;
				v = decide(r, states, &mask);
				if (v != V_VALUES)
					return POLICY_ROLE_UNKNOWN;
				return (mask & (1u << k)) ? POLICY_ROLE_ACTIVE :
				    POLICY_ROLE_PASSIVE;
			}
		}
	}
	return POLICY_ROLE_NONE;
}

int
policy_region_control(const struct policy *p, const char *region)
{
	for (size_t i = 0; i < p->nb; i++) {
		const struct conf_zone *cz = p->b[i].cz;

		for (size_t j = 0; j < cz->nrecords; j++) {
			const struct conf_record *r = &cz->records[j];

			for (size_t k = 0; k < r->ntargets; k++)
				if (r->targets[k].region != NULL &&
				    strcmp(r->targets[k].region, region) == 0)
					return (int)r->targets[k].control;
		}
	}
	return -1;
}

/* --- the serial file ------------------------------------------------------- */

int
policy_save_serials(const struct policy *p, const char *path, char **errmsg)
{
	json_t *doc = jsonx_check(json_object());
	json_t *list = jsonx_check(json_array());
	char *text;
	int ret;

	jsonx_set(doc, "version", json_integer(SERIALS_VERSION));
	for (size_t i = 0; i < p->nb; i++) {
		const struct pblock *b = &p->b[i];
		json_t *o;
		char hex[17];

		if (!b->have)
			continue;
		o = jsonx_check(json_object());
		snprintf(hex, sizeof(hex), "%016" PRIx64, b->hash);
		jsonx_set(o, "id", json_string(b->cz->id));
		jsonx_set(o, "origin", json_string(b->cz->origin));
		jsonx_set(o, "serial", json_integer(b->serial));
		jsonx_set(o, "hash", json_string(hex));
		jsonx_append(list, o);
	}
	jsonx_set(doc, "zones", list);
	text = jsonx_dump(doc);
	json_decref(doc);
	ret = fs_write_atomic(path, text, strlen(text), 0640, errmsg);
	free(text);
	return ret;
}

/* One entry of the file; NULL when fine, else why not (static). */
static const char *
load_entry(struct policy *p, json_t *e)
{
	const char *id, *origin, *hex;
	json_int_t serial;
	char *end;
	uint64_t hash;

	if (json_unpack(e, "{s:s, s:s, s:I, s:s}", "id", &id, "origin",
	    &origin, "serial", &serial, "hash", &hex) != 0)
		return "an entry needs id, origin, serial and hash";
	if (serial < 0 || serial > UINT32_MAX)
		return "serial out of range";
	errno = 0;
	hash = strtoull(hex, &end, 16);
	if (errno != 0 || *end != '\0' || strlen(hex) != 16)
		return "hash is not 16 hex digits";
	for (size_t i = 0; i < p->nb; i++) {
		struct pblock *b = &p->b[i];

		if (strcmp(b->cz->id, id) == 0 &&
		    strcmp(b->cz->origin, origin) == 0) {
			b->have = true;
			b->serial = (uint32_t)serial;
			b->hash = hash;
		}
	}
	return NULL;
}

int
policy_load_serials(struct policy *p, const char *path, char **errmsg)
{
	json_error_t jerr;
	json_t *doc, *zones, *e;
	json_int_t version;
	struct pblock *saved;
	const char *why = NULL;
	size_t i;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		*errmsg = xstrfmt("%s: %s", path, strerror(errno));
		return -errno;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (doc == NULL) {
		*errmsg = xstrfmt("%s: not valid JSON: line %d, column %d: %s",
		    path, jerr.line, jerr.column, jerr.text);
		return ERR_PARSE;
	}
	if (json_unpack(doc, "{s:I, s:o}", "version", &version, "zones",
	    &zones) != 0 || !json_is_array(zones))
		why = "needs version and a zones array";
	else if (version != SERIALS_VERSION)
		why = "unknown version";
	/* All or nothing: keep a copy to restore on a bad entry. */
	saved = xcalloc(p->nb, sizeof(*saved));
	memcpy(saved, p->b, p->nb * sizeof(*saved));
	json_array_foreach(why == NULL ? zones : NULL, i, e) {
		why = load_entry(p, e);
		if (why != NULL)
			break;
	}
	if (why != NULL) {
		memcpy(p->b, saved, p->nb * sizeof(*saved));
		*errmsg = xstrfmt("%s: bad serial file: %s", path, why);
	}
	free(saved);
	json_decref(doc);
	return why != NULL ? ERR_PARSE : 0;
}
