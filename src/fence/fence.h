/*
 * fence.h -- the single-writer invariant (DESIGN.md "Fence").
 *
 * One state machine per configured fence. Its targets are the targets of
 * the records that name the fence (they list the same controls in the
 * same order, conf.h), by index. The policy engine says which target the
 * control states select (fences_update); the fence says which target may
 * be published (fences_publish): the selected one only once the one
 * before it was fenced, the new one promoted and found ready.
 *
 *   serving X --(X -> Y selected)--> fencing X (attempt n) --> promoting Y
 *     --> checking Y --> serving Y
 *   any step whose retries run out --> failed (fail closed) --confirm-->
 *     the next step
 *   serving X --(fence by hand)--> fencing X --> fenced X (nothing
 *     published until another target is selected, or confirm)
 *
 * Nothing is published outside "serving": the name answers NODATA with
 * TTL 0 (withdrawn). A selection that changes while a step runs is
 * remembered: a target that was being promoted or checked is fenced in
 * its turn before the newer one goes on, so there is never a moment with
 * two writers, nor one with the new writer before the old was fenced.
 *
 * Hooks run as child processes (fence/hook.h) with a clean environment:
 * PATH, the fence's env, ARCDNS_ACTION (fence|promote|check),
 * ARCDNS_FENCE, ARCDNS_TARGET (the target's values, comma-separated),
 * ARCDNS_REGION and ARCDNS_CONTROL. Runs that fail are retried after a
 * jittered, doubling backoff, at most retries times.
 *
 * Every transition is logged, appended to the event log and persisted
 * (state-dir/fences.json, atomically) before it takes effect, and the
 * change callback tells the runtime to rebuild the answers. At start the
 * file is loaded: a sequence that was under way resumes at the step it
 * had reached (hooks must be safe to run again); nothing fenced is ever
 * published again without the sequence.
 *
 * Main thread only.
 */
#ifndef FENCE_FENCE_H
#define FENCE_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct conf;
struct event_base;
struct fences;

enum fence_phase {
	FENCE_IDLE = 0,		/* nothing selected yet */
	FENCE_SERVING,		/* publishing cur */
	FENCE_FENCING,		/* running the fence hook for from */
	FENCE_FENCED,		/* from fenced by hand; nothing to publish */
	FENCE_PROMOTING,	/* running the promote hook for to */
	FENCE_CHECKING,		/* running the ready-check for to */
	FENCE_FAILED		/* retries ran out in step; fail closed */
};

/* What one fence is doing (for /v1/state, metrics, state.arcdns). */
struct fence_status {
	const char		*name;
	enum fence_phase	 phase;
	enum fence_phase	 step;		/* FAILED: the step that failed */
	int			 cur;		/* SERVING: the published target */
	int			 from, to;	/* the sequence's targets, or -1 */
	int			 desired;	/* what the states select, or -1 */
	unsigned		 attempt;	/* of the running or failed step */
	uint64_t		 since_ms;	/* wall clock of the last change */
	const char		*reason;	/* FAILED: why (last hook result) */
};

typedef void (*fence_change_cb)(void *arg);

/*
 * Fences for conf (borrowed: must outlive them) on base. state_path and
 * events_path: the state file and the event log (NULL: neither). cb runs
 * (from the event loop, never from inside a call of this API) whenever
 * what a fence publishes changes.
 */
struct fences	*fences_new(struct event_base *base, const struct conf *conf,
		    const char *state_path, const char *events_path,
		    fence_change_cb cb, void *arg);
/* NULL-safe. Running hooks are killed (a restart runs them again). */
void		 fences_free(struct fences *fs);

/*
 * Restore the state file (missing: fine). A corrupt file or an entry
 * that names targets no longer configured: ERR_PARSE with *errmsg; the
 * fences concerned start failed closed (an operator confirms), never
 * serving.
 */
int	fences_load(struct fences *fs, char **errmsg)
	    __attribute__((warn_unused_result));

size_t	fences_count(const struct fences *fs);

/*
 * The target the control states select for fence i (-1: none, unknown).
 * May start the sequence; returns at once.
 */
void	fences_update(struct fences *fs, size_t i, int desired);

/*
 * The target fence i lets the writer names publish, or -1 (withdrawn).
 * stale_ms: how long the mirror has been stale (0: fresh): with
 * stale: withdraw, -1 once it reaches stale-lease.
 */
int	fences_publish(const struct fences *fs, size_t i, uint64_t stale_ms);

/*
 * Operator actions (arcdnsctl fence ...). Return 0, or ERR_NOTFOUND (no
 * such fence) / ERR_INVAL (not applicable now) with a new *errmsg.
 * fences_manual: withdraw and fence the served target by hand.
 * fences_confirm: a failed step (or a fence done by hand) is declared
 * done by the operator: go on with the next step.
 */
int	fences_manual(struct fences *fs, const char *name, char **errmsg)
	    __attribute__((warn_unused_result));
int	fences_confirm(struct fences *fs, const char *name, char **errmsg)
	    __attribute__((warn_unused_result));

void		 fences_status(const struct fences *fs, size_t i,
		    struct fence_status *out);
const char	*fence_phase_name(enum fence_phase p);
/* Every fence as JSON (new reference): /v1/state, arcdnsctl. */
json_t		*fences_json(const struct fences *fs);

/* Tests: no jitter, and this many ms for the first backoff. */
void	fences_set_test_timing(struct fences *fs, uint32_t backoff_ms);

#endif
