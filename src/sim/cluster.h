/*
 * cluster.h -- the shared state of arcsim's five endpoints.
 *
 * A cluster is a loaded sim.yaml (simconf.h) plus the state of every
 * routing control: On or Off, and when it last changed. It evaluates the
 * safety rules for an update and applies the update only when they all
 * hold (all or nothing), looks up credentials for SigV4, dumps every
 * control as JSON for the admin interface, and saves/restores the states
 * to a file.
 *
 * List order, used everywhere a list is shown (ListRoutingControls, the
 * admin dump, the state file): by ControlPanelArn, then by
 * RoutingControlArn. Panels in sim_cluster_panel() are in ControlPanelArn
 * order too. Control and panel indexes below are positions in those
 * orders.
 *
 * Time: now_ms is milliseconds since the Unix epoch, from the caller's
 * clock (the HTTP layer; tests pass a fake one). Nothing here reads a
 * clock. Pure apart from sim_cluster_load/_save/_restore touching the
 * files they are given. Not thread-safe: one event loop owns a cluster.
 */
#ifndef SIM_CLUSTER_H
#define SIM_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simconf.h"

struct sigv4_creds;
struct sim_cluster;

/* One routing control, read-only for callers. Strings live as long as the
 * cluster. */
struct sim_control {
	const char	*name;
	const char	*arn;
	const char	*panel_name;
	const char	*panel_arn;
	size_t		 panel;		/* index for sim_cluster_panel() */
	bool		 on;
	uint64_t	 changed_ms;	/* last change; 0: none known */
};

/*
 * Load sim.yaml into a new cluster (sim_cluster_free), every control in
 * its initial state with no last change. Errors as simconf_load().
 */
int	sim_cluster_load(const char *path, struct sim_cluster **out,
	    char **errmsg) __attribute__((warn_unused_result));

/* A new cluster from conf, which it takes. */
struct sim_cluster	*sim_cluster_new(struct simconf *conf);

/* NULL-safe. */
void	sim_cluster_free(struct sim_cluster *c);

/* Borrowed, for the cluster's lifetime. */
const struct simconf	*sim_cluster_conf(const struct sim_cluster *c);
const char		*sim_cluster_account(const struct sim_cluster *c);

/*
 * A sigv4_lookup_fn (arc/sigv4.h) with arg = the cluster: true and *out
 * filled (borrowed strings) when access_key_id is one of sim.yaml's
 * credentials.
 */
bool	sim_cluster_lookup_cb(const char *access_key_id,
	    struct sigv4_creds *out, void *arg);

/* Controls in list order: i < sim_cluster_ncontrols(). Borrowed; the
 * state fields change with each applied update. */
size_t			 sim_cluster_ncontrols(const struct sim_cluster *c);
const struct sim_control *sim_cluster_control(const struct sim_cluster *c,
			    size_t i);

/* The index of the control with this exact ARN, or ERR_NOTFOUND. */
int	sim_cluster_find(const struct sim_cluster *c, const char *arn,
	    size_t *index) __attribute__((warn_unused_result));

/* Panels in ControlPanelArn order: i < sim_cluster_npanels(). Borrowed. */
size_t				 sim_cluster_npanels(const struct sim_cluster *c);
const struct simconf_panel	*sim_cluster_panel(const struct sim_cluster *c,
				    size_t i);

/*
 * The panel with this exact ARN: its index, and the range [*first, *end)
 * of its controls in list order. ERR_NOTFOUND when there is none.
 */
int	sim_cluster_find_panel(const struct sim_cluster *c, const char *arn,
	    size_t *index, size_t *first, size_t *end)
	    __attribute__((warn_unused_result));

/*
 * The truth of a rule configuration over the states on[0..n): at least
 * threshold of them On (ATLEAST; AND needs all n, OR one, whatever
 * threshold says), negated when inverted. n == 0 counts as zero On.
 */
bool	sim_rule_eval(enum simconf_rule_type type, unsigned threshold,
	    bool inverted, const bool *on, size_t n);

/* One entry of an update: control index (list order) and new state. */
struct sim_change {
	size_t	index;
	bool	on;
};

/* Why an update was refused (sim_cluster_update). */
struct sim_block {
	const char	*rule_arn;	/* borrowed: the first blocking rule */
	const char	*rule_name;	/* borrowed */
	size_t		 nrules;	/* how many rules block */
	char		*message;	/* new: names every blocking rule ARN */
};

/*
 * Apply changes[0..n) as one transaction at now_ms, unless a safety rule
 * blocks it. Rules whose ARN is in overrides[0..noverrides) are skipped
 * (unknown ARNs there are ignored). Indexes must be distinct and valid
 * (the caller checks input).
 *
 * A rule applies to the update when:
 *   assertion: the update names (changes or not) any asserted control;
 *   gating: the update changes the state of any target control.
 * An applying rule blocks when
 *   assertion: the rule is false on the states the asserted controls
 *              would have after the whole update;
 *   gating: the rule is false on the current states of the gating
 *           controls (a gate opened in the same update does not count);
 *   either, with a wait period: one of the rule's governed controls
 *           (asserted, or target) changed less than wait_ms before now_ms.
 * Rules are checked panel by panel in ARN order, rules in file order.
 *
 * A wait period counts from a governed control's changed_ms; a change
 * "in the future" (the clock went back) does not hold anything up.
 *
 * Returns 0 when applied: *changed (may be NULL) is the number of controls
 * whose state changed; those get changed_ms = now_ms, which must be > 0
 * (a control set to the state it has keeps its time). Returns ERR_INVAL
 * when blocked: nothing changed, *changed is 0, and *block (block may be
 * NULL) is filled, to be released with sim_block_fini(). On success
 * *block is zeroed.
 */
int	sim_cluster_update(struct sim_cluster *c,
	    const struct sim_change *changes, size_t n,
	    const char *const *overrides, size_t noverrides, uint64_t now_ms,
	    int *changed, struct sim_block *block)
	    __attribute__((warn_unused_result));

void	sim_block_fini(struct sim_block *b);

/*
 * Every control as JSON (new string), for the admin GET /state:
 *   {"account":"111122223333","controls":[{"name":"route-us-east-1",
 *    "arn":"...","panel":"DefaultControlPanel","panel_arn":"...",
 *    "state":"On","last_change":"2026-05-01T12:00:00.123Z",
 *    "last_change_ms":1777636800123}, ...]}
 * in list order; last_change is null and last_change_ms 0 when no change
 * is known.
 */
char	*sim_cluster_state_json(const struct sim_cluster *c);

/*
 * Write every control's state to path atomically: a temp file in the same
 * folder, fsync, rename over path, fsync of the folder. Format:
 *   {"arcsim-state":1,"account":"...","controls":[{"arn":"...",
 *    "name":"...","panel":"...","state":"On","last_change_ms":N}, ...]}
 * Returns 0, or -errno with *errmsg new ("path: reason").
 */
int	sim_cluster_save(const struct sim_cluster *c, const char *path,
	    char **errmsg) __attribute__((warn_unused_result));

/*
 * Set the states (and last change times) of the controls saved in path.
 * Controls the file does not know keep their current state; entries for
 * ARNs this cluster does not have are skipped. *restored and *unknown
 * (either may be NULL) count the entries applied and skipped. All or
 * nothing: a corrupt file changes no state.
 * Returns 0 (also when path does not exist: a first start, *restored is
 * 0); -errno when it cannot be read, with *errmsg new "path: strerror";
 * ERR_PARSE for a file that is not an arcsim state file, with *errmsg new
 * "path: corrupt state file: reason".
 */
int	sim_cluster_restore(struct sim_cluster *c, const char *path,
	    size_t *restored, size_t *unknown, char **errmsg)
	    __attribute__((warn_unused_result));

#endif
