/*
 * mirror.h -- the last known routing-control states, their freshness and
 * their persistence.
 *
 * The ARC client (arc/arc_client.h) feeds each complete poll into
 * mirror_apply(); the mirror keeps one entry per configured control (by
 * local name, matched by ARN or by ARC name), notices what changed, calls
 * the observers, appends each change to the event log, and persists the
 * whole state (temp file, fsync, rename, fsync of the directory) so that a
 * restart during an ARC outage serves it. It never forgets a state because
 * ARC is unreachable: staleness is a mark, not a reset (static stability).
 *
 * Pure core plus file I/O for persistence; time is passed in (ms, wall
 * clock for the log and file, monotonic for ages -- both given by the
 * caller). Main thread only.
 */
#ifndef MIRROR_MIRROR_H
#define MIRROR_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct mirror;

enum mirror_state {
	MIRROR_UNKNOWN = 0,	/* never seen (no state at all yet) */
	MIRROR_OFF,
	MIRROR_ON
};

/* "On", "Off" or "unknown": the one spelling of a state everywhere. */
const char	*mirror_state_name(enum mirror_state s);

/* One control as the mirror knows it. Strings borrowed from the mirror. */
struct mirror_control {
	const char		*name;		/* local name (controls: key) */
	const char		*arn;		/* configured or learnt ARN */
	const char		*arc_name;	/* RoutingControlName, if known */
	enum mirror_state	 state;
	uint64_t		 changed_ms;	/* wall clock of the last change */
	const char		*endpoint;	/* region it last came from */
	bool			 missing;	/* last poll did not list it */
};

/* One routing control as a poll returned it (borrowed by the call). */
struct mirror_entry {
	const char	*arn;
	const char	*name;		/* RoutingControlName */
	const char	*panel_arn;
	bool		 on;
};

/*
 * Called after every poll that changed at least one state, with the
 * mirror (borrowed) -- the policy engine rebuilds answers from it.
 */
typedef void (*mirror_observer_cb)(const struct mirror *m, void *arg);

/* New mirror for conf's controls (conf borrowed during the call). */
struct mirror	*mirror_new(const struct conf *conf);
void		 mirror_free(struct mirror *m);

/* Observers run in registration order. */
void	mirror_observe(struct mirror *m, mirror_observer_cb cb, void *arg);

/*
 * Load the state file written by mirror_save() (path: state-dir/
 * mirror.json). A missing file is not an error (returns 0, nothing
 * known). A truncated or corrupt one returns ERR_PARSE with a new message
 * in *errmsg and leaves the mirror empty; it never crashes.
 *
 * Details: the message is "PATH: not valid JSON (...)" or "PATH: bad state
 * file: controls[2]: 'state' must be ..." (also for wrong types, a
 * duplicate key or control, or a version other than 1); a file that
 * cannot be opened for another reason than ENOENT gives -errno. Entries
 * for local names no longer configured are ignored (info log); an entry
 * whose ARN differs from the configured one (or, for a control
 * configured by name, whose arc_name differs) is not restored (notice
 * log): the config now points elsewhere. The last success is restored
 * from the file (its "last_success_ms", optional, 0 when absent), so the
 * age of a state served after a restart is known; since the file is
 * written after changes only, that time may be older than the real last
 * success (staleness errs on the safe side).
 */
int	mirror_load(struct mirror *m, const char *path, char **errmsg)
	    __attribute__((warn_unused_result));

/*
 * A complete poll (every page) from endpoint (region) at now_ms: update
 * every configured control found in entries, mark the others missing,
 * mark the mirror fresh. Returns the number of controls whose state
 * changed; observers are called when it is > 0.
 *
 * Details: now_ms is stored as changed_ms (written to the file and the
 * event log, so pass wall-clock ms) and as the last success (compared by
 * mirror_is_stale() with the same clock). state, changed_ms and endpoint
 * change only when the state changes. A missing control keeps its state;
 * becoming missing and being listed again are logged once (source arc).
 * A control configured by ARC name matches the entry with that
 * RoutingControlName; when several panels list the name, it keeps the
 * ARN it matched before (learnt, also restored by mirror_load) while that
 * ARN is still listed, else takes the lowest ARN (strcmp); the ARN is
 * then its arn. An empty poll (n == 0) while any state is known is
 * suspicious (spec 8): every control is marked missing, nothing changes,
 * 0 is returned and the last success is NOT updated (the mirror goes
 * stale rather than claim it is current). Entries are borrowed.
 */
int	mirror_apply(struct mirror *m, const struct mirror_entry *entries,
	    size_t n, const char *endpoint, uint64_t now_ms);

/*
 * Persist now (atomic). Returns 0 or a negative error with *errmsg.
 * Format: {"version":1,"saved_ms":<wall clock now>,"last_success_ms":
 * <mirror_last_success()>,"controls":[{"name",
 * "arn","arc_name","state":"On|Off|unknown","changed_ms","endpoint"}]},
 * one line; unknown strings are null. Temp file PATH.<pid>.tmp, removed
 * on failure.
 */
int	mirror_save(const struct mirror *m, const char *path, char **errmsg)
	    __attribute__((warn_unused_result));

/*
 * Append one JSON line per change since the last call to the event log:
 * {"ts":"2026-11-18T11:06:40.042Z","control":NAME,"arn":ARN,"old":
 * "On|Off|unknown","new":...,"endpoint":REGION}, one write(2) per line on
 * an O_APPEND descriptor. On failure (-errno or ERR_IO, *errmsg) the
 * lines not written stay queued for the next call; at most 4096 changes
 * wait, older ones are dropped and their count logged.
 */
int	mirror_log_changes(struct mirror *m, const char *path, char **errmsg)
	    __attribute__((warn_unused_result));

/* Freshness: the time of the last successful poll (0: never). */
uint64_t	mirror_last_success(const struct mirror *m);
/*
 * True when no poll succeeded within stale_after_ms of now_ms: never
 * polled, or now_ms - last success > stale_after_ms (equal is fresh; a
 * now_ms before the last success -- a clock step back -- is fresh only
 * within the same window).
 */
bool		mirror_is_stale(const struct mirror *m, uint64_t now_ms,
		    uint64_t stale_after_ms);
/* True when any control has a known state (from ARC or the file). */
bool		mirror_has_state(const struct mirror *m);

size_t	mirror_count(const struct mirror *m);
/* Control i, in config order; NULL past the end. */
const struct mirror_control	*mirror_control(const struct mirror *m,
				    size_t i);
/* By local name, or NULL. */
const struct mirror_control	*mirror_find(const struct mirror *m,
				    const char *name);

#endif
