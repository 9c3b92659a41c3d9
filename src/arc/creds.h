/*
 * creds.h -- AWS credentials for signing ARC requests: the "auto" chain
 * and its single sources (spec/arc-data-plane.md section 11).
 *
 * Sources: environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN / AWS_SECURITY_TOKEN, AWS_CREDENTIAL_EXPIRATION);
 * shared credentials file and profile (AWS_SHARED_CREDENTIALS_FILE,
 * AWS_CONFIG_FILE, AWS_PROFILE); container credentials (ECS and EKS Pod
 * Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]); EC2 IMDSv2; web identity
 * (IRSA) when done well. "auto" tries them in botocore's order.
 *
 * Fetches run asynchronously through curl_ev on the caller's loop; a
 * temporary credential is refreshed before it expires (advisory 15 min,
 * mandatory 10 min before), and a still-valid old one is kept when a
 * refresh fails. Secrets never reach logs, errors or metrics: messages
 * name the source and the failure, never a key, secret or token.
 */
#ifndef ARC_CREDS_H
#define ARC_CREDS_H

#include <stdbool.h>
#include <stdint.h>

struct creds;
struct curl_ev;
struct event_base;
struct sigv4_creds;

enum creds_source {
	CREDS_AUTO = 0,
	CREDS_ENV,
	CREDS_PROFILE,
	CREDS_CONTAINER,
	CREDS_IMDS,
	CREDS_WEB_IDENTITY
};

/* "auto", "env", "profile", "container", "imds", "web-identity". */
int		 creds_source_parse(const char *s, enum creds_source *out)
		    __attribute__((warn_unused_result));
const char	*creds_source_str(enum creds_source s);

/*
 * A provider for src on base, fetching through ce (both borrowed). The
 * environment is read through getenv_fn (NULL: getenv), so tests can
 * inject one. ready_cb (may be NULL) runs on the loop each time new
 * credentials become available or a fetch fails for good.
 */
struct creds	*creds_new(struct event_base *base, struct curl_ev *ce,
		    enum creds_source src,
		    const char *(*getenv_fn)(const char *name, void *arg),
		    void *getenv_arg,
		    void (*ready_cb)(struct creds *c, void *arg), void *arg);
void		 creds_free(struct creds *c);

/* Begin (asynchronously) to obtain credentials; schedules refreshes. */
void		 creds_start(struct creds *c);

/*
 * The credentials valid at now_ms (wall clock), borrowed until the next
 * call into this module, or NULL when none are (yet) available.
 */
const struct sigv4_creds	*creds_current(struct creds *c, uint64_t now_ms);

/*
 * The endpoint refused the signature or the token (InvalidSignature,
 * ExpiredToken, UnrecognizedClient): refresh once, now.
 */
void		 creds_invalidate(struct creds *c);

/* The source that gave the current credentials ("env", ...), for logs. */
const char	*creds_origin(const struct creds *c);

/*
 * Additions (creds helper, issue 4): introspection for logs, health and
 * tests, and the pure pieces of the refresh policy.
 */

/*
 * Notes on the calls above: ready_cb runs after a fetch that gave new
 * credentials, and after a failed one when no valid credentials are held
 * (never while valid old ones are kept); it must not call creds_free.
 * creds_current gives credentials until their Expiration, no margin.
 * creds_invalidate starts at most one fetch a second (a later call in the
 * same second is deferred to its end); it keeps the current credentials.
 */

/*
 * Use profile (copied; NULL: AWS_PROFILE, else "default") for the profile
 * source and the profile step of auto, e.g. from conf arc.profile. Call
 * before creds_start.
 */
void		 creds_set_profile(struct creds *c, const char *profile);

/*
 * May AWS_CONTAINER_CREDENTIALS_FULL_URI url receive the container token?
 * Any https URL; http only to a loopback address (or "localhost"),
 * 169.254.170.2, 169.254.170.23 or fd00:ec2::23. Pure.
 */
bool		 creds_container_url_ok(const char *url);

/* When the current credentials expire (wall ms); 0: none held or static. */
uint64_t	 creds_expiration(const struct creds *c);

/* Failed fetches since the last success (0 after a success). */
unsigned	 creds_failures(const struct creds *c);

/*
 * When to refresh credentials expiring at expires_ms, seen at now_ms (both
 * wall ms): 15 min before expiry (advisory) when 30 min or more are left;
 * otherwise after half of what is left, but not sooner than a minute (or
 * 1 s before expiry); never sooner than now_ms + 1 s. Pure.
 */
uint64_t	 creds_refresh_at(uint64_t now_ms, uint64_t expires_ms);

/*
 * Parse an ISO 8601 UTC time as AWS writes it ("2024-05-01T12:34:56Z",
 * optional fraction, "Z" or +hh:mm offset) into wall ms. 0 or ERR_PARSE /
 * ERR_INVAL. Pure.
 */
int		 creds_parse_time(const char *s, uint64_t *out_ms)
		    __attribute__((warn_unused_result));

#endif
