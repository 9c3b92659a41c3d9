/*
 * test_wire.c -- wire_parse_query on crafted packets: the good query, every
 * reason to drop or to answer FORMERR/NOTIMP, EDNS(0) parsing, and bounds
 * (every prefix of a packet and random mutations, each in a buffer of
 * exactly its length so that the sanitizer build catches over-reads).
 *
 * Packets are made with a small builder below; names in them are written
 * from text with dname_from_str (which keeps the letter case).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdlib.h>
#include <string.h>

#include "dns/wire.h"
#include "util/dname.h"

#define T_A	1
#define T_TXT	16
#define T_OPT	41
#define T_TSIG	250
#define C_IN	1
#define C_CH	3
#define C_ANY	255

/* --- packet builder ------------------------------------------------------- */

struct pkt {
	uint8_t	b[1024];
	size_t	len;
};

static void
raw(struct pkt *p, const void *data, size_t n)
{
	cr_assert_leq(p->len + n, sizeof(p->b));
	if (n > 0)		/* memcpy(dst, NULL, 0) is undefined */
		memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void
u8(struct pkt *p, uint8_t v)
{
	raw(p, &v, 1);
}

static void
u16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	raw(p, b, 2);
}

static void
u32(struct pkt *p, uint32_t v)
{
	u16(p, (uint16_t)(v >> 16));
	u16(p, (uint16_t)v);
}

static void
header(struct pkt *p, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
    uint16_t ns, uint16_t ar)
{
	p->len = 0;
	u16(p, id);
	u16(p, flags);
	u16(p, qd);
	u16(p, an);
	u16(p, ns);
	u16(p, ar);
}

static void
name(struct pkt *p, const char *text)
{
	uint8_t w[DNAME_MAXLEN];
	size_t len;

	cr_assert_eq(dname_from_str(text, NULL, w, &len), 0, "%s", text);
	raw(p, w, len);
}

static void
question(struct pkt *p, const char *qname, uint16_t type, uint16_t class)
{
	name(p, qname);
	u16(p, type);
	u16(p, class);
}

/* OPT RR: root owner, payload, ext rcode, version, DO, then rdata. */
static void
opt(struct pkt *p, uint16_t payload, uint8_t version, bool dobit,
    const void *rdata, uint16_t rdlen)
{
	u8(p, 0);
	u16(p, T_OPT);
	u16(p, payload);
	u8(p, 0);
	u8(p, version);
	u16(p, dobit ? 0x8000 : 0);
	u16(p, rdlen);
	raw(p, rdata, rdlen);
}

/* A standard query: id 0x1234, RD, one question, arcount as given. */
static void
query(struct pkt *p, const char *qname, uint16_t type, uint16_t ar)
{
	header(p, 0x1234, WIRE_RD, 1, 0, 0, ar);
	question(p, qname, type, C_IN);
}

/* Parse p from a heap copy of exactly p->len bytes. */
static enum wire_verdict
parse(const struct pkt *p, struct wire_query *q)
{
	uint8_t *copy = malloc(p->len > 0 ? p->len : 1);
	enum wire_verdict v;

	cr_assert_not_null(copy);
	memcpy(copy, p->b, p->len);
	memset(q, 0xa5, sizeof(*q));
	v = wire_parse_query(copy, p->len, q);
	free(copy);
	return v;
}

static void
expect_formerr(const struct pkt *p, const char *why)
{
	struct wire_query q;

	cr_expect_eq(parse(p, &q), WIRE_ERROR, "%s: not an error", why);
	cr_expect_eq(q.rcode, WIRE_FORMERR, "%s: rcode %d", why, q.rcode);
}

/* --- the good query ---------------------------------------------------------- */

Test(wire, good_query)
{
	struct pkt p;
	struct wire_query q;

	query(&p, "www.example.test.", T_A, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.id, 0x1234);
	cr_expect_eq(q.flags, WIRE_RD);
	cr_expect_eq(q.opcode, 0);
	cr_expect_eq(q.qdcount, 1);
	cr_expect_eq(q.ancount, 0);
	cr_expect_eq(q.nscount, 0);
	cr_expect_eq(q.arcount, 0);
	cr_expect(q.has_question);
	cr_expect_eq(q.qname_len, 18);
	cr_expect_arr_eq(q.lname, "\3www\7example\4test", 18);
	cr_expect_eq(q.qtype, T_A);
	cr_expect_eq(q.qclass, C_IN);
	cr_expect_eq(q.question_end, WIRE_HDRLEN + 18 + 4);
	cr_expect_not(q.edns);
	cr_expect_eq(q.edns_size, 0);
	cr_expect_eq(q.edns_version, 0);
	cr_expect_not(q.edns_do);
	cr_expect_eq(q.rcode, WIRE_NOERROR);
}

Test(wire, root_question)
{
	struct pkt p;
	struct wire_query q;

	query(&p, ".", 2, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.qname_len, 1);
	cr_expect_eq(q.lname[0], 0);
	cr_expect_eq(q.qtype, 2);
	cr_expect_eq(q.question_end, 17);
}

Test(wire, lower_case_copy_leaves_packet_alone)
{
	struct pkt p;
	struct wire_query q;

	query(&p, "WwW.ExAmPlE.TEST.", T_A, 0);
	cr_assert_eq(wire_parse_query(p.b, p.len, &q), WIRE_OK);
	cr_expect_arr_eq(q.lname, "\3www\7example\4test", 18);
	/* The packet keeps the client's case, for the echo. */
	cr_expect_arr_eq(p.b + WIRE_HDRLEN, "\3WwW\7ExAmPlE\4TEST", 18);
}

Test(wire, lower_case_is_ascii_only)
{
	struct pkt p;
	struct wire_query q;

	header(&p, 1, 0, 1, 0, 0, 0);
	raw(&p, "\4A\xc4Z@\0", 6);
	u16(&p, T_A);
	u16(&p, C_IN);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_arr_eq(q.lname, "\4a\xc4z@\0", 6);
}

Test(wire, other_classes_and_flags_are_parsed)
{
	struct pkt p;
	struct wire_query q;

	header(&p, 0xffff, WIRE_CD | WIRE_AD | WIRE_TC, 1, 0, 0, 0);
	question(&p, "version.bind.", T_TXT, C_CH);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.id, 0xffff);
	cr_expect_eq(q.qclass, C_CH);
	cr_expect_eq(q.flags, WIRE_CD | WIRE_AD | WIRE_TC);
}

Test(wire, longest_name_is_accepted)
{
	struct pkt p;
	struct wire_query q;

	header(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		u8(&p, 63);
		for (int j = 0; j < 63; j++)
			u8(&p, 'A');
	}
	u8(&p, 61);
	for (int j = 0; j < 61; j++)
		u8(&p, 'b');
	u8(&p, 0);
	u16(&p, T_A);
	u16(&p, C_IN);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.qname_len, 255);
	cr_expect_eq(q.lname[1], 'a');
	cr_expect_eq(dname_len(q.lname), 255);
}

/* --- drops ------------------------------------------------------------------------- */

Test(wire, runts_are_dropped)
{
	struct pkt full;

	query(&full, "www.example.test.", T_A, 0);
	for (size_t len = 0; len < WIRE_HDRLEN; len++) {
		struct pkt p = full;
		struct wire_query q;

		p.len = len;
		cr_expect_eq(parse(&p, &q), WIRE_DROP, "length %zu", len);
		cr_expect_not(q.has_question, "length %zu", len);
	}
}

Test(wire, responses_are_dropped)
{
	struct pkt p;
	struct wire_query q;

	query(&p, "www.example.test.", T_A, 0);
	p.b[2] |= 0x80;
	cr_expect_eq(parse(&p, &q), WIRE_DROP);
	/* Even a malformed one, and even with a bad opcode. */
	header(&p, 1, WIRE_QR | 0x7800, 0, 9, 9, 9);
	cr_expect_eq(parse(&p, &q), WIRE_DROP);
	header(&p, 1, WIRE_QR, 1, 0, 0, 0);
	cr_expect_eq(parse(&p, &q), WIRE_DROP);
}

/* --- FORMERR ----------------------------------------------------------------------- */

Test(wire, qdcount_zero)
{
	struct pkt p;
	struct wire_query q;

	header(&p, 7, 0, 0, 0, 0, 0);
	cr_expect_eq(parse(&p, &q), WIRE_ERROR);
	cr_expect_eq(q.rcode, WIRE_FORMERR);
	cr_expect_not(q.has_question);
	cr_expect_eq(q.id, 7);
	/* Header only, or a question that QDCOUNT does not announce. */
	question(&p, "www.example.test.", T_A, C_IN);
	expect_formerr(&p, "qdcount 0 with a question");
}

Test(wire, qdcount_two)
{
	struct pkt p;
	struct wire_query q;

	header(&p, 7, 0, 2, 0, 0, 0);
	question(&p, "a.example.test.", T_A, C_IN);
	question(&p, "b.example.test.", T_A, C_IN);
	cr_expect_eq(parse(&p, &q), WIRE_ERROR);
	cr_expect_eq(q.rcode, WIRE_FORMERR);
	cr_expect_eq(q.qdcount, 2);
	/* No question is echoed for a count that is not 1. */
	cr_expect_not(q.has_question);
	header(&p, 7, 0, 0xffff, 0, 0, 0);
	expect_formerr(&p, "qdcount 65535");
}

Test(wire, compression_pointer_in_qname)
{
	struct pkt p;

	/* Pointer as the whole name (to the header: a loop on its own). */
	header(&p, 1, 0, 1, 0, 0, 0);
	raw(&p, "\xc0\x0c", 2);
	u16(&p, T_A);
	u16(&p, C_IN);
	expect_formerr(&p, "pointer to itself");
	/* Pointer after a label. */
	header(&p, 1, 0, 1, 0, 0, 0);
	raw(&p, "\3www\xc0\x0c", 6);
	u16(&p, T_A);
	u16(&p, C_IN);
	expect_formerr(&p, "label then pointer");
	/* A pointer to an earlier copy of the name, as in a real message. */
	header(&p, 1, 0, 1, 0, 0, 0);
	raw(&p, "\3www\7example\4test\0", 19);
	raw(&p, "\xc0\x0c", 2);
	expect_formerr(&p, "name then pointer as type");
}

Test(wire, extended_label_types)
{
	struct pkt p;
	static const uint8_t kinds[] = {0x40, 0x41, 0x7f, 0x80, 0xbf};

	for (size_t i = 0; i < sizeof(kinds); i++) {
		header(&p, 1, 0, 1, 0, 0, 0);
		u8(&p, kinds[i]);
		for (int j = 0; j < 80; j++)
			u8(&p, 'x');
		u8(&p, 0);
		u16(&p, T_A);
		u16(&p, C_IN);
		expect_formerr(&p, "extended label type");
	}
}

Test(wire, label_of_64)
{
	struct pkt p;

	header(&p, 1, 0, 1, 0, 0, 0);
	u8(&p, 64);
	for (int j = 0; j < 64; j++)
		u8(&p, 'x');
	raw(&p, "\4test\0", 6);
	u16(&p, T_A);
	u16(&p, C_IN);
	expect_formerr(&p, "64-byte label");
}

Test(wire, name_over_255)
{
	struct pkt p;

	/* 3 x 63 + 62: 256 bytes with the root label. */
	header(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		u8(&p, 63);
		for (int j = 0; j < 63; j++)
			u8(&p, 'a');
	}
	u8(&p, 62);
	for (int j = 0; j < 62; j++)
		u8(&p, 'b');
	u8(&p, 0);
	u16(&p, T_A);
	u16(&p, C_IN);
	expect_formerr(&p, "256-byte name");
	/* 128 one-byte labels. */
	header(&p, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 128; i++)
		raw(&p, "\1a", 2);
	u8(&p, 0);
	u16(&p, T_A);
	u16(&p, C_IN);
	expect_formerr(&p, "128 labels");
}

Test(wire, truncated_question)
{
	struct pkt full, p;

	query(&full, "www.example.test.", T_A, 0);
	/* Every cut inside the question. */
	for (size_t len = WIRE_HDRLEN; len < full.len; len++) {
		p = full;
		p.len = len;
		expect_formerr(&p, "truncated question");
	}
	/* A name without its root label, at the end of the packet. */
	header(&p, 1, 0, 1, 0, 0, 0);
	raw(&p, "\3www\7example\4test", 17);
	expect_formerr(&p, "no root label");
	/* A label length running past the end. */
	header(&p, 1, 0, 1, 0, 0, 0);
	raw(&p, "\77abc", 4);
	expect_formerr(&p, "label past the end");
}

Test(wire, answer_or_authority_records)
{
	struct pkt p;

	header(&p, 1, 0, 1, 1, 0, 0);
	question(&p, "www.example.test.", T_A, C_IN);
	expect_formerr(&p, "ancount 1");
	header(&p, 1, 0, 1, 0, 1, 0);
	question(&p, "www.example.test.", T_A, C_IN);
	expect_formerr(&p, "nscount 1");
	header(&p, 1, 0, 1, 0xffff, 0xffff, 0);
	question(&p, "www.example.test.", T_A, C_IN);
	expect_formerr(&p, "ancount and nscount 65535");
}

/* An IXFR carries the client's SOA in the authority section (RFC 1995). */
Test(wire, ixfr_with_its_soa)
{
	struct pkt p;
	struct wire_query q;

	header(&p, 1, 0, 1, 0, 1, 1);
	question(&p, "example.test.", 251, C_IN);
	raw(&p, "\xc0\x0c", 2);
	u16(&p, 6);
	u16(&p, C_IN);
	u32(&p, 0);
	u16(&p, 22);
	raw(&p, "\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);
	opt(&p, 1232, 0, false, NULL, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.qtype, 251);
	cr_expect_eq(q.nscount, 1);
	cr_expect(q.edns, "the OPT after the authority SOA is found");
	header(&p, 1, 0, 1, 0, 2, 0);
	question(&p, "example.test.", 251, C_IN);
	expect_formerr(&p, "IXFR with nscount 2");
}

/* --- NOTIMP ------------------------------------------------------------------------ */

Test(wire, opcodes_other_than_query)
{
	for (unsigned op = 1; op < 16; op++) {
		struct pkt p;
		struct wire_query q;

		header(&p, 9, (uint16_t)(op << 11), 1, 0, 0, 0);
		question(&p, "www.example.test.", T_A, C_IN);
		cr_expect_eq(parse(&p, &q), WIRE_ERROR, "opcode %u", op);
		cr_expect_eq(q.rcode, WIRE_NOTIMP, "opcode %u", op);
		cr_expect_eq(q.opcode, op);
		cr_expect(q.has_question, "opcode %u: question kept", op);
	}
}

Test(wire, notimp_even_without_question)
{
	struct pkt p;
	struct wire_query q;

	/* An UPDATE with an empty zone section, or a STATUS. */
	header(&p, 9, 5 << 11, 0, 0, 0, 0);
	cr_expect_eq(parse(&p, &q), WIRE_ERROR);
	cr_expect_eq(q.rcode, WIRE_NOTIMP);
	header(&p, 9, 2 << 11, 0, 0, 0, 0);
	cr_expect_eq(parse(&p, &q), WIRE_ERROR);
	cr_expect_eq(q.rcode, WIRE_NOTIMP);
}

Test(wire, bad_question_beats_opcode)
{
	struct pkt p;

	header(&p, 9, 4 << 11, 1, 0, 0, 0);
	raw(&p, "\xc0\x0c", 2);
	u16(&p, T_A);
	u16(&p, C_IN);
	expect_formerr(&p, "notify with a pointer");
}

/* --- EDNS(0) ------------------------------------------------------------------------ */

Test(wire, opt_parsed)
{
	struct pkt p;
	struct wire_query q;

	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 4096, 0, true, NULL, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect(q.edns);
	cr_expect_eq(q.edns_size, 4096);
	cr_expect_eq(q.edns_version, 0);
	cr_expect(q.edns_do);

	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 512, 0, false, NULL, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect(q.edns);
	cr_expect_eq(q.edns_size, 512);
	cr_expect_not(q.edns_do);
}

Test(wire, opt_version_and_odd_sizes_are_reported_not_judged)
{
	struct pkt p;
	struct wire_query q;

	/* BADVERS is answer.c's business: the parse just reports. */
	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 1232, 1, false, NULL, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.edns_version, 1);
	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 0, 255, true, NULL, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.edns_size, 0);
	cr_expect_eq(q.edns_version, 255);
	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 65535, 0, false, NULL, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.edns_size, 65535);
}

Test(wire, opt_with_options)
{
	struct pkt p;
	struct wire_query q;
	/* COOKIE (10) with an 8-byte client cookie, then NSID (3) empty. */
	static const uint8_t opts[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
	    0, 3, 0, 0};

	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 1400, 0, true, opts, sizeof(opts));
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect(q.edns);
	cr_expect_eq(q.edns_size, 1400);
	cr_expect(q.edns_do);
}

Test(wire, opt_after_other_additional_records)
{
	struct pkt p;
	struct wire_query q;

	/* A TSIG-like record with a compressed owner, then the OPT. */
	query(&p, "www.example.test.", T_A, 2);
	raw(&p, "\3key\xc0\x10", 6);
	u16(&p, T_TSIG);
	u16(&p, C_ANY);
	u32(&p, 0);
	u16(&p, 3);
	raw(&p, "abc", 3);
	opt(&p, 2048, 0, false, NULL, 0);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect(q.edns);
	cr_expect_eq(q.edns_size, 2048);
}

Test(wire, no_opt_among_additional_records)
{
	struct pkt p;
	struct wire_query q;

	query(&p, "www.example.test.", T_A, 1);
	raw(&p, "\xc0\x0c", 2);
	u16(&p, T_A);
	u16(&p, C_IN);
	u32(&p, 60);
	u16(&p, 4);
	raw(&p, "\1\2\3\4", 4);
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_not(q.edns);
}

Test(wire, two_opts)
{
	struct pkt p;

	query(&p, "www.example.test.", T_A, 2);
	opt(&p, 4096, 0, false, NULL, 0);
	opt(&p, 4096, 0, false, NULL, 0);
	expect_formerr(&p, "two OPT records");
}

Test(wire, opt_options_must_fill_the_rdata)
{
	struct pkt p;
	/* COOKIE that says 8 bytes and has 3; a 3-byte stub of an option;
	 * a good NSID then one byte too many. */
	static const uint8_t longer[] = {0, 10, 0, 8, 'a', 'b', 'c'};
	static const uint8_t stub[] = {0, 10, 0};
	static const uint8_t extra[] = {0, 3, 0, 0, 0};
	static const uint8_t empty_opts[] = {0, 12, 0, 0, 0, 3, 0, 0};
	struct wire_query q;

	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 1232, 0, false, longer, sizeof(longer));
	expect_formerr(&p, "option longer than the OPT");
	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 1232, 0, false, stub, sizeof(stub));
	expect_formerr(&p, "option header cut short");
	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 1232, 0, false, extra, sizeof(extra));
	expect_formerr(&p, "a byte after the last option");
	/* Zero-length options back to back are fine. */
	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 1232, 0, false, empty_opts, sizeof(empty_opts));
	cr_expect_eq(parse(&p, &q), WIRE_OK);
	cr_expect(q.edns);
}

Test(wire, opt_with_non_root_owner)
{
	struct pkt p;

	query(&p, "www.example.test.", T_A, 1);
	raw(&p, "\3www", 4);
	opt(&p, 4096, 0, false, NULL, 0);	/* its root label ends "www." */
	expect_formerr(&p, "OPT owned by www.");
	/* A pointer to the (root-ending) question name is not the root. */
	query(&p, "www.example.test.", T_A, 1);
	raw(&p, "\xc0\x0c", 2);
	u16(&p, T_OPT);
	u16(&p, 4096);
	u32(&p, 0);
	u16(&p, 0);
	expect_formerr(&p, "OPT owner compressed");
}

Test(wire, truncated_additional)
{
	struct pkt full, p;

	query(&full, "www.example.test.", T_A, 1);
	opt(&full, 4096, 0, true, "\0\12\0\4abcd", 8);
	for (size_t len = full.len - 1; len >= 34; len--) {
		p = full;
		p.len = len;
		expect_formerr(&p, "truncated OPT");
	}
	/* ARCOUNT 1 and nothing there. */
	query(&p, "www.example.test.", T_A, 1);
	expect_formerr(&p, "arcount 1, no record");
	/* ARCOUNT 2, one record. */
	query(&p, "www.example.test.", T_A, 2);
	opt(&p, 4096, 0, false, NULL, 0);
	expect_formerr(&p, "arcount 2, one record");
	/* RDLENGTH past the end. */
	query(&p, "www.example.test.", T_A, 1);
	opt(&p, 4096, 0, false, NULL, 0);
	p.b[p.len - 1] = 1;
	expect_formerr(&p, "rdlength 1, no rdata");
}

Test(wire, bad_names_in_additional)
{
	struct pkt p;

	/* An owner name longer than 255 bytes. */
	query(&p, "www.example.test.", T_A, 1);
	for (int i = 0; i < 5; i++) {
		u8(&p, 63);
		for (int j = 0; j < 63; j++)
			u8(&p, 'z');
	}
	u8(&p, 0);
	u16(&p, T_A);
	u16(&p, C_IN);
	u32(&p, 0);
	u16(&p, 0);
	expect_formerr(&p, "long owner in additional");
	/* An extended label type. */
	query(&p, "www.example.test.", T_A, 1);
	raw(&p, "\x41zz\0", 4);
	u16(&p, T_A);
	u16(&p, C_IN);
	u32(&p, 0);
	u16(&p, 0);
	expect_formerr(&p, "extended label in additional");
	/* A pointer cut in half at the end. */
	query(&p, "www.example.test.", T_A, 1);
	raw(&p, "\xc0", 1);
	expect_formerr(&p, "half a pointer");
}

/* --- wire_write_opt and helpers ------------------------------------------------------ */

Test(wire, write_opt)
{
	uint8_t out[WIRE_OPT_LEN + 1];

	memset(out, 0xee, sizeof(out));
	wire_write_opt(out, 1232, 1, true);
	cr_expect_arr_eq(out, "\0\0\x29\x04\xd0\x01\0\x80\0\0\0", WIRE_OPT_LEN);
	cr_expect_eq(out[WIRE_OPT_LEN], 0xee);
	wire_write_opt(out, 512, 0, false);
	cr_expect_arr_eq(out, "\0\0\x29\x02\0\0\0\0\0\0\0", WIRE_OPT_LEN);
}

Test(wire, write_opt_parses_back)
{
	struct pkt p;
	struct wire_query q;
	uint8_t o[WIRE_OPT_LEN];

	wire_write_opt(o, 3333, 0, true);
	query(&p, "x.", T_A, 1);
	raw(&p, o, sizeof(o));
	cr_assert_eq(parse(&p, &q), WIRE_OK);
	cr_expect_eq(q.edns_size, 3333);
	cr_expect(q.edns_do);
}

Test(wire, get_put_16)
{
	uint8_t b[2];

	wire_put16(b, 0xbeef);
	cr_expect_eq(b[0], 0xbe);
	cr_expect_eq(b[1], 0xef);
	cr_expect_eq(wire_get16(b), 0xbeef);
}

/* --- bounds: prefixes and mutations ---------------------------------------------------- */

static void
check_invariants(const struct pkt *p, enum wire_verdict v,
    const struct wire_query *q)
{
	if (v == WIRE_DROP)
		return;
	if (q->has_question) {
		cr_assert_leq(q->question_end, p->len);
		cr_assert_geq(q->qname_len, 1);
		cr_assert_eq(dname_len(q->lname), q->qname_len);
		cr_assert_eq(q->question_end, WIRE_HDRLEN + q->qname_len + 4u);
		for (size_t i = 0; i < q->qname_len; i++)
			cr_assert(q->lname[i] < 'A' || q->lname[i] > 'Z');
	}
	if (v == WIRE_OK) {
		cr_assert(q->has_question);
		cr_assert_eq(q->qdcount, 1);
		cr_assert_eq(q->ancount, 0);
		cr_assert_eq(q->nscount, 0);
		cr_assert_eq(q->opcode, 0);
	} else
		cr_assert(q->rcode == WIRE_FORMERR || q->rcode == WIRE_NOTIMP);
}

Test(wire, every_prefix_of_an_edns_query)
{
	struct pkt full;

	query(&full, "Www.Example.Test.", T_A, 1);
	opt(&full, 4096, 0, true, "\0\12\0\4abcd", 8);
	for (size_t len = 0; len <= full.len; len++) {
		struct pkt p = full;
		struct wire_query q;
		enum wire_verdict v;

		p.len = len;
		v = parse(&p, &q);
		check_invariants(&p, v, &q);
		if (len == full.len)
			cr_expect_eq(v, WIRE_OK);
		else if (len < WIRE_HDRLEN)
			cr_expect_eq(v, WIRE_DROP, "length %zu", len);
		else
			cr_expect_eq(v, WIRE_ERROR, "length %zu", len);
	}
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

Test(wire, random_mutations_stay_in_bounds)
{
	uint32_t seed = 0x9e3779b9;
	struct pkt base;

	query(&base, "mutate.example.test.", T_A, 2);
	raw(&base, "\3key\xc0\x0c", 6);
	u16(&base, T_TSIG);
	u16(&base, C_ANY);
	u32(&base, 0);
	u16(&base, 2);
	raw(&base, "ab", 2);
	opt(&base, 1232, 0, true, "\0\12\0\2ab", 6);
	for (int iter = 0; iter < 200000; iter++) {
		struct pkt p = base;
		struct wire_query q;
		unsigned nmut = 1 + rnd(&seed) % 4;

		for (unsigned m = 0; m < nmut; m++) {
			size_t pos = rnd(&seed) % p.len;

			switch (rnd(&seed) % 4) {
			case 0:
				p.b[pos] = (uint8_t)rnd(&seed);
				break;
			case 1:
				p.b[pos] ^= (uint8_t)(1u << (rnd(&seed) % 8));
				break;
			case 2:
				p.len = pos + 1;
				break;
			default:
				/* Interesting values into length bytes. */
				p.b[pos] = (uint8_t[]){0, 1, 63, 64, 0xc0,
				    0xff}[rnd(&seed) % 6];
				break;
			}
		}
		check_invariants(&p, parse(&p, &q), &q);
	}
}
