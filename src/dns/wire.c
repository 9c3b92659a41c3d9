#include "dns/wire.h"

#include <string.h>

#define TYPE_OPT	41
#define TYPE_IXFR	251

/*
 * Skip a possibly compressed name in the additional section: it is never
 * followed, only stepped over. Returns the offset after it, or 0.
 */
static size_t
skip_name(const uint8_t *pkt, size_t len, size_t off)
{
	size_t total = 0;

	while (off < len) {
		uint8_t l = pkt[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (l & 0xc0)
			return 0;
		total += (size_t)l + 1;
		if (total > DNAME_MAXLEN)
			return 0;
		off += (size_t)l + 1;
		if (l == 0)
			return off <= len ? off : 0;
	}
	return 0;
}

static enum wire_verdict
formerr(struct wire_query *q)
{
	q->rcode = WIRE_FORMERR;
	return WIRE_ERROR;
}

/* The question: one uncompressed name, type and class. */
static bool
parse_question(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	size_t off = WIRE_HDRLEN, nlen = 0;

	for (;;) {
		uint8_t l;

		if (off >= len)
			return false;
		l = pkt[off];
		if (l > DNAME_MAXLABEL)
			return false;	/* pointers or extended labels */
		if (nlen + l + 1 > DNAME_MAXLEN || off + l + 1 > len)
			return false;
		q->lname[nlen] = l;
		for (size_t i = 1; i <= l; i++) {
			uint8_t c = pkt[off + i];

			q->lname[nlen + i] = (c >= 'A' && c <= 'Z') ?
			    (uint8_t)(c + 32) : c;
		}
		nlen += (size_t)l + 1;
		off += (size_t)l + 1;
		if (l == 0)
			break;
	}
	if (off + 4 > len)
		return false;
	q->qname_len = (uint8_t)nlen;
	q->qtype = wire_get16(pkt + off);
	q->qclass = wire_get16(pkt + off + 2);
	q->question_end = off + 4;
	q->has_question = true;
	return true;
}

/* OPT options (code, length, data) that fill the rdata exactly. */
static bool
options_ok(const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t olen;

		if (len < 4)
			return false;
		olen = wire_get16(p + 2);
		if (4 + olen > len)
			return false;
		p += 4 + olen;
		len -= 4 + olen;
	}
	return true;
}

/*
 * Step over the answer and authority sections (NOTIFY and UPDATE carry
 * records there), then find the OPT record in the additional section.
 */
static bool
parse_additional(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	size_t off = q->question_end;
	uint32_t skip = (uint32_t)q->ancount + q->nscount;
	uint32_t total = skip + q->arcount;

	for (uint32_t i = 0; i < total; i++) {
		size_t start = off;
		uint16_t type, rdlen;

		off = skip_name(pkt, len, off);
		if (off == 0 || off + 10 > len)
			return false;
		type = wire_get16(pkt + off);
		rdlen = wire_get16(pkt + off + 8);
		if (off + 10 + rdlen > len)
			return false;
		if (i >= skip && type == TYPE_OPT) {
			/* One OPT, owned by the root (RFC 6891 6.1.1). */
			if (q->edns || pkt[start] != 0)
				return false;
			if (!options_ok(pkt + off + 10, rdlen))
				return false;
			q->edns = true;
			q->edns_size = wire_get16(pkt + off + 2);
			q->edns_version = pkt[off + 5];
			q->edns_do = (pkt[off + 6] & 0x80) != 0;
		}
		off += 10 + (size_t)rdlen;
	}
	return true;
}

enum wire_verdict
wire_parse_query(const uint8_t *pkt, size_t len, struct wire_query *q)
{
	q->has_question = false;
	q->edns = false;
	q->edns_size = 0;
	q->edns_version = 0;
	q->edns_do = false;
	q->rcode = WIRE_NOERROR;
	if (len < WIRE_HDRLEN)
		return WIRE_DROP;
	q->id = wire_get16(pkt);
	q->flags = wire_get16(pkt + 2);
	if (q->flags & WIRE_QR)
		return WIRE_DROP;	/* never answer an answer */
	q->opcode = (uint8_t)((q->flags & WIRE_OPCODE_MASK) >> 11);
	q->qdcount = wire_get16(pkt + 4);
	q->ancount = wire_get16(pkt + 6);
	q->nscount = wire_get16(pkt + 8);
	q->arcount = wire_get16(pkt + 10);
	if (q->qdcount == 1 && !parse_question(pkt, len, q))
		return formerr(q);
	if (q->opcode != 0) {
		/* Keep the OPT of a well-formed message (RFC 6891 7). */
		if (q->has_question && !parse_additional(pkt, len, q))
			q->edns = false;
		q->rcode = WIRE_NOTIMP;
		return WIRE_ERROR;
	}
	/* An IXFR carries the client's SOA in the authority section. */
	if (q->qdcount != 1 || q->ancount != 0 || (q->nscount != 0 &&
	    !(q->qtype == TYPE_IXFR && q->nscount == 1)))
		return formerr(q);
	if (!parse_additional(pkt, len, q))
		return formerr(q);
	return WIRE_OK;
}

void
wire_write_opt(uint8_t *out, uint16_t payload, uint8_t ext, bool dobit)
{
	out[0] = 0;				/* root owner */
	wire_put16(out + 1, TYPE_OPT);
	wire_put16(out + 3, payload);
	out[5] = ext;
	out[6] = 0;				/* version 0 */
	out[7] = dobit ? 0x80 : 0;
	out[8] = 0;
	wire_put16(out + 9, 0);			/* no options */
}
