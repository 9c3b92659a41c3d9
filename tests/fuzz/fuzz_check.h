/*
 * fuzz_check.h -- what every response of answer_query() must satisfy,
 * checked by the fuzz targets (abort() on a violation, so that libFuzzer
 * and the replay driver both report it as a crash).
 *
 * Static functions in a header: each fuzz target is its own program.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"

#define FUZZ_MAXMSG	65535

static void __attribute__((noreturn))
fuzz_fail(const char *why, size_t off)
{
	fprintf(stderr, "fuzz check failed: %s (offset %zu)\n", why, off);
	abort();
}

/*
 * Step over the name at *off. Pointers must point strictly before the
 * run of labels they end, to a label start seen before (starts[]).
 */
static void
fuzz_name(const uint8_t *m, size_t len, size_t *off, uint8_t *starts,
    bool allow_ptr)
{
	size_t pos = *off, run = *off, total = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (pos >= len)
			fuzz_fail("name runs past the end", pos);
		l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t ptr;

			if (!allow_ptr || pos + 1 >= len)
				fuzz_fail("bad or forbidden pointer", pos);
			ptr = (size_t)(l & 0x3f) << 8 | m[pos + 1];
			if (ptr < WIRE_HDRLEN || ptr >= run ||
			    !((starts[ptr / 8] >> (ptr % 8)) & 1))
				fuzz_fail("pointer not backwards to a label",
				    pos);
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			pos = run = ptr;
			continue;
		}
		if (l & 0xc0)
			fuzz_fail("extended label type", pos);
		total += (size_t)l + 1;
		if (total > 255 || pos + 1 + l > len)
			fuzz_fail("name too long or past the end", pos);
		starts[pos / 8] |= (uint8_t)(1u << (pos % 8));
		pos += (size_t)l + 1;
		if (l == 0)
			break;
	}
	if (!jumped)
		*off = pos;
}

/* Names inside rdata, for the types the encoder compresses. */
static void
fuzz_rdata(const uint8_t *m, size_t end, uint16_t type, size_t off,
    uint8_t *starts)
{
	switch (type) {
	case 2: case 5: case 12:	/* NS CNAME PTR */
		fuzz_name(m, end, &off, starts, true);
		break;
	case 15:			/* MX */
		off += 2;
		fuzz_name(m, end, &off, starts, true);
		break;
	case 33:			/* SRV: never compressed */
		off += 6;
		fuzz_name(m, end, &off, starts, false);
		break;
	case 6:				/* SOA */
		fuzz_name(m, end, &off, starts, true);
		fuzz_name(m, end, &off, starts, true);
		off += 20;
		break;
	default:
		return;
	}
	if (off != end)
		fuzz_fail("rdata length does not match its names", off);
}

/*
 * Check response r (rlen bytes) to query q (qlen bytes), sent over tcp or
 * UDP, with our EDNS payload size ours.
 */
static void
fuzz_check_response(const uint8_t *q, size_t qlen, const uint8_t *r,
    size_t rlen, bool tcp, uint16_t ours)
{
	struct wire_query wq;
	enum wire_verdict v = wire_parse_query(q, qlen, &wq);
	static uint8_t starts[FUZZ_MAXMSG / 8 + 1];
	size_t off = WIRE_HDRLEN, limit;
	uint16_t qd, counts[3];
	bool opt = false;

	if (v == WIRE_DROP) {
		if (rlen != 0)
			fuzz_fail("a dropped query got a response", 0);
		return;
	}
	if (rlen < WIRE_HDRLEN)
		fuzz_fail("no response to a query that deserves one", rlen);
	if (r[0] != q[0] || r[1] != q[1])
		fuzz_fail("id not echoed", 0);
	if (!(r[2] & 0x80) || (r[2] & 0x78) != (q[2] & 0x78) || (r[3] & 0x80))
		fuzz_fail("QR, opcode or RA wrong", 2);
	limit = tcp ? FUZZ_MAXMSG : WIRE_UDP_MIN;
	if (!tcp && v == WIRE_OK && wq.edns && wq.edns_size > limit)
		limit = wq.edns_size < ours ? wq.edns_size : ours;
	if (rlen > limit)
		fuzz_fail("response larger than the client allows", rlen);
	memset(starts, 0, sizeof(starts));
	qd = wire_get16(r + 4);
	counts[0] = wire_get16(r + 6);
	counts[1] = wire_get16(r + 8);
	counts[2] = wire_get16(r + 10);
	if (qd > 1)
		fuzz_fail("qdcount > 1", 4);
	if (qd == 1) {
		fuzz_name(r, rlen, &off, starts, false);
		off += 4;
		if (off > rlen || off > qlen ||
		    memcmp(r + WIRE_HDRLEN, q + WIRE_HDRLEN,
		    off - WIRE_HDRLEN) != 0)
			fuzz_fail("question not echoed byte for byte", off);
	}
	for (int s = 0; s < 3; s++)
		for (unsigned i = 0; i < counts[s]; i++) {
			size_t start = off;
			uint16_t type, rdlen;

			fuzz_name(r, rlen, &off, starts, true);
			if (off + 10 > rlen)
				fuzz_fail("record header past the end", off);
			type = wire_get16(r + off);
			rdlen = wire_get16(r + off + 8);
			off += 10;
			if (off + rdlen > rlen)
				fuzz_fail("rdata past the end", off);
			if (type == 41) {
				if (s != 2 || opt || r[start] != 0)
					fuzz_fail("misplaced OPT", start);
				opt = true;
			} else
				fuzz_rdata(r, off + rdlen, type, off, starts);
			off += rdlen;
		}
	if (off != rlen)
		fuzz_fail("bytes after the last record", off);
}

#endif
