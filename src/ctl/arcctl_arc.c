#include "ctl/arcctl_arc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "arc/arc_call.h"
#include "arc/creds.h"
#include "arc/curl_ev.h"
#include "conf/conf.h"
#include "log/log.h"
#include "mirror/mirror.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

#define MAX_OVERRIDES	20	/* safety rules per panel (ARC quota) */

static const char usage_text[] =
    "usage: arcdnsctl [-c file] [--json] arc list\n"
    "       arcdnsctl [-c file] [--json] arc get NAME\n"
    "       arcdnsctl [-c file] [--json] arc set NAME on|off "
    "[--override RULE]...\n"
    "       arcdnsctl [-c file] [--json] arc failover --from CONTROL "
    "--to CONTROL [--override RULE]...\n"
    "NAME, CONTROL: a name under controls: of the config, or a routing "
    "control ARN\n"
    "RULE: a safety rule's ARN or name\n";

/* A control named on the command line, resolved to an ARN. */
struct target {
	const char	*arg;		/* as given */
	const char	*local;		/* controls: key, or NULL */
	const char	*arc_name;	/* to look up by name, or NULL */
	char		*arn;		/* new, once known */
};

struct ctx {
	const char		*conf_path;
	bool			 json;
	struct conf		*conf;
	struct event_base	*base;
	struct curl_ev		*ce;
	struct creds		*creds;
	struct arc_call		*call;
	const struct arc_call_result *res;	/* of the last call */
	/* --override: ARNs to send, names to match against refusals */
	const char		*overrides[MAX_OVERRIDES];
	size_t			 noverrides;
	const char		*rule_names[MAX_OVERRIDES];
	size_t			 nrule_names;
	char			*found[MAX_OVERRIDES];	/* ARNs of names */
	size_t			 nfound;
};

/* ---- output ----------------------------------------------------------- */

static void __attribute__((format(printf, 1, 2)))
say_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "arcdnsctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
print_json(json_t *doc)
{
	char *s = jsonx_dump(doc);

	json_decref(doc);
	printf("%s\n", s);
	free(s);
}

static json_t *
attempts_json(const struct arc_call_result *r)
{
	json_t *a = jsonx_check(json_array());

	for (size_t i = 0; r != NULL && i < r->nattempts; i++) {
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "endpoint", jsonx_str_or_null(r->attempts[i].region));
		jsonx_set(o, "result", jsonx_str_or_null(r->attempts[i].code[0] ?
		    r->attempts[i].code : "ok"));
		jsonx_set(o, "class", jsonx_str_or_null(arc_class_str(
		    r->attempts[i].cls)));
		jsonx_set(o, "ms", json_integer((json_int_t)r->attempts[i].ms));
		jsonx_append(a, o);
	}
	return a;
}

/*
 * A failure: "arcdnsctl: msg" on stderr; with --json also the error
 * object on stdout. r (may be NULL) adds code, endpoint, attempts.
 */
static int
fail(struct ctx *x, int status, const struct arc_call_result *r,
    json_t *extra, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(struct ctx *x, int status, const struct arc_call_result *r,
    json_t *extra, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	say_err("%s", msg);
	if (x->json) {
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "ok", json_false());
		jsonx_set(o, "error", jsonx_str_or_null(msg));
		if (r != NULL) {
			jsonx_set(o, "code", jsonx_str_or_null(r->code));
			jsonx_set(o, "endpoint", jsonx_str_or_null(r->region));
			jsonx_set(o, "attempts", attempts_json(r));
		}
		if (extra != NULL) {
			json_object_update(o, extra);
			json_decref(extra);
		}
		print_json(o);
	} else
		json_decref(extra);
	free(msg);
	return status;
}

/* ---- the loop --------------------------------------------------------- */

static void
done_cb(const struct arc_call_result *r, void *arg)
{
	struct ctx *x = arg;

	x->res = r;
	event_base_loopbreak(x->base);
}

/* Run the call just started (ret: its start status) to its end. */
static const struct arc_call_result *
wait_call(struct ctx *x, int ret)
{
	if (ret != 0)
		return NULL;
	x->res = NULL;
	while (x->res == NULL)
		if (event_base_dispatch(x->base) < 0)
			break;
	return x->res;
}

/* The message of a failed call, for stderr. */
static int
call_failed(struct ctx *x, const struct arc_call_result *r, const char *what)
{
	if (r == NULL)
		return fail(x, ARCCTL_EXIT_FAIL, NULL, NULL, "%s: cannot start "
		    "the call", what);
	if (r->region != NULL)
		return fail(x, ARCCTL_EXIT_FAIL, r, NULL, "%s: %s refused: "
		    "%s%s%s", what, r->region, r->code,
		    r->message[0] != '\0' && strcmp(r->message, r->code) != 0 ?
		    ": " : "", strcmp(r->message, r->code) != 0 ? r->message :
		    "");
	return fail(x, ARCCTL_EXIT_FAIL, r, NULL, "%s: %s", what, r->message);
}

/* ---- names ------------------------------------------------------------ */

static const struct conf_control *
find_local(const struct conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->ncontrols; i++)
		if (strcmp(conf->controls[i].name, name) == 0)
			return &conf->controls[i];
	return NULL;
}

static bool
looks_like_arn(const char *s)
{
	return strncmp(s, "arn:", 4) == 0 && strlen(s) <= 255 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789:./_-") == strlen(s);
}

static char *
known_names(const struct conf *conf)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < conf->ncontrols; i++) {
		char *t = xstrfmt("%s%s%s", s, i ? ", " : "",
		    conf->controls[i].name);

		free(s);
		s = t;
	}
	return s;
}

/* From the command line and the config only; 0 or an exit status. */
static int
target_init(struct ctx *x, struct target *t, const char *arg)
{
	const struct conf_control *cc = find_local(x->conf, arg);
	char *names;

	memset(t, 0, sizeof(*t));
	t->arg = arg;
	if (cc != NULL) {
		t->local = cc->name;
		if (cc->arn != NULL)
			t->arn = xstrdup(cc->arn);
		else
			t->arc_name = cc->arc_name;
		return 0;
	}
	if (looks_like_arn(arg)) {
		t->arn = xstrdup(arg);
		for (size_t i = 0; i < x->conf->ncontrols; i++)
			if (x->conf->controls[i].arn != NULL &&
			    strcmp(x->conf->controls[i].arn, arg) == 0)
				t->local = x->conf->controls[i].name;
		return 0;
	}
	names = known_names(x->conf);
	fail(x, ARCCTL_EXIT_FAIL, NULL, NULL, "unknown control '%s': not a "
	    "name under controls: in %s (%s%s) nor a routing control ARN",
	    arg, x->conf_path, names[0] ? "known: " : "none configured",
	    names);
	free(names);
	return ARCCTL_EXIT_FAIL;
}

/*
 * Controls given by their ARC name: one ListRoutingControls call.
 * 0 or an exit status.
 */
static int
targets_resolve(struct ctx *x, struct target *t, size_t n)
{
	const struct arc_call_result *r;
	bool need = false;

	for (size_t i = 0; i < n; i++)
		need |= t[i].arn == NULL;
	if (!need)
		return 0;
	r = wait_call(x, arc_call_list(x->call, done_cb, x));
	if (r == NULL || r->err != 0)
		return call_failed(x, r, "looking up control names");
	for (size_t i = 0; i < n; i++) {
		size_t hits = 0;

		if (t[i].arn != NULL)
			continue;
		for (size_t k = 0; k < r->nentries; k++)
			if (r->entries[k].name != NULL &&
			    strcmp(r->entries[k].name, t[i].arc_name) == 0) {
				if (hits++ == 0)
					t[i].arn = xstrdup(r->entries[k].arn);
			}
		if (hits == 0)
			return fail(x, ARCCTL_EXIT_FAIL, r, NULL, "control '%s':"
			    " the cluster has no routing control named '%s'%s",
			    t[i].arg, t[i].arc_name, x->conf->arc.control_panel
			    != NULL ? " in arc.control-panel" : "");
		if (hits > 1)
			return fail(x, ARCCTL_EXIT_FAIL, r, NULL, "control '%s':"
			    " %zu routing controls are named '%s': set "
			    "arc.control-panel or give the control's arn",
			    t[i].arg, hits, t[i].arc_name);
	}
	return 0;
}

static void
target_fini(struct target *t)
{
	free(t->arn);
	t->arn = NULL;
}

/* The local name of a listed control, or NULL. */
static const char *
local_of(const struct conf *conf, const struct mirror_entry *e)
{
	for (size_t i = 0; i < conf->ncontrols; i++) {
		const struct conf_control *cc = &conf->controls[i];

		if (cc->arn != NULL && strcmp(cc->arn, e->arn) == 0)
			return cc->name;
		if (cc->arc_name != NULL && e->name != NULL &&
		    strcmp(cc->arc_name, e->name) == 0)
			return cc->name;
	}
	return NULL;
}

/* ---- commands --------------------------------------------------------- */

static int
cmd_list(struct ctx *x)
{
	const struct arc_call_result *r;
	json_t *list;

	r = wait_call(x, arc_call_list(x->call, done_cb, x));
	if (r == NULL || r->err != 0)
		return call_failed(x, r, "list");
	list = jsonx_check(json_array());
	if (!x->json)
		printf("%-16s %-5s %-24s %s\n", "CONTROL", "STATE", "NAME",
		    "ARN");
	for (size_t i = 0; i < r->nentries; i++) {
		const struct mirror_entry *e = &r->entries[i];
		const char *local = local_of(x->conf, e);
		json_t *o;

		if (!x->json) {
			printf("%-16s %-5s %-24s %s\n", local != NULL ? local :
			    "-", e->on ? "On" : "Off", e->name != NULL ?
			    e->name : "-", e->arn);
			continue;
		}
		o = jsonx_check(json_object());
		jsonx_set(o, "control", jsonx_str_or_null(local));
		jsonx_set(o, "name", jsonx_str_or_null(e->name));
		jsonx_set(o, "arn", jsonx_str_or_null(e->arn));
		jsonx_set(o, "panel_arn", jsonx_str_or_null(e->panel_arn));
		jsonx_set(o, "state", jsonx_str_or_null(e->on ? "On" : "Off"));
		jsonx_append(list, o);
	}
	/* configured controls the cluster does not list */
	for (size_t k = 0; k < x->conf->ncontrols; k++) {
		const struct conf_control *cc = &x->conf->controls[k];
		bool seen = false;

		for (size_t i = 0; i < r->nentries && !seen; i++)
			seen = (cc->arn != NULL && strcmp(cc->arn,
			    r->entries[i].arn) == 0) || (cc->arc_name != NULL &&
			    r->entries[i].name != NULL && strcmp(cc->arc_name,
			    r->entries[i].name) == 0);
		if (!seen)
			say_err("warning: control %s (%s) is not listed by the "
			    "cluster", cc->name, cc->arn != NULL ? cc->arn :
			    cc->arc_name);
	}
	if (x->json) {
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "ok", json_true());
		jsonx_set(o, "endpoint", jsonx_str_or_null(r->region));
		jsonx_set(o, "controls", list);
		jsonx_set(o, "attempts", attempts_json(r));
		print_json(o);
	} else
		json_decref(list);
	return ARCCTL_EXIT_OK;
}

static int
cmd_get(struct ctx *x, const char *name)
{
	const struct arc_call_result *r;
	struct target t;
	int ret;

	ret = target_init(x, &t, name);
	if (ret == 0)
		ret = targets_resolve(x, &t, 1);
	if (ret != 0)
		goto out;
	r = wait_call(x, arc_call_get(x->call, t.arn, done_cb, x));
	if (r == NULL || r->err != 0 || r->nentries != 1) {
		ret = r != NULL && r->err == 0 ? fail(x, ARCCTL_EXIT_FAIL, r,
		    NULL, "get %s: no state in the reply", name) :
		    call_failed(x, r, name);
		goto out;
	}
	if (x->json) {
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "ok", json_true());
		jsonx_set(o, "endpoint", jsonx_str_or_null(r->region));
		jsonx_set(o, "control", jsonx_str_or_null(t.local));
		jsonx_set(o, "name", jsonx_str_or_null(r->entries[0].name));
		jsonx_set(o, "arn", jsonx_str_or_null(r->entries[0].arn));
		jsonx_set(o, "state", jsonx_str_or_null(r->entries[0].on ? "On" :
		    "Off"));
		jsonx_set(o, "attempts", attempts_json(r));
		print_json(o);
	} else
		printf("%s%s%s%s: %s\n", t.local != NULL ? t.local :
		    r->entries[0].arn, r->entries[0].name != NULL ? " (" : "",
		    r->entries[0].name != NULL ? r->entries[0].name : "",
		    r->entries[0].name != NULL ? ")" : "",
		    r->entries[0].on ? "On" : "Off");
	ret = ARCCTL_EXIT_OK;
out:
	target_fini(&t);
	return ret;
}

static bool
in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

/* "NAME (ARN)" or "ARN" (new). */
static char *
rule_text(const struct arc_rule_ref *rr)
{
	return rr->name != NULL ? xstrfmt("%s (%s)", rr->name, rr->arn) :
	    xstrdup(rr->arn);
}

/*
 * An update (entries e, n; batch: UpdateRoutingControlStates), with the
 * --override ARNs and, for --override names, again with the ARN of every
 * rule a refusal names that the operator named. 0 or an exit status;
 * *out the successful result.
 */
static int
update(struct ctx *x, const struct arc_call_entry *e, size_t n, bool batch,
    const char *what, const struct arc_call_result **out)
{
	const char *ovr[2 * MAX_OVERRIDES];
	const struct arc_call_result *r = NULL;

	for (int round = 0; round < ARCCTL_MAX_OVERRIDE_ROUNDS; round++) {
		struct arc_rule_ref rules[8];
		size_t nr, nov = 0, added = 0;
		json_t *jr;
		char *first;

		for (size_t i = 0; i < x->noverrides; i++)
			ovr[nov++] = x->overrides[i];
		for (size_t i = 0; i < x->nfound; i++)
			if (!in_list(ovr, nov, x->found[i]))
				ovr[nov++] = x->found[i];
		r = wait_call(x, arc_call_update(x->call, e, n, batch, ovr,
		    nov, done_cb, x));
		if (r != NULL && r->err == 0) {
			*out = r;
			return 0;
		}
		if (r == NULL || strcmp(r->code, "ConflictException") != 0)
			return call_failed(x, r, what);
		nr = arc_call_conflict_rules(r->message, r->resource_id, rules,
		    8);
		for (size_t i = 0; i < nr; i++) {
			bool named = rules[i].name != NULL && in_list(
			    x->rule_names, x->nrule_names, rules[i].name);

			if (named && !in_list(ovr, nov, rules[i].arn) &&
			    x->nfound < MAX_OVERRIDES) {
				x->found[x->nfound++] = xstrdup(rules[i].arn);
				added++;
			}
		}
		if (added > 0) {
			arc_rule_ref_fini(rules, nr);
			continue;
		}
		jr = jsonx_check(json_array());
		for (size_t i = 0; i < nr; i++) {
			json_t *o = jsonx_check(json_object());

			jsonx_set(o, "name", jsonx_str_or_null(rules[i].name));
			jsonx_set(o, "arn", jsonx_str_or_null(rules[i].arn));
			jsonx_append(jr, o);
		}
		first = nr > 0 ? rule_text(&rules[0]) : NULL;
		(void)fail(x, ARCCTL_EXIT_REFUSED, r, json_pack("{s:o}",
		    "rules", jr), "%s: refused by safety rule %s%s (on %s): %s",
		    what, first != NULL ? first : "(not named in the reply)",
		    nr > 1 ? " and others" : "", r->region, r->message);
		if (nr > 0)
			say_err("nothing was changed; to override: --override "
			    "%s", rules[0].name != NULL ? rules[0].name :
			    rules[0].arn);
		free(first);
		arc_rule_ref_fini(rules, nr);
		return ARCCTL_EXIT_REFUSED;
	}
	return fail(x, ARCCTL_EXIT_REFUSED, r, NULL, "%s: still refused after "
	    "%d rounds of overrides", what, ARCCTL_MAX_OVERRIDE_ROUNDS);
}

static json_t *
overrides_json(const struct ctx *x)
{
	json_t *a = jsonx_check(json_array());

	for (size_t i = 0; i < x->noverrides; i++)
		jsonx_append(a, jsonx_str_or_null(x->overrides[i]));
	for (size_t i = 0; i < x->nfound; i++)
		jsonx_append(a, jsonx_str_or_null(x->found[i]));
	return a;
}

/* "(via us-west-2)" or "(via us-west-2 after us-east-1: ...)" (new) */
static char *
via_text(const struct arc_call_result *r)
{
	char *s = xstrfmt("via %s", r->region);

	for (size_t i = 0; i + 1 < r->nattempts; i++) {
		char *t = xstrfmt("%s%s%s: %s", s, i == 0 ? " after " : "; ",
		    r->attempts[i].region, r->attempts[i].code);

		free(s);
		s = t;
	}
	return s;
}

static json_t *
target_json(const struct target *t, bool on)
{
	json_t *o = jsonx_check(json_object());

	jsonx_set(o, "control", jsonx_str_or_null(t->local));
	jsonx_set(o, "arn", jsonx_str_or_null(t->arn));
	jsonx_set(o, "state", jsonx_str_or_null(on ? "On" : "Off"));
	return o;
}

static int
cmd_set(struct ctx *x, const char *name, bool on)
{
	const struct arc_call_result *r = NULL;
	struct arc_call_entry e;
	struct target t;
	char *what = xstrfmt("set %s %s", name, on ? "on" : "off"), *via;
	int ret;

	ret = target_init(x, &t, name);
	if (ret == 0)
		ret = targets_resolve(x, &t, 1);
	if (ret == 0) {
		e = (struct arc_call_entry){ t.arn, on };
		ret = update(x, &e, 1, false, what, &r);
	}
	if (ret != 0)
		goto out;
	via = via_text(r);
	if (x->json) {
		json_t *o = jsonx_check(json_object()), *tj = target_json(&t,
		    on);

		jsonx_set(o, "ok", json_true());
		jsonx_set(o, "endpoint", jsonx_str_or_null(r->region));
		json_object_update(o, tj);
		json_decref(tj);
		jsonx_set(o, "overrides", overrides_json(x));
		jsonx_set(o, "attempts", attempts_json(r));
		print_json(o);
	} else
		printf("%s: %s (UpdateRoutingControlState %s)\n", t.local !=
		    NULL ? t.local : t.arn, on ? "On" : "Off", via);
	free(via);
out:
	target_fini(&t);
	free(what);
	return ret;
}

static int
cmd_failover(struct ctx *x, const char *from, const char *to)
{
	const struct arc_call_result *r = NULL;
	struct arc_call_entry e[2];
	struct target t[2];
	char *what = xstrfmt("failover from %s to %s", from, to), *via;
	int ret;

	memset(t, 0, sizeof(t));
	ret = target_init(x, &t[0], to);
	if (ret == 0)
		ret = target_init(x, &t[1], from);
	if (ret == 0)
		ret = targets_resolve(x, t, 2);
	if (ret == 0 && strcmp(t[0].arn, t[1].arn) == 0)
		ret = fail(x, ARCCTL_EXIT_USAGE, NULL, NULL, "%s: --from and "
		    "--to name the same routing control", what);
	if (ret == 0) {
		e[0] = (struct arc_call_entry){ t[0].arn, true };
		e[1] = (struct arc_call_entry){ t[1].arn, false };
		ret = update(x, e, 2, true, what, &r);
	}
	if (ret != 0)
		goto out;
	via = via_text(r);
	if (x->json) {
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "ok", json_true());
		jsonx_set(o, "endpoint", jsonx_str_or_null(r->region));
		jsonx_set(o, "on", target_json(&t[0], true));
		jsonx_set(o, "off", target_json(&t[1], false));
		jsonx_set(o, "overrides", overrides_json(x));
		jsonx_set(o, "attempts", attempts_json(r));
		print_json(o);
	} else
		printf("failover: %s On, %s Off (one UpdateRoutingControlStates "
		    "call %s)\n", t[0].local != NULL ? t[0].local : t[0].arn,
		    t[1].local != NULL ? t[1].local : t[1].arn, via);
	free(via);
out:
	target_fini(&t[0]);
	target_fini(&t[1]);
	free(what);
	return ret;
}

/* ---- arguments -------------------------------------------------------- */

static int
usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "arcdnsctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage_text);
	return ARCCTL_EXIT_USAGE;
}

/* The command line after the subcommand. */
struct args {
	const char	*pos[3];	/* positional arguments */
	size_t		 npos;
	const char	*from, *to;
	const char	*overrides[MAX_OVERRIDES];
	size_t		 noverrides;
	bool		 json;		/* --json / -j after "arc" */
};

/* Options may come before, between or after the positional arguments. */
static int
parse_args(int argc, char **argv, struct args *a, bool allow_override,
    bool allow_from_to)
{
	memset(a, 0, sizeof(*a));
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i], *v = NULL, **slot = NULL;
		size_t nl;

		if (strcmp(s, "--") == 0) {
			for (i++; i < argc; i++) {
				if (a->npos == 3)
					return usage_error("too many "
					    "arguments");
				a->pos[a->npos++] = argv[i];
			}
			break;
		}
		if (s[0] != '-' || s[1] == '\0') {
			if (a->npos == 3)
				return usage_error("too many arguments");
			a->pos[a->npos++] = s;
			continue;
		}
		if (strcmp(s, "--json") == 0 || strcmp(s, "-j") == 0) {
			a->json = true;
			continue;
		}
		nl = strcspn(s, "=");
		if (allow_override && strncmp(s, "--override", nl) == 0 &&
		    nl == 10)
			slot = NULL;
		else if (allow_from_to && nl == 6 &&
		    strncmp(s, "--from", 6) == 0)
			slot = &a->from;
		else if (allow_from_to && nl == 4 && strncmp(s, "--to", 4) == 0)
			slot = &a->to;
		else
			return usage_error("arc %s: unknown option %s",
			    argv[1], s);
		if (s[nl] == '=')
			v = s + nl + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		if (v == NULL || v[0] == '\0')
			return usage_error("%.*s needs a value", (int)nl, s);
		if (slot != NULL) {
			if (*slot != NULL)
				return usage_error("%.*s given twice", (int)nl,
				    s);
			*slot = v;
		} else {
			if (a->noverrides == MAX_OVERRIDES)
				return usage_error("more than %d --override",
				    MAX_OVERRIDES);
			a->overrides[a->noverrides++] = v;
		}
	}
	return 0;
}

static int
parse_state(const char *s, bool *on)
{
	if (strcasecmp(s, "on") == 0)
		*on = true;
	else if (strcasecmp(s, "off") == 0)
		*on = false;
	else
		return -1;
	return 0;
}

static void
ctx_overrides(struct ctx *x, const struct args *a)
{
	for (size_t i = 0; i < a->noverrides; i++) {
		if (looks_like_arn(a->overrides[i]))
			x->overrides[x->noverrides++] = a->overrides[i];
		else
			x->rule_names[x->nrule_names++] = a->overrides[i];
	}
}

static int
setup(struct ctx *x)
{
	enum creds_source src = CREDS_AUTO;
	char *err = NULL;
	int ret;

	ret = conf_load(x->conf_path, &x->conf, &err);
	if (ret != 0) {
		ret = fail(x, ARCCTL_EXIT_FAIL, NULL, NULL, "%s", err != NULL ?
		    err : x->conf_path);
		free(err);
		return ret;
	}
	if (!x->conf->arc.enabled)
		return fail(x, ARCCTL_EXIT_FAIL, NULL, NULL, "%s has no arc: "
		    "section: no ARC cluster to call", x->conf_path);
	if (x->conf->arc.credentials != NULL &&
	    creds_source_parse(x->conf->arc.credentials, &src) != 0)
		return fail(x, ARCCTL_EXIT_FAIL, NULL, NULL, "%s: unknown "
		    "credentials source '%s'", x->conf_path,
		    x->conf->arc.credentials);
	x->base = event_base_new();
	if (x->base == NULL)
		return fail(x, ARCCTL_EXIT_FAIL, NULL, NULL, "cannot make an "
		    "event base");
	x->ce = curl_ev_new(x->base);
	x->creds = creds_new(x->base, x->ce, src, NULL, NULL, NULL, NULL);
	creds_set_profile(x->creds, x->conf->arc.profile);
	creds_start(x->creds);
	if (arc_call_new(x->base, &x->conf->arc, x->ce, x->creds, NULL,
	    &x->call, &err) != 0) {
		ret = fail(x, ARCCTL_EXIT_FAIL, NULL, NULL, "%s: %s",
		    x->conf_path, err);
		free(err);
		return ret;
	}
	return 0;
}

static void
teardown(struct ctx *x)
{
	arc_call_free(x->call);
	creds_free(x->creds);
	curl_ev_free(x->ce);
	if (x->base != NULL)
		event_base_free(x->base);
	conf_free(x->conf);
	for (size_t i = 0; i < x->nfound; i++)
		free(x->found[i]);
}

int
arcctl_arc_main(int argc, char **argv, const char *conf_path, bool json)
{
	struct ctx x;
	struct args a;
	const char *cmd = argc > 1 ? argv[1] : NULL;
	bool on = false;
	int ret;

	memset(&x, 0, sizeof(x));
	x.conf_path = conf_path;
	x.json = json;
	if (cmd == NULL)
		return usage_error("arc: a command is needed (list, get, set, "
		    "failover)");
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "--help") == 0) {
		fputs(usage_text, stdout);
		return ARCCTL_EXIT_OK;
	}
	if (strcmp(cmd, "list") == 0) {
		ret = parse_args(argc, argv, &a, false, false);
		if (ret == 0 && a.npos != 0)
			ret = usage_error("arc list takes no arguments");
	} else if (strcmp(cmd, "get") == 0) {
		ret = parse_args(argc, argv, &a, false, false);
		if (ret == 0 && a.npos != 1)
			ret = usage_error("arc get needs one NAME");
	} else if (strcmp(cmd, "set") == 0) {
		ret = parse_args(argc, argv, &a, true, false);
		if (ret == 0 && a.npos != 2)
			ret = usage_error("arc set needs NAME and on|off");
		if (ret == 0 && parse_state(a.pos[1], &on) != 0)
			ret = usage_error("arc set: '%s' is neither on nor off",
			    a.pos[1]);
	} else if (strcmp(cmd, "failover") == 0) {
		ret = parse_args(argc, argv, &a, true, true);
		if (ret == 0 && (a.from == NULL || a.to == NULL || a.npos != 0))
			ret = usage_error("arc failover needs --from CONTROL "
			    "and --to CONTROL (and nothing else)");
	} else
		ret = usage_error("arc: unknown command '%s'", cmd);
	if (ret != 0)
		return ret;
	ctx_overrides(&x, &a);
	x.json = json || a.json;
	log_set_level(LOG_SRC_ARC, getenv("ARCDNSCTL_DEBUG") != NULL ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return fail(&x, ARCCTL_EXIT_FAIL, NULL, NULL, "cannot "
		    "initialise libcurl");
	ret = setup(&x);
	if (ret == 0) {
		if (strcmp(cmd, "list") == 0)
			ret = cmd_list(&x);
		else if (strcmp(cmd, "get") == 0)
			ret = cmd_get(&x, a.pos[0]);
		else if (strcmp(cmd, "set") == 0)
			ret = cmd_set(&x, a.pos[0], on);
		else
			ret = cmd_failover(&x, a.from, a.to);
	}
	teardown(&x);
	curl_global_cleanup();
	fflush(stdout);
	return ret;
}
