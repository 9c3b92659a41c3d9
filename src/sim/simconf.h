/*
 * simconf.h -- sim.yaml, the definition of an arcsim cluster.
 *
 * sim.yaml declares what a Route 53 ARC cluster holds in AWS: the account,
 * the credentials arcsim accepts, control panels with their routing
 * controls and safety rules (as in ARC's control-config API). It is read
 * through conf/yamltree.h, so every error is "file:line:column: message",
 * and unknown keys are errors, never ignored.
 *
 *   account: "111122223333"        # required; 12 digits; Owner and ARNs
 *   credentials:                   # required; at least one; SigV4 keys
 *     - access-key-id: AKIDEXAMPLE # 1-128 of [A-Za-z0-9_]; unique
 *       secret-access-key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
 *                                  # 1-128 printable ASCII, no spaces
 *       session-token: "..."       # optional (1-4096 printable ASCII, no
 *                                  # spaces); when set, a request signed
 *                                  # with this key must carry it
 *   error-status: smithy           # optional: HTTP status of modelled
 *                                  # errors, "smithy" (default: 403, 404,
 *                                  # 409, 429, 503, 402) or "api-reference"
 *                                  # (400 for all but 500; spec 5.1)
 *   control-panels:                # required; 1 to 50 panels
 *     - name: DefaultControlPanel  # 1-64 printable ASCII, no whitespace;
 *                                  # unique in the cluster
 *       routing-controls:          # optional; 0 to 100 per panel, 300 in
 *                                  # the cluster
 *         - name: route-us-east-1  # 1-64 characters, no whitespace or
 *                                  # control characters; unique in the panel
 *           state: On              # On | Off (exactly); default Off
 *         - { name: route-us-west-2, state: Off }
 *       safety-rules:              # optional; 0 to 20 per panel
 *         - name: at-least-one     # as a control name; unique in the panel
 *           type: assertion        # assertion | gating
 *           controls: [route-us-east-1, route-us-west-2]
 *                                  # assertion: the asserted controls
 *           rule: { type: ATLEAST, threshold: 1, inverted: false }
 *           wait-period: 5s        # optional; 0 (default) to 1h
 *         - name: gate
 *           type: gating
 *           gating-controls: [master-switch]   # gating: the switch(es)
 *           target-controls: [route-us-east-1] # gating: what they gate
 *           rule: { type: OR }
 *
 * Rule configuration ("rule"), as ARC's RuleConfig:
 *   type       ATLEAST | AND | OR (exactly, upper case); required.
 *   threshold  ATLEAST only (required there, an error elsewhere): how many
 *              of the rule's controls (asserted controls, or gating
 *              controls) must be On; 1 to their number.
 *   inverted   true | false, default false: negates the result.
 * Every control a rule names must be a routing control of the same panel,
 * listed once per list. A rule is "deployed" as soon as arcsim starts.
 *
 * ARNs have AWS's shape and are stable for the same names (derived from
 * SHA-256 over the account and the names, see simconf_*_arn()), so a
 * restart, or the same file on another machine, gives the same ARNs:
 *   arn:aws:route53-recovery-control::<account>:controlpanel/<32 hex>
 *   <panel ARN>/routingcontrol/<16 hex>
 *   <panel ARN>/safetyrule/<16 hex>
 * Renaming a panel renames every ARN in it; renaming a control changes
 * only that control's ARN.
 *
 * The limits are ARC's published quotas (50 panels, 100 controls per panel,
 * 300 per cluster, 20 safety rules per panel), so that a drill cannot
 * rehearse a cluster AWS would not let anyone build.
 *
 * Pure apart from simconf_load() reading its file. The struct is plain
 * data, immutable once loaded; struct sim_cluster (cluster.h) adds state.
 */
#ifndef SIM_SIMCONF_H
#define SIM_SIMCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIMCONF_MAX_NAME		64	/* characters */
#define SIMCONF_MAX_PANELS		50
#define SIMCONF_MAX_PANEL_CONTROLS	100
#define SIMCONF_MAX_CONTROLS		300
#define SIMCONF_MAX_PANEL_RULES		20
#define SIMCONF_MAX_WAIT_MS		3600000u
#define SIMCONF_ACCOUNT_LEN		12

enum simconf_rule_kind {
	SIMCONF_ASSERTION = 1,
	SIMCONF_GATING
};

enum simconf_rule_type {
	SIMCONF_ATLEAST = 1,
	SIMCONF_AND,
	SIMCONF_OR
};

/* Which column of spec 5.1 gives the HTTP status of a modelled error. */
enum simconf_status {
	SIMCONF_STATUS_SMITHY = 0,
	SIMCONF_STATUS_API_REFERENCE
};

struct simconf_cred {
	char	*access_key_id;
	char	*secret_access_key;
	char	*session_token;		/* NULL: none */
	int	 line, column;
};

struct simconf_control {
	char	*name;
	char	*arn;
	bool	 on;			/* initial state */
	int	 line, column;
};

struct simconf_rule {
	char			*name;
	char			*arn;
	enum simconf_rule_kind	 kind;
	enum simconf_rule_type	 type;
	/*
	 * How many of controls[] must be On, normalised: ATLEAST as written,
	 * AND = ncontrols, OR = 1. Always 1..ncontrols.
	 */
	unsigned		 threshold;
	bool			 inverted;
	uint64_t		 wait_ms;	/* 0: no wait period */
	/*
	 * Indexes into the panel's controls[]: the asserted controls of an
	 * assertion rule, the gating controls of a gating rule. Never empty.
	 */
	size_t			*controls;
	size_t			 ncontrols;
	/* Gating rules: the target controls (never empty); else none. */
	size_t			*targets;
	size_t			 ntargets;
	int			 line, column;
};

struct simconf_panel {
	char			*name;
	char			*arn;
	struct simconf_control	*controls;	/* file order */
	size_t			 ncontrols;
	struct simconf_rule	*rules;		/* file order */
	size_t			 nrules;
	int			 line, column;
};

struct simconf {
	char			*path;		/* as given to the loader */
	char			 account[SIMCONF_ACCOUNT_LEN + 1];
	struct simconf_cred	*creds;		/* file order, >= 1 */
	size_t			 ncreds;
	struct simconf_panel	*panels;	/* file order, >= 1 */
	size_t			 npanels;
	size_t			 ncontrols;	/* over every panel */
	enum simconf_status	 status;
};

/*
 * Read and check path. On success *out is new (simconf_free) and 0 is
 * returned. On failure *errmsg is new, "path:line:column: message" (or
 * "path: strerror" when the file cannot be read), *out is untouched, and
 * the return is ERR_PARSE (YAML syntax), ERR_INVAL (schema), -errno or
 * ERR_LIMIT (file too large).
 */
int	simconf_load(const char *path, struct simconf **out, char **errmsg)
	    __attribute__((warn_unused_result));

/* The same for len bytes of text; name stands for the file in messages. */
int	simconf_load_string(const char *name, const char *text, size_t len,
	    struct simconf **out, char **errmsg)
	    __attribute__((warn_unused_result));

/* NULL-safe. */
void	simconf_free(struct simconf *conf);

/*
 * The ARNs simconf gives (new strings). The ids are the first 32 (panel)
 * or 16 (control, rule) lowercase hex digits of SHA-256 over
 * "arcsim\0<kind>\0<account>\0<panel name>[\0<control or rule name>]",
 * <kind> being "controlpanel", "routingcontrol" or "safetyrule".
 */
char	*simconf_panel_arn(const char *account, const char *panel);
char	*simconf_control_arn(const char *account, const char *panel,
	    const char *control);
char	*simconf_rule_arn(const char *account, const char *panel,
	    const char *rule);

/*
 * Characters (Unicode code points) in UTF-8 text s, as ARC's length
 * constraints count them (names 1-64, ARNs 1-255...). s must be valid
 * UTF-8 (libyaml and jansson check that).
 */
size_t	simconf_char_count(const char *s);

/* "assertion"/"gating" and "ATLEAST"/"AND"/"OR" (static strings). */
const char	*simconf_kind_str(enum simconf_rule_kind kind);
const char	*simconf_type_str(enum simconf_rule_type type);

#endif
