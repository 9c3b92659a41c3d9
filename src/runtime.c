#include "runtime.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "dns/listen.h"
#include "dns/snapshot.h"
#include "dns/table.h"
#include "log/log.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define RECLAIM_MS 50

int
runtime_load(const char *path, struct loaded *out, char **errmsg)
{
	struct loaded l = {0};
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
	ret = table_build(l.conf, l.zones, &l.table, errmsg);
	if (ret != 0)
		goto fail;
	*out = l;
	return 0;
fail:
	runtime_unload(&l);
	return ret;
}

void
runtime_unload(struct loaded *l)
{
	for (size_t i = 0; l->zones != NULL && i < l->nzones; i++)
		zone_free(l->zones[i]);
	free(l->zones);
	table_free(l->table);
	conf_free(l->conf);
	memset(l, 0, sizeof(*l));
}

static void
free_table(void *t)
{
	table_free(t);
}

struct runtime *
runtime_new(const char *conf_path, struct loaded *loaded)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));

	rt->conf_path = xstrdup(conf_path);
	rt->cur = *loaded;
	memset(loaded, 0, sizeof(*loaded));
	return rt;
}

int
runtime_bind(struct runtime *rt, char **errmsg)
{
	const struct conf_server *srv = &rt->cur.conf->server;

	rt->snap = snapshot_new(dns_listener_nreaders(srv), free_table);
	return dns_listener_new(srv, rt->snap, &rt->dns, errmsg);
}

static void
reclaim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runtime *rt = arg;
	struct timeval tv = {0, RECLAIM_MS * 1000};

	if (snapshot_reclaim(rt->snap) > 0)
		evtimer_add(rt->reclaim, &tv);
}

/* Make table current; the old one goes once no worker can read it. */
static void
publish(struct runtime *rt, struct table *table)
{
	snapshot_publish(rt->snap, table);
	reclaim_cb(-1, 0, rt);
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
	struct loaded l;
	struct table *table;
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
	table = l.table;
	l.table = NULL;
	runtime_unload(&rt->cur);
	rt->cur = l;
	apply_log(rt->cur.conf);
	publish(rt, table);
	rt->reloads++;
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

	rt->base = event_base_new();
	if (rt->base == NULL) {
		*errmsg = xstrdup("cannot create the main event base");
		return ERR_IO;
	}
	signal(SIGPIPE, SIG_IGN);
	rt->sig_hup = evsignal_new(rt->base, SIGHUP, sighup_cb, rt);
	rt->sig_term = evsignal_new(rt->base, SIGTERM, sigterm_cb, rt);
	rt->sig_int = evsignal_new(rt->base, SIGINT, sigterm_cb, rt);
	rt->reclaim = evtimer_new(rt->base, reclaim_cb, rt);
	event_add(rt->sig_hup, NULL);
	event_add(rt->sig_term, NULL);
	event_add(rt->sig_int, NULL);
	publish(rt, rt->cur.table);
	rt->cur.table = NULL;
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
	if (rt->base != NULL)
		event_base_free(rt->base);
	runtime_unload(&rt->cur);
	free(rt->conf_path);
	free(rt);
}
