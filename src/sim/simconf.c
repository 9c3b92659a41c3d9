#include "sim/simconf.h"

#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "conf/yamltree.h"
#include "conf/yschema.h"
#include "arc/sigv4.h"
#include "util/err.h"
#include "util/xalloc.h"

/*
 * Like conf.c: walk the YAML tree checking each value on its own, then
 * check what needs the whole panel (rule references, thresholds) once the
 * panel is read, since its keys may come in any order. The first error
 * wins. The key-handler style and message wording follow conf.c so that
 * both files read alike to an operator.
 */

#define MAX_SECRET	128
#define MAX_TOKEN	4096

/* Where a safety rule's parts came from, until the panel is complete. */
struct rule_src {
	const struct ynode	*node;
	const struct ynode	*name;
	const struct ynode	*kind;
	const struct ynode	*controls;	/* assertion */
	const struct ynode	*gating;	/* gating-controls */
	const struct ynode	*targets;	/* target-controls */
	const struct ynode	*rule;		/* the rule mapping */
	const struct ynode	*rtype;		/* rule.type */
	const struct ynode	*threshold;	/* rule.threshold */
	long long		 threshold_val;
	bool			 inverted;
	uint64_t		 wait_ms;
};

struct parser {
	struct yschema		 ys;		/* the file and first error */
	struct simconf		*conf;
	const struct ynode	*root;
	const struct ynode	*creds_node;
	const struct ynode	*panels_node;
	/* The panel being read. */
	struct simconf_panel	*panel;
	struct rule_src		*rsrc;		/* parallel to panel->rules */
};

static struct parser *
parser_of(struct yschema *ys)
{
	return (struct parser *)(void *)((char *)ys -
	    offsetof(struct parser, ys));
}

/* 1..maxlen printable ASCII characters other than space: secrets,
 * session tokens. */
static int
get_token(struct yschema *ys, const struct ynode *key, const struct ynode *v,
    size_t maxlen, const char **out)
{
	if (ys_get_scalar(ys, key, v) != 0)
		return ERR_INVAL;
	if (v->len > maxlen)
		return ys_fail(ys, v, "'%s' must be at most %zu characters",
		    key->str, maxlen);
	for (size_t i = 0; i < v->len; i++) {
		unsigned char ch = (unsigned char)v->str[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return ys_fail(ys, v, "'%s' may only contain printable "
			    "ASCII characters other than space", key->str);
	}
	*out = v->str;
	return 0;
}

size_t
simconf_char_count(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * Names of panels, controls and rules: ARC's 1-64 characters matching
 * ^\S+$ (panel names ASCII only). Control characters are refused too, so
 * that a name is always safe on a log line.
 */
static int
check_name(struct parser *p, const struct ynode *key, const struct ynode *v,
    const char *what, bool ascii)
{
	char buf[80];

	if (ys_get_scalar(&p->ys, key, v) != 0)
		return ERR_INVAL;
	if (simconf_char_count(v->str) > SIMCONF_MAX_NAME)
		return ys_fail(&p->ys, v, "%s '%s' is longer than %d "
		    "characters", what, ys_shown(v, buf, sizeof(buf)),
		    SIMCONF_MAX_NAME);
	for (size_t i = 0; i < v->len; i++) {
		unsigned char ch = (unsigned char)v->str[i];

		if (ch == ' ' || (ch >= 0x09 && ch <= 0x0d))
			return ys_fail(&p->ys, v, "%s '%s' must not contain "
			    "whitespace", what, ys_shown(v, buf, sizeof(buf)));
		if (ch < 0x20 || ch == 0x7f)
			return ys_fail(&p->ys, v, "%s '%s' must not contain "
			    "control characters", what,
			    ys_shown(v, buf, sizeof(buf)));
		if (ascii && ch >= 0x80)
			return ys_fail(&p->ys, v, "%s '%s' may only contain "
			    "ASCII characters", what,
			    ys_shown(v, buf, sizeof(buf)));
	}
	return 0;
}

/* --- sections ---------------------------------------------------------- */

/* A list of control names (resolved once the panel is read). */
static int
check_name_list(struct parser *p, const struct ynode *k,
    const struct ynode *v)
{
	if (ynode_is_null(v))
		return ys_fail(&p->ys, k, "'%s' has no value", k->str);
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(&p->ys, v, "'%s' must be a list of routing "
		    "control names", k->str);
	if (v->nitems == 0)
		return ys_fail(&p->ys, v, "'%s' must not be empty", k->str);
	for (size_t i = 0; i < v->nitems; i++)
		if (v->items[i]->type != YNODE_SCALAR ||
		    ynode_is_null(v->items[i]))
			return ys_fail(&p->ys, v->items[i], "each entry of "
			    "'%s' must be a routing control name", k->str);
	return 0;
}

/* --- top level: account, credentials, error-status --------------------- */

static int
top_account(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);

	(void)obj;
	if (ys_get_scalar(ys, k, v) != 0)
		return ERR_INVAL;
	if (v->len != SIMCONF_ACCOUNT_LEN)
		return ys_fail(ys, v, "'account' must be 12 digits (an AWS "
		    "account id)");
	for (size_t i = 0; i < v->len; i++)
		if (v->str[i] < '0' || v->str[i] > '9')
			return ys_fail(ys, v, "'account' must be 12 digits (an "
			    "AWS account id)");
	memcpy(p->conf->account, v->str, SIMCONF_ACCOUNT_LEN + 1);
	return 0;
}

static int
top_error_status(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct parser *p = parser_of(ys);

	(void)obj;
	if (ys_get_scalar(ys, k, v) != 0)
		return ERR_INVAL;
	if (strcmp(v->str, "smithy") == 0)
		p->conf->status = SIMCONF_STATUS_SMITHY;
	else if (strcmp(v->str, "api-reference") == 0)
		p->conf->status = SIMCONF_STATUS_API_REFERENCE;
	else
		return ys_fail(ys, v, "'error-status' must be smithy or "
		    "api-reference");
	return 0;
}

static int
cred_key_id(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct simconf_cred *cr = obj;
	struct simconf *c = p->conf;
	const char *s;
	char buf[80];

	if (ys_get_scalar(ys, k, v) != 0)
		return ERR_INVAL;
	/* What sigv4 accepts, so that no configured key is unusable. */
	if (!sigv4_is_access_key_id(v->str))
		return ys_fail(ys, v, "'access-key-id' must be 1 to 128 "
		    "letters, digits or '_'");
	s = v->str;
	for (size_t i = 0; &c->creds[i] != cr; i++)
		if (strcmp(c->creds[i].access_key_id, s) == 0)
			return ys_fail(ys, v, "duplicate access key id '%s' "
			    "(first at line %d)", ys_shown(v, buf, sizeof(buf)),
			    c->creds[i].line);
	cr->access_key_id = xstrdup(s);
	return 0;
}

static int
cred_secret(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct simconf_cred *cr = obj;
	const char *s;

	if (get_token(ys, k, v, MAX_SECRET, &s) != 0)
		return ERR_INVAL;
	cr->secret_access_key = xstrdup(s);
	return 0;
}

static int
cred_token(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct simconf_cred *cr = obj;
	const char *s;

	if (get_token(ys, k, v, MAX_TOKEN, &s) != 0)
		return ERR_INVAL;
	cr->session_token = xstrdup(s);
	return 0;
}

static const struct ys_key cred_keys[] = {
	{"access-key-id", cred_key_id},
	{"secret-access-key", cred_secret},
	{"session-token", cred_token},
	{NULL, NULL}
};

static int
top_credentials(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct parser *p = parser_of(ys);
	struct simconf *c = p->conf;

	(void)obj;
	p->creds_node = k;
	if (ynode_is_null(v))
		return ys_fail(ys, k, "'credentials' has no value");
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'credentials' must be a list of "
		    "credentials");
	if (v->nitems == 0)
		return ys_fail(ys, v, "'credentials' must not be empty");
	c->creds = xcalloc(v->nitems, sizeof(*c->creds));
	for (size_t i = 0; i < v->nitems; i++) {
		const struct ynode *it = v->items[i];
		struct simconf_cred *cr = &c->creds[i];

		if (it->type != YNODE_MAPPING)
			return ys_fail(ys, it, "each entry of 'credentials' "
			    "must be a mapping with 'access-key-id' and "
			    "'secret-access-key'");
		cr->line = it->line;
		cr->column = it->column;
		c->ncreds++;
		if (ys_walk(ys, it, "credentials", cred_keys, NULL, cr) != 0)
			return ERR_INVAL;
		if (cr->access_key_id == NULL)
			return ys_fail(ys, it, "credential has no "
			    "'access-key-id'");
		if (cr->secret_access_key == NULL)
			return ys_fail(ys, it, "credential '%s' has no "
			    "'secret-access-key'", cr->access_key_id);
	}
	return 0;
}

/* --- routing controls -------------------------------------------------- */

static int
ctl_name(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct simconf_control *ctl = obj;
	struct simconf_panel *pn = p->panel;
	char buf[80];

	if (check_name(p, k, v, "routing control name", false) != 0)
		return ERR_INVAL;
	for (size_t i = 0; &pn->controls[i] != ctl; i++)
		if (strcmp(pn->controls[i].name, v->str) == 0)
			return ys_fail(ys, v, "duplicate routing control name "
			    "'%s' in control panel '%s' (first at line %d)",
			    ys_shown(v, buf, sizeof(buf)), pn->name,
			    pn->controls[i].line);
	ctl->name = xstrdup(v->str);
	return 0;
}

static int
ctl_state(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct simconf_control *ctl = obj;

	if (ys_get_scalar(ys, k, v) != 0)
		return ERR_INVAL;
	if (strcmp(v->str, "On") == 0)
		ctl->on = true;
	else if (strcmp(v->str, "Off") == 0)
		ctl->on = false;
	else
		return ys_fail(ys, v, "'state' must be On or Off");
	return 0;
}

static const struct ys_key ctl_keys[] = {
	{"name", ctl_name},
	{"state", ctl_state},
	{NULL, NULL}
};

static int
panel_controls(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct simconf_panel *pn = obj;

	if (ynode_is_null(v))
		return 0;	/* no controls */
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'%s' must be a list of routing controls",
		    k->str);
	if (v->nitems > SIMCONF_MAX_PANEL_CONTROLS)
		return ys_fail(ys, v->items[SIMCONF_MAX_PANEL_CONTROLS],
		    "control panel '%s' has more than %d routing controls",
		    pn->name, SIMCONF_MAX_PANEL_CONTROLS);
	pn->controls = xcalloc(v->nitems ? v->nitems : 1,
	    sizeof(*pn->controls));
	for (size_t i = 0; i < v->nitems; i++) {
		const struct ynode *it = v->items[i];
		struct simconf_control *ctl = &pn->controls[i];

		if (it->type != YNODE_MAPPING)
			return ys_fail(ys, it, "each entry of "
			    "'routing-controls' must be a mapping with 'name' "
			    "and 'state'");
		ctl->line = it->line;
		ctl->column = it->column;
		pn->ncontrols++;
		if (ys_walk(ys, it, "routing-controls", ctl_keys, NULL,
		    ctl) != 0)
			return ERR_INVAL;
		if (ctl->name == NULL)
			return ys_fail(ys, it, "routing control has no 'name'");
		if (++p->conf->ncontrols > SIMCONF_MAX_CONTROLS)
			return ys_fail(ys, it, "more than %d routing controls "
			    "in the cluster", SIMCONF_MAX_CONTROLS);
		ctl->arn = simconf_control_arn(p->conf->account, pn->name,
		    ctl->name);
	}
	return 0;
}

/* --- safety rules ------------------------------------------------------ */

struct rule_ctx {
	struct simconf_rule	*r;
	struct rule_src		*src;
};

static int
rule_name(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct rule_ctx *rc = obj;
	struct simconf_panel *pn = p->panel;
	char buf[80];

	if (check_name(p, k, v, "safety rule name", false) != 0)
		return ERR_INVAL;
	for (size_t i = 0; &pn->rules[i] != rc->r; i++)
		if (strcmp(pn->rules[i].name, v->str) == 0)
			return ys_fail(ys, v, "duplicate safety rule name '%s' "
			    "in control panel '%s' (first at line %d)",
			    ys_shown(v, buf, sizeof(buf)), pn->name,
			    pn->rules[i].line);
	rc->r->name = xstrdup(v->str);
	rc->src->name = v;
	return 0;
}

static int
rule_kind(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct rule_ctx *rc = obj;

	if (ys_get_scalar(ys, k, v) != 0)
		return ERR_INVAL;
	if (strcmp(v->str, "assertion") == 0)
		rc->r->kind = SIMCONF_ASSERTION;
	else if (strcmp(v->str, "gating") == 0)
		rc->r->kind = SIMCONF_GATING;
	else
		return ys_fail(ys, v, "'type' of a safety rule must be "
		    "assertion or gating");
	rc->src->kind = v;
	return 0;
}

static int
rule_controls(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct rule_ctx *rc = obj;

	if (check_name_list(p, k, v) != 0)
		return ERR_INVAL;
	if (strcmp(k->str, "controls") == 0)
		rc->src->controls = k;
	else if (strcmp(k->str, "gating-controls") == 0)
		rc->src->gating = k;
	else
		rc->src->targets = k;
	return 0;
}

static int
rc_type(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct rule_ctx *rc = obj;

	if (ys_get_scalar(ys, k, v) != 0)
		return ERR_INVAL;
	if (strcmp(v->str, "ATLEAST") == 0)
		rc->r->type = SIMCONF_ATLEAST;
	else if (strcmp(v->str, "AND") == 0)
		rc->r->type = SIMCONF_AND;
	else if (strcmp(v->str, "OR") == 0)
		rc->r->type = SIMCONF_OR;
	else
		return ys_fail(ys, v, "'type' of a rule must be ATLEAST, AND "
		    "or OR");
	rc->src->rtype = v;
	return 0;
}

static int
rc_threshold(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct rule_ctx *rc = obj;

	/* The range depends on the controls: checked in finish_threshold. */
	if (ys_get_int(ys, k, v, LLONG_MIN, LLONG_MAX,
	    &rc->src->threshold_val) != 0)
		return ERR_INVAL;
	rc->src->threshold = v;
	return 0;
}

static int
rc_inverted(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct rule_ctx *rc = obj;

	return ys_get_bool(ys, k, v, &rc->src->inverted);
}

static const struct ys_key rc_keys[] = {
	{"type", rc_type},
	{"threshold", rc_threshold},
	{"inverted", rc_inverted},
	{NULL, NULL}
};

static int
rule_config(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct rule_ctx *rc = obj;

	if (ynode_is_null(v))
		return ys_fail(ys, k, "'rule' has no value");
	if (v->type != YNODE_MAPPING)
		return ys_fail(ys, v, "'rule' must be a mapping with 'type' "
		    "and, for ATLEAST, 'threshold'");
	rc->src->rule = v;
	return ys_walk(ys, v, "rule", rc_keys, NULL, rc);
}

static int
rule_wait(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct rule_ctx *rc = obj;

	return ys_get_duration(ys, k, v, 0, SIMCONF_MAX_WAIT_MS,
	    &rc->src->wait_ms);
}

static const struct ys_key rule_keys[] = {
	{"name", rule_name},
	{"type", rule_kind},
	{"controls", rule_controls},
	{"gating-controls", rule_controls},
	{"target-controls", rule_controls},
	{"rule", rule_config},
	{"wait-period", rule_wait},
	{NULL, NULL}
};

static int
parse_rule(struct parser *p, const struct ynode *v)
{
	struct simconf_panel *pn = p->panel;
	struct rule_ctx rc;

	if (v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, v, "each entry of 'safety-rules' must "
		    "be a mapping with 'name', 'type' and 'rule'");
	rc.r = &pn->rules[pn->nrules];
	rc.src = &p->rsrc[pn->nrules];
	rc.r->line = v->line;
	rc.r->column = v->column;
	rc.src->node = v;
	pn->nrules++;
	if (ys_walk(&p->ys, v, "safety-rules", rule_keys, NULL, &rc) != 0)
		return ERR_INVAL;
	if (rc.r->name == NULL)
		return ys_fail(&p->ys, v, "safety rule has no 'name'");
	rc.r->arn = simconf_rule_arn(p->conf->account, pn->name, rc.r->name);
	return 0;
}

static int
panel_rules(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct simconf_panel *pn = obj;

	if (ynode_is_null(v))
		return 0;
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'%s' must be a list of safety rules",
		    k->str);
	if (v->nitems > SIMCONF_MAX_PANEL_RULES)
		return ys_fail(ys, v->items[SIMCONF_MAX_PANEL_RULES],
		    "control panel '%s' has more than %d safety rules",
		    pn->name, SIMCONF_MAX_PANEL_RULES);
	pn->rules = xcalloc(v->nitems ? v->nitems : 1, sizeof(*pn->rules));
	p->rsrc = xcalloc(v->nitems ? v->nitems : 1, sizeof(*p->rsrc));
	for (size_t i = 0; i < v->nitems; i++)
		if (parse_rule(p, v->items[i]) != 0)
			return ERR_INVAL;
	return 0;
}

/*
 * Resolve one list of control names of a rule (the value of key) into
 * indexes of the panel's controls.
 */
static int
resolve_list(struct parser *p, const struct simconf_rule *r,
    const struct ynode *key, size_t **out, size_t *n)
{
	const struct simconf_panel *pn = p->panel;
	const struct ynode *v = ynode_get(p->rsrc[r - pn->rules].node,
	    key->str);
	char buf[80];

	*out = xcalloc(v->nitems, sizeof(**out));
	for (size_t i = 0; i < v->nitems; i++) {
		const struct ynode *it = v->items[i];
		size_t j;

		for (j = 0; j < pn->ncontrols; j++)
			if (strcmp(pn->controls[j].name, it->str) == 0)
				break;
		if (j == pn->ncontrols)
			return ys_fail(&p->ys, it, "unknown routing control "
			    "'%s' in safety rule '%s' (control panel '%s' has "
			    "none by that name)",
			    ys_shown(it, buf, sizeof(buf)), r->name, pn->name);
		for (size_t m = 0; m < *n; m++)
			if ((*out)[m] == j)
				return ys_fail(&p->ys, it, "routing control "
				    "'%s' is listed twice in '%s' of safety "
				    "rule '%s'", pn->controls[j].name, key->str,
				    r->name);
		(*out)[(*n)++] = j;
	}
	return 0;
}

static int
finish_threshold(struct parser *p, struct simconf_rule *r,
    const struct rule_src *src)
{
	const char *what = r->kind == SIMCONF_ASSERTION ?
	    "asserted controls" : "gating controls";

	if (r->type != SIMCONF_ATLEAST) {
		if (src->threshold != NULL)
			return ys_fail(&p->ys, src->threshold, "'threshold' "
			    "only applies to ATLEAST rules");
		r->threshold = r->type == SIMCONF_AND ?
		    (unsigned)r->ncontrols : 1;
		return 0;
	}
	if (src->threshold == NULL)
		return ys_fail(&p->ys, src->rule, "ATLEAST rule of safety rule "
		    "'%s' has no 'threshold'", r->name);
	if (src->threshold_val < 1 ||
	    src->threshold_val > (long long)r->ncontrols)
		return ys_fail(&p->ys, src->threshold, "'threshold' must be "
		    "between 1 and %zu (the number of %s)", r->ncontrols, what);
	r->threshold = (unsigned)src->threshold_val;
	return 0;
}

/* Checks that need the whole rule and the panel's controls. */
static int
finish_rule(struct parser *p, struct simconf_rule *r,
    const struct rule_src *src)
{
	const struct ynode *extra = src->gating != NULL ? src->gating :
	    src->targets;

	if (src->kind == NULL)
		return ys_fail(&p->ys, src->node, "safety rule '%s' has no "
		    "'type' (assertion or gating)", r->name);
	if (r->kind == SIMCONF_ASSERTION) {
		if (extra != NULL)
			return ys_fail(&p->ys, extra, "'%s' only applies to "
			    "gating rules", extra->str);
		if (src->controls == NULL)
			return ys_fail(&p->ys, src->node, "assertion rule '%s' "
			    "has no 'controls'", r->name);
	} else {
		if (src->controls != NULL)
			return ys_fail(&p->ys, src->controls, "'controls' only "
			    "applies to assertion rules (a gating rule has "
			    "'gating-controls' and 'target-controls')");
		if (src->gating == NULL)
			return ys_fail(&p->ys, src->node, "gating rule '%s' "
			    "has no 'gating-controls'", r->name);
		if (src->targets == NULL)
			return ys_fail(&p->ys, src->node, "gating rule '%s' "
			    "has no 'target-controls'", r->name);
	}
	if (src->rule == NULL)
		return ys_fail(&p->ys, src->node, "safety rule '%s' has no "
		    "'rule'", r->name);
	if (src->rtype == NULL)
		return ys_fail(&p->ys, src->rule, "'rule' of safety rule '%s' "
		    "has no 'type' (ATLEAST, AND or OR)", r->name);
	if (resolve_list(p, r, r->kind == SIMCONF_ASSERTION ? src->controls :
	    src->gating, &r->controls, &r->ncontrols) != 0)
		return ERR_INVAL;
	if (r->kind == SIMCONF_GATING && resolve_list(p, r, src->targets,
	    &r->targets, &r->ntargets) != 0)
		return ERR_INVAL;
	r->inverted = src->inverted;
	r->wait_ms = src->wait_ms;
	return finish_threshold(p, r, src);
}

/* --- control panels ---------------------------------------------------- */

static int
panel_name(struct parser *p, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct simconf_panel *pn = obj;
	struct simconf *c = p->conf;
	char buf[80];

	if (check_name(p, k, v, "control panel name", true) != 0)
		return ERR_INVAL;
	for (size_t i = 0; &c->panels[i] != pn; i++)
		if (strcmp(c->panels[i].name, v->str) == 0)
			return ys_fail(&p->ys, v, "duplicate control panel "
			    "name '%s' (first at line %d)",
			    ys_shown(v, buf, sizeof(buf)), c->panels[i].line);
	pn->name = xstrdup(v->str);
	return 0;
}

/* The name is read before the walk (parse_panel); nothing left to do. */
static int
panel_name_done(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	(void)ys;
	(void)k;
	(void)v;
	(void)obj;
	return 0;
}

static const struct ys_key panel_keys[] = {
	{"name", panel_name_done},
	{"routing-controls", panel_controls},
	{"safety-rules", panel_rules},
	{NULL, NULL}
};

static int
parse_panel(struct parser *p, const struct ynode *v)
{
	struct simconf *c = p->conf;
	struct simconf_panel *pn;
	const struct ynode *name;
	int ret;

	if (v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, v, "each entry of 'control-panels' must "
		    "be a mapping with 'name' and 'routing-controls'");
	pn = &c->panels[c->npanels++];
	pn->line = v->line;
	pn->column = v->column;
	p->panel = pn;
	/*
	 * The name comes first whatever the key order: controls and rules
	 * need it for their ARNs and messages.
	 */
	name = ynode_get(v, "name");
	if (name == NULL)
		return ys_fail(&p->ys, v, "control panel has no 'name'");
	if (panel_name(p, ys_key_node(v, "name"), name, pn) != 0)
		return ERR_INVAL;
	pn->arn = simconf_panel_arn(c->account, pn->name);
	p->rsrc = NULL;
	ret = ys_walk(&p->ys, v, "control-panels", panel_keys, NULL, pn);
	for (size_t i = 0; ret == 0 && i < pn->nrules; i++)
		ret = finish_rule(p, &pn->rules[i], &p->rsrc[i]);
	free(p->rsrc);
	p->rsrc = NULL;
	return ret;
}

static int
top_panels(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct simconf *c = p->conf;

	(void)obj;
	p->panels_node = k;
	if (ynode_is_null(v))
		return ys_fail(ys, k, "'control-panels' has no value");
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'control-panels' must be a list of "
		    "control panels");
	if (v->nitems == 0)
		return ys_fail(ys, v, "'control-panels' must not be empty");
	if (v->nitems > SIMCONF_MAX_PANELS)
		return ys_fail(ys, v->items[SIMCONF_MAX_PANELS], "more than %d "
		    "control panels", SIMCONF_MAX_PANELS);
	c->panels = xcalloc(v->nitems, sizeof(*c->panels));
	for (size_t i = 0; i < v->nitems; i++)
		if (parse_panel(p, v->items[i]) != 0)
			return ERR_INVAL;
	return 0;
}

static const struct ys_key top_keys[] = {
	{"account", top_account},
	{"credentials", top_credentials},
	{"error-status", top_error_status},
	{"control-panels", top_panels},
	{NULL, NULL}
};

/* --- entry points ------------------------------------------------------ */

static int
from_tree(const struct ytree *t, void *out, char **errmsg)
{
	struct parser p;
	const struct ynode *acct;
	int ret;

	memset(&p, 0, sizeof(p));
	p.conf = xcalloc(1, sizeof(*p.conf));
	p.conf->path = xstrdup(ytree_name(t));
	ret = ys_root(&p.ys, t, "a mapping with 'account', 'credentials' and "
	    "'control-panels'", &p.root);
	if (ret == 0 && (acct = ynode_get(p.root, "account")) == NULL)
		ret = ys_fail(&p.ys, p.root, "missing 'account' (the AWS "
		    "account id, 12 digits)");
	/* ARNs need the account, wherever it is in the file. */
	if (ret == 0)
		ret = top_account(&p.ys, ys_key_node(p.root, "account"), acct,
		    NULL);
	if (ret == 0)
		ret = ys_walk(&p.ys, p.root, NULL, top_keys, NULL, NULL);
	if (ret == 0 && p.creds_node == NULL)
		ret = ys_fail(&p.ys, p.root, "missing 'credentials' (at least "
		    "one access key)");
	if (ret == 0 && p.panels_node == NULL)
		ret = ys_fail(&p.ys, p.root, "missing 'control-panels' (at "
		    "least one control panel)");
	free(p.rsrc);
	if (ret != 0) {
		simconf_free(p.conf);
		*errmsg = p.ys.err;
		return ret;
	}
	*(struct simconf **)out = p.conf;
	return 0;
}

int
simconf_load(const char *path, struct simconf **out, char **errmsg)
{
	return ys_load(path, from_tree, out, errmsg);
}

int
simconf_load_string(const char *name, const char *text, size_t len,
    struct simconf **out, char **errmsg)
{
	return ys_load_string(name, text, len, from_tree, out, errmsg);
}

void
simconf_free(struct simconf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->ncreds; i++) {
		free(conf->creds[i].access_key_id);
		free(conf->creds[i].secret_access_key);
		free(conf->creds[i].session_token);
	}
	free(conf->creds);
	for (size_t i = 0; i < conf->npanels; i++) {
		struct simconf_panel *pn = &conf->panels[i];

		for (size_t j = 0; j < pn->ncontrols; j++) {
			free(pn->controls[j].name);
			free(pn->controls[j].arn);
		}
		free(pn->controls);
		for (size_t j = 0; j < pn->nrules; j++) {
			free(pn->rules[j].name);
			free(pn->rules[j].arn);
			free(pn->rules[j].controls);
			free(pn->rules[j].targets);
		}
		free(pn->rules);
		free(pn->name);
		free(pn->arn);
	}
	free(conf->panels);
	free(conf->path);
	free(conf);
}

/* --- ARNs -------------------------------------------------------------- */

#define ARN_PREFIX	"arn:aws:route53-recovery-control::"

/*
 * Lowercase hex of the first ndigits/2 bytes of SHA-256 over the
 * NUL-separated parts (each part followed by a NUL, so that no two lists
 * of names hash the same input).
 */
static void
hash_id(const char *const *parts, size_t nparts, char *out, size_t ndigits)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();	/* OpenSSL without SHA-256: nothing to do */
	for (size_t i = 0; i < nparts; i++)
		if (EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) != 1)
			abort();
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < ndigits / 2)
		abort();
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < ndigits / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[ndigits] = '\0';
}

char *
simconf_panel_arn(const char *account, const char *panel)
{
	const char *parts[] = {"arcsim", "controlpanel", account, panel};
	char id[33];

	hash_id(parts, 4, id, 32);
	return xstrfmt(ARN_PREFIX "%s:controlpanel/%s", account, id);
}

static char *
child_arn(const char *kind, const char *account, const char *panel,
    const char *name)
{
	const char *parts[] = {"arcsim", kind, account, panel, name};
	char *parent = simconf_panel_arn(account, panel), *arn;
	char id[17];

	hash_id(parts, 5, id, 16);
	arn = xstrfmt("%s/%s/%s", parent, kind, id);
	free(parent);
	return arn;
}

char *
simconf_control_arn(const char *account, const char *panel,
    const char *control)
{
	return child_arn("routingcontrol", account, panel, control);
}

char *
simconf_rule_arn(const char *account, const char *panel, const char *rule)
{
	return child_arn("safetyrule", account, panel, rule);
}

const char *
simconf_kind_str(enum simconf_rule_kind kind)
{
	return kind == SIMCONF_GATING ? "gating" : "assertion";
}

const char *
simconf_type_str(enum simconf_rule_type type)
{
	switch (type) {
	case SIMCONF_AND:
		return "AND";
	case SIMCONF_OR:
		return "OR";
	default:
		return "ATLEAST";
	}
}
