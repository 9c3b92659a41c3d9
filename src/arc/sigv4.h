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

/* A request as it is (or will be) on the wire. Everything is borrowed. */
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
	const char	*access_key_id;
	const char	*secret_access_key;
	const char	*session_token;		/* NULL: none */
};

/* "YYYYMMDDTHHMMSSZ" for t into out (SIGV4_AMZDATE_LEN + 1 bytes). */
void	sigv4_amzdate(time_t t, char *out);

/*
 * Client side. req must already carry every header to be signed (Host,
 * Content-Type, X-Amz-Target, X-Amz-Date = sigv4_amzdate(now), and
 * X-Amz-Security-Token when creds has a token). Signs the headers named
 * above that are present, with region and service. Returns 0 and a new
 * string "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
 * in *authorization, or ERR_INVAL when a required header is missing.
 * Never logs; the caller must not log the result either.
 */
int	sigv4_sign(const struct sigv4_request *req, const struct sigv4_creds *c,
	    const char *region, const char *service, char **authorization)
	    __attribute__((warn_unused_result));

/* The intermediate values, for tests against the fixture vectors. */
struct sigv4_debug {
	char	*canonical_request;	/* new */
	char	*string_to_sign;	/* new */
	char	 signing_key_hex[65];
	char	 payload_hash[65];
	char	 signed_headers[256];
	char	 signature[65];
};
int	sigv4_sign_debug(const struct sigv4_request *req,
	    const struct sigv4_creds *c, const char *region, const char *service,
	    char **authorization, struct sigv4_debug *dbg)
	    __attribute__((warn_unused_result));
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
 * now, with at most max_skew seconds between X-Amz-Date and now.
 * Rebuilds the canonical request from the raw path, the headers named in
 * SignedHeaders and the raw body; compares in constant time. When the
 * key's credentials have a session token, X-Amz-Security-Token must be
 * present, signed, and equal to it.
 */
enum sigv4_verdict	sigv4_verify(const struct sigv4_request *req,
			    sigv4_lookup_fn lookup, void *arg,
			    const char *region, const char *service, time_t now,
			    long max_skew);

/* Short reason text for a verdict (no secrets), for logs and messages. */
const char	*sigv4_verdict_str(enum sigv4_verdict v);

#endif
