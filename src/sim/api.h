/*
 * api.h -- the four route53-recovery-cluster operations of arcsim.
 *
 * sim_api_call() takes one data-plane request (its X-Amz-Target and raw
 * JSON body, SigV4 already verified by the HTTP layer) and produces the
 * HTTP status and JSON body that AWS would send: full request validation
 * (spec/arc-data-plane.md sections 3-5), pagination with opaque tokens,
 * the ControlPanelArn filter, atomic batch updates, safety rules evaluated
 * on the state an update would produce, SafetyRulesToOverride. Pure: no
 * I/O; the time is passed in. Not thread-safe: one loop owns the cluster.
 */
#ifndef SIM_API_H
#define SIM_API_H

#include <stddef.h>
#include <stdint.h>

struct sim_cluster;

struct sim_reply {
	int		 status;	/* HTTP status */
	char		*body;		/* new JSON text, never NULL after a call */
	const char	*error_type;	/* "__type" sent, or NULL on success */
	int		 retry_after;	/* seconds for Retry-After, or -1 */
	int		 changed;	/* number of controls whose state changed */
};

/*
 * Handle target ("ToggleCustomerAPI.ListRoutingControls", ...) with the
 * len bytes of body (empty = "{}") on cluster c at now_ms. Fills *out;
 * the caller frees it with sim_reply_fini().
 */
void	sim_api_call(struct sim_cluster *c, const char *target,
	    const uint8_t *body, size_t len, uint64_t now_ms,
	    struct sim_reply *out);

/*
 * An error reply with the modelled or generic __type and a message, for
 * the HTTP layer's own refusals (SigV4, faults, throttling). retry_after
 * < 0 leaves it out of the body.
 */
void	sim_reply_error(struct sim_reply *r, int status, const char *type,
	    const char *message, int retry_after);

void	sim_reply_fini(struct sim_reply *r);

#endif
