/*
 * sigv4.h -- AWS Signature Version 4 for the route53-recovery-cluster
 * data plane: signing (arcdnsd's ARC client, arcdnsctl) and verification
 * (arcsim). The only entry point for SigV4 in arcdns.
 *
 * Pure: no I/O, no clock (time is passed in), no global state. OpenSSL is
 * used for SHA-256 and HMAC inside sigv4.c only.
 *
 * The rules are those of spec/arc-data-plane.md section 6: POST, empty
 * canonical query string, the signed headers botocore signs
 * (content-type;host;x-amz-date[;x-amz-security-token];x-amz-target),
 * payload hash over the exact body bytes, scope
 * <YYYYMMDD>/<region>/<service>/aws4_request.
 */
#ifndef ARC_SIGV4_H
#define ARC_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SIGV4_SERVICE	"route53-recovery-cluster"
#define SIGV4_AMZDATE_LEN 16	/* "20240501T123456Z" */

struct sigv4_header {
	const char	*name;		/* any case, as received or to be sent */
	const char	*value;		/* raw; whitespace is collapsed when signing */
};

/*
 * A request as it is (or will be) on the wire. Everything is borrowed.
 * path and query are the request-target split at its first '?', neither
 * decoded (a server passes what it received; NULL query = none).
 */
struct sigv4_request {
	const char			*method;	/* "POST" */
	const char			*path;		/* raw path, e.g. "/v1" */
	const char			*query;		/* raw query, "" if none */
	const struct sigv4_header	*headers;
	size_t				 nheaders;
	const uint8_t			*body;
	size_t				 bodylen;
};

struct sigv4_creds {
	const char	*access_key_id;		/* see sigv4_is_access_key_id */
	const char	*secret_access_key;	/* non-empty */
	const char	*session_token;		/* NULL: none */
};

/*
 * True when s can be an access key id: 1..128 characters of [A-Za-z0-9_]
 * (IAM's pattern, without its minimum length so that AKIDEXAMPLE fits).
 * sigv4_sign refuses, and sigv4_verify never matches, any other id: use it
 * to validate configured keys.
 */
bool	sigv4_is_access_key_id(const char *s);

/*
 * "YYYYMMDDTHHMMSSZ" (UTC) for t into out (SIGV4_AMZDATE_LEN + 1 bytes).
 * t must lie in 1970..9999 (it comes from a clock, never from input).
 */
void	sigv4_amzdate(time_t t, char *out);

/*
 * Client side. req must already carry every header to be signed (Host,
 * Content-Type, X-Amz-Target, X-Amz-Date = sigv4_amzdate(now), and
 * X-Amz-Security-Token when creds has a token). Signs the headers named
 * above that are present (other headers, e.g. User-Agent, are left
 * unsigned), with region and service. Header names match in any case; a
 * name given more than once has its values joined with ',' in the order
 * given. The canonical URI is the path normalised and encoded as botocore
 * does (dot segments and empty segments removed, every byte but
 * [A-Za-z0-9_.~/-] percent-encoded, so an existing %XX becomes %25XX); a
 * non-empty query is canonicalised as botocore does for a raw URL query
 * (pairs sorted, not re-encoded).
 *
 * Returns 0 and a new string
 * "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
 * in *authorization (untouched on error); ERR_INVAL when Host or a
 * well-formed X-Amz-Date (exactly one) is missing, when creds has a token
 * and X-Amz-Security-Token is not exactly that token, or when an
 * identifier is unusable (access key id, empty secret, region or service
 * empty or with '/', ',' or white space); ERR_IO if OpenSSL fails.
 * Never logs; the caller must not log the result either.
 */
int	sigv4_sign(const struct sigv4_request *req, const struct sigv4_creds *c,
	    const char *region, const char *service, char **authorization)
	    __attribute__((warn_unused_result));

/*
 * The intermediate values, for tests against the fixture vectors. They
 * include the signing key: never log them outside tests.
 */
struct sigv4_debug {
	char	*canonical_request;	/* new */
	char	*string_to_sign;	/* new */
	char	*credential_scope;	/* new: date/region/service/term */
	char	 canonical_request_hash[65];
	char	 signing_key_hex[65];
	char	 payload_hash[65];
	char	 signed_headers[256];
	char	 signature[65];
};
/*
 * sigv4_sign, also filling *dbg. dbg is initialised on every path (all
 * empty on error), so sigv4_debug_fini is always safe afterwards.
 */
int	sigv4_sign_debug(const struct sigv4_request *req,
	    const struct sigv4_creds *c, const char *region, const char *service,
	    char **authorization, struct sigv4_debug *dbg)
	    __attribute__((warn_unused_result));
/* Frees the strings of dbg and wipes it. NULL-safe. */
void	sigv4_debug_fini(struct sigv4_debug *dbg);

/* Server side: why a request was refused (spec section 5.4). */
enum sigv4_verdict {
	SIGV4_OK = 0,
	SIGV4_MISSING,		/* no Authorization: MissingAuthenticationToken */
	SIGV4_MALFORMED,	/* unparsable Authorization or X-Amz-Date */
	SIGV4_UNKNOWN_KEY,	/* UnrecognizedClientException */
	SIGV4_BAD_SCOPE,	/* wrong region/service/date/terminator */
	SIGV4_SKEWED,		/* X-Amz-Date more than max_skew from now */
	SIGV4_BAD_TOKEN,	/* session token missing, unsigned or wrong */
	SIGV4_BAD_SIGNATURE	/* signature mismatch */
};

/*
 * Look up the credentials for an access key id: returns true and fills
 * *out (borrowed strings) when the key is known.
 */
typedef bool (*sigv4_lookup_fn)(const char *access_key_id,
    struct sigv4_creds *out, void *arg);

/*
 * Verify req as received at an endpoint of region for service, at time
 * now, with at most max_skew seconds between X-Amz-Date and now (either
 * way). Rebuilds the canonical request from the method, raw path and
 * query, the headers named in SignedHeaders (values of a repeated header
 * joined with ',') and the raw body; compares in constant time. lookup is
 * called at most once, only for a well-formed Authorization whose scope
 * and date pass. Checks, in this order, and the verdict of the first that
 * fails:
 *   no Authorization header                                -> MISSING
 *   more than one; not exactly
 *     "AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/term,
 *     SignedHeaders=a;b;c, Signature=<64 lower-case hex>" (',' may be
 *     followed by spaces, the value by white space; at most 4096 bytes;
 *     names lower-case, sorted, unique, at most 64); host or
 *     x-amz-date not signed; X-Amz-Date absent, repeated or not a valid
 *     YYYYMMDDTHHMMSSZ                                     -> MALFORMED
 *   term not aws4_request, region or service not ours, scope date not
 *     X-Amz-Date's date                                    -> BAD_SCOPE
 *   X-Amz-Date more than max_skew seconds from now         -> SKEWED
 *   lookup fails or gives an empty secret                  -> UNKNOWN_KEY
 *   X-Amz-Security-Token repeated, present but unsigned, present when
 *     the key has no token; or the key has a token and the header is
 *     absent, unsigned or different                        -> BAD_TOKEN
 *   a signed header absent; signature differs              -> BAD_SIGNATURE
 * Never logs and never copies a secret anywhere.
 */
enum sigv4_verdict	sigv4_verify(const struct sigv4_request *req,
			    sigv4_lookup_fn lookup, void *arg,
			    const char *region, const char *service, time_t now,
			    long max_skew);

/* Short reason text for a verdict (no secrets), for logs and messages. */
const char	*sigv4_verdict_str(enum sigv4_verdict v);

#endif
