/*
 * tsig.h -- TSIG (RFC 8945): verify a signed DNS message, sign one.
 *
 * Pure: no I/O, no allocation, the time (UNIX seconds) is an argument.
 * One struct tsig_ctx follows one exchange:
 *
 *   server (zone transfer): tsig_init(key), tsig_verify(request): 0, or
 *     ctx.error says BADKEY/BADSIG/BADTIME for a NOTAUTH reply; then
 *     tsig_sign() on every reply message in order. The first one is
 *     signed over the request MAC and the full TSIG variables, later
 *     ones over the prior MAC and the timers only (RFC 8945 5.3.1).
 *     BADKEY and BADSIG replies carry an unsigned TSIG (no MAC); BADTIME
 *     is signed and carries our time in Other Data (5.2.3).
 *   client (NOTIFY): tsig_init(key), tsig_sign(request), then
 *     tsig_verify(reply) checks it over the request MAC.
 *
 * Algorithms: hmac-md5 (hmac-md5.sig-alg.reg.int), hmac-sha1,
 * hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512. Only full-length
 * MACs are accepted. Secrets never leave this module, not even in logs.
 */
#ifndef DNS_TSIG_H
#define DNS_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/dname.h"

struct conf_key;

#define TSIG_TYPE		250
#define TSIG_FUDGE		300	/* seconds, RFC 8945 10 */
#define TSIG_MAC_MAX		64	/* SHA-512 */
#define TSIG_ALG_MAX		64	/* our longest algorithm name, wire */
/* The most a TSIG record adds to a message. */
#define TSIG_RR_MAX		(DNAME_MAXLEN + 10 + TSIG_ALG_MAX + 16 + \
				    TSIG_MAC_MAX + 6)

/* TSIG error codes (the RR's Error field; the header says NOTAUTH). */
enum tsig_error {
	TSIG_NOERROR = 0,
	TSIG_BADSIG = 16,
	TSIG_BADKEY = 17,
	TSIG_BADTIME = 18
};

#define TSIG_RCODE_NOTAUTH	9

struct tsig_ctx {
	const struct conf_key	*key;	/* borrowed for the exchange */
	uint16_t		 error;	/* enum tsig_error of the request */
	unsigned		 nsigned; /* messages signed so far */
	uint8_t			 mac[TSIG_MAC_MAX]; /* the last MAC seen or made */
	size_t			 maclen;	/* 0: none yet */
	uint64_t		 req_time;	/* Time Signed of the request */
	/* The request's key and algorithm names (lower case wire). */
	uint8_t			 name[DNAME_MAXLEN];
	size_t			 namelen;
	uint8_t			 alg[DNAME_MAXLEN];
	size_t			 alglen;
};

/* True when name ("hmac-sha256", case-insensitive) is supported. */
bool	tsig_algorithm_known(const char *name);

/* Start an exchange with key (borrowed, must outlive ctx; not NULL). */
void	tsig_init(struct tsig_ctx *ctx, const struct conf_key *key);

/*
 * Offset of the TSIG record of msg (the last record of the additional
 * section) in *off. Returns 0, ERR_NOTFOUND when the message carries
 * none, ERR_FORMAT when it is malformed (a TSIG not last included).
 */
int	tsig_find(const uint8_t *msg, size_t len, size_t *off)
	    __attribute__((warn_unused_result));

/*
 * Verify msg against ctx->key at time now, over ctx->mac when there is
 * one (a reply to a request we signed). Returns 0 (ctx->mac is now the
 * message's MAC), ERR_NOTFOUND (not signed), ERR_FORMAT (malformed), or
 * ERR_INVAL with ctx->error set: BADKEY (other key name or algorithm),
 * BADSIG (wrong MAC), BADTIME (outside Time Signed +- Fudge).
 */
int	tsig_verify(struct tsig_ctx *ctx, const uint8_t *msg, size_t len,
	    uint64_t now) __attribute__((warn_unused_result));

/*
 * Append a TSIG record to the len-byte message at msg (cap bytes of
 * room; TSIG_RR_MAX always suffice) and count it in ARCOUNT; see the top
 * of this file for what is signed. Returns the new length, or 0 when it
 * does not fit.
 */
size_t	tsig_sign(struct tsig_ctx *ctx, uint8_t *msg, size_t len, size_t cap,
	    uint64_t now);

#endif
