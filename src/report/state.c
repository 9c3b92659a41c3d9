#include "report/state.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arc/arc_client.h"
#include "conf/conf.h"
#include "dns/snapshot.h"
#include "dns/table.h"
#include "fence/fence.h"
#include "mirror/mirror.h"
#include "policy/policy.h"
#include "runtime.h"
#include "util/clock.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

/* The state of conf control i (unknown without a mirror). */
static enum mirror_state
ctl_state(const struct runtime *rt, size_t i)
{
	const struct mirror_control *c = rt->mirror != NULL ?
	    mirror_control(rt->mirror, i) : NULL;

	return c != NULL ? c->state : MIRROR_UNKNOWN;
}

static bool
is_stale(const struct runtime *rt, uint64_t now_ms)
{
	return rt->cur.conf->arc.enabled && (rt->mirror == NULL ||
	    mirror_is_stale(rt->mirror, now_ms,
	    rt->cur.conf->arc.stale_after_ms));
}

static json_t *
jint(uint64_t v)
{
	return jsonx_check(json_integer((json_int_t)v));
}

/* A time that may be 0 (never): null then. */
static json_t *
jtime(uint64_t v)
{
	return v != 0 ? jint(v) : json_null();
}

/*
 * reasons += {"reason":code, key:value (when key), "message":message};
 * takes message. Bytes outside printable ASCII in it become '?' (a hook's
 * result may carry anything; json_string() wants UTF-8).
 */
static void
add_reason(json_t *reasons, const char *code, const char *key,
    const char *value, char *message)
{
	json_t *r = jsonx_check(json_object());

	for (char *p = message; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	jsonx_set(r, "reason", jsonx_str_or_null(code));
	if (key != NULL)
		jsonx_set(r, key, jsonx_str_or_null(value));
	jsonx_set(r, "message", jsonx_str_or_null(message));
	free(message);
	jsonx_append(reasons, r);
}

/*
 * A "fence-failed" reason for every fence that failed closed: its writer
 * names stay withdrawn until an operator confirms (arcdnsctl fence
 * confirm).
 */
static void
add_fence_reasons(const struct runtime *rt, json_t *reasons)
{
	size_t n = rt->fences != NULL ? fences_count(rt->fences) : 0;

	for (size_t i = 0; i < n; i++) {
		struct fence_status fs;

		fences_status(rt->fences, i, &fs);
		if (fs.phase != FENCE_FAILED)
			continue;
		add_reason(reasons, "fence-failed", "fence", fs.name,
		    xstrfmt("fence %s failed closed in step %s (attempt "
		    "%u)%s%s; its writer names stay withdrawn until "
		    "'arcdnsctl fence confirm %s'", fs.name,
		    fence_phase_name(fs.step), fs.attempt,
		    fs.reason != NULL ? ": " : "",
		    fs.reason != NULL ? fs.reason : "", fs.name));
	}
}

json_t *
report_ready_at(const struct runtime *rt, uint64_t now_ms, bool *ready)
{
	const struct conf *conf = rt->cur.conf;
	json_t *doc = jsonx_check(json_object());
	json_t *reasons = jsonx_check(json_array());

	if (conf->arc.enabled && rt->mirror == NULL)
		add_reason(reasons, "arc-off", NULL, NULL, xstrdup("the ARC client "
		    "is not running (see the log); nothing is mirrored"));
	else if (conf->arc.enabled) {
		uint64_t last = mirror_last_success(rt->mirror);

		if (last == 0)
			add_reason(reasons, "mirror-never", NULL, NULL, xstrdup(
			    "no poll of the ARC cluster has succeeded yet"));
		else if (is_stale(rt, now_ms))
			add_reason(reasons, "mirror-stale", NULL, NULL, xstrfmt(
			    "no successful poll for %.1fs (stale after "
			    "%.1fs); serving the last known state",
			    (double)(now_ms > last ? now_ms - last : 0) /
			    1000.0, (double)conf->arc.stale_after_ms / 1000.0));
	}
	for (size_t i = 0; i < conf->ncontrols; i++)
		if (ctl_state(rt, i) == MIRROR_UNKNOWN)
			add_reason(reasons, "control-unknown", "control",
			    conf->controls[i].name, xstrfmt("the state of "
			    "control %s is not known", conf->controls[i].name));
	add_fence_reasons(rt, reasons);
	*ready = json_array_size(reasons) == 0;
	jsonx_set(doc, "ready", json_boolean(*ready));
	jsonx_set(doc, "reasons", reasons);
	return doc;
}

json_t *
report_ready(const struct runtime *rt, bool *ready)
{
	return report_ready_at(rt, clock_wall_ms(), ready);
}

static json_t *
freshness(const struct runtime *rt, uint64_t now_ms)
{
	const struct conf *conf = rt->cur.conf;
	json_t *f = jsonx_check(json_object());
	uint64_t last = rt->mirror != NULL ? mirror_last_success(rt->mirror) :
	    0;

	jsonx_set(f, "arc", json_boolean(conf->arc.enabled));
	jsonx_set(f, "last_success_ms", jtime(last));
	jsonx_set(f, "age_ms", last != 0 ? jint(now_ms > last ? now_ms - last :
	    0) : json_null());
	jsonx_set(f, "stale", json_boolean(is_stale(rt, now_ms)));
	jsonx_set(f, "stale_after_ms", conf->arc.enabled ?
	    jint(conf->arc.stale_after_ms) : json_null());
	return f;
}

json_t *
report_controls(const struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;
	json_t *arr = jsonx_check(json_array());

	for (size_t i = 0; i < conf->ncontrols; i++) {
		const struct mirror_control *c = rt->mirror != NULL ?
		    mirror_control(rt->mirror, i) : NULL;
		const struct conf_control *cc = &conf->controls[i];
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "name", jsonx_str_or_null(cc->name));
		jsonx_set(o, "arn", jsonx_str_or_null(c != NULL ? c->arn : cc->arn));
		jsonx_set(o, "arc_name", jsonx_str_or_null(c != NULL ? c->arc_name :
		    cc->arc_name));
		jsonx_set(o, "state", jsonx_str_or_null(mirror_state_name(ctl_state(rt, i))));
		jsonx_set(o, "changed_ms", jtime(c != NULL ? c->changed_ms :
		    0));
		jsonx_set(o, "endpoint", jsonx_str_or_null(c != NULL ? c->endpoint : NULL));
		jsonx_set(o, "missing", json_boolean(c != NULL && c->missing));
		jsonx_append(arr, o);
	}
	return arr;
}

static json_t *
endpoints(const struct runtime *rt)
{
	json_t *arr = jsonx_check(json_array());
	size_t n = arc_client_endpoints(rt->arc);

	for (size_t i = 0; i < n; i++) {
		struct arc_ep_info in;
		json_t *o = jsonx_check(json_object());
		json_t *e = jsonx_check(json_object());

		arc_client_endpoint(rt->arc, i, &in);
		jsonx_set(o, "region", jsonx_str_or_null(in.region));
		jsonx_set(o, "url", jsonx_str_or_null(in.url));
		jsonx_set(o, "healthy", json_boolean(in.healthy));
		jsonx_set(o, "fails", jint(in.fails));
		jsonx_set(o, "last_latency_ms", jint(in.last_latency_ms));
		jsonx_set(o, "backoff_until_ms", jtime(in.backoff_until_ms));
		jsonx_set(o, "requests", jint(in.requests));
		jsonx_set(o, "ok", jint(in.ok));
		jsonx_set(e, "endpoint", jint(in.err_endpoint));
		jsonx_set(e, "throttle", jint(in.err_throttle));
		jsonx_set(e, "auth", jint(in.err_auth));
		jsonx_set(e, "config", jint(in.err_config));
		jsonx_set(o, "errors", e);
		jsonx_append(arr, o);
	}
	return arr;
}

static json_t *
zones(const struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;
	json_t *arr = jsonx_check(json_array());

	for (size_t v = 0; v < conf->nviews; v++) {
		const struct conf_view *cv = &conf->views[v];

		for (size_t k = 0; k < cv->nzones; k++) {
			const struct conf_zone *cz = &conf->zones[cv->zones[k]];
			json_t *o = jsonx_check(json_object());

			jsonx_set(o, "view", jsonx_str_or_null(cv->name));
			jsonx_set(o, "zone", jsonx_str_or_null(cz->id));
			jsonx_set(o, "origin", jsonx_str_or_null(cz->origin));
			jsonx_set(o, "serial", rt->cur.policy != NULL ?
			    jint(policy_serial(rt->cur.policy, cv->zones[k])) :
			    json_null());
			jsonx_append(arr, o);
		}
	}
	return arr;
}

json_t *
report_state_at(const struct runtime *rt, uint64_t now_ms)
{
	const struct conf *conf = rt->cur.conf;
	const struct table *t = rt->snap != NULL ?
	    snapshot_current(rt->snap) : NULL;
	json_t *doc = jsonx_check(json_object());
	bool ready;

	json_decref(report_ready_at(rt, now_ms, &ready));
	jsonx_set(doc, "identity", jsonx_str_or_null(conf->server.identity));
	jsonx_set(doc, "version", jsonx_str_or_null(PACKAGE_VERSION));
	jsonx_set(doc, "now_ms", jint(now_ms));
	jsonx_set(doc, "ready", json_boolean(ready));
	jsonx_set(doc, "hash", jsonx_str_or_null(t != NULL ? table_state_hash(t) : ""));
	jsonx_set(doc, "freshness", freshness(rt, now_ms));
	jsonx_set(doc, "controls", report_controls(rt));
	jsonx_set(doc, "endpoints", endpoints(rt));
	jsonx_set(doc, "zones", zones(rt));
	jsonx_set(doc, "fences", jsonx_check(rt->fences != NULL ?
	    fences_json(rt->fences) : json_array()));
	jsonx_set(doc, "reloads", jint(rt->reloads));
	jsonx_set(doc, "rebuilds", jint(rt->rebuilds));
	return doc;
}

json_t *
report_state(const struct runtime *rt)
{
	return report_state_at(rt, clock_wall_ms());
}

/* 200 On, 503 otherwise; the body for control i (region: NULL). */
static json_t *
control_doc(const struct runtime *rt, size_t i, const char *region,
    int *status)
{
	enum mirror_state s = ctl_state(rt, i);
	json_t *o = jsonx_check(json_object());

	*status = s == MIRROR_ON ? 200 : 503;
	if (region != NULL)
		jsonx_set(o, "region", jsonx_str_or_null(region));
	jsonx_set(o, "control", jsonx_str_or_null(rt->cur.conf->controls[i].name));
	jsonx_set(o, "state", jsonx_str_or_null(mirror_state_name(s)));
	jsonx_set(o, "stale", json_boolean(is_stale(rt, clock_wall_ms())));
	if (s == MIRROR_UNKNOWN)
		jsonx_set(o, "reason", jsonx_str_or_null(rt->mirror == NULL ?
		    "no ARC mirror runs: the state is not known" :
		    "the state is not known yet (not listed by any successful "
		    "poll, nor in the state file)"));
	return o;
}

json_t *
report_control_doc(const struct runtime *rt, const char *name, int *status)
{
	const struct conf *conf = rt->cur.conf;

	for (size_t i = 0; i < conf->ncontrols; i++)
		if (strcmp(conf->controls[i].name, name) == 0)
			return control_doc(rt, i, NULL, status);
	*status = 404;
	return NULL;
}

int
report_control(const struct runtime *rt, const char *name)
{
	int status;

	json_decref(report_control_doc(rt, name, &status));
	return status;
}

json_t *
report_region_doc(const struct runtime *rt, const char *region, int *status)
{
	int i = rt->cur.policy != NULL ?
	    policy_region_control(rt->cur.policy, region) : -1;
	const char *name = NULL;

	if (i < 0) {
		*status = 404;
		return NULL;
	}
	/* the region as configured, never the request's bytes */
	for (size_t z = 0; z < rt->cur.conf->nzones && name == NULL; z++) {
		const struct conf_zone *cz = &rt->cur.conf->zones[z];

		for (size_t r = 0; r < cz->nrecords && name == NULL; r++)
			for (size_t k = 0; k < cz->records[r].ntargets; k++) {
				const char *reg = cz->records[r].targets[k].region;

				if (reg != NULL && strcmp(reg, region) == 0) {
					name = reg;
					break;
				}
			}
	}
	return control_doc(rt, (size_t)i, name, status);
}

int
report_region(const struct runtime *rt, const char *region)
{
	int status;

	json_decref(report_region_doc(rt, region, &status));
	return status;
}

int
report_role(const struct runtime *rt, const char *region, const char **text)
{
	const struct conf *conf = rt->cur.conf;
	enum mirror_state *st = NULL;
	enum policy_role r;

	if (rt->cur.policy == NULL) {
		*text = "no role record names this region";
		return 404;
	}
	if (conf->ncontrols > 0) {
		st = xcalloc(conf->ncontrols, sizeof(*st));
		for (size_t i = 0; i < conf->ncontrols; i++)
			st[i] = ctl_state(rt, i);
	}
	r = policy_role(rt->cur.policy, st, region);
	free(st);
	switch (r) {
	case POLICY_ROLE_ACTIVE:
		*text = "active";
		return 200;
	case POLICY_ROLE_PASSIVE:
		*text = "passive";
		return 200;
	case POLICY_ROLE_UNKNOWN:
		*text = "unknown";
		return 503;
	case POLICY_ROLE_NONE:
		break;
	}
	*text = "no role record names this region";
	return 404;
}
