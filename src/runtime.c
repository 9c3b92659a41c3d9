#include "runtime.h"

#include <errno.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "arc/arc_client.h"
#include "arc/creds.h"
#include "arc/curl_ev.h"
#include "conf/conf.h"
#include "ctl/ctlsock.h"
#include "dns/listen.h"
#include "dns/notify.h"
#include "dns/snapshot.h"
#include "dns/table.h"
#include "fence/fence.h"
#include "http/http.h"
#include "log/log.h"
#include "mirror/mirror.h"
#include "policy/policy.h"
#include "util/clock.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/netaddr.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define RECLAIM_MS 50
#define STATUS_MS 250		/* how often CHAOS state.arcdns's freshness
				   is refreshed from the mirror */

/* Answers for states (NULL: all unknown) from policy into a new table. */
static int
build_table(const struct conf *conf, struct policy *policy,
    const enum mirror_state *states, struct table **out, char **errmsg)
{
	struct zone **zones;
	int ret;

	ret = policy_eval(policy, states, &zones, errmsg);
	if (ret != 0)
		return ret;
	ret = table_build(conf, zones, out, errmsg);
	policy_zones_free(policy, zones);
	return ret;
}

static bool trim_wanted;	/* a table went: give its pages back */

static void
free_table(void *t)
{
	table_free(t);
	trim_wanted = true;
}

/*
 * Old tables and the zone copies they were built from are freed in many
 * small blocks; without this the heap keeps their pages and the process
 * keeps the memory of two tables for good.
 */
static void
trim(void)
{
#ifdef HAVE_MALLOC_TRIM
	if (trim_wanted)
		malloc_trim(0);
#endif
	trim_wanted = false;
}

int
runtime_load(const char *path, struct loaded *out, char **errmsg)
{
	struct loaded l = {0};
	struct table *check;
	int ret;

	ret = conf_load(path, &l.conf, errmsg);
	if (ret != 0)
		return ret;
	l.nzones = l.conf->nzones;
	l.zones = xcalloc(l.nzones, sizeof(*l.zones));
	for (size_t i = 0; i < l.nzones; i++) {
		const struct conf_zone *cz = &l.conf->zones[i];

		ret = zone_load(cz->file, cz->origin, &l.zones[i], errmsg);
		if (ret != 0)
			goto fail;
	}
	ret = policy_new(l.conf, l.zones, &l.policy, errmsg);
	if (ret != 0)
		goto fail;
	/*
	 * The check of -t and of a reload: the answers must build with every
	 * ARC state unknown. Not kept: the daemon builds its own for the
	 * states it knows, and two tables of a large zone at once would
	 * double the peak.
	 */
	ret = build_table(l.conf, l.policy, NULL, &check, errmsg);
	if (ret != 0)
		goto fail;
	free_table(check);
	trim();
	*out = l;
	return 0;
fail:
	runtime_unload(&l);
	return ret;
}

void
runtime_unload(struct loaded *l)
{
	policy_free(l->policy);
	for (size_t i = 0; l->zones != NULL && i < l->nzones; i++)
		zone_free(l->zones[i]);
	free(l->zones);
	conf_free(l->conf);
	memset(l, 0, sizeof(*l));
}

struct runtime *
runtime_new(const char *conf_path, struct loaded *loaded)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));

	rt->conf_path = xstrdup(conf_path);
	rt->lock_fd = -1;
	rt->cur = *loaded;
	memset(loaded, 0, sizeof(*loaded));
	return rt;
}

int
runtime_bind(struct runtime *rt, char **errmsg)
{
	const struct conf_server *srv = &rt->cur.conf->server;
	int ret;

	rt->snap = snapshot_new(dns_listener_nreaders(srv), free_table);
	ret = dns_listener_new(srv, rt->snap, &rt->dns, errmsg);
	if (ret == 0 && srv->control != NULL)
		ret = ctlsock_bind(srv, &rt->ctl, errmsg);
	if (ret == 0 && srv->has_http)
		ret = http_bind(&srv->http, &rt->http, errmsg);
	return ret;
}

static void
reclaim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runtime *rt = arg;
	struct timeval tv = {0, RECLAIM_MS * 1000};

	if (snapshot_reclaim(rt->snap) > 0)
		evtimer_add(rt->reclaim, &tv);
	trim();
}

/* Make table current; the old one goes once no worker can read it. */
static void
publish(struct runtime *rt, struct table *table)
{
	snapshot_publish(rt->snap, table);
	reclaim_cb(-1, 0, rt);
}

static char *
serials_path(const struct conf *conf)
{
	return xstrfmt("%s/serials.json", conf->server.state_dir);
}

/*
 * Build every view's answers from the mirror's current states (all
 * unknown without a mirror), move the serials of the zone blocks whose
 * content changed, persist them, and publish. On failure the previous
 * answers keep serving.
 */
/* Does some fence withdraw its writer because the mirror is stale? */
static bool stale_withdraw(const struct runtime *rt);

/* How long the mirror has been stale (0: fresh, or no mirror). */
static uint64_t
stale_ms(const struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;
	uint64_t now = clock_wall_ms(), last;

	if (rt->mirror == NULL ||
	    !mirror_is_stale(rt->mirror, now, conf->arc.stale_after_ms))
		return 0;
	last = mirror_last_success(rt->mirror);
	if (last == 0)
		last = rt->started_ms;
	/* Stale since stale-after past the last success. */
	last += conf->arc.stale_after_ms;
	return now > last ? now - last : 1;
}

/* policy_gate_fn: what fence i lets the writer names publish. */
static int
fence_gate(void *arg, size_t i)
{
	struct runtime *rt = arg;

	return rt->fences != NULL ? fences_publish(rt->fences, i,
	    stale_ms(rt)) : -1;
}

static bool
stale_withdraw(const struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;
	uint64_t ms = stale_ms(rt);

	for (size_t i = 0; ms > 0 && i < conf->nfences; i++)
		if (conf->fences[i].stale == CONF_FENCE_STALE_WITHDRAW &&
		    ms >= conf->fences[i].stale_lease_ms)
			return true;
	return false;
}

/* The strings CH TXT state.arcdns shows for the fences. */
static void
fence_lines(const struct runtime *rt, struct table *t)
{
	size_t n = rt->fences != NULL ? fences_count(rt->fences) : 0;
	char **lines = xcalloc(n + 1, sizeof(*lines));

	for (size_t i = 0; i < n; i++) {
		struct fence_status st;

		fences_status(rt->fences, i, &st);
		if (st.phase == FENCE_FAILED)
			lines[i] = xstrfmt("fence %s failed-closed in %s: %s",
			    st.name, fence_phase_name(st.step),
			    st.reason != NULL ? st.reason : "?");
		else
			lines[i] = xstrfmt("fence %s %s%s", st.name,
			    fence_phase_name(st.phase),
			    fence_gate((void *)rt, i) < 0 &&
			    st.phase == FENCE_SERVING ? " (withdrawn: mirror "
			    "stale)" : "");
	}
	table_set_extra(t, (const char *const *)lines, n);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* NOTIFY zone block i's secondaries of its current serial. */
static void
notify_zone(struct runtime *rt, size_t i)
{
	const struct conf *conf = rt->cur.conf;
	const struct conf_zone *cz = &conf->zones[i];
	uint8_t origin[DNAME_MAXLEN];
	size_t len;

	const struct zone_rrset *soa;
	uint8_t rd[2 * DNAME_MAXLEN + 20];
	uint32_t serial = policy_serial(rt->cur.policy, i);
	size_t off;

	if (cz->nnotify == 0 || rt->notifier == NULL ||
	    dname_from_str(cz->origin, NULL, origin, &len) != 0)
		return;
	/* The SOA as served (RFC 1996 3.7): the file's, at our serial. */
	soa = zone_soa(rt->cur.zones[i]);
	if (soa != NULL && soa->count == 1 && soa->rd[0].len <= sizeof(rd)) {
		memcpy(rd, soa->rd[0].data, soa->rd[0].len);
		off = dname_len(rd);
		off += dname_len(rd + off);
		if (off + 20 == soa->rd[0].len) {
			rd[off] = (uint8_t)(serial >> 24);
			rd[off + 1] = (uint8_t)(serial >> 16);
			rd[off + 2] = (uint8_t)(serial >> 8);
			rd[off + 3] = (uint8_t)serial;
			if (notifier_send_soa(rt->notifier, origin, soa->ttl, rd,
			    soa->rd[0].len, cz->notify, cz->nnotify, cz->key >= 0 ?
			    &conf->keys[cz->key] : NULL) == 0)
				return;
		}
	}
	notifier_send(rt->notifier, origin, serial, cz->notify, cz->nnotify,
	    cz->key >= 0 ? &conf->keys[cz->key] : NULL);
}

/*
 * notify_all: NOTIFY every zone block's secondaries, changed or not (at
 * start, so that secondaries catch up with what changed meanwhile).
 */
static int
rebuild(struct runtime *rt, const char *why, bool notify_all)
{
	const struct conf *conf = rt->cur.conf;
	struct policy *policy = rt->cur.policy;
	enum mirror_state *st = NULL;
	struct table *table;
	char *err = NULL;
	bool changed = false, *zchanged;
	int ret;

	if (rt->mirror != NULL && conf->ncontrols > 0) {
		st = xcalloc(conf->ncontrols, sizeof(*st));
		for (size_t i = 0; i < conf->ncontrols; i++) {
			const struct mirror_control *c =
			    mirror_control(rt->mirror, i);

			st[i] = c != NULL ? c->state : MIRROR_UNKNOWN;
		}
	}
	/*
	 * The fences hear the selection first: a moving writer is withdrawn
	 * in the very tables built next. Only states from a poll of this
	 * run: at start the mirror's file may lag behind the fences' own (a
	 * crash between the two saves), and a sequence under way resumes
	 * towards its saved target until ARC says otherwise.
	 */
	if (rt->fences != NULL && rt->mirror != NULL &&
	    mirror_last_success(rt->mirror) >= rt->started_ms) {
		for (size_t i = 0; i < conf->nfences; i++)
			fences_update(rt->fences, i,
			    policy_fence_desired(policy, st, i));
		rt->fences_fed = true;
	}
	ret = build_table(conf, policy, st, &table, &err);
	free(st);
	if (ret != 0) {
		log_err(LOG_SRC_MAIN, "cannot rebuild the answers (%s): %s; "
		    "the previous answers stay", why, err);
		free(err);
		return ret;
	}
	table_set_state(table, rt->mirror, &rt->last_success_ms,
	    conf->arc.stale_after_ms);
	fence_lines(rt, table);
	rt->stale_withdraw = stale_withdraw(rt);
	zchanged = xcalloc(conf->nzones + 1, sizeof(*zchanged));
	for (size_t i = 0; i < conf->nzones; i++) {
		zchanged[i] = policy_changed(policy, i);
		if (!zchanged[i])
			continue;
		changed = true;
		log_info(LOG_SRC_MAIN, "zone %s (%s): serial %u (%s)",
		    conf->zones[i].id, conf->zones[i].origin,
		    policy_serial(policy, i), why);
	}
	policy_commit(policy);
	/* Persisted before it is served: a restart never goes back. */
	if (changed && conf->arc.enabled) {
		char *path = serials_path(conf);

		if (policy_save_serials(policy, path, &err) != 0) {
			log_err(LOG_SRC_MAIN, "cannot save the serials: %s",
			    err);
			free(err);
		}
		free(path);
	}
	publish(rt, table);
	for (size_t i = 0; i < conf->nzones; i++)
		if (zchanged[i] || notify_all)
			notify_zone(rt, i);
	free(zchanged);
	rt->rebuilds++;
	return 0;
}

static void
fences_changed_cb(void *arg)
{
	struct runtime *rt = arg;

	(void)rebuild(rt, "fence", false);
}

static void
mirror_changed_cb(const struct mirror *m, void *arg)
{
	struct runtime *rt = arg;

	(void)m;
	(void)rebuild(rt, "ARC state change", false);
	rt->last_success_ms = mirror_last_success(rt->mirror);
}

static void
status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runtime *rt = arg;

	if (rt->mirror != NULL)
		rt->last_success_ms = mirror_last_success(rt->mirror);
	if (rt->cur.conf->nfences > 0 && stale_withdraw(rt) != rt->stale_withdraw)
		(void)rebuild(rt, "mirror staleness and a fence's stale-lease",
		    false);
	else if (rt->fences != NULL && !rt->fences_fed && rt->mirror != NULL &&
	    mirror_last_success(rt->mirror) >= rt->started_ms)
		(void)rebuild(rt, "first poll: the fences hear the selection",
		    false);
}

/*
 * The fence state machines for the current config, restored from
 * state-dir/fences.json (a sequence under way resumes).
 */
static void
fences_start(struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;
	char *state, *events, *err = NULL;

	policy_set_gate(rt->cur.policy, fence_gate, rt);
	if (conf->nfences == 0)
		return;
	state = xstrfmt("%s/fences.json", conf->server.state_dir);
	events = xstrfmt("%s/events.jsonl", conf->server.state_dir);
	rt->fences = fences_new(rt->base, conf, state, events,
	    fences_changed_cb, rt);
	rt->fences_fed = false;
	if (fences_load(rt->fences, &err) != 0) {
		log_err(LOG_SRC_FENCE, "%s", err);
		free(err);
	}
	free(state);
	free(events);
}

/* Stop the ARC client and forget the mirror (the state file stays). */
static void
arc_stop(struct runtime *rt)
{
	arc_client_free(rt->arc);
	rt->arc = NULL;
	creds_free(rt->creds);
	rt->creds = NULL;
	mirror_free(rt->mirror);
	rt->mirror = NULL;
	fences_free(rt->fences);
	rt->fences = NULL;
}

/* mkdir -p dir, each new level mode 0750. */
static int
make_dir(const char *dir)
{
	char *p = xstrdup(dir);
	int ret = 0;

	for (char *s = p + 1; ret == 0; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0750) != 0 && errno != EEXIST)
			ret = -errno;
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return ret;
}

/*
 * One arcdnsd per state-dir: two would both poll ARC, overwrite each
 * other's state files and run the same fence hooks. Held until exit
 * (state-dir only changes with a restart).
 */
static int
state_lock(struct runtime *rt, const char *dir, char **errmsg)
{
	char holder[32], *path, *err = NULL;
	int fd;

	if (rt->lock_fd >= 0)
		return 0;
	path = xstrfmt("%s/arcdnsd.lock", dir);
	fd = fs_lock_pid(path, holder, sizeof(holder), &err);
	if (fd == -EWOULDBLOCK)
		*errmsg = xstrfmt("state-dir %s is in use by another arcdnsd "
		    "(pid %s, %s): one daemon per state-dir", dir,
		    holder[0] != '\0' ? holder : "unknown", path);
	else if (fd < 0)
		*errmsg = xstrfmt("cannot lock the state-dir: %s", err);
	free(err);
	free(path);
	if (fd < 0)
		return fd;
	rt->lock_fd = fd;
	return 0;
}

/*
 * When conf->arc.enabled: the mirror (loaded from state-dir/mirror.json),
 * the credentials and the ARC client, on rt->base. Failures other than a
 * bad endpoint URL are logged and leave DNS serving.
 */
static int
arc_start(struct runtime *rt, char **errmsg)
{
	const struct conf *conf = rt->cur.conf;
	const char *dir = conf->server.state_dir;
	enum creds_source src = CREDS_AUTO;
	char *path, *err = NULL;
	int ret;

	if (!conf->arc.enabled)
		return 0;
	ret = make_dir(dir);
	if (ret != 0)
		log_err(LOG_SRC_ARC, "cannot create state-dir %s: %s", dir,
		    err_str(ret));
	ret = state_lock(rt, dir, errmsg);
	if (ret != 0)
		return ret;
	if (rt->curl == NULL)
		rt->curl = curl_ev_new(rt->base);
	rt->mirror = mirror_new(conf);
	path = xstrfmt("%s/mirror.json", dir);
	if (mirror_load(rt->mirror, path, &err) != 0) {
		log_err(LOG_SRC_ARC, "rejected the state file %s: %s; starting "
		    "with no state", path, err != NULL ? err : "?");
		free(err);
		err = NULL;
		mirror_free(rt->mirror);
		rt->mirror = mirror_new(conf);
	} else if (mirror_has_state(rt->mirror))
		log_notice(LOG_SRC_ARC, "loaded the last known state of %zu "
		    "controls from %s", mirror_count(rt->mirror), path);
	free(path);
	mirror_observe(rt->mirror, mirror_changed_cb, rt);
	fences_start(rt);
	rt->last_success_ms = mirror_last_success(rt->mirror);
	if (conf->arc.credentials != NULL &&
	    creds_source_parse(conf->arc.credentials, &src) != 0)
		log_err(LOG_SRC_ARC, "unknown credentials source '%s': using "
		    "auto", conf->arc.credentials);
	rt->creds = creds_new(rt->base, rt->curl, src, NULL, NULL, NULL, NULL);
	creds_set_profile(rt->creds, conf->arc.profile);
	creds_start(rt->creds);
	ret = arc_client_new(rt->base, conf, rt->curl, rt->creds, rt->mirror,
	    dir, NULL, &rt->arc, errmsg);
	if (ret != 0) {
		arc_stop(rt);
		return ret;
	}
	arc_client_start(rt->arc);
	return 0;
}

/*
 * The rebuild failed: serve what the configuration gives with every ARC
 * state unknown (static names as written, ARC-driven ones SERVFAIL), the
 * answers runtime_load() checked.
 */
static void
publish_unknown(struct runtime *rt)
{
	struct table *table;
	char *err = NULL;

	if (build_table(rt->cur.conf, rt->cur.policy, NULL, &table,
	    &err) != 0) {
		log_err(LOG_SRC_MAIN, "cannot build the answers: %s", err);
		free(err);
		return;
	}
	publish(rt, table);
}

static void
apply_log(const struct conf *conf)
{
	log_setup("arcdnsd", conf->server.log_format, conf->server.log_target,
	    conf->server.log_level);
}

int
runtime_reload(struct runtime *rt, char **errmsg)
{
	const char *changed;
	char *err = NULL;
	struct loaded l;
	int ret;

	ret = runtime_load(rt->conf_path, &l, errmsg);
	if (ret != 0)
		return ret;
	changed = conf_restart_diff(rt->cur.conf, l.conf);
	if (changed != NULL) {
		*errmsg = xstrfmt("%s changed: restart arcdnsd to apply it",
		    changed);
		runtime_unload(&l);
		return ERR_INVAL;
	}
	policy_inherit(l.policy, rt->cur.policy);
	arc_stop(rt);
	runtime_unload(&rt->cur);	/* trimmed with the old table */
	rt->cur = l;
	apply_log(rt->cur.conf);
	rt->reloads++;
	if (arc_start(rt, &err) != 0) {
		log_err(LOG_SRC_ARC, "%s: the ARC mirror is off until the "
		    "next reload", err);
		free(err);
	}
	if (rebuild(rt, "reload", false) != 0)
		publish_unknown(rt);
	return 0;
}

static void
sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct runtime *rt = arg;
	char *err = NULL;

	log_notice(LOG_SRC_MAIN, "SIGHUP: reloading %s", rt->conf_path);
	if (runtime_reload(rt, &err) != 0) {
		log_err(LOG_SRC_MAIN, "reload failed: %s; keeping the running "
		    "configuration", err);
		free(err);
		return;
	}
	log_notice(LOG_SRC_MAIN, "reloaded: %zu zones in %zu views",
	    rt->cur.conf->nzones, rt->cur.conf->nviews);
}

static void
sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct runtime *rt = arg;

	log_notice(LOG_SRC_MAIN, "signal %d: stopping", (int)sig);
	event_base_loopexit(rt->base, NULL);
}

int
runtime_start(struct runtime *rt, char **errmsg)
{
	const struct conf *conf = rt->cur.conf;
	char addrs[1024] = "";
	size_t off = 0;
	int ret;

	rt->started_ms = clock_wall_ms();
	rt->base = event_base_new();
	if (rt->base == NULL) {
		*errmsg = xstrdup("cannot create the main event base");
		return ERR_IO;
	}
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*errmsg = xstrdup("cannot initialise libcurl");
		return ERR_IO;
	}
	rt->sig_hup = evsignal_new(rt->base, SIGHUP, sighup_cb, rt);
	rt->sig_term = evsignal_new(rt->base, SIGTERM, sigterm_cb, rt);
	rt->sig_int = evsignal_new(rt->base, SIGINT, sigterm_cb, rt);
	rt->reclaim = evtimer_new(rt->base, reclaim_cb, rt);
	event_add(rt->sig_hup, NULL);
	event_add(rt->sig_term, NULL);
	event_add(rt->sig_int, NULL);
	rt->notifier = notifier_new(rt->base);
	if (rt->ctl != NULL) {
		ret = ctlsock_start(rt->ctl, rt->base, rt, errmsg);
		if (ret != 0)
			return ret;
	}
	if (rt->http != NULL) {
		ret = http_start(rt->http, rt->base, rt, errmsg);
		if (ret != 0)
			return ret;
	}
	ret = arc_start(rt, errmsg);
	if (ret != 0)
		return ret;
	if (conf->arc.enabled) {
		char *path = serials_path(conf), *err = NULL;

		if (policy_load_serials(rt->cur.policy, path, &err) != 0) {
			log_err(LOG_SRC_MAIN, "%s; serials start from the zone "
			    "files", err);
			free(err);
		}
		free(path);
		rt->status = event_new(rt->base, -1, EV_PERSIST, status_cb, rt);
		event_add(rt->status, &(struct timeval){0, STATUS_MS * 1000});
	}
	/* The answers for the states known now (from the state file). */
	if (rebuild(rt, "start", true) != 0)
		publish_unknown(rt);
	trim_wanted = true;	/* what loading the zones left behind */
	trim();
	ret = dns_listener_start(rt->dns);
	if (ret != 0) {
		*errmsg = xstrfmt("cannot start DNS workers: %s", err_str(ret));
		return ret;
	}
	for (size_t i = 0; i < conf->server.nlisten && off < sizeof(addrs); i++) {
		char a[80];

		netaddr_format(&conf->server.listen[i], a, sizeof(a));
		off += (size_t)snprintf(addrs + off, sizeof(addrs) - off, " %s",
		    a);
	}
	log_notice(LOG_SRC_MAIN, "ready: %zu zones in %zu views, %u workers, "
	    "listening on%s", conf->nzones, conf->nviews,
	    conf->server.workers, addrs);
	return 0;
}

void
runtime_run(struct runtime *rt)
{
	event_base_dispatch(rt->base);
}

void
runtime_free(struct runtime *rt)
{
	if (rt == NULL)
		return;
	arc_stop(rt);
	ctlsock_free(rt->ctl);
	http_free(rt->http);
	notifier_free(rt->notifier);
	curl_ev_free(rt->curl);
	dns_listener_free(rt->dns);
	snapshot_free(rt->snap);
	if (rt->sig_hup != NULL)
		event_free(rt->sig_hup);
	if (rt->sig_term != NULL)
		event_free(rt->sig_term);
	if (rt->sig_int != NULL)
		event_free(rt->sig_int);
	if (rt->reclaim != NULL)
		event_free(rt->reclaim);
	if (rt->status != NULL)
		event_free(rt->status);
	if (rt->base != NULL)
		event_base_free(rt->base);
	if (rt->lock_fd >= 0)
		close(rt->lock_fd);
	runtime_unload(&rt->cur);
	free(rt->conf_path);
	free(rt);
}
