/*
 * policy.h -- the policy engine: routing-control states -> the answers of
 * every zone block.
 *
 * A policy belongs to one loaded configuration: its zone blocks, their
 * static zones (loaded from the zone files) and their records: (the
 * ARC-driven names). policy_new() checks the records against the static
 * zones; policy_eval() turns a set of control states into one merged zone
 * per zone block -- the static data plus every ARC-driven RRset at its
 * current value, with the block's current SOA serial -- ready for
 * table_build(). It runs on the main thread, off the query path.
 *
 * Per record (conf.h "records"):
 *   failover    the first target whose control is On;
 *   multivalue  every target whose control is On, in target order;
 *   role        "<region>.<name>" TXT "active" for the region failover
 *               would pick, "passive" for the other targets' regions;
 *   none On     when-none-on: first (the first target), servfail, nodata;
 *   unknown     a control whose state the decision needs is unknown (no
 *               mirror yet, never listed): the name answers SERVFAIL (for
 *               a CNAME, every type; role: every role name).
 * Local invariant, checked on the result whatever the states say: a
 * failover name carries the values of exactly one target, never a mix;
 * a violation withdraws the name (SERVFAIL) and logs an error.
 *
 * Serials: each zone block with records has a content hash (everything
 * but the SOA serial) and a serial. When an evaluation gives the block new
 * content, its serial moves forward (RFC 1982): to the zone file's serial
 * when that is newer, else to the last serial plus one. A block without
 * records serves its zone file's serial, whatever it is, as NSD would. policy_eval() only proposes;
 * policy_commit() makes the proposal current, so that a check or a failed
 * build never moves a serial. Serials persist in a state file
 * (policy_save_serials) so that they stay monotonic across restarts.
 */
#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mirror/mirror.h"

struct conf;
struct policy;
struct zone;

/*
 * A policy for conf with static zones[i] for zone block i (both borrowed:
 * they must outlive the policy). Checks every ARC-driven name against its
 * static zone: no static data at it (at the apex: not of the same type,
 * and no CNAME there), not at or below a zone cut. Returns 0, or
 * ERR_INVAL with "conf:line:col: message" in *errmsg.
 */
int	policy_new(const struct conf *conf, struct zone *const *zones,
	    struct policy **out, char **errmsg)
	    __attribute__((warn_unused_result));
/* NULL-safe. */
void	policy_free(struct policy *p);

/*
 * Take the committed serials of old (another configuration's policy) for
 * the zone blocks of p with the same id and origin.
 */
void	policy_inherit(struct policy *p, const struct policy *old);

/*
 * Evaluate for states[i], the state of conf control i (NULL: every state
 * unknown). On success *out is a new array of conf->nzones finished
 * zones (policy_zones_free) and serials are proposed. A block without
 * records gets its static zone itself, not a copy: read only, and valid
 * as long as the policy. Returns 0, or an error with *errmsg.
 */
int	policy_eval(struct policy *p, const enum mirror_state *states,
	    struct zone ***out, char **errmsg)
	    __attribute__((warn_unused_result));
void	policy_zones_free(const struct policy *p, struct zone **zones);

/*
 * The fence gate (fence/fence.h): for a record with fence: i, the target
 * the fence lets it publish now, or -1. A fenced name publishes the
 * target the states select only when the gate returns that same target;
 * otherwise it is withdrawn (NODATA with the SOA at TTL 0). Without a
 * gate every fenced name is withdrawn (fail closed).
 */
typedef int (*policy_gate_fn)(void *arg, size_t fence);
void	policy_set_gate(struct policy *p, policy_gate_fn fn, void *arg);

/*
 * The target the states select for fence i (the first record naming it
 * decides; records sharing a fence list the same controls), or -1 when
 * no target is selected: a needed state is unknown, or no control is On
 * and when-none-on is servfail or nodata.
 */
int	policy_fence_desired(const struct policy *p,
	    const enum mirror_state *states, size_t fence);

/* Make the last evaluation's serials current. */
void	policy_commit(struct policy *p);

/*
 * Zone block i after the last evaluation: the proposed serial, and
 * whether it differs from the committed one (always true before the
 * first commit with no serial known).
 */
uint32_t	policy_serial(const struct policy *p, size_t i);
bool		policy_changed(const struct policy *p, size_t i);

/*
 * The serial state file: {"version":1,"zones":[{"id":..,"origin":..,
 * "serial":N,"hash":"16 hex"}]}. Loading a missing file is not an error;
 * a corrupt one gives ERR_PARSE with *errmsg and changes nothing. Saving
 * writes the committed serials (so policy_commit() first), atomically
 * (temp file, fsync, rename).
 */
int	policy_load_serials(struct policy *p, const char *path, char **errmsg)
	    __attribute__((warn_unused_result));
int	policy_save_serials(const struct policy *p, const char *path,
	    char **errmsg) __attribute__((warn_unused_result));

/*
 * The local invariant of a failover or fenced name: vals (n values) are
 * exactly the value set of one of r's targets.
 */
struct conf_rdata;
struct conf_record;
bool	policy_single_target(const struct conf_record *r,
	    const struct conf_rdata *const *vals, size_t n);

/*
 * HTTP /v1/role/<region>: what the first role record (zone blocks and
 * records in config order) with a target in region says of it for
 * states (NULL: all unknown). NONE: no role record names the region;
 * UNKNOWN: the decision needs an unknown state, or when-none-on is
 * servfail or nodata and no target is On.
 */
enum policy_role {
	POLICY_ROLE_NONE = 0,
	POLICY_ROLE_ACTIVE,
	POLICY_ROLE_PASSIVE,
	POLICY_ROLE_UNKNOWN
};
enum policy_role	policy_role(const struct policy *p,
			    const enum mirror_state *states,
			    const char *region);

/*
 * HTTP /v1/regions/<region>: the control (index into conf.controls) of
 * the first target, in config order, whose region is region; -1 if none.
 */
int	policy_region_control(const struct policy *p, const char *region);

/* RFC 1982: is a after b? */
bool	serial_gt(uint32_t a, uint32_t b);

#endif
