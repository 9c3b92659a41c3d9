#include "dns/xfr.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "log/log.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define TYPE_NS		2
#define TYPE_MD		3
#define TYPE_MF		4
#define TYPE_CNAME	5
#define TYPE_SOA	6
#define TYPE_MB		7
#define TYPE_MG		8
#define TYPE_MR		9
#define TYPE_PTR	12
#define TYPE_MINFO	14
#define TYPE_MX		15
#define CLASS_IN	1
#define MSG_MAX		65535
/* Room left for the TSIG record of a signed reply. */
#define MSG_BODY_MAX	(MSG_MAX - TSIG_RR_MAX)

#define DICT_SLOTS	8192		/* power of two */
#define DICT_FILL	6144

struct xfr_msg {
	uint8_t		*data;		/* header, question, records */
	size_t		 len;
};

struct xfr {
	uint8_t		*origin;	/* lower case wire */
	size_t		 originlen;
	uint32_t	 serial;
	struct xfr_msg	*msgs;
	size_t		 nmsgs;
	struct xfr_msg	 soa;		/* the SOA alone: IXFR up to date */
	size_t		 nrecords;
	struct netprefix *acl;
	size_t		 nacl;
	struct conf_key	*key;		/* copy, or NULL */
	bool		 incomplete;	/* a name answers SERVFAIL */
};

/* --- building ---------------------------------------------------------- */

/* A name suffix written earlier in the message, for compression. */
struct dict_ent {
	const uint8_t	*name;		/* borrowed from the zone */
	uint16_t	 off;
	uint8_t		 len;
};

struct builder {
	struct xfr	*x;
	uint8_t		 buf[MSG_MAX];
	size_t		 len;
	uint16_t	 an;
	struct dict_ent	*dict;		/* DICT_SLOTS */
	size_t		 ndict;
};

static size_t
dict_slot(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	return h & (DICT_SLOTS - 1);
}

static int
dict_find(const struct builder *b, const uint8_t *name, size_t len)
{
	for (size_t i = dict_slot(name, len);; i = (i + 1) & (DICT_SLOTS - 1)) {
		const struct dict_ent *e = &b->dict[i];

		if (e->name == NULL)
			return -1;
		if (e->len == len && memcmp(e->name, name, len) == 0)
			return e->off;
	}
}

static void
dict_add(struct builder *b, const uint8_t *name, size_t len, size_t off)
{
	size_t i;

	if (off >= 0x4000 || b->ndict >= DICT_FILL)
		return;
	for (i = dict_slot(name, len); b->dict[i].name != NULL;
	    i = (i + 1) & (DICT_SLOTS - 1))
		;
	b->dict[i] = (struct dict_ent){name, (uint16_t)off, (uint8_t)len};
	b->ndict++;
}

/*
 * Write the name (stable until the message is done), compressed against
 * the names written before (exact bytes: the case stays as it was).
 */
static void
put_name(struct builder *b, const uint8_t *name)
{
	size_t total = dname_len(name), pos = 0;

	while (name[pos] != 0) {
		int off = dict_find(b, name + pos, total - pos);

		if (off >= 0) {
			wire_put16(b->buf + b->len, (uint16_t)(0xc000 | off));
			b->len += 2;
			return;
		}
		dict_add(b, name + pos, total - pos, b->len);
		memcpy(b->buf + b->len, name + pos, 1 + (size_t)name[pos]);
		b->len += 1 + (size_t)name[pos];
		pos += 1 + (size_t)name[pos];
	}
	b->buf[b->len++] = 0;
}

/* Length of a well-formed name at rd[off..len), or 0. */
static size_t
rd_name(const uint8_t *rd, size_t len, size_t off)
{
	size_t start = off;

	while (off < len) {
		uint8_t l = rd[off];

		if (l > DNAME_MAXLABEL || off + 1 + l > len ||
		    off + 1 + l - start > DNAME_MAXLEN)
			return 0;
		off += 1 + (size_t)l;
		if (l == 0)
			return off - start;
	}
	return 0;
}

/*
 * The RFC 1035 types whose rdata names may be compressed (RFC 3597 4):
 * how many names, after how many fixed bytes. Everything else is copied.
 */
static void
put_rdata(struct builder *b, uint16_t type, const struct zone_rdata *rd)
{
	size_t skip = 0, names = 0, off, n[2];

	if (rd->len == 0)
		return;		/* and rd->data may be NULL */
	switch (type) {
	case TYPE_NS: case TYPE_MD: case TYPE_MF: case TYPE_CNAME:
	case TYPE_MB: case TYPE_MG: case TYPE_MR: case TYPE_PTR:
		names = 1;
		break;
	case TYPE_SOA: case TYPE_MINFO:
		names = 2;
		break;
	case TYPE_MX:
		skip = 2;
		names = 1;
		break;
	default:
		break;
	}
	off = skip;
	for (size_t i = 0; i < names; i++) {
		n[i] = rd_name(rd->data, rd->len, off);
		if (n[i] == 0 || skip > rd->len) {
			names = 0;	/* not as expected: copy as is */
			break;
		}
		off += n[i];
	}
	if (names == 0) {
		memcpy(b->buf + b->len, rd->data, rd->len);
		b->len += rd->len;
		return;
	}
	memcpy(b->buf + b->len, rd->data, skip);
	b->len += skip;
	off = skip;
	for (size_t i = 0; i < names; i++) {
		put_name(b, rd->data + off);
		off += n[i];
	}
	memcpy(b->buf + b->len, rd->data + off, rd->len - off);
	b->len += rd->len - off;
}

static void
msg_start(struct builder *b)
{
	struct xfr *x = b->x;

	memset(b->dict, 0, DICT_SLOTS * sizeof(*b->dict));
	b->ndict = 0;
	b->an = 0;
	memset(b->buf, 0, WIRE_HDRLEN);
	wire_put16(b->buf + 2, WIRE_QR | WIRE_AA);
	wire_put16(b->buf + 4, 1);
	/* The question is the client's: no name may point into it. */
	memcpy(b->buf + WIRE_HDRLEN, x->origin, x->originlen);
	wire_put16(b->buf + WIRE_HDRLEN + x->originlen, XFR_TYPE_AXFR);
	wire_put16(b->buf + WIRE_HDRLEN + x->originlen + 2, CLASS_IN);
	b->len = WIRE_HDRLEN + x->originlen + 4;
}

static void
msg_copy(struct builder *b, struct xfr_msg *m)
{
	wire_put16(b->buf + 6, b->an);
	m->len = b->len;
	m->data = xmalloc(b->len);
	memcpy(m->data, b->buf, b->len);
}

static void
msg_end(struct builder *b)
{
	struct xfr *x = b->x;

	if (b->an == 0)
		return;
	x->msgs = xrealloc(x->msgs, x->nmsgs + 1, sizeof(*x->msgs));
	msg_copy(b, &x->msgs[x->nmsgs++]);
}

static void
put_rr(struct builder *b, const struct zone_node *n,
    const struct zone_rrset *s, const struct zone_rdata *rd)
{
	size_t upper = n->namelen + 10 + (size_t)rd->len, rdstart;
	size_t qend = WIRE_HDRLEN + b->x->originlen + 4;

	if (qend + upper > MSG_BODY_MAX) {
		log_warn(LOG_SRC_DNS, "xfr: a record of %zu bytes left out "
		    "of the transfer", upper);
		return;
	}
	if (b->an > 0 && b->len + upper > XFR_MSG_SIZE) {
		msg_end(b);
		msg_start(b);
	}
	put_name(b, n->name);
	wire_put16(b->buf + b->len, s->type);
	wire_put16(b->buf + b->len + 2, CLASS_IN);
	wire_put16(b->buf + b->len + 4, (uint16_t)(s->ttl >> 16));
	wire_put16(b->buf + b->len + 6, (uint16_t)s->ttl);
	rdstart = b->len + 10;
	b->len = rdstart;
	put_rdata(b, s->type, rd);
	wire_put16(b->buf + rdstart - 2, (uint16_t)(b->len - rdstart));
	b->an++;
	b->x->nrecords++;
}

static struct conf_key *
key_copy(const struct conf_key *k)
{
	struct conf_key *c = xcalloc(1, sizeof(*c));
	size_t n = dname_len(k->wire);

	c->name = xstrdup(k->name != NULL ? k->name : "");
	c->wire = xmalloc(n);
	memcpy(c->wire, k->wire, n);
	c->algorithm = xstrdup(k->algorithm);
	c->secret = xmalloc(k->secret_len + 1);
	memcpy(c->secret, k->secret, k->secret_len);
	c->secret_len = k->secret_len;
	return c;
}

static void
key_free(struct conf_key *k)
{
	if (k == NULL)
		return;
	free(k->name);
	free(k->wire);
	free(k->algorithm);
	if (k->secret != NULL)
		memset(k->secret, 0, k->secret_len);
	free(k->secret);
	free(k);
}

struct xfr *
xfr_build(const struct zone *z, const struct netprefix *acl, size_t nacl,
    const struct conf_key *key)
{
	struct xfr *x = xcalloc(1, sizeof(*x));
	struct builder *b = xmalloc(sizeof(*b));
	const struct zone_rrset *soa = zone_soa(z);

	x->originlen = z->originlen;
	x->origin = xmalloc(x->originlen);
	memcpy(x->origin, z->origin, x->originlen);
	x->serial = z->serial;
	if (nacl > 0) {
		x->acl = xcalloc(nacl, sizeof(*x->acl));
		memcpy(x->acl, acl, nacl * sizeof(*acl));
		x->nacl = nacl;
	}
	if (key != NULL)
		x->key = key_copy(key);

	b->x = x;
	b->dict = xmalloc(DICT_SLOTS * sizeof(*b->dict));
	msg_start(b);
	put_rr(b, z->apex, soa, &soa->rd[0]);
	for (size_t i = 0; i < z->nnodes; i++) {
		const struct zone_node *n = z->nodes[i];

		for (size_t j = 0; j < n->nsets; j++) {
			const struct zone_rrset *s = &n->sets[j];

			if (s->servfail)
				x->incomplete = true;
			if (s == soa)
				continue;
			for (size_t k = 0; k < s->count; k++)
				put_rr(b, n, s, &s->rd[k]);
		}
	}
	put_rr(b, z->apex, soa, &soa->rd[0]);
	msg_end(b);
	msg_start(b);
	put_rr(b, z->apex, soa, &soa->rd[0]);
	msg_copy(b, &x->soa);
	x->nrecords--;
	free(b->dict);
	free(b);
	return x;
}

void
xfr_free(struct xfr *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < x->nmsgs; i++)
		free(x->msgs[i].data);
	free(x->msgs);
	free(x->soa.data);
	free(x->origin);
	free(x->acl);
	key_free(x->key);
	free(x);
}

size_t
xfr_messages(const struct xfr *x)
{
	return x->nmsgs;
}

size_t
xfr_records(const struct xfr *x)
{
	return x->nrecords;
}

const uint8_t *
xfr_origin(const struct xfr *x)
{
	return x->origin;
}

uint32_t
xfr_serial(const struct xfr *x)
{
	return x->serial;
}

/* --- replying ---------------------------------------------------------- */

bool
xfr_is_query(const uint8_t *pkt, size_t len, uint8_t *lname,
    size_t *lnamelen)
{
	size_t off = WIRE_HDRLEN, n = 0;
	uint16_t flags, qtype;

	if (len < WIRE_HDRLEN)
		return false;
	flags = wire_get16(pkt + 2);
	if ((flags & (WIRE_QR | WIRE_OPCODE_MASK)) != 0 ||
	    wire_get16(pkt + 4) != 1)
		return false;
	for (;;) {
		uint8_t l;

		if (off >= len)
			return false;
		l = pkt[off];
		if (l > DNAME_MAXLABEL || off + 1 + l > len ||
		    n + 1 + l > DNAME_MAXLEN)
			return false;
		lname[n] = l;
		dname_lower(lname + n + 1, pkt + off + 1, l);
		n += 1 + (size_t)l;
		off += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (off + 4 > len)
		return false;
	qtype = wire_get16(pkt + off);
	if ((qtype != XFR_TYPE_AXFR && qtype != XFR_TYPE_IXFR) ||
	    wire_get16(pkt + off + 2) != CLASS_IN)
		return false;
	*lnamelen = n;
	return true;
}

/* Step over a name at off (a pointer ends it); 0 when malformed. */
static size_t
skip_name(const uint8_t *m, size_t len, size_t off)
{
	while (off < len) {
		uint8_t l = m[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (l > DNAME_MAXLABEL)
			return 0;
		off += 1 + (size_t)l;
		if (l == 0)
			return off <= len ? off : 0;
	}
	return 0;
}

/*
 * An IXFR whose SOA (authority section) has our serial or a later one
 * (RFC 1982): RFC 1995 2 answers it with our SOA alone.
 */
static bool
is_up_to_date(const struct xfr *x, const uint8_t *q, size_t qlen,
    size_t qend)
{
	size_t off, end;
	uint32_t serial;

	if (wire_get16(q + qend - 4) != XFR_TYPE_IXFR ||
	    wire_get16(q + 6) != 0 || wire_get16(q + 8) != 1)
		return false;
	off = skip_name(q, qlen, qend);
	if (off == 0 || off + 10 > qlen || wire_get16(q + off) != 6)
		return false;
	end = off + 10 + wire_get16(q + off + 8);
	if (end > qlen)
		return false;
	off = skip_name(q, end, off + 10);
	off = off == 0 ? 0 : skip_name(q, end, off);
	if (off == 0 || off + 20 != end)
		return false;
	serial = (uint32_t)wire_get16(q + off) << 16 | wire_get16(q + off + 2);
	return (uint32_t)(serial - x->serial) < 0x80000000u;
}

static bool
is_allowed(const struct xfr *x, const struct sockaddr *client)
{
	for (size_t i = 0; i < x->nacl; i++)
		if (netprefix_match(&x->acl[i], client))
			return true;
	return false;
}

/*
 * One message with no records and rcode, at out + 2; signed by ctx when
 * not NULL. Returns the bytes written, prefix included.
 */
static size_t
put_error(uint8_t *out, const uint8_t *query, size_t qend, uint16_t rcode,
    struct tsig_ctx *ctx, uint64_t now)
{
	uint8_t *m = out + 2;
	size_t len = qend;

	memset(m, 0, WIRE_HDRLEN);
	wire_put16(m, wire_get16(query));
	wire_put16(m + 2, (uint16_t)(WIRE_QR |
	    (wire_get16(query + 2) & WIRE_RD) | rcode));
	wire_put16(m + 4, 1);
	memcpy(m + WIRE_HDRLEN, query + WIRE_HDRLEN, qend - WIRE_HDRLEN);
	if (ctx != NULL)
		len = tsig_sign(ctx, m, len, qend + TSIG_RR_MAX, now);
	wire_put16(out, (uint16_t)len);
	return 2 + len;
}

int
xfr_reply(const struct xfr *x, const uint8_t *query, size_t qlen,
    const struct sockaddr *client, uint64_t now, uint8_t **out,
    size_t *outlen)
{
	size_t qend = WIRE_HDRLEN + x->originlen + 4, total = 0, pos = 0;
	struct conf_key nokey = {.wire = (uint8_t *)"", .algorithm =
	    "hmac-sha256"};
	const struct xfr_msg *msgs = x->msgs;
	size_t nmsgs = x->nmsgs;
	struct tsig_ctx ctx;
	uint8_t *buf;
	int ret;

	if (qlen < qend)
		return ERR_FORMAT;
	/* Error replies: header, question, a TSIG record. */
	buf = xmalloc(2 + qend + TSIG_RR_MAX);
	tsig_init(&ctx, x->key != NULL ? x->key : &nokey);
	ret = tsig_verify(&ctx, query, qlen, now);
	if (ret == ERR_FORMAT) {
		pos = put_error(buf, query, qend, WIRE_FORMERR, NULL, now);
		goto done;
	}
	if (!is_allowed(x, client)) {
		pos = put_error(buf, query, qend, WIRE_REFUSED, NULL, now);
		goto done;
	}
	if (ret == ERR_NOTFOUND && x->key != NULL) {
		pos = put_error(buf, query, qend, TSIG_RCODE_NOTAUTH, NULL,
		    now);
		goto done;
	}
	if (ret == ERR_INVAL) {
		/* Another key, a bad MAC, a bad time (or a key we lack). */
		pos = put_error(buf, query, qend, TSIG_RCODE_NOTAUTH, &ctx,
		    now);
		goto done;
	}
	if (x->incomplete) {
		/* Secondaries keep what they have rather than lose names. */
		pos = put_error(buf, query, qend, WIRE_SERVFAIL,
		    x->key != NULL ? &ctx : NULL, now);
		goto done;
	}

	free(buf);
	if (is_up_to_date(x, query, qlen, qend)) {
		msgs = &x->soa;
		nmsgs = 1;
	}
	for (size_t i = 0; i < nmsgs; i++)
		total += 2 + msgs[i].len + (x->key != NULL ? TSIG_RR_MAX : 0);
	buf = xmalloc(total);
	for (size_t i = 0; i < nmsgs; i++) {
		uint8_t *m = buf + pos + 2;
		size_t len = msgs[i].len;

		memcpy(m, msgs[i].data, len);
		memcpy(m, query, 2);				/* ID */
		wire_put16(m + 2, (uint16_t)(wire_get16(m + 2) |
		    (wire_get16(query + 2) & WIRE_RD)));
		memcpy(m + WIRE_HDRLEN, query + WIRE_HDRLEN,	/* question */
		    qend - WIRE_HDRLEN);
		if (x->key != NULL)
			len = tsig_sign(&ctx, m, len, len + TSIG_RR_MAX, now);
		wire_put16(buf + pos, (uint16_t)len);
		pos += 2 + len;
	}
done:
	*out = buf;
	*outlen = pos;
	return 0;
}
