/*
 * xfr.h -- zone transfers (AXFR, and IXFR answered the same way, RFC 1995
 * 4), prebuilt.
 *
 * xfr_build() serializes one zone into the messages of a full transfer
 * when the answer tables are built: the SOA, every other RRset of every
 * name (delegations, glue and occluded names included), the SOA again;
 * at most XFR_MSG_SIZE bytes per message (a single larger record gets a
 * message of its own), names compressed within each message. The result
 * is immutable, owned by the table that holds it, and read by any TCP
 * worker.
 *
 * xfr_reply() turns it into the reply to one query (an IXFR whose SOA
 * has our serial or a later one gets our SOA alone, RFC 1995 2; any
 * other AXFR or IXFR the whole zone): each message gets
 * the query's ID, RD bit and question (the client's letter case); the
 * whole two-byte-length-prefixed TCP stream is returned on the heap, so
 * that the caller can let go of the table before sending it. It
 * allocates, so it stays off the UDP path.
 *
 * Access: a client outside the ACL gets one REFUSED message. With a key,
 * the query must be signed with it (RFC 8945): unsigned, NOTAUTH; another
 * key, NOTAUTH + BADKEY; wrong MAC, NOTAUTH + BADSIG; clock off by more
 * than the fudge, NOTAUTH + BADTIME. Then every message is signed, the
 * first over the request MAC, the others over the prior MAC.
 *
 * A zone with a name that answers SERVFAIL (an ARC-driven name whose
 * state is unknown, zone_add_servfail) is not transferred: SERVFAIL
 * (signed when the query was), so that secondaries keep the copy they
 * have, or serve nothing, rather than serve the zone without that name.
 */
#ifndef DNS_XFR_H
#define DNS_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct conf_key;
struct netprefix;
struct zone;
struct xfr;

#define XFR_MSG_SIZE	16384	/* soft limit of one message */
#define XFR_TYPE_IXFR	251
#define XFR_TYPE_AXFR	252

/*
 * New transfer of z (finished; borrowed during the call only: what is
 * needed is copied) for clients in acl[0..nacl) (copied; none: nobody),
 * requiring TSIG with key when key is not NULL (copied).
 */
struct xfr	*xfr_build(const struct zone *z, const struct netprefix *acl,
		    size_t nacl, const struct conf_key *key);
/* NULL-safe. */
void		 xfr_free(struct xfr *x);

/* Messages of a full transfer, and records in them (SOA twice). */
size_t		 xfr_messages(const struct xfr *x);
size_t		 xfr_records(const struct xfr *x);
/* The zone's origin (lower-case wire) and serial. Borrowed from x. */
const uint8_t	*xfr_origin(const struct xfr *x);
uint32_t	 xfr_serial(const struct xfr *x);

/*
 * True when the len-byte message at pkt is a standard query with one
 * question of type AXFR or IXFR, class IN; its name is then copied in
 * lower case to lname (DNAME_MAXLEN bytes) and its length to *lnamelen.
 * Does not allocate.
 */
bool	xfr_is_query(const uint8_t *pkt, size_t len, uint8_t *lname,
	    size_t *lnamelen);

/*
 * The reply to the qlen-byte query (for which xfr_is_query() holds and
 * whose name is x's origin) from client, at time now (UNIX seconds): a
 * new buffer in *out (the caller frees it) holding *outlen bytes of
 * length-prefixed messages. Returns 0, or ERR_FORMAT when the query is
 * malformed (nothing to send: close the connection).
 */
int	xfr_reply(const struct xfr *x, const uint8_t *query, size_t qlen,
	    const struct sockaddr *client, uint64_t now, uint8_t **out,
	    size_t *outlen) __attribute__((warn_unused_result));

#endif
