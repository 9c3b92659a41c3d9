/*
 * wire.h -- DNS message parsing and writing for the query path.
 *
 * wire_parse_query() is a bounded parse of a received message: header,
 * the one question, and the additional section (for the EDNS OPT record).
 * It never reads past len, follows no compression pointer, and allocates
 * nothing. Everything it finds goes into a struct wire_query that lives on
 * the caller's stack.
 */
#ifndef DNS_WIRE_H
#define DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/dname.h"

#define WIRE_HDRLEN		12
#define WIRE_OPT_LEN		11	/* an OPT record without options */
#define WIRE_UDP_MIN		512

/* Header flag bits (second 16-bit word). */
#define WIRE_QR			0x8000
#define WIRE_OPCODE_MASK	0x7800
#define WIRE_AA			0x0400
#define WIRE_TC			0x0200
#define WIRE_RD			0x0100
#define WIRE_RA			0x0080
#define WIRE_AD			0x0020
#define WIRE_CD			0x0010
#define WIRE_RCODE_MASK		0x000f

enum wire_rcode {
	WIRE_NOERROR = 0,
	WIRE_FORMERR = 1,
	WIRE_SERVFAIL = 2,
	WIRE_NXDOMAIN = 3,
	WIRE_NOTIMP = 4,
	WIRE_REFUSED = 5,
	WIRE_BADVERS = 16	/* extended: needs OPT */
};

enum wire_verdict {
	WIRE_OK = 0,		/* a well-formed query */
	WIRE_DROP,		/* not worth an answer (a response, a runt) */
	WIRE_ERROR		/* answer with rcode (question if has_question) */
};

struct wire_query {
	uint16_t	id;
	uint16_t	flags;		/* as received */
	uint8_t		opcode;
	uint16_t	qdcount, ancount, nscount, arcount;
	/* The question, when has_question. */
	bool		has_question;
	uint8_t		qname_len;	/* wire length, root label included */
	uint8_t		lname[DNAME_MAXLEN]; /* lower-case copy */
	uint16_t	qtype, qclass;
	size_t		question_end;	/* offset just past the question */
	/* EDNS(0) */
	bool		edns;
	uint16_t	edns_size;	/* the client's payload size */
	uint8_t		edns_version;
	bool		edns_do;
	/* For WIRE_ERROR: the rcode to answer with. */
	enum wire_rcode	rcode;
};

/*
 * Parse pkt[0..len). Returns the verdict; q is filled as far as parsing
 * got. The question name stays in pkt at offset WIRE_HDRLEN, qname_len
 * bytes long: replies copy it from there to echo the client's case.
 */
enum wire_verdict	wire_parse_query(const uint8_t *pkt, size_t len,
			    struct wire_query *q);

/*
 * Write an OPT record advertising payload, with extended rcode ext (the
 * upper 8 bits of a 12-bit rcode) and the DO bit, at out (WIRE_OPT_LEN
 * bytes).
 */
void	wire_write_opt(uint8_t *out, uint16_t payload, uint8_t ext, bool dobit);

static inline uint16_t
wire_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif
