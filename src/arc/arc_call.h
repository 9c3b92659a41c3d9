/*
 * arc_call.h -- one-shot ARC data-plane calls with endpoint failover, for
 * arcdnsctl: list every routing control (all pages), get one state,
 * update one state, update several states in one transaction.
 *
 * The same pieces as the daemon's poller: curl_ev on the caller's event
 * base, creds for the credentials, arc_req to build, sign and send (TLS
 * always verified, the config's ca-file honoured), arc_classify to read
 * the outcome (spec/arc-data-plane.md sections 5 and 8).
 *
 * Failover. The configured endpoints are shuffled once when the caller
 * is made (as the daemon and AWS's examples do: an operator's commands
 * spread over the cluster instead of all landing on the first region),
 * then each call asks them in that order, each at most once:
 *   - transport failure, TLS failure, timeout, 5xx, non-JSON reply,
 *     EndpointTemporarilyUnavailable, InternalServer (ARC_CLASS_ENDPOINT)
 *     and ThrottlingException (ARC_CLASS_THROTTLE): the next endpoint at
 *     once;
 *   - InvalidSignature, ExpiredToken, UnrecognizedClient... (ARC_CLASS_AUTH):
 *     the credentials are refreshed and the same endpoint asked once more,
 *     then the call fails;
 *   - AccessDenied, Validation, ResourceNotFound, Conflict (a safety rule),
 *     ServiceLimitExceeded (ARC_CLASS_CONFIG): the call stops and reports
 *     the error; asking another endpoint would get the same answer.
 * A call that fails over after sending an update may apply it twice: that
 * is harmless, updates set a target state (spec section 8). A list that
 * fails on a later page starts again from the first page on the next
 * endpoint (page tokens are not shared between endpoints).
 *
 * Bounded: each request has the config's arc.timeout (less when the
 * deadline is nearer), and the whole call a deadline (arc_call_opts);
 * when it passes, the request in flight is cancelled and the call fails
 * with ERR_LIMIT. Waiting for credentials counts against the deadline.
 */
#ifndef ARC_ARC_CALL_H
#define ARC_ARC_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arc/arc_client.h"

struct arc_call;
struct conf_arc;
struct creds;
struct curl_ev;
struct event_base;

#define ARC_CALL_MAX_ENTRIES	10	/* UpdateRoutingControlStates quota */

/* Options of a caller; zeroes mean the defaults. */
struct arc_call_opts {
	/*
	 * Whole call, credentials included. 0: every endpoint's timeout
	 * once, plus 2 s for the credentials.
	 */
	uint32_t		 deadline_ms;
	const struct arc_clock	*clock;		/* NULL: the real clocks */
	bool			 no_shuffle;	/* ask in the config's order */
};

/* One request of a call, for reports ("us-east-1: Connection refused"). */
struct arc_call_attempt {
	const char	*region;	/* borrowed from the conf */
	enum arc_class	 cls;
	char		 code[96];	/* error code or curl's text; "" ok */
	uint64_t	 ms;		/* how long it took */
};

/*
 * The outcome of a call, borrowed by the done callback: valid until the
 * next call starts on the same caller or the caller is freed.
 */
struct arc_call_result {
	int		 err;		/* 0; ERR_INVAL (the answer that ended the
					   call was an error: see cls and code),
					   ERR_LIMIT (deadline), ERR_IO (no
					   endpoint answered), ERR_PARSE (a 200
					   reply we could not read, on every
					   endpoint) */
	enum arc_class	 cls;		/* ARC_CLASS_OK, or of the last error */
	const char	*region;	/* the endpoint of the last answer, or
					   NULL */
	const char	*url;
	const char	*code;		/* error code ("ConflictException"),
					   "" on success */
	const char	*message;	/* a readable reason, "" on success;
					   the service's message (printable
					   ASCII, cut) for config errors */
	const char	*resource_id;	/* Conflict/ResourceNotFound members, */
	const char	*resource_type;	/* or NULL */
	/*
	 * list: every routing control of every page, in the order
	 * received; get: one entry. Entries' strings are borrowed too.
	 */
	const struct mirror_entry *entries;
	size_t		 nentries;
	const struct arc_call_attempt *attempts;	/* in order */
	size_t		 nattempts;
};

typedef void (*arc_call_done_cb)(const struct arc_call_result *r,
    void *arg);

/*
 * A caller for the arc: section ca (borrowed, must outlive it; its
 * endpoints, timeouts, ca-file and control-panel filter are used) on
 * base, fetching through ce with credentials from creds (all borrowed;
 * creds must have been started). opts may be NULL. Returns 0, or
 * ERR_INVAL with a new message in *errmsg (no endpoints, a URL that is
 * not https:// or loopback http://).
 */
int	arc_call_new(struct event_base *base, const struct conf_arc *ca,
	    struct curl_ev *ce, struct creds *creds,
	    const struct arc_call_opts *opts, struct arc_call **out,
	    char **errmsg) __attribute__((warn_unused_result));
/* NULL-safe; cancels a call in flight (its callback never runs). */
void	arc_call_free(struct arc_call *c);

/*
 * Start a call; cb runs once, from the loop, when it is over (never from
 * inside these functions). cb may start the next call on c or break the
 * loop, but must not free c (free it after the loop returns). One call at a time per caller: ERR_INVAL when
 * one is in flight, and for bad arguments (an empty ARN, no entries or
 * more than ARC_CALL_MAX_ENTRIES). overrides: safety-rule ARNs for
 * SafetyRulesToOverride (n 0: none). All arguments are copied.
 */
/* ListRoutingControls, every page (ControlPanelArn = arc.control-panel). */
int	arc_call_list(struct arc_call *c, arc_call_done_cb cb, void *arg)
	    __attribute__((warn_unused_result));
/* GetRoutingControlState. */
int	arc_call_get(struct arc_call *c, const char *arn, arc_call_done_cb cb,
	    void *arg) __attribute__((warn_unused_result));
/*
 * Update: UpdateRoutingControlState when n is 1 and !batch, else
 * UpdateRoutingControlStates with every entry (one transaction).
 */
struct arc_call_entry {
	const char	*arn;
	bool		 on;
};
int	arc_call_update(struct arc_call *c, const struct arc_call_entry *e,
	    size_t n, bool batch, const char *const *overrides,
	    size_t noverrides, arc_call_done_cb cb, void *arg)
	    __attribute__((warn_unused_result));

/* The endpoint order of this caller, for messages: region of the k-th. */
size_t		 arc_call_endpoints(const struct arc_call *c);
const char	*arc_call_endpoint_region(const struct arc_call *c, size_t k);

/* ---- pure helpers (exposed for tests) --------------------------------- */

/* The JSON body of a request (new strings). */
char	*arc_call_list_body(const char *panel_arn, const char *token);
char	*arc_call_get_body(const char *arn);
char	*arc_call_update_body(const struct arc_call_entry *e, size_t n,
	    bool batch, const char *const *overrides, size_t noverrides);

/*
 * Decode a GetRoutingControlState reply into *e (new strings: free
 * e->arn, e->name; panel_arn NULL). 0, or ERR_PARSE with a new message.
 */
int	arc_call_get_decode(const char *body, size_t len,
	    struct mirror_entry *e, char **errmsg)
	    __attribute__((warn_unused_result));

/*
 * The members of an error reply: message (or Message), resourceId and
 * resourceType, each new (NULL when absent or not a string); the
 * message reduced to printable ASCII and cut at 300 bytes.
 */
void	arc_call_error_members(const char *body, size_t len, char **message,
	    char **resource_id, char **resource_type);

/*
 * The safety rules a refusal names. ARC documents only that the message
 * contains the blocking rule's ARN (several may block); arcsim writes
 * "...safety rule ARN ('NAME': ...)". Every "/safetyrule/" ARN in the
 * message (and resource_id when it is one, first) is returned once, in
 * order, with the NAME that follows it in "('NAME'" form, else NULL.
 * Returns the count (at most max) written to rules; strings new.
 */
struct arc_rule_ref {
	char	*arn;
	char	*name;		/* NULL when the message does not say */
};
size_t	arc_call_conflict_rules(const char *message, const char *resource_id,
	    struct arc_rule_ref *rules, size_t max);
void	arc_rule_ref_fini(struct arc_rule_ref *r, size_t n);

#endif
