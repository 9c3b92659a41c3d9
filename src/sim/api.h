/*
 * api.h -- the four route53-recovery-cluster operations of arcsim.
 *
 * sim_api_call() takes one data-plane request (its X-Amz-Target and raw
 * JSON body, SigV4 already verified by the HTTP layer) and produces the
 * HTTP status and JSON body that AWS would send: full request validation
 * (spec/arc-data-plane.md sections 3-5), pagination with opaque tokens,
 * the ControlPanelArn filter, atomic batch updates, safety rules evaluated
 * on the state an update would produce, SafetyRulesToOverride. Pure: no
 * I/O; the time is passed in. Not thread-safe: one loop owns the cluster. *
 * Checks, in order, and what they answer (statuses are the Smithy column
 * of spec 5.1 unless sim.yaml says error-status: api-reference; see
 * sim_api_status()):
 *  1. target: not "ToggleCustomerAPI.<one of the four>" (or NULL) ->
 *     400 ValidationException, reason unknownOperation.
 *  2. body: an empty body is {}; anything but one JSON object, invalid
 *     UTF-8, a NUL in a string, a key twice, or a member of the wrong
 *     JSON type (MaxResults not an integer, a list that is not a list...)
 *     -> 400 ValidationException, reason cannotParse, no fields. A JSON
 *     null is an absent member. Members the model does not have are
 *     ignored, as AWS services do (forward compatibility).
 *  3. constraints, all reported at once -> 400 ValidationException,
 *     reason fieldValidationFailed, fields [{name, message}], message in
 *     AWS's words: "N validation error(s) detected: Value 'x' at 'Member'
 *     failed to satisfy constraint: Member must ...; ...". Field names
 *     are wire member names with list indexes:
 *     "UpdateRoutingControlStateEntries[0].RoutingControlState". Checked:
 *     required members; Arn length 1-255 (characters) and
 *     ^[A-Za-z0-9:.\/_-]*$ (RoutingControlArn, ControlPanelArn, each
 *     SafetyRulesToOverride entry); RoutingControlState exactly On|Off;
 *     MaxResults >= 1; NextToken length 1-8096 and no whitespace;
 *     UpdateRoutingControlStateEntries not empty (the model sets no
 *     minimum and AWS documents none, spec 12.5: an empty transaction is
 *     refused rather than silently accepted).
 *  4. UpdateRoutingControlStates with more than 10 entries -> 402
 *     ServiceLimitExceededException, limitCode
 *     "RoutingControlStateUpdatesPerCall", serviceCode
 *     "route53-recovery-cluster". The same ARN twice in one batch ->
 *     400 ValidationException fieldValidationFailed (which state would
 *     win is defined nowhere, so it is refused).
 *  5. lookups: an unknown routing control -> 404 ResourceNotFoundException,
 *     resourceId = the ARN, resourceType "RoutingControl" (the first
 *     unknown one of a batch); a ControlPanelArn filter naming no panel ->
 *     404 ResourceNotFoundException, resourceType "ControlPanel" (the
 *     operation models ResourceNotFoundException, and an empty list would
 *     hide a typo in a client's configuration). SafetyRulesToOverride
 *     entries naming no rule are ignored.
 *  6. NextToken: base64url of a private "arcsim1.<offset>.<filter hash>";
 *     a token that does not decode, points past the list, or was made for
 *     another ControlPanelArn -> 400 ValidationException,
 *     fieldValidationFailed, field NextToken. MaxResults above 500 is
 *     taken as 500 (the documented default and cap). NextToken appears
 *     only when more controls remain.
 *  7. safety rules (cluster.h, sim_cluster_update) -> 409
 *     ConflictException, resourceId = the first blocking rule's ARN,
 *     resourceType "SafetyRule", message naming every blocking rule's
 *     ARN; nothing is applied.
 * Success: 200; Get {"RoutingControlArn","RoutingControlName",
 * "RoutingControlState"}; List {"RoutingControls":[{ControlPanelArn,
 * ControlPanelName, RoutingControlArn, RoutingControlName,
 * RoutingControlState, Owner}...], "NextToken"?}; both updates {}.
 * Every error body has "__type" (the plain shape name) and "message",
 * plus the shape's required members.
 */
#ifndef SIM_API_H
#define SIM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_cluster;

struct sim_reply {
	int		 status;	/* HTTP status */
	char		*body;		/* new JSON text, never NULL after a call */
	/*
	 * "__type" sent, or NULL on success: a static string for the types
	 * api.c knows (every modelled error and the 403s of spec 5.4), else
	 * the type pointer given to sim_reply_error().
	 */
	const char	*error_type;
	int		 retry_after;	/* seconds for Retry-After, or -1 */
	int		 changed;	/* number of controls whose state changed */
};

/*
 * Handle target ("ToggleCustomerAPI.ListRoutingControls", ...; NULL when
 * the header is missing) with the len bytes of body (empty = "{}") on
 * cluster c at now_ms (ms since the epoch, > 0: the time of any state
 * change). Fills *out, overwriting it; the caller frees it with
 * sim_reply_fini(). out->changed > 0 means states changed: the HTTP layer
 * saves the state file and logs.
 */
void	sim_api_call(struct sim_cluster *c, const char *target,
	    const uint8_t *body, size_t len, uint64_t now_ms,
	    struct sim_reply *out);

/*
 * An error reply with the modelled or generic __type and a message, for
 * the HTTP layer's own refusals (SigV4, faults, throttling). retry_after
 * >= 0 adds "retryAfterSeconds" to the body (and sets r->retry_after);
 * < 0 leaves it out. r is overwritten: pass a fresh or finalised reply.
 */
void	sim_reply_error(struct sim_reply *r, int status, const char *type,
	    const char *message, int retry_after);

/* NULL-safe; leaves body NULL and retry_after -1. */
void	sim_reply_fini(struct sim_reply *r);

#define SIM_API_TARGET_PREFIX	"ToggleCustomerAPI."
#define SIM_API_MAX_ENTRIES	10	/* per UpdateRoutingControlStates */
#define SIM_API_MAX_RESULTS	500	/* page size cap and default */

/*
 * The operation a target names ("ListRoutingControls", ...; a static
 * string), or NULL when it is none of the four. For log lines.
 */
const char	*sim_api_operation(const char *target);

/*
 * True when target is one of the two update operations (the ones the
 * HTTP layer throttles to 3 per second per endpoint).
 */
bool		 sim_api_is_update(const char *target);

/*
 * The HTTP status for an error __type under the cluster's error-status
 * setting (spec 5.1: Smithy column by default, or the API reference's).
 * Unmodelled types: MissingAuthenticationTokenException,
 * InvalidSignatureException, UnrecognizedClientException and
 * ExpiredTokenException give 403; anything else 400. c may be NULL
 * (Smithy column).
 */
int		 sim_api_status(const struct sim_cluster *c, const char *type);

#endif
