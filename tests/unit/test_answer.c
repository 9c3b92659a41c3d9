/*
 * test_answer.c -- the whole query path short of sockets: answer_query()
 * on tables built from tests/data/unit/answer.yaml (answer.zone,
 * child.zone, lab.zone) and variants of it.
 *
 * Every response is decoded by the small parser below, which follows
 * compression pointers and insists that each one points backwards, to
 * the start of a label seen earlier, inside the message; then the tests
 * assert the rcode, the flags and every section record by record, as
 * text: "owner TTL CLASS TYPE rdata".
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "dns/answer.h"
#include "dns/table.h"
#include "dns/wire.h"
#include "util/dname.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define DATA(name)	TEST_DATA_DIR "/unit/" name

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_SOA	6
#define T_PTR	12
#define T_HINFO	13
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28
#define T_SRV	33
#define T_OPT	41
#define T_DS	43
#define T_TKEY	249
#define T_TSIG	250
#define T_IXFR	251
#define T_AXFR	252
#define T_MAILB	253
#define T_MAILA	254
#define T_ANY	255
#define C_IN	1
#define C_CH	3
#define C_HS	4
#define C_ANY	255

#define UDP_OUT	4096		/* what listen.c hands answer_query */
#define TCP_OUT	65535

#define VERSION_TEXT	PACKAGE_NAME " " PACKAGE_VERSION

/* --- a table built from a config ------------------------------------------ */

struct world {
	struct conf	*conf;
	struct table	*t;
};

static void
world_build(struct world *w, struct conf *c)
{
	struct zone **zones = xcalloc(c->nzones + 1, sizeof(*zones));
	char *err = NULL;

	w->conf = c;
	for (size_t i = 0; i < c->nzones; i++)
		cr_assert_eq(zone_load(c->zones[i].file, c->zones[i].origin,
		    &zones[i], &err), 0, "%s", err);
	cr_assert_eq(table_build(c, zones, &w->t, &err), 0, "%s", err);
	/* Zones are borrowed only during table_build: free them now, so
	 * that the sanitizer build catches any later use. */
	for (size_t i = 0; i < c->nzones; i++)
		zone_free(zones[i]);
	free(zones);
}

static void
world_file(struct world *w, const char *path)
{
	struct conf *c = NULL;
	char *err = NULL;

	cr_assert_eq(conf_load(path, &c, &err), 0, "%s", err);
	world_build(w, c);
}

/* A config text whose relative paths resolve in tests/data/unit. */
static void
world_text(struct world *w, const char *yaml)
{
	struct conf *c = NULL;
	char *err = NULL;

	cr_assert_eq(conf_load_string(DATA("variant.yaml"), yaml,
	    strlen(yaml), &c, &err), 0, "%s\n%s", err, yaml);
	world_build(w, c);
}

static void
world_free(struct world *w)
{
	table_free(w->t);
	conf_free(w->conf);
	memset(w, 0, sizeof(*w));
}

/* --- query builder ------------------------------------------------------------ */

struct qopt {
	const char	*client;	/* default 127.0.0.1 */
	bool		 tcp;
	uint16_t	 qclass;	/* default IN */
	uint16_t	 flags;		/* header flags; default RD */
	bool		 noflags;	/* send flags 0 */
	bool		 edns;
	uint16_t	 size;		/* EDNS payload */
	uint8_t		 version;
	bool		 dobit;
	uint16_t	 id;
};

struct pkt {
	uint8_t	b[600];
	size_t	len;
};

static void
put(struct pkt *p, const void *d, size_t n)
{
	cr_assert_leq(p->len + n, sizeof(p->b));
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void
put16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(p, b, 2);
}

static void
make_query(struct pkt *p, const char *qname, uint16_t qtype,
    const struct qopt *o)
{
	uint8_t w[DNAME_MAXLEN];
	size_t wl;

	p->len = 0;
	put16(p, o->id != 0 ? o->id : 0xbeef);
	put16(p, o->noflags ? 0 : o->flags != 0 ? o->flags : WIRE_RD);
	put16(p, 1);
	put16(p, 0);
	put16(p, 0);
	put16(p, o->edns ? 1 : 0);
	cr_assert_eq(dname_from_str(qname, NULL, w, &wl), 0, "%s", qname);
	put(p, w, wl);
	put16(p, qtype);
	put16(p, o->qclass != 0 ? o->qclass : C_IN);
	if (o->edns) {
		uint8_t opt[WIRE_OPT_LEN];

		wire_write_opt(opt, o->size, 0, o->dobit);
		opt[6] = o->version;
		put(p, opt, sizeof(opt));
	}
}

static struct sockaddr_storage
client_addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(40000);
		cr_assert_eq(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(40000);
		cr_assert_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

/* --- response decoder ------------------------------------------------------------ */

#define MAXRR	64
enum { AN = 0, NS = 1, AR = 2 };

struct rr {
	uint16_t	type, class;
	uint32_t	ttl;
	char		owner[DNAME_MAXLEN * 4 + 2];
	char		text[1200];	/* owner TTL CLASS TYPE rdata */
};

struct msg {
	uint8_t		raw[TCP_OUT];
	size_t		len;
	struct answer_info info;
	uint16_t	id, flags, qd, an, ns, ar;
	char		qname[DNAME_MAXLEN * 4 + 2];
	uint8_t		qwire[DNAME_MAXLEN];
	size_t		qwirelen;
	uint16_t	qtype, qclass;
	struct rr	sec[3][MAXRR];
	size_t		n[3];		/* AR without the OPT */
	bool		opt;
	uint16_t	opt_size;
	uint8_t		opt_ext, opt_version;
	bool		opt_do;
	unsigned	rcode;		/* 12 bits */
	unsigned	pointers;
	uint8_t		label_start[TCP_OUT / 8 + 1];	/* bitmap */
};

static bool
is_label_start(const struct msg *m, size_t off)
{
	return (m->label_start[off / 8] >> (off % 8)) & 1;
}

static void
mark_label_start(struct msg *m, size_t off)
{
	m->label_start[off / 8] |= (uint8_t)(1u << (off % 8));
}

/* Error text for the current decode, "" when all is well. */
static char derr[256];

static bool __attribute__((format(printf, 1, 2)))
bad(const char *fmt, ...)
{
	va_list ap;

	if (derr[0] != '\0')
		return false;
	va_start(ap, fmt);
	vsnprintf(derr, sizeof(derr), fmt, ap);
	va_end(ap);
	return false;
}

/*
 * Read the name at *off into wire (uncompressed) and text. Every pointer
 * must point strictly before the start of the run of labels it ends, to
 * the start of a label already seen: with that rule there can be no loop.
 */
static bool
read_name(struct msg *m, size_t *off, size_t end, bool allow_ptr,
    uint8_t *wire, size_t *wirelen, char *text)
{
	size_t pos = *off, run = *off, wl = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= end)
			return bad("name at %zu runs past %zu", *off, end);
		l = m->raw[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t ptr;

			if (!allow_ptr)
				return bad("pointer at %zu where names must "
				    "not be compressed", pos);
			if (pos + 1 >= end)
				return bad("half a pointer at %zu", pos);
			ptr = (size_t)(l & 0x3f) << 8 | m->raw[pos + 1];
			if (ptr < WIRE_HDRLEN)
				return bad("pointer at %zu into the header "
				    "(%zu)", pos, ptr);
			if (ptr >= run)
				return bad("pointer at %zu to %zu does not "
				    "point backwards", pos, ptr);
			if (!is_label_start(m, ptr))
				return bad("pointer at %zu to %zu: not the "
				    "start of a label", pos, ptr);
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			m->pointers++;
			pos = run = ptr;
			continue;
		}
		if (l & 0xc0)
			return bad("label type %#x at %zu", l, pos);
		if (pos + 1 + l > end)
			return bad("label at %zu runs past %zu", pos, end);
		if (wl + 1 + l > DNAME_MAXLEN)
			return bad("name at %zu longer than 255", *off);
		mark_label_start(m, pos);
		memcpy(wire + wl, m->raw + pos, (size_t)l + 1);
		wl += (size_t)l + 1;
		pos += (size_t)l + 1;
		if (l == 0)
			break;
	}
	if (!jumped)
		*off = pos;
	*wirelen = wl;
	dname_to_str(wire, text, DNAME_MAXLEN * 4 + 2);
	return true;
}

static const char *
type_name(uint16_t t)
{
	static char buf[16];

	switch (t) {
	case T_A: return "A";
	case T_NS: return "NS";
	case T_CNAME: return "CNAME";
	case T_SOA: return "SOA";
	case T_PTR: return "PTR";
	case T_HINFO: return "HINFO";
	case T_MX: return "MX";
	case T_TXT: return "TXT";
	case T_AAAA: return "AAAA";
	case T_SRV: return "SRV";
	case T_DS: return "DS";
	default:
		snprintf(buf, sizeof(buf), "TYPE%u", t);
		return buf;
	}
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Append to the rdata text. */
static void __attribute__((format(printf, 2, 3)))
app(char *out, const char *fmt, ...)
{
	size_t l = strlen(out);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out + l, 1200 - l, fmt, ap);
	va_end(ap);
}

static bool
read_strings(const struct msg *m, size_t pos, size_t end, char *out)
{
	while (pos < end) {
		uint8_t l = m->raw[pos++];

		if (pos + l > end)
			return bad("character-string past rdata end");
		app(out, "%s\"%.*s\"", out[strlen(out) - 1] == ' ' ? "" : " ",
		    (int)l, (const char *)m->raw + pos);
		pos += l;
	}
	return true;
}

static bool
rdata_name(struct msg *m, size_t *pos, size_t end, bool allow_ptr,
    char *out)
{
	uint8_t w[DNAME_MAXLEN];
	size_t wl;
	char text[DNAME_MAXLEN * 4 + 2];

	if (!read_name(m, pos, end, allow_ptr, w, &wl, text))
		return false;
	app(out, "%s", text);
	return true;
}

static bool
read_rdata(struct msg *m, uint16_t type, size_t pos, size_t end, char *out)
{
	char addr[64];

	switch (type) {
	case T_A:
		if (end - pos != 4)
			return bad("A rdata of %zu bytes", end - pos);
		inet_ntop(AF_INET, m->raw + pos, addr, sizeof(addr));
		app(out, "%s", addr);
		return true;
	case T_AAAA:
		if (end - pos != 16)
			return bad("AAAA rdata of %zu bytes", end - pos);
		inet_ntop(AF_INET6, m->raw + pos, addr, sizeof(addr));
		app(out, "%s", addr);
		return true;
	case T_NS:
	case T_CNAME:
	case T_PTR:
		if (!rdata_name(m, &pos, end, true, out))
			return false;
		break;
	case T_MX:
		if (end - pos < 3)
			return bad("short MX");
		app(out, "%u ", (unsigned)m->raw[pos] << 8 | m->raw[pos + 1]);
		pos += 2;
		if (!rdata_name(m, &pos, end, true, out))
			return false;
		break;
	case T_SRV:
		if (end - pos < 7)
			return bad("short SRV");
		app(out, "%u %u %u ", wire_get16(m->raw + pos),
		    wire_get16(m->raw + pos + 2), wire_get16(m->raw + pos + 4));
		pos += 6;
		/* RFC 2782: the target is never compressed. */
		if (!rdata_name(m, &pos, end, false, out))
			return false;
		break;
	case T_SOA:
		if (!rdata_name(m, &pos, end, true, out))
			return false;
		app(out, " ");
		if (!rdata_name(m, &pos, end, true, out))
			return false;
		if (end - pos != 20)
			return bad("SOA with %zu bytes of numbers", end - pos);
		for (int i = 0; i < 5; i++)
			app(out, " %u", get32(m->raw + pos + 4 * i));
		pos += 20;
		break;
	case T_TXT:
	case T_HINFO:
		if (!read_strings(m, pos, end, out))
			return false;
		/* drop the leading space read_strings put after "TYPE " */
		pos = end;
		break;
	case T_DS:
		if (end - pos < 4)
			return bad("short DS");
		app(out, "%u %u %u ", wire_get16(m->raw + pos), m->raw[pos + 2],
		    m->raw[pos + 3]);
		for (size_t i = pos + 4; i < end; i++)
			app(out, "%02X", m->raw[i]);
		pos = end;
		break;
	default:
		app(out, "\\# %zu", end - pos);
		pos = end;
		break;
	}
	if (pos != end)
		return bad("rdata of type %u: %zu bytes left over", type,
		    end - pos);
	return true;
}

static bool
read_rr(struct msg *m, size_t *off, int sec)
{
	struct rr *r;
	uint8_t w[DNAME_MAXLEN];
	size_t wl, rdlen;
	char owner[DNAME_MAXLEN * 4 + 2];
	uint16_t type, class;
	uint32_t ttl;

	if (!read_name(m, off, m->len, true, w, &wl, owner))
		return false;
	if (*off + 10 > m->len)
		return bad("RR header past the end at %zu", *off);
	type = wire_get16(m->raw + *off);
	class = wire_get16(m->raw + *off + 2);
	ttl = get32(m->raw + *off + 4);
	rdlen = wire_get16(m->raw + *off + 8);
	*off += 10;
	if (*off + rdlen > m->len)
		return bad("rdata past the end at %zu", *off);
	if (type == T_OPT) {
		if (sec != AR)
			return bad("OPT outside the additional section");
		if (m->opt)
			return bad("two OPT records");
		if (wl != 1)
			return bad("OPT owner is %s, not the root", owner);
		m->opt = true;
		m->opt_size = class;
		m->opt_ext = (uint8_t)(ttl >> 24);
		m->opt_version = (uint8_t)(ttl >> 16);
		m->opt_do = (ttl & 0x8000) != 0;
		*off += rdlen;
		return true;
	}
	if (m->n[sec] == MAXRR)
		return bad("more than %d records in section %d", MAXRR, sec);
	r = &m->sec[sec][m->n[sec]++];
	r->type = type;
	r->class = class;
	r->ttl = ttl;
	snprintf(r->owner, sizeof(r->owner), "%s", owner);
	snprintf(r->text, sizeof(r->text), "%s %u %s %s ", owner, ttl,
	    class == C_IN ? "IN" : class == C_CH ? "CH" : "CLASS?",
	    type_name(type));
	if (!read_rdata(m, type, *off, *off + rdlen, r->text))
		return false;
	*off += rdlen;
	return true;
}

/* Decode m->raw[0..len); false with derr set when it is not valid. */
static bool
decode(struct msg *m)
{
	size_t off = WIRE_HDRLEN;
	uint16_t counts[3];

	derr[0] = '\0';
	if (m->len < WIRE_HDRLEN)
		return bad("response of %zu bytes", m->len);
	m->id = wire_get16(m->raw);
	m->flags = wire_get16(m->raw + 2);
	m->qd = wire_get16(m->raw + 4);
	m->an = counts[0] = wire_get16(m->raw + 6);
	m->ns = counts[1] = wire_get16(m->raw + 8);
	m->ar = counts[2] = wire_get16(m->raw + 10);
	if (m->qd > 1)
		return bad("qdcount %u", m->qd);
	if (m->qd == 1) {
		if (!read_name(m, &off, m->len, false, m->qwire, &m->qwirelen,
		    m->qname))
			return false;
		if (off + 4 > m->len)
			return bad("question cut short");
		m->qtype = wire_get16(m->raw + off);
		m->qclass = wire_get16(m->raw + off + 2);
		off += 4;
	}
	for (int s = 0; s < 3; s++)
		for (unsigned i = 0; i < counts[s]; i++)
			if (!read_rr(m, &off, s))
				return false;
	if (off != m->len)
		return bad("%zu bytes after the last record", m->len - off);
	m->rcode = (unsigned)m->opt_ext << 4 | (m->flags & WIRE_RCODE_MASK);
	return true;
}

/* --- asking ------------------------------------------------------------------ */

static struct world W;		/* the answer.yaml table */
static struct msg **msgs;	/* every response of the test, freed after */
static size_t nmsgs;

static void
world_setup(void)
{
	world_file(&W, DATA("answer.yaml"));
}

static void
world_teardown(void)
{
	world_free(&W);
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i]);
	free(msgs);
	msgs = NULL;
	nmsgs = 0;
}

static struct msg *
new_msg(void)
{
	struct msg *m = calloc(1, sizeof(*m));

	cr_assert_not_null(m);
	msgs = xrealloc(msgs, nmsgs + 1, sizeof(*msgs));
	msgs[nmsgs++] = m;
	return m;
}

/* Free the most recent response early (loops over many queries). */
static void
drop_last(void)
{
	cr_assert_gt(nmsgs, 0);
	free(msgs[--nmsgs]);
}

/* Run the query; m->len 0 means no response. Decodes and checks it. */
static struct msg *
ask_in(const struct table *t, const char *qname, uint16_t qtype,
    const struct qopt *o)
{
	struct pkt p;
	struct msg *m = new_msg();
	struct sockaddr_storage ss = client_addr(o->client != NULL ?
	    o->client : "127.0.0.1");
	uint8_t *in, *out;
	size_t outsize = o->tcp ? TCP_OUT : UDP_OUT;

	make_query(&p, qname, qtype, o);
	/* Exact-size buffers: the sanitizer build sees any overrun. */
	in = xmalloc(p.len);
	out = xmalloc(outsize);
	memcpy(in, p.b, p.len);
	m->len = answer_query(t, in, p.len, (struct sockaddr *)&ss, o->tcp,
	    out, outsize, &m->info);
	cr_assert_leq(m->len, outsize);
	memcpy(m->raw, out, m->len);
	free(in);
	free(out);
	if (m->len == 0)
		return m;
	cr_assert(decode(m), "%s %s: bad response: %s", qname,
	    type_name(qtype), derr);
	/* Things true of every response. */
	cr_expect_eq(m->id, o->id != 0 ? o->id : 0xbeef);
	cr_expect(m->flags & WIRE_QR);
	cr_expect_not(m->flags & WIRE_RA, "RA set");
	cr_expect_not(m->flags & WIRE_AD, "AD set");
	cr_expect_eq(m->flags & WIRE_OPCODE_MASK, 0);
	if (!o->tcp) {
		size_t limit = WIRE_UDP_MIN;

		if (o->edns && o->size > limit)
			limit = o->size < table_edns_size(t) ? o->size :
			    table_edns_size(t);
		cr_expect_leq(m->len, limit, "%s: %zu bytes over UDP, limit "
		    "%zu", qname, m->len, limit);
	}
	if (m->qd == 1) {
		/* The question comes back byte for byte. */
		cr_expect_arr_eq(m->raw + WIRE_HDRLEN, p.b + WIRE_HDRLEN,
		    m->qwirelen + 4, "question not echoed");
	}
	cr_expect_eq(m->opt, o->edns, "OPT in the reply: %d", m->opt);
	if (m->opt) {
		cr_expect_eq(m->opt_size, table_edns_size(t));
		cr_expect_eq(m->opt_version, 0);
		cr_expect_eq(m->opt_do, o->dobit, "DO not echoed");
	}
	return m;
}

static struct msg *
ask_o(const char *qname, uint16_t qtype, const struct qopt *o)
{
	return ask_in(W.t, qname, qtype, o);
}

/* UDP, no EDNS, from 127.0.0.1 (the default view). */
static struct msg *
ask(const char *qname, uint16_t qtype)
{
	const struct qopt o = {0};

	return ask_o(qname, qtype, &o);
}

static void
dump(const struct msg *m, char *buf, size_t size)
{
	static const char *const names[3] = {"answer", "authority",
	    "additional"};
	size_t off = 0;

	off += (size_t)snprintf(buf + off, size - off, "rcode %u flags %#x\n",
	    m->rcode, m->flags);
	for (int s = 0; s < 3 && off < size; s++) {
		off += (size_t)snprintf(buf + off, size - off, ";; %s\n",
		    names[s]);
		for (size_t i = 0; i < m->n[s] && off < size; i++)
			off += (size_t)snprintf(buf + off, size - off, "  %s\n",
			    m->sec[s][i].text);
	}
}

/* Section sec must hold exactly want (NULL-terminated), in order,
 * compared without regard to case. */
static void
expect_sec(const struct msg *m, int sec, const char *const *want)
{
	size_t n = 0;
	char *buf = xmalloc(65536);

	while (want[n] != NULL)
		n++;
	dump(m, buf, 65536);
	cr_expect_eq(m->n[sec], n, "section %d: %zu records, want %zu\n%s",
	    sec, m->n[sec], n, buf);
	for (size_t i = 0; i < n && i < m->n[sec]; i++)
		cr_expect(strcasecmp(m->sec[sec][i].text, want[i]) == 0,
		    "section %d record %zu:\n got: %s\nwant: %s\n%s", sec, i,
		    m->sec[sec][i].text, want[i], buf);
	free(buf);
}

#define SEC(m, s, ...)	expect_sec(m, s, (const char *const []){__VA_ARGS__, NULL})
#define EMPTY(m, s)	expect_sec(m, s, (const char *const []){NULL})

static void
expect_head(const struct msg *m, unsigned rcode, bool aa, bool tc)
{
	cr_expect_eq(m->rcode, rcode, "rcode %u, want %u", m->rcode, rcode);
	cr_expect_eq((m->flags & WIRE_AA) != 0, aa, "AA is %d",
	    (m->flags & WIRE_AA) != 0);
	cr_expect_eq((m->flags & WIRE_TC) != 0, tc, "TC is %d",
	    (m->flags & WIRE_TC) != 0);
	cr_expect_eq(m->info.rcode, rcode, "info.rcode %u", m->info.rcode);
	cr_expect_eq(m->info.truncated, tc);
}

#define SOA_LINE "example.test. 300 IN SOA ns1.example.test. " \
	"hostmaster.example.test. 2024010101 3600 900 604800 300"

TestSuite(answer, .init = world_setup, .fini = world_teardown);

/* --- positive answers ---------------------------------------------------------- */

Test(answer, exact_answer_is_authoritative_with_zone_ttl)
{
	struct msg *m = ask("www.example.test.", T_A);

	expect_head(m, 0, true, false);
	cr_expect_eq(m->qd, 1);
	cr_expect_eq(m->qtype, T_A);
	cr_expect_eq(m->qclass, C_IN);
	cr_expect(m->flags & WIRE_RD, "RD echoed");
	SEC(m, AN, "www.example.test. 300 IN A 192.0.2.10",
	    "www.example.test. 300 IN A 192.0.2.11");
	EMPTY(m, NS);
	EMPTY(m, AR);
	cr_expect_eq(m->info.view, 1);
	cr_expect_eq(m->info.qtype, T_A);
	cr_expect_not(m->info.dropped);
	cr_expect_not(m->info.malformed);
}

Test(answer, other_types)
{
	struct msg *m = ask("www.example.test.", T_AAAA);

	expect_head(m, 0, true, false);
	SEC(m, AN, "www.example.test. 300 IN AAAA 2001:db8::10");
	m = ask("txt.example.test.", T_TXT);
	expect_head(m, 0, true, false);
	SEC(m, AN, "txt.example.test. 60 IN TXT \"hello\" \"world\"");
	m = ask("example.test.", T_SOA);
	expect_head(m, 0, true, false);
	SEC(m, AN, "example.test. 3600 IN SOA ns1.example.test. "
	    "hostmaster.example.test. 2024010101 3600 900 604800 300");
	EMPTY(m, NS);
}

Test(answer, rd_and_cd_echoed_only_when_set)
{
	const struct qopt none = {.noflags = true};
	const struct qopt cd = {.flags = WIRE_CD};
	struct msg *m = ask_o("www.example.test.", T_A, &none);

	cr_expect_not(m->flags & WIRE_RD);
	cr_expect_not(m->flags & WIRE_CD);
	m = ask_o("www.example.test.", T_A, &cd);
	cr_expect(m->flags & WIRE_CD);
	cr_expect_not(m->flags & WIRE_RD);
}

Test(answer, apex_ns_with_addresses)
{
	struct msg *m = ask("example.test.", T_NS);

	expect_head(m, 0, true, false);
	SEC(m, AN, "example.test. 3600 IN NS ns1.example.test.",
	    "example.test. 3600 IN NS ns2.example.test.");
	EMPTY(m, NS);
	SEC(m, AR, "ns1.example.test. 3600 IN A 192.0.2.1",
	    "ns2.example.test. 3600 IN A 192.0.2.2",
	    "ns2.example.test. 3600 IN AAAA 2001:db8::2");
}

Test(answer, mx_and_srv_with_addresses)
{
	struct msg *m = ask("example.test.", T_MX);

	expect_head(m, 0, true, false);
	SEC(m, AN, "example.test. 600 IN MX 10 mail.example.test.");
	SEC(m, AR, "mail.example.test. 600 IN A 192.0.2.25");
	m = ask("srv.example.test.", T_SRV);
	expect_head(m, 0, true, false);
	SEC(m, AN, "srv.example.test. 60 IN SRV 0 5 5060 sip.example.test.");
	SEC(m, AR, "sip.example.test. 60 IN A 192.0.2.60");
}

/* --- negative answers ----------------------------------------------------------- */

Test(answer, nodata_has_soa_with_negative_ttl)
{
	struct msg *m = ask("www.example.test.", T_TXT);

	expect_head(m, 0, true, false);
	EMPTY(m, AN);
	SEC(m, NS, SOA_LINE);
	EMPTY(m, AR);
	/* A type no record in the zone has. */
	m = ask("www.example.test.", 99);
	expect_head(m, 0, true, false);
	EMPTY(m, AN);
	SEC(m, NS, SOA_LINE);
	m = ask("example.test.", T_A);
	expect_head(m, 0, true, false);
	SEC(m, NS, SOA_LINE);
}

Test(answer, nxdomain_has_soa_with_negative_ttl)
{
	static const char *const names[] = {
		"nothere.example.test.", "a.b.c.nothere.example.test.",
		"x.www.example.test.", "x.ns1.example.test.",
		"x.a.b.ent.example.test.",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct msg *m = ask(names[i], T_A);

		expect_head(m, 3, true, false);
		EMPTY(m, AN);
		SEC(m, NS, SOA_LINE);
		EMPTY(m, AR);
	}
}

Test(answer, refused_outside_our_zones)
{
	static const char *const names[] = {
		"www.example.com.", "test.", ".", "example.tes.",
		"xexample.test.", "www.elsewhere.test.",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct msg *m = ask(names[i], T_A);

		expect_head(m, 5, false, false);
		cr_expect_eq(m->qd, 1, "%s: question echoed", names[i]);
		EMPTY(m, AN);
		EMPTY(m, NS);
		EMPTY(m, AR);
	}
}

Test(answer, refused_for_a_client_in_no_view)
{
	const struct qopt o = {.client = "192.0.2.7"};
	const struct qopt o6 = {.client = "2001:db8::7", .edns = true,
	    .size = 1232};
	struct msg *m = ask_o("www.example.test.", T_A, &o);

	expect_head(m, 5, false, false);
	EMPTY(m, AN);
	EMPTY(m, NS);
	cr_expect_eq(m->info.view, -1);
	m = ask_o("www.example.test.", T_A, &o6);
	expect_head(m, 5, false, false);
	cr_expect(m->opt);
}

/* --- CNAME ----------------------------------------------------------------------- */

Test(answer, cname_chain_in_zone)
{
	struct msg *m = ask("c1.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "c1.example.test. 120 IN CNAME c2.example.test.",
	    "c2.example.test. 110 IN CNAME c3.example.test.",
	    "c3.example.test. 100 IN CNAME www.example.test.",
	    "www.example.test. 300 IN A 192.0.2.10",
	    "www.example.test. 300 IN A 192.0.2.11");
	EMPTY(m, NS);
	/* Asking for the CNAME itself stops there. */
	m = ask("c1.example.test.", T_CNAME);
	expect_head(m, 0, true, false);
	SEC(m, AN, "c1.example.test. 120 IN CNAME c2.example.test.");
	/* The chain is followed for the type asked. */
	m = ask("c2.example.test.", T_AAAA);
	SEC(m, AN, "c2.example.test. 110 IN CNAME c3.example.test.",
	    "c3.example.test. 100 IN CNAME www.example.test.",
	    "www.example.test. 300 IN AAAA 2001:db8::10");
}

Test(answer, cname_to_nxdomain)
{
	struct msg *m = ask("cnx.example.test.", T_A);

	/* RFC 6604: the rcode is the last name's. */
	expect_head(m, 3, true, false);
	SEC(m, AN, "cnx.example.test. 120 IN CNAME missing.example.test.");
	SEC(m, NS, SOA_LINE);
}

Test(answer, cname_to_nodata)
{
	struct msg *m = ask("cnodata.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "cnodata.example.test. 120 IN CNAME txt.example.test.");
	SEC(m, NS, SOA_LINE);
	/* And to a type nobody in the zone has. */
	m = ask("cnodata.example.test.", 99);
	expect_head(m, 0, true, false);
	SEC(m, AN, "cnodata.example.test. 120 IN CNAME txt.example.test.");
	SEC(m, NS, SOA_LINE);
	/* And to an empty non-terminal. */
	m = ask("cent.example.test.", T_A);
	expect_head(m, 0, true, false);
	SEC(m, AN, "cent.example.test. 120 IN CNAME b.ent.example.test.");
	SEC(m, NS, SOA_LINE);
}

Test(answer, cname_out_of_zone)
{
	struct msg *m = ask("cout.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "cout.example.test. 120 IN CNAME www.elsewhere.test.");
	EMPTY(m, NS);
	EMPTY(m, AR);
}

Test(answer, cname_loop_terminates)
{
	struct msg *m = ask("loop1.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "loop1.example.test. 120 IN CNAME loop2.example.test.",
	    "loop2.example.test. 120 IN CNAME loop1.example.test.");
	m = ask("self.example.test.", T_A);
	expect_head(m, 0, true, false);
	SEC(m, AN, "self.example.test. 120 IN CNAME self.example.test.");
}

Test(answer, long_cname_chain_is_cut)
{
	struct msg *m = ask("h0.example.test.", T_A);

	expect_head(m, 0, true, false);
	cr_expect_geq(m->n[AN], 2);
	cr_expect_leq(m->n[AN], 13);
	cr_expect_str_eq(m->sec[AN][0].text,
	    "h0.example.test. 60 IN CNAME h1.example.test.");
	for (size_t i = 0; i < m->n[AN]; i++)
		if (m->sec[AN][i].type == T_A)
			cr_expect_str_eq(m->sec[AN][i].owner,
			    "www.example.test.");
}

Test(answer, cname_to_wildcard)
{
	struct msg *m = ask("cwild.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "cwild.example.test. 120 IN CNAME foo.wild.example.test.",
	    "foo.wild.example.test. 200 IN A 192.0.2.200");
}

Test(answer, cname_into_a_delegation)
{
	struct msg *m = ask("cdeleg.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "cdeleg.example.test. 120 IN CNAME host.sub.example.test.");
	SEC(m, NS, "sub.example.test. 3600 IN NS ns.sub.example.test.",
	    "sub.example.test. 3600 IN NS ns.elsewhere.test.");
	SEC(m, AR, "ns.sub.example.test. 3600 IN A 192.0.2.53",
	    "ns.sub.example.test. 3600 IN AAAA 2001:db8::53");
}

/* --- wildcards ------------------------------------------------------------------------ */

Test(answer, wildcard_synthesis)
{
	struct msg *m = ask("foo.wild.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "foo.wild.example.test. 200 IN A 192.0.2.200");
	EMPTY(m, NS);
	m = ask("a.b.c.wild.example.test.", T_TXT);
	expect_head(m, 0, true, false);
	SEC(m, AN, "a.b.c.wild.example.test. 200 IN TXT \"wild\"");
	/* A type the wildcard lacks: NODATA. */
	m = ask("foo.wild.example.test.", T_AAAA);
	expect_head(m, 0, true, false);
	EMPTY(m, AN);
	SEC(m, NS, SOA_LINE);
	/* A wildcard CNAME. */
	m = ask("foo.wc.example.test.", T_A);
	expect_head(m, 0, true, false);
	SEC(m, AN, "foo.wc.example.test. 200 IN CNAME www.example.test.",
	    "www.example.test. 300 IN A 192.0.2.10",
	    "www.example.test. 300 IN A 192.0.2.11");
}

Test(answer, wildcard_echoes_the_query_case)
{
	struct msg *m = ask("FoO.WiLd.ExAmPlE.tEsT.", T_A);

	expect_head(m, 0, true, false);
	cr_assert_eq(m->n[AN], 1);
	cr_expect_str_eq(m->sec[AN][0].owner, "FoO.WiLd.ExAmPlE.tEsT.");
}

Test(answer, wildcard_not_used_below_existing_names)
{
	/* exists.wild is the closest encloser: no "*" below it. */
	struct msg *m = ask("x.exists.wild.example.test.", T_A);

	expect_head(m, 3, true, false);
	EMPTY(m, AN);
	SEC(m, NS, SOA_LINE);
	/* The name itself has its own data, not the wildcard's. */
	m = ask("exists.wild.example.test.", T_TXT);
	expect_head(m, 0, true, false);
	EMPTY(m, AN);
	SEC(m, NS, SOA_LINE);
	m = ask("exists.wild.example.test.", T_A);
	SEC(m, AN, "exists.wild.example.test. 200 IN A 192.0.2.201");
	/* The wildcard's parent is an empty non-terminal: NODATA. */
	m = ask("wild.example.test.", T_A);
	expect_head(m, 0, true, false);
	EMPTY(m, AN);
	SEC(m, NS, SOA_LINE);
	/* Asking for "*" itself is an exact match. */
	m = ask("*.wild.example.test.", T_A);
	expect_head(m, 0, true, false);
	SEC(m, AN, "*.wild.example.test. 200 IN A 192.0.2.200");
	/* No wildcard at the apex: other names are NXDOMAIN. */
	m = ask("nowild.example.test.", T_A);
	expect_head(m, 3, true, false);
}

/* --- empty non-terminals ---------------------------------------------------------------- */

Test(answer, empty_non_terminal_is_nodata)
{
	static const char *const names[] = {"ent.example.test.",
		"b.ent.example.test."};

	for (size_t i = 0; i < 2; i++) {
		struct msg *m = ask(names[i], T_TXT);

		expect_head(m, 0, true, false);
		EMPTY(m, AN);
		SEC(m, NS, SOA_LINE);
		m = ask(names[i], T_ANY);
		expect_head(m, 0, true, false);
		EMPTY(m, AN);
		SEC(m, NS, SOA_LINE);
	}
	SEC(ask("a.b.ent.example.test.", T_TXT), AN,
	    "a.b.ent.example.test. 300 IN TXT \"deep\"");
	expect_head(ask("x.ent.example.test.", T_TXT), 3, true, false);
}

/* --- delegations --------------------------------------------------------------------------- */

Test(answer, referral_with_glue)
{
	static const char *const names[] = {
		"host.sub.example.test.", "sub.example.test.",
		"a.b.c.sub.example.test.", "ns.sub.example.test.",
		"SUB.example.test.",
	};
	static const uint16_t types[] = {T_A, T_NS, T_SOA, T_AAAA, T_ANY};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct msg *m = ask(names[i], types[i]);

		expect_head(m, 0, false, false);
		EMPTY(m, AN);
		SEC(m, NS, "sub.example.test. 3600 IN NS ns.sub.example.test.",
		    "sub.example.test. 3600 IN NS ns.elsewhere.test.");
		SEC(m, AR, "ns.sub.example.test. 3600 IN A 192.0.2.53",
		    "ns.sub.example.test. 3600 IN AAAA 2001:db8::53");
	}
}

Test(answer, referral_without_glue)
{
	struct msg *m = ask("www.nods.example.test.", T_A);

	expect_head(m, 0, false, false);
	EMPTY(m, AN);
	SEC(m, NS, "nods.example.test. 3600 IN NS ns.elsewhere.test.");
	EMPTY(m, AR);
}

Test(answer, ds_at_a_cut_is_answered_by_the_parent)
{
	struct msg *m = ask("sub.example.test.", T_DS);

	expect_head(m, 0, true, false);
	SEC(m, AN, "sub.example.test. 3600 IN DS 12345 8 2 "
	    "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
	EMPTY(m, NS);
	/* No DS at the cut: NODATA from the parent. */
	m = ask("nods.example.test.", T_DS);
	expect_head(m, 0, true, false);
	EMPTY(m, AN);
	SEC(m, NS, SOA_LINE);
	/* DS below the cut belongs to the child: referral. */
	m = ask("x.sub.example.test.", T_DS);
	expect_head(m, 0, false, false);
	cr_expect_eq(m->n[NS], 2);
}

/* --- ANY ------------------------------------------------------------------------------------- */

Test(answer, any_is_rfc8482_hinfo)
{
	struct msg *m = ask("www.example.test.", T_ANY);

	expect_head(m, 0, true, false);
	SEC(m, AN, "www.example.test. 300 IN HINFO \"RFC8482\" \"\"");
	EMPTY(m, NS);
	/* TTL: the lowest at the name (MX 600 at the apex). */
	m = ask("example.test.", T_ANY);
	SEC(m, AN, "example.test. 600 IN HINFO \"RFC8482\" \"\"");
	m = ask("bar.wild.example.test.", T_ANY);
	SEC(m, AN, "bar.wild.example.test. 200 IN HINFO \"RFC8482\" \"\"");
	/* At a CNAME: the CNAME. */
	m = ask("c1.example.test.", T_ANY);
	SEC(m, AN, "c1.example.test. 120 IN CNAME c2.example.test.");
	/* At no name: NXDOMAIN as usual. */
	m = ask("nothere.example.test.", T_ANY);
	expect_head(m, 3, true, false);
	SEC(m, NS, SOA_LINE);
}

/* --- special types and classes ------------------------------------------------------------- */

struct special {
	uint16_t	type;
	uint16_t	class;
	bool		tcp;
	unsigned	rcode;
};

static const struct special specials[] = {
	{T_OPT, C_IN, false, 1},
	{T_TSIG, C_IN, false, 1},
	{T_TKEY, C_IN, false, 1},
	{T_AXFR, C_IN, false, 4},	/* NOTIMP, as NSD */
	{T_IXFR, C_IN, false, 1},
	{T_AXFR, C_IN, true, 5},
	{T_IXFR, C_IN, true, 5},
	{T_MAILA, C_IN, false, 4},
	{T_MAILB, C_IN, false, 4},
	{T_A, C_HS, false, 5},
};
#define NSPECIAL	(sizeof(specials) / sizeof(specials[0]))

ParameterizedTestParameters(answer, special_types_and_classes)
{
	static size_t idx[NSPECIAL];

	for (size_t i = 0; i < NSPECIAL; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NSPECIAL);
}

ParameterizedTest(size_t *i, answer, special_types_and_classes)
{
	const struct special *s = &specials[*i];
	const struct qopt o = {.qclass = s->class, .tcp = s->tcp};
	struct msg *m = ask_o("www.example.test.", s->type, &o);

	expect_head(m, s->rcode, false, false);
	cr_expect_eq(m->qd, 1);
	EMPTY(m, AN);
	EMPTY(m, NS);
	EMPTY(m, AR);
}

/* QCLASS * (RFC 1035 3.2.5) matches the IN data; the records say IN. */
Test(answer, class_any_is_answered_from_in_data)
{
	const struct qopt any = {.qclass = C_ANY};
	struct msg *m = ask_o("www.example.test.", T_A, &any);

	expect_head(m, 0, true, false);
	cr_expect_eq(m->qclass, C_ANY);
	SEC(m, AN, "www.example.test. 300 IN A 192.0.2.10",
	    "www.example.test. 300 IN A 192.0.2.11");
	m = ask_o("nothere.example.test.", T_A, &any);
	expect_head(m, 3, true, false);
	SEC(m, NS, SOA_LINE);
	expect_head(ask_o("www.example.com.", T_A, &any), 5, false, false);
}

/* --- CHAOS ------------------------------------------------------------------------------------- */

Test(answer, chaos_identity_and_version)
{
	const struct qopt ch = {.qclass = C_CH};
	struct msg *m = ask_o("id.server.", T_TXT, &ch);

	expect_head(m, 0, true, false);
	SEC(m, AN, "id.server. 0 CH TXT \"unit-id\"");
	EMPTY(m, NS);
	cr_expect_eq(m->sec[AN][0].class, C_CH);
	m = ask_o("HOSTNAME.bind.", T_TXT, &ch);
	expect_head(m, 0, true, false);
	SEC(m, AN, "HOSTNAME.bind. 0 CH TXT \"unit-id\"");
	m = ask_o("version.bind.", T_TXT, &ch);
	SEC(m, AN, "version.bind. 0 CH TXT \"" VERSION_TEXT "\"");
	m = ask_o("version.server.", T_ANY, &ch);
	SEC(m, AN, "version.server. 0 CH TXT \"" VERSION_TEXT "\"");
	/* Another type at a known name: no data. */
	m = ask_o("id.server.", T_A, &ch);
	expect_head(m, 0, true, false);
	EMPTY(m, AN);
	/* Unknown CHAOS names, and CHAOS names asked in class IN. */
	expect_head(ask_o("authors.bind.", T_TXT, &ch), 5, false, false);
	expect_head(ask_o("www.example.test.", T_TXT, &ch), 5, false, false);
	expect_head(ask("id.server.", T_TXT), 5, false, false);
}

Test(answer, hide_version_refuses_version_only)
{
	struct world w;
	const struct qopt ch = {.qclass = C_CH};

	world_text(&w, "server: { identity: hidden-id, hide-version: true }\n"
	    "zones: [{ id: m, origin: example.test., file: answer.zone }]\n");
	expect_head(ask_in(w.t, "version.bind.", T_TXT, &ch), 5, false,
	    false);
	expect_head(ask_in(w.t, "version.server.", T_TXT, &ch), 5, false,
	    false);
	SEC(ask_in(w.t, "id.server.", T_TXT, &ch), AN,
	    "id.server. 0 CH TXT \"hidden-id\"");
	world_free(&w);
}

Test(answer, version_override)
{
	struct world w;
	const struct qopt ch = {.qclass = C_CH};

	world_text(&w, "server: { version: \"custom 1.2\" }\n"
	    "zones: [{ id: m, origin: example.test., file: answer.zone }]\n");
	SEC(ask_in(w.t, "version.bind.", T_TXT, &ch), AN,
	    "version.bind. 0 CH TXT \"custom 1.2\"");
	world_free(&w);
}

/* --- EDNS(0) -------------------------------------------------------------------------------------- */

Test(answer, opt_in_reply_with_our_size_and_do)
{
	const struct qopt o = {.edns = true, .size = 4096, .dobit = true};
	const struct qopt o2 = {.edns = true, .size = 512};
	struct msg *m = ask_o("www.example.test.", T_A, &o);

	expect_head(m, 0, true, false);
	cr_expect(m->opt);
	cr_expect_eq(m->opt_size, 1232);
	cr_expect(m->opt_do);
	cr_expect_eq(m->opt_ext, 0);
	cr_expect_eq(m->ar, 1);
	cr_expect_eq(m->n[AN], 2);
	m = ask_o("nothere.example.test.", T_A, &o2);
	expect_head(m, 3, true, false);
	cr_expect(m->opt);
	cr_expect_not(m->opt_do);
	cr_expect_eq(m->ar, 1);
	SEC(m, NS, SOA_LINE);
	/* Errors carry the OPT too. */
	m = ask_o("www.example.com.", T_A, &o);
	expect_head(m, 5, false, false);
	cr_expect(m->opt);
}

Test(answer, badvers)
{
	const struct qopt o = {.edns = true, .size = 4096, .version = 1,
	    .dobit = true};
	struct msg *m = ask_o("www.example.test.", T_A, &o);

	/* Extended rcode 16: 0 in the header, 1 in the OPT. */
	expect_head(m, 16, false, false);
	cr_expect_eq(m->flags & WIRE_RCODE_MASK, 0);
	cr_expect_eq(m->opt_ext, 1);
	cr_expect_eq(m->opt_version, 0);
	cr_expect_eq(m->qd, 1);
	EMPTY(m, AN);
	EMPTY(m, NS);
	EMPTY(m, AR);
	cr_expect_eq(m->ar, 1);
}

Test(answer, edns_payload_below_512_counts_as_512)
{
	/* The apex NS answer with its addresses is about 150 bytes. */
	const struct qopt o = {.edns = true, .size = 100};
	struct msg *m = ask_o("example.test.", T_NS, &o);

	expect_head(m, 0, true, false);
	cr_expect_eq(m->n[AN], 2);
	cr_expect_eq(m->n[AR], 3);
	cr_expect_gt(m->len, 100);
}

Test(answer, edns_buffer_size_from_config)
{
	struct world w;
	const struct qopt o = {.edns = true, .size = 4096};
	struct msg *m;

	world_text(&w, "server: { edns-buffer-size: 4096 }\n"
	    "zones: [{ id: m, origin: example.test., file: answer.zone }]\n");
	m = ask_in(w.t, "huge.example.test.", T_TXT, &o);
	expect_head(m, 0, true, false);
	cr_expect_eq(m->opt_size, 4096);
	cr_expect_eq(m->n[AN], 8);
	world_free(&w);
}

/* --- truncation ----------------------------------------------------------------------------------- */

Test(answer, big_rrset_truncates_over_udp_without_edns)
{
	const struct qopt tcp = {.tcp = true};
	const struct qopt e1232 = {.edns = true, .size = 1232};
	const struct qopt e600 = {.edns = true, .size = 600};
	struct msg *m = ask("big.example.test.", T_TXT);

	expect_head(m, 0, true, true);
	cr_expect_eq(m->qd, 1);
	EMPTY(m, AN);
	EMPTY(m, NS);
	EMPTY(m, AR);
	m = ask_o("big.example.test.", T_TXT, &tcp);
	expect_head(m, 0, true, false);
	cr_expect_eq(m->n[AN], 3);
	cr_expect_gt(m->len, 512);
	m = ask_o("big.example.test.", T_TXT, &e1232);
	expect_head(m, 0, true, false);
	cr_expect_eq(m->n[AN], 3);
	m = ask_o("big.example.test.", T_TXT, &e600);
	expect_head(m, 0, true, true);
	EMPTY(m, AN);
	cr_expect(m->opt);
}

Test(answer, huge_rrset_truncates_at_our_size)
{
	const struct qopt e4096 = {.edns = true, .size = 4096};
	const struct qopt tcp = {.tcp = true, .edns = true, .size = 4096};
	struct msg *m = ask_o("huge.example.test.", T_TXT, &e4096);

	expect_head(m, 0, true, true);
	EMPTY(m, AN);
	cr_expect_eq(m->ar, 1);
	m = ask_o("huge.example.test.", T_TXT, &tcp);
	expect_head(m, 0, true, false);
	cr_expect_eq(m->n[AN], 8);
	cr_expect_gt(m->len, 1232);
}

Test(answer, referral_whose_glue_does_not_fit_is_truncated)
{
	const struct qopt e1232 = {.edns = true, .size = 1232};
	struct msg *m = ask("x.fat.example.test.", T_A);

	expect_head(m, 0, false, true);
	EMPTY(m, AN);
	EMPTY(m, NS);
	EMPTY(m, AR);
	m = ask_o("x.fat.example.test.", T_A, &e1232);
	expect_head(m, 0, false, false);
	cr_expect_eq(m->n[NS], 10);
	cr_expect_eq(m->n[AR], 20);
}

Test(answer, optional_additional_data_is_dropped_without_tc)
{
	const struct qopt e1232 = {.edns = true, .size = 1232};
	struct msg *m = ask("mx.example.test.", T_MX);

	expect_head(m, 0, true, false);
	cr_expect_eq(m->n[AN], 10);
	EMPTY(m, AR);
	cr_expect_eq(m->ar, 0);
	m = ask_o("mx.example.test.", T_MX, &e1232);
	expect_head(m, 0, true, false);
	cr_expect_eq(m->n[AN], 10);
	cr_expect_eq(m->n[AR], 20);
	cr_expect_eq(m->ar, 21);
}

/* --- letter case --------------------------------------------------------------------------------------- */

Test(answer, query_case_echoed_in_question_and_owners)
{
	struct msg *m = ask("WwW.ExAmPlE.TeSt.", T_A);

	expect_head(m, 0, true, false);
	cr_expect_str_eq(m->qname, "WwW.ExAmPlE.TeSt.");
	cr_assert_eq(m->n[AN], 2);
	cr_expect_str_eq(m->sec[AN][0].owner, "WwW.ExAmPlE.TeSt.");
	cr_expect_str_eq(m->sec[AN][1].owner, "WwW.ExAmPlE.TeSt.");
	m = ask("NoSuCh.ExAmPlE.TeSt.", T_A);
	expect_head(m, 3, true, false);
	cr_expect_str_eq(m->qname, "NoSuCh.ExAmPlE.TeSt.");
	cr_assert_eq(m->n[NS], 1);
	cr_expect_str_eq(m->sec[NS][0].owner, "ExAmPlE.TeSt.");
	m = ask("HOST.SUB.example.TEST.", T_A);
	cr_assert_eq(m->n[NS], 2);
	cr_expect_str_eq(m->sec[NS][0].owner, "SUB.example.TEST.");
	m = ask("C1.EXAMPLE.TEST.", T_A);
	cr_assert_geq(m->n[AN], 1);
	cr_expect_str_eq(m->sec[AN][0].owner, "C1.EXAMPLE.TEST.");
}

/* --- views and zones ------------------------------------------------------------------------------------ */

Test(answer, two_views_with_the_same_origin)
{
	const struct qopt lab = {.client = "127.0.0.2"};
	const struct qopt lab6 = {.client = "::ffff:127.0.0.2"};
	const struct qopt def6 = {.client = "::1"};
	struct msg *m = ask_o("www.example.test.", T_A, &lab);

	expect_head(m, 0, true, false);
	SEC(m, AN, "www.example.test. 30 IN A 10.0.0.10");
	cr_expect_eq(m->info.view, 0);
	m = ask_o("www.example.test.", T_TXT, &lab);
	SEC(m, NS, "example.test. 30 IN SOA ns1.example.test. "
	    "hostmaster.example.test. 99 3600 900 604800 30");
	/* lab does not serve the child zone, nor the parent's names. */
	expect_head(ask_o("www.child.example.test.", T_A, &lab), 3, true,
	    false);
	expect_head(ask_o("c1.example.test.", T_A, &lab), 3, true, false);
	SEC(ask_o("www.example.test.", T_A, &lab6), AN,
	    "www.example.test. 30 IN A 10.0.0.10");
	m = ask_o("www.example.test.", T_A, &def6);
	SEC(m, AN, "www.example.test. 300 IN A 192.0.2.10",
	    "www.example.test. 300 IN A 192.0.2.11");
	cr_expect_eq(m->info.view, 1);
}

Test(answer, child_zone_wins_over_the_parent_delegation)
{
	struct msg *m = ask("www.child.example.test.", T_A);

	expect_head(m, 0, true, false);
	SEC(m, AN, "www.child.example.test. 600 IN A 192.0.2.98");
	/* The child's apex, not the parent's cut. */
	m = ask("child.example.test.", T_NS);
	expect_head(m, 0, true, false);
	SEC(m, AN, "child.example.test. 600 IN NS ns1.child.example.test.");
	SEC(m, AR, "ns1.child.example.test. 600 IN A 192.0.2.99");
	m = ask("child.example.test.", T_SOA);
	SEC(m, AN, "child.example.test. 600 IN SOA ns1.child.example.test. "
	    "hostmaster.example.test. 7 3600 900 604800 60");
	/* The child's data, not the parent's glue (TTL 3600). */
	m = ask("ns1.child.example.test.", T_A);
	SEC(m, AN, "ns1.child.example.test. 600 IN A 192.0.2.99");
	/* Negative answers from the child, with its SOA. */
	m = ask("nothere.child.example.test.", T_A);
	expect_head(m, 3, true, false);
	SEC(m, NS, "child.example.test. 60 IN SOA ns1.child.example.test. "
	    "hostmaster.example.test. 7 3600 900 604800 60");
}

/*
 * DS lives on the parent side of a cut. A server with both zones answers
 * it from the parent (RFC 4035 3.1.4.1; BIND, NSD and Knot all do), not
 * with NODATA from the child apex.
 */
Test(answer, ds_for_a_child_apex_comes_from_the_parent)
{
	struct msg *m = ask("child.example.test.", T_DS);

	expect_head(m, 0, true, false);
	SEC(m, AN, "child.example.test. 3600 IN DS 54321 13 2 "
	    "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210");
	EMPTY(m, NS);
}

Test(answer, delegation_to_a_zone_not_in_the_view_is_a_referral)
{
	struct world w;
	const struct qopt o = {0};
	struct msg *m;

	world_text(&w,
	    "zones:\n"
	    "  - { id: main, origin: example.test., file: answer.zone }\n"
	    "  - { id: child, origin: child.example.test., file: child.zone }\n"
	    "views:\n"
	    "  - { name: parent-only, match-clients: [any], zones: [main] }\n");
	m = ask_in(w.t, "www.child.example.test.", T_A, &o);
	expect_head(m, 0, false, false);
	SEC(m, NS, "child.example.test. 3600 IN NS ns1.child.example.test.");
	SEC(m, AR, "ns1.child.example.test. 3600 IN A 192.0.2.99");
	/* Here the parent answers the DS itself. */
	m = ask_in(w.t, "child.example.test.", T_DS, &o);
	expect_head(m, 0, true, false);
	cr_expect_eq(m->n[AN], 1);
	world_free(&w);
}

Test(answer, view_without_zones_refuses_everything)
{
	struct world w;
	const struct qopt o = {0};

	world_text(&w,
	    "zones: [{ id: main, origin: example.test., file: answer.zone }]\n"
	    "views:\n"
	    "  - { name: closed, match-clients: [any], zones: [] }\n");
	expect_head(ask_in(w.t, "www.example.test.", T_A, &o), 5, false,
	    false);
	world_free(&w);
}

/* --- malformed queries through answer_query ------------------------------------------------------------ */

static size_t
answer_raw(const uint8_t *pkt, size_t len, struct msg *m)
{
	struct sockaddr_storage ss = client_addr("127.0.0.1");
	uint8_t *in = xmalloc(len > 0 ? len : 1);
	uint8_t *out = xmalloc(UDP_OUT);

	memcpy(in, pkt, len);
	m->len = answer_query(W.t, in, len, (struct sockaddr *)&ss, false, out,
	    UDP_OUT, &m->info);
	memcpy(m->raw, out, m->len);
	free(in);
	free(out);
	if (m->len > 0)
		cr_assert(decode(m), "%s", derr);
	return m->len;
}

Test(answer, runts_and_responses_get_nothing)
{
	struct msg *m = new_msg();
	static const uint8_t resp[] = {0, 1, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	    0, 0, 1, 0, 1};

	cr_expect_eq(answer_raw(resp, 5, m), 0);
	cr_expect(m->info.dropped);
	cr_expect(m->info.malformed);
	cr_expect_eq(answer_raw(resp, sizeof(resp), m), 0);
	cr_expect(m->info.dropped);
}

Test(answer, formerr_without_question)
{
	struct msg *m = new_msg();
	static const uint8_t q0[] = {0x12, 0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
	    0};
	static const uint8_t q2[] = {0x12, 0x34, 0x01, 0, 0, 2, 0, 0, 0, 0,
	    0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1};
	static const uint8_t ptr[] = {0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0,
	    0, 0, 0xc0, 0x0c, 0, 1, 0, 1};

	cr_assert_gt(answer_raw(q0, sizeof(q0), m), 0);
	cr_expect_eq(m->id, 0x1234);
	cr_expect_eq(m->rcode, 1);
	cr_expect_eq(m->qd, 0);
	cr_expect(m->flags & WIRE_RD);
	cr_expect(m->info.malformed);
	cr_assert_gt(answer_raw(q2, sizeof(q2), m), 0);
	cr_expect_eq(m->rcode, 1);
	cr_expect_eq(m->qd, 0);
	cr_assert_gt(answer_raw(ptr, sizeof(ptr), m), 0);
	cr_expect_eq(m->rcode, 1);
	cr_expect_eq(m->qd, 0);
	cr_expect_eq(m->len, WIRE_HDRLEN);
}

Test(answer, notimp_echoes_the_question)
{
	struct msg *m = new_msg();
	/* NOTIFY (opcode 4) for example.test. SOA */
	static const uint8_t notify[] = {0, 7, 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0,
	    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
	    0, 6, 0, 1};

	cr_assert_gt(answer_raw(notify, sizeof(notify), m), 0);
	cr_expect_eq(m->rcode, 4);
	cr_expect_eq(m->qd, 1);
	cr_expect_eq(m->flags & WIRE_OPCODE_MASK, 0x2000, "opcode echoed");
	cr_expect_str_eq(m->qname, "example.test.");
}

/* RFC 6891 section 7: a query with an OPT gets an OPT back, NOTIMP too. */
Test(answer, notimp_with_edns_keeps_the_opt)
{
	struct msg *m = new_msg();
	static const uint8_t notify[] = {0, 7, 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 1,
	    7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
	    0, 6, 0, 1,
	    0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0};

	cr_assert_gt(answer_raw(notify, sizeof(notify), m), 0);
	cr_expect_eq(m->rcode, 4);
	cr_expect_eq(m->qd, 1);
	cr_expect(m->opt, "no OPT in the NOTIMP reply to an EDNS query");
	cr_expect_eq(m->ar, 1);
	cr_expect(m->opt_do, "DO not echoed");
}

/* --- properties over many queries ----------------------------------------------------------------------- */

static const char *const prop_names[] = {
	"example.test.", "www.example.test.", "ns1.example.test.",
	"ns2.example.test.", "mail.example.test.", "txt.example.test.",
	"srv.example.test.", "c1.example.test.", "c2.example.test.",
	"cnx.example.test.", "cnodata.example.test.", "cout.example.test.",
	"loop1.example.test.", "self.example.test.", "cwild.example.test.",
	"cdeleg.example.test.", "cent.example.test.", "h0.example.test.",
	"h11.example.test.", "x.wild.example.test.", "*.wild.example.test.",
	"a.b.wild.example.test.", "exists.wild.example.test.",
	"x.exists.wild.example.test.", "wild.example.test.",
	"q.wc.example.test.", "ent.example.test.", "b.ent.example.test.",
	"a.b.ent.example.test.", "sub.example.test.", "ns.sub.example.test.",
	"deep.host.sub.example.test.", "nods.example.test.",
	"child.example.test.", "www.child.example.test.",
	"ns1.child.example.test.", "no.child.example.test.",
	"big.example.test.", "huge.example.test.", "fat.example.test.",
	"ns1.fat.example.test.", "x.fat.example.test.", "mx.example.test.",
	"m1.example.test.", "nothere.example.test.",
	"a.very.deep.name.that.does.not.exist.example.test.",
	"www.example.com.", ".", "test.", "id.server.", "version.bind.",
};
static const uint16_t prop_types[] = {
	T_A, T_AAAA, T_NS, T_SOA, T_MX, T_TXT, T_CNAME, T_DS, T_ANY, T_SRV,
	T_HINFO, T_PTR, 0, 99, 65535,
};

/* Alternate the letter case of name by a bit pattern. */
static void
mix_case(const char *in, char *out, unsigned pattern)
{
	size_t i;

	for (i = 0; in[i] != '\0'; i++) {
		char c = in[i];

		if (c >= 'a' && c <= 'z' && ((pattern >> (i % 16)) & 1))
			c = (char)(c - 32);
		out[i] = c;
	}
	out[i] = '\0';
}

/* Every response decodes, with valid compression, and ldns agrees. */
Test(answer, every_response_is_well_formed, .timeout = 120)
{
	const struct qopt opts[] = {
		{0},
		{.tcp = true},
		{.edns = true, .size = 512, .dobit = true},
		{.edns = true, .size = 1232},
		{.edns = true, .size = 4096},
		{.client = "127.0.0.2", .edns = true, .size = 1400},
		{.qclass = C_CH},
	};
	size_t nn = sizeof(prop_names) / sizeof(prop_names[0]);
	size_t nt = sizeof(prop_types) / sizeof(prop_types[0]);
	size_t no = sizeof(opts) / sizeof(opts[0]);
	unsigned count = 0, pointers = 0;

	for (size_t i = 0; i < nn; i++)
		for (size_t j = 0; j < nt; j++)
			for (size_t k = 0; k < no; k++) {
				char name[256];
				struct msg *m;
				ldns_pkt *lp = NULL;

				mix_case(prop_names[i], name,
				    (unsigned)(i * 7919 + j * 31 + k));
				m = ask_o(name, prop_types[j], &opts[k]);
				cr_assert_gt(m->len, 0, "%s/%u: no response",
				    name, prop_types[j]);
				cr_assert_eq(ldns_wire2pkt(&lp, m->raw, m->len),
				    LDNS_STATUS_OK, "%s/%u: ldns rejects the "
				    "response", name, prop_types[j]);
				ldns_pkt_free(lp);
				pointers += m->pointers;
				count++;
				/* Keep memory flat: drop this message. */
				drop_last();
			}
	cr_expect_eq(count, nn * nt * no);
	cr_expect_gt(pointers, count, "compression is used");
}

/* The checker itself: a pointer moved forward or into rdata is caught. */
Test(answer, decoder_rejects_bad_pointers)
{
	struct msg *m = ask("c1.example.test.", T_A);
	struct msg *bad_m = new_msg();
	size_t first = 0;

	cr_assert_gt(m->pointers, 0);
	/* Find the first pointer after the question. */
	for (size_t i = WIRE_HDRLEN + m->qwirelen + 4; i + 1 < m->len; i++)
		if ((m->raw[i] & 0xc0) == 0xc0) {
			first = i;
			break;
		}
	cr_assert_gt(first, 0);
	memcpy(bad_m, m, sizeof(*m));
	memset(bad_m->label_start, 0, sizeof(bad_m->label_start));
	bad_m->n[0] = bad_m->n[1] = bad_m->n[2] = 0;
	bad_m->pointers = 0;
	bad_m->opt = false;
	/* Forward: to itself. */
	bad_m->raw[first] = (uint8_t)(0xc0 | first >> 8);
	bad_m->raw[first + 1] = (uint8_t)first;
	cr_expect_not(decode(bad_m));
	cr_expect_neq(strstr(derr, "backwards"), NULL, "%s", derr);
	/* Backwards, but into the middle of a label of the question. */
	memset(bad_m->label_start, 0, sizeof(bad_m->label_start));
	bad_m->n[0] = bad_m->n[1] = bad_m->n[2] = 0;
	bad_m->raw[first] = 0xc0;
	bad_m->raw[first + 1] = WIRE_HDRLEN + 1;
	cr_expect_not(decode(bad_m));
	cr_expect_neq(strstr(derr, "start of a label"), NULL, "%s", derr);
	/* Into the header. */
	memset(bad_m->label_start, 0, sizeof(bad_m->label_start));
	bad_m->n[0] = bad_m->n[1] = bad_m->n[2] = 0;
	bad_m->raw[first + 1] = 2;
	cr_expect_not(decode(bad_m));
	cr_expect_neq(strstr(derr, "header"), NULL, "%s", derr);
}

/* Over TCP and over UDP, an answer that is not truncated is the same. */
Test(answer, udp_and_tcp_agree_unless_truncated)
{
	const struct qopt udp = {.edns = true, .size = 1232};
	const struct qopt tcp = {.tcp = true, .edns = true, .size = 1232};
	size_t nn = sizeof(prop_names) / sizeof(prop_names[0]);
	size_t nt = sizeof(prop_types) / sizeof(prop_types[0]);

	for (size_t i = 0; i < nn; i++)
		for (size_t j = 0; j < nt; j++) {
			struct msg *u = ask_o(prop_names[i], prop_types[j],
			    &udp);
			struct msg *t = ask_o(prop_names[i], prop_types[j],
			    &tcp);

			if (!(u->flags & WIRE_TC) && u->ar == t->ar) {
				cr_expect_eq(u->len, t->len, "%s/%u",
				    prop_names[i], prop_types[j]);
				cr_expect_arr_eq(u->raw, t->raw, u->len,
				    "%s/%u", prop_names[i], prop_types[j]);
			} else
				cr_expect(t->len > 1232 - 11 ||
				    u->ar < t->ar, "%s/%u: truncated for no "
				    "reason", prop_names[i], prop_types[j]);
			drop_last();
			drop_last();
		}
}
