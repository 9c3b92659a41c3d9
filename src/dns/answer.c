#include "dns/answer.h"

#include <string.h>

#include "dns/table.h"
#include "dns/wire.h"
#include "util/clock.h"

#define CLASS_IN	1
#define CLASS_CH	3
#define CLASS_ANY	255
#define TYPE_SOA	6
#define TYPE_TXT	16
#define TYPE_OPT	41
#define TYPE_TKEY	249
#define TYPE_TSIG	250
#define TYPE_IXFR	251
#define TYPE_AXFR	252
#define TYPE_MAILB	253
#define TYPE_MAILA	254
#define TYPE_ANY	255

/* Header of a response to q: QR, the opcode, RD and CD echoed. */
static void
write_header(uint8_t *out, const struct wire_query *q, uint16_t flags,
    uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar)
{
	uint16_t f = WIRE_QR | (q->flags & (WIRE_OPCODE_MASK | WIRE_RD |
	    WIRE_CD)) | flags;

	wire_put16(out, q->id);
	wire_put16(out + 2, f);
	wire_put16(out + 4, qd);
	wire_put16(out + 6, an);
	wire_put16(out + 8, ns);
	wire_put16(out + 10, ar);
}

/* Copy the template after the question at off, within avail bytes. */
static size_t
copy_tmpl(uint8_t *out, size_t off, const struct tmpl *t, size_t avail,
    uint8_t qlen, uint16_t counts[3], bool *tc)
{
	size_t len, npatch;

	if (t->len <= avail) {
		len = t->len;
		npatch = t->npatch;
		counts[0] = t->an;
		counts[1] = t->ns;
		counts[2] = t->ar;
	} else if (t->ar_off <= avail && !t->need_ar) {
		len = t->ar_off;	/* optional additional data goes */
		npatch = t->npatch_noar;
		counts[0] = t->an;
		counts[1] = t->ns;
		counts[2] = 0;
	} else {
		*tc = true;
		counts[0] = counts[1] = counts[2] = 0;
		return 0;
	}
	memcpy(out + off, tmpl_data(t), len);
	for (size_t i = 0; i < npatch; i++) {
		const struct tmpl_patch *p = &tmpl_patches(t)[i];
		size_t ptr;

		if (p->val & TMPL_PATCH_INTERNAL)
			ptr = off + (p->val & ~TMPL_PATCH_INTERNAL);
		else if (p->val == TMPL_QNAME_FULL)
			ptr = WIRE_HDRLEN;
		else
			ptr = WIRE_HDRLEN + qlen - p->val;
		wire_put16(out + off + p->pos, (uint16_t)(0xc000 | ptr));
	}
	return len;
}

/* A response with no records: an error, REFUSED or BADVERS. */
static size_t
answer_empty(const uint8_t *pkt, const struct wire_query *q, uint16_t rcode,
    bool question, bool opt, uint16_t payload, uint8_t *out, size_t outsize)
{
	size_t off = WIRE_HDRLEN;
	size_t qlen = question ? q->question_end - WIRE_HDRLEN : 0;

	if (off + qlen + (opt ? WIRE_OPT_LEN : 0) > outsize)
		return 0;
	write_header(out, q, rcode & WIRE_RCODE_MASK, question ? 1 : 0, 0, 0,
	    opt ? 1 : 0);
	memcpy(out + off, pkt + off, qlen);
	off += qlen;
	if (opt) {
		wire_write_opt(out + off, payload, (uint8_t)(rcode >> 4),
		    q->edns_do);
		off += WIRE_OPT_LEN;
	}
	return off;
}

static size_t
finish(struct answer_info *info, const struct wire_query *q, uint16_t rcode,
    size_t len)
{
	if (info != NULL) {
		info->rcode = rcode;
		info->qtype = q->has_question ? q->qtype : 0;
		info->malformed = rcode == WIRE_FORMERR;
	}
	return len;
}

size_t
answer_query(const struct table *t, const uint8_t *pkt, size_t len,
    const struct sockaddr *client, bool tcp, uint8_t *out, size_t outsize,
    struct answer_info *info)
{
	struct wire_query q;
	enum wire_verdict verdict = wire_parse_query(pkt, len, &q);
	const struct tmpl *tp;
	uint16_t payload = table_edns_size(t), counts[3], rcode, flags;
	size_t limit, off, n;
	bool tc = false, state = false;
	int view = -1;
	uint16_t lookup;

	if (info != NULL)
		*info = (struct answer_info){.view = -1};
	if (verdict == WIRE_DROP) {
		if (info != NULL)
			info->dropped = info->malformed = true;
		return 0;
	}
	if (verdict == WIRE_ERROR)
		return finish(info, &q, q.rcode, answer_empty(pkt, &q, q.rcode,
		    q.has_question && q.qdcount == 1 && q.rcode != WIRE_FORMERR,
		    q.edns && q.rcode != WIRE_FORMERR, payload, out, outsize));
	if (q.edns && q.edns_version != 0)
		return finish(info, &q, WIRE_BADVERS, answer_empty(pkt, &q,
		    WIRE_BADVERS, true, true, payload, out, outsize));

	lookup = q.qtype;
	switch (q.qtype) {
	case TYPE_OPT:
	case TYPE_TKEY:
	case TYPE_TSIG:
		rcode = WIRE_FORMERR;
		goto empty;
	case TYPE_IXFR:
	case TYPE_AXFR:
		/*
		 * Transfers the table holds never come here over TCP
		 * (listen.c gives them to xfr.h). Over UDP: AXFR NOTIMP, as
		 * NSD does; IXFR (its SOA in the authority section) the SOA
		 * alone (RFC 1995 4) where the view transfers the zone.
		 */
		rcode = WIRE_REFUSED;
		if (!tcp && q.qtype == TYPE_AXFR)
			rcode = WIRE_NOTIMP;
		else if (!tcp && q.nscount != 1)
			rcode = WIRE_FORMERR;
		else if (!tcp && q.qclass == CLASS_IN)
			view = table_view(t, client);
		if (view < 0 || table_xfr(t, view, q.lname, q.qname_len) ==
		    NULL)
			goto empty;
		lookup = TYPE_SOA;
		break;
	case TYPE_MAILB:
	case TYPE_MAILA:
		rcode = WIRE_NOTIMP;
		goto empty;
	default:
		break;
	}
	/* QCLASS * (RFC 1035 3.2.5) matches our one class, IN. */
	if (q.qclass == CLASS_IN || q.qclass == CLASS_ANY) {
		view = table_view(t, client);
		tp = view < 0 ? NULL : table_lookup(t, view, q.lname,
		    q.qname_len, lookup);
	} else if (q.qclass == CLASS_CH &&
	    table_is_state_name(q.lname, q.qname_len)) {
		state = table_state_allowed(t, client);
		tp = NULL;
	} else if (q.qclass == CLASS_CH)
		tp = table_chaos(t, q.lname, q.qname_len, q.qtype);
	else
		tp = NULL;
	if (info != NULL)
		info->view = view;
	if (tp == NULL && !state) {
		rcode = WIRE_REFUSED;
		goto empty;
	}

	if (tcp)
		limit = outsize;
	else if (q.edns)
		limit = q.edns_size < WIRE_UDP_MIN ? WIRE_UDP_MIN :
		    q.edns_size > payload ? payload : q.edns_size;
	else
		limit = WIRE_UDP_MIN;
	if (limit > outsize)
		limit = outsize;
	off = q.question_end;
	if (off + (q.edns ? WIRE_OPT_LEN : 0) > limit)
		return finish(info, &q, WIRE_FORMERR, 0);
	/* The question exactly as received: the client's letter case. */
	memcpy(out + WIRE_HDRLEN, pkt + WIRE_HDRLEN, off - WIRE_HDRLEN);
	if (state) {
		/* Formatted now: ages and freshness move with the clock. */
		counts[0] = counts[1] = counts[2] = 0;
		flags = WIRE_AA;
		if (q.qtype == TYPE_TXT || q.qtype == TYPE_ANY) {
			n = table_state_rrs(t, clock_wall_ms(), out + off, limit - off -
			    (q.edns ? WIRE_OPT_LEN : 0), &counts[0]);
			tc = n == 0;
		} else
			n = 0;
	} else {
		n = copy_tmpl(out, off, tp, limit - off - (q.edns ?
		    WIRE_OPT_LEN : 0), q.qname_len, counts, &tc);
		flags = tp->flags;
	}
	off += n;
	if (q.edns) {
		wire_write_opt(out + off, payload, 0, q.edns_do);
		off += WIRE_OPT_LEN;
	}
	write_header(out, &q, (uint16_t)(flags | (tc ? WIRE_TC : 0)), 1,
	    counts[0], counts[1], (uint16_t)(counts[2] + (q.edns ? 1 : 0)));
	if (info != NULL)
		info->truncated = tc;
	return finish(info, &q, flags & WIRE_RCODE_MASK, off);

empty:
	if (info != NULL)
		info->view = view;
	return finish(info, &q, rcode, answer_empty(pkt, &q, rcode, true,
	    q.edns, payload, out, outsize));
}
