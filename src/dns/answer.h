/*
 * answer.h -- one query in, one response out.
 *
 * answer_query() is the whole query path short of sockets: parse the
 * message, pick the view from the client address, look the question up in
 * the current table and copy the template behind the client's question,
 * applying EDNS(0), truncation and error rcodes. Pure: no I/O, no
 * allocation, no lock; any thread may call it on a table it holds.
 */
#ifndef DNS_ANSWER_H
#define DNS_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct table;

/* What happened, for counters and logs. */
struct answer_info {
	int		view;		/* -1: none matched */
	uint16_t	qtype;
	uint16_t	rcode;		/* 12-bit, as sent */
	bool		truncated;
	bool		dropped;
	bool		malformed;	/* FORMERR or dropped for shape */
};

/*
 * Answer the len bytes at pkt, received from client over TCP or UDP, into
 * out (outsize bytes: at least 512, 65535 for TCP). Returns the response
 * length, or 0 when the message gets no response at all. info may be NULL.
 */
size_t	answer_query(const struct table *t, const uint8_t *pkt, size_t len,
	    const struct sockaddr *client, bool tcp, uint8_t *out,
	    size_t outsize, struct answer_info *info);

#endif
