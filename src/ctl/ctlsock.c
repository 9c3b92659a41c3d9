#include "ctl/ctlsock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "arc/arc_client.h"
#include "conf/conf.h"
#include "dns/listen.h"
#include "fence/fence.h"
#include "log/log.h"
#include "mirror/mirror.h"
#include "report/state.h"
#include "report/whatif.h"
#include "runtime.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

struct client {
	struct ctlsock		*cs;
	struct bufferevent	*bev;
	struct client		*next;
	bool			 closing;	/* close once the output drained */
};

struct ctlsock {
	char			*path;
	int			 fd;		/* until the listener owns it */
	struct evconnlistener	*lev;
	struct runtime		*rt;
	struct client		*clients;
	size_t			 nclients;
};

/* --- the socket file ------------------------------------------------------ */

/* Is there a process listening on the unix socket at path? */
static bool
is_live(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return true;		/* cannot tell: do not remove it */
	memcpy(sun.sun_path, path, strlen(path) + 1);
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
	    (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return live;
}

/* Make room for the socket at path: nothing there, or a dead socket. */
static int
clear_path(const char *path, char **errmsg)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		*errmsg = xstrfmt("server.control %s: %s", path,
		    strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*errmsg = xstrfmt("server.control %s exists and is not a "
		    "socket: not replacing it", path);
		return ERR_INVAL;
	}
	if (is_live(path)) {
		*errmsg = xstrfmt("server.control %s is in use by a running "
		    "process", path);
		return ERR_INVAL;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		*errmsg = xstrfmt("cannot remove the stale control socket "
		    "%s: %s", path, strerror(errno));
		return -errno;
	}
	log_info(LOG_SRC_CTL, "replaced the stale control socket %s", path);
	return 0;
}

int
ctlsock_bind(const struct conf_server *srv, struct ctlsock **out,
    char **errmsg)
{
	const char *path = srv->control;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	gid_t gid = (gid_t)-1;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*errmsg = xstrfmt("server.control %s: path too long", path);
		return ERR_INVAL;
	}
	if (srv->control_group != NULL) {
		struct group *gr = getgrnam(srv->control_group);

		if (gr == NULL) {
			*errmsg = xstrfmt("server.control-group: no such group "
			    "'%s'", srv->control_group);
			return ERR_INVAL;
		}
		gid = gr->gr_gid;
	}
	ret = clear_path(path, errmsg);
	if (ret != 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*errmsg = xstrfmt("control socket: %s", strerror(errno));
		return -errno;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* never a moment with looser permissions than 0660 */
	old = umask(0117);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (ret != 0 || chmod(path, 0660) != 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) ||
	    listen(fd, 16) != 0) {
		ret = -errno;
		*errmsg = xstrfmt("control socket %s: %s", path,
		    strerror(errno));
		close(fd);
		(void)unlink(path);
		return ret;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->path = xstrdup(path);
	(*out)->fd = fd;
	return 0;
}

/* --- commands ------------------------------------------------------------- */

static json_t *
error_reply(const char *msg)
{
	return jsonx_check(json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

static json_t *
ok_reply(void)
{
	return jsonx_check(json_pack("{s:b}", "ok", 1));
}

/* report/state.h: the same document as HTTP /v1/state, after "ok". */
static json_t *
cmd_status(struct runtime *rt)
{
	json_t *r = ok_reply(), *doc = report_state(rt);

	(void)json_object_update(r, doc);
	json_decref(doc);
	return r;
}

static json_t *
cmd_controls(struct runtime *rt)
{
	const struct conf *conf = rt->cur.conf;
	json_t *r = ok_reply(), *arr = report_controls(rt), *o;
	uint64_t now = clock_wall_ms();
	size_t i;

	/* /v1/state's controls, plus each one's age in seconds */
	json_array_foreach(arr, i, o) {
		json_t *ch = json_object_get(o, "changed_ms");
		uint64_t changed = json_is_integer(ch) ?
		    (uint64_t)json_integer_value(ch) : 0;

		jsonx_set(o, "age_s", changed == 0 ? json_null() :
		    json_integer(now > changed ?
		    (json_int_t)((now - changed) / 1000) : 0));
	}
	jsonx_set(r, "controls", arr);
	jsonx_set(r, "arc", json_boolean(conf->arc.enabled));
	if (rt->mirror != NULL) {
		jsonx_set(r, "stale", json_boolean(mirror_is_stale(rt->mirror,
		    now, conf->arc.stale_after_ms)));
		jsonx_set(r, "last_success_ms", json_integer(
		    (json_int_t)mirror_last_success(rt->mirror)));
	}
	return r;
}

/* Per endpoint, in config order: health, requests and outcomes. */
static json_t *
endpoints_json(const struct arc_client *ac)
{
	json_t *arr = jsonx_check(json_array());

	for (size_t i = 0; i < arc_client_endpoints(ac); i++) {
		struct arc_ep_info e;

		arc_client_endpoint(ac, i, &e);
		jsonx_append(arr, jsonx_check(json_pack(
		    "{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "region", e.region, "url", e.url, "healthy", e.healthy,
		    "requests", (json_int_t)e.requests,
		    "ok", (json_int_t)e.ok,
		    "err_endpoint", (json_int_t)e.err_endpoint,
		    "err_throttle", (json_int_t)e.err_throttle,
		    "err_auth", (json_int_t)e.err_auth,
		    "err_config", (json_int_t)e.err_config,
		    "last_latency_ms", (json_int_t)e.last_latency_ms,
		    "backoff_until_ms", (json_int_t)e.backoff_until_ms)));
	}
	return arr;
}

static json_t *
cmd_stats(struct runtime *rt)
{
	static const char *const rcodes[6] = {"NOERROR", "FORMERR",
	    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
	struct dns_stats ds = {0};
	json_t *r = ok_reply(), *dns, *rc = jsonx_check(json_object());

	if (rt->dns != NULL)
		dns_listener_stats(rt->dns, &ds);
	for (size_t i = 0; i < 6; i++)
		jsonx_set(rc, rcodes[i], json_integer((json_int_t)ds.rcode[i]));
	dns = jsonx_check(json_pack("{s:I,s:I,s:o,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "udp_queries", (json_int_t)ds.udp_queries,
	    "tcp_queries", (json_int_t)ds.tcp_queries,
	    "rcode", rc,
	    "badvers", (json_int_t)ds.badvers,
	    "truncated", (json_int_t)ds.truncated,
	    "dropped", (json_int_t)ds.dropped,
	    "tcp_accepted", (json_int_t)ds.tcp_accepted,
	    "tcp_shed", (json_int_t)ds.tcp_shed,
	    "tcp_timeouts", (json_int_t)ds.tcp_timeouts));
	jsonx_set(r, "dns", dns);
	jsonx_set(r, "rebuilds", json_integer(rt->rebuilds));
	jsonx_set(r, "reloads", json_integer(rt->reloads));
	if (rt->arc != NULL) {
		struct arc_stats as = {0};

		arc_client_stats(rt->arc, &as);
		jsonx_set(r, "arc", jsonx_check(json_pack(
		    "{s:I,s:I,s:I,s:I,s:b}",
		    "polls_ok", (json_int_t)as.polls_ok,
		    "polls_failed", (json_int_t)as.polls_failed,
		    "requests", (json_int_t)as.requests,
		    "changes", (json_int_t)as.changes,
		    "stale", as.stale)));
		jsonx_set(json_object_get(r, "arc"), "endpoints",
		    endpoints_json(rt->arc));
	} else
		jsonx_set(r, "arc", json_null());
	return r;
}

static json_t *
cmd_reload(struct runtime *rt)
{
	char *err = NULL;
	json_t *r;

	log_notice(LOG_SRC_CTL, "reload requested: reloading %s",
	    rt->conf_path);
	if (runtime_reload(rt, &err) != 0) {
		log_err(LOG_SRC_CTL, "reload failed: %s; keeping the running "
		    "configuration", err != NULL ? err : "?");
		r = error_reply(err != NULL ? err : "reload failed");
		free(err);
		return r;
	}
	log_notice(LOG_SRC_CTL, "reloaded: %zu zones in %zu views",
	    rt->cur.conf->nzones, rt->cur.conf->nviews);
	r = ok_reply();
	jsonx_set(r, "zones", json_integer((json_int_t)rt->cur.conf->nzones));
	jsonx_set(r, "views", json_integer((json_int_t)rt->cur.conf->nviews));
	return r;
}

static json_t *
cmd_whatif(struct runtime *rt, const json_t *req)
{
	const json_t *states = json_object_get(req, "states");
	json_t *doc = NULL, *r;
	char *err = NULL;

	if (states == NULL || !json_is_object(states))
		return error_reply("what-if needs \"states\": an object of "
		    "control name: \"on\" or \"off\"");
	if (whatif_run(rt->cur.policy, rt->cur.conf, rt->mirror, states,
	    &doc, &err) != 0) {
		r = error_reply(err != NULL ? err : "what-if failed");
		free(err);
		return r;
	}
	r = ok_reply();
	(void)json_object_update(r, doc);
	json_decref(doc);
	return r;
}

static json_t *
cmd_fence_status(struct runtime *rt)
{
	json_t *r = ok_reply();

	jsonx_set(r, "fences", fences_json(rt->fences));
	return r;
}

/* fence (by hand) or fence-confirm of req's "name". */
static json_t *
cmd_fence(struct runtime *rt, const json_t *req, bool confirm)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	char *err = NULL;
	json_t *r, *list, *f;
	size_t i;
	int ret;

	if (name == NULL)
		return error_reply("a fence command needs \"name\": a fence");
	if (rt->fences == NULL)
		return error_reply("no fences configured");
	ret = confirm ? fences_confirm(rt->fences, name, &err) :
	    fences_manual(rt->fences, name, &err);
	if (ret != 0) {
		r = error_reply(err != NULL ? err : err_str(ret));
		free(err);
		return r;
	}
	log_notice(LOG_SRC_CTL, "fence %s: %s through the control socket",
	    name, confirm ? "confirmed" : "fenced by hand");
	r = ok_reply();
	list = fences_json(rt->fences);
	json_array_foreach(list, i, f)
		if (strcmp(json_string_value(json_object_get(f, "name")),
		    name) == 0)
			jsonx_set(r, "fence", json_incref(f));
	json_decref(list);
	return r;
}

json_t *
ctlsock_handle(struct runtime *rt, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *r;
	const char *cmd;
	char *msg;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		msg = xstrfmt("bad JSON: %s", jerr.text);
		r = error_reply(msg);
		free(msg);
		return r;
	}
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || cmd == NULL)
		r = error_reply("a request is an object with a \"cmd\" string");
	else if (strcmp(cmd, "status") == 0)
		r = cmd_status(rt);
	else if (strcmp(cmd, "controls") == 0)
		r = cmd_controls(rt);
	else if (strcmp(cmd, "stats") == 0)
		r = cmd_stats(rt);
	else if (strcmp(cmd, "reload") == 0)
		r = cmd_reload(rt);
	else if (strcmp(cmd, "what-if") == 0)
		r = cmd_whatif(rt, req);
	else if (strcmp(cmd, "fence-status") == 0)
		r = cmd_fence_status(rt);
	else if (strcmp(cmd, "fence") == 0)
		r = cmd_fence(rt, req, false);
	else if (strcmp(cmd, "fence-confirm") == 0)
		r = cmd_fence(rt, req, true);
	else {
		msg = xstrfmt("unknown command '%.64s'", cmd);
		r = error_reply(msg);
		free(msg);
	}
	json_decref(req);
	return r;
}

/* --- connections ---------------------------------------------------------- */

static void
client_free(struct client *c)
{
	struct ctlsock *cs = c->cs;

	for (struct client **p = &cs->clients; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	cs->nclients--;
	bufferevent_free(c->bev);
	free(c);
}

static void
send_reply(struct client *c, json_t *reply)
{
	char *text = jsonx_dump(reply);
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
	free(text);
	json_decref(reply);
}

static void read_cb(struct bufferevent *bev, void *arg);

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->closing) {
		client_free(c);
		return;
	}
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		read_cb(bev, c);	/* the requests already buffered */
	}
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	bool toolong = false;
	size_t len;
	char *line;

	while (!c->closing &&
	    (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		if (len > CTLSOCK_MAX_LINE) {
			free(line);
			toolong = true;
			break;
		}
		if (len > 0)
			send_reply(c, ctlsock_handle(c->cs->rt, line, len));
		free(line);
		if (evbuffer_get_length(out) > CTLSOCK_MAX_OUT) {
			/*
			 * The client does not read: stop reading its
			 * requests until the replies drained (write_cb);
			 * the write timeout drops it if they never do.
			 */
			bufferevent_disable(bev, EV_READ);
			return;
		}
	}
	if (!c->closing && (toolong ||
	    evbuffer_get_length(in) > CTLSOCK_MAX_LINE)) {
		char *msg = xstrfmt("request longer than %d bytes",
		    CTLSOCK_MAX_LINE);

		send_reply(c, error_reply(msg));
		free(msg);
		c->closing = true;
	}
	if (c->closing) {
		/* no more requests: drop what came, reply, close */
		evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_disable(bev, EV_READ);
		if (evbuffer_get_length(out) == 0)
			client_free(c);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		/*
		 * The client is done sending (it may still read, as
		 * `printf ... | socat` does): a last line without its
		 * newline is a request too; close once the replies are out.
		 */
		if (!c->closing && len > 0 && len <= CTLSOCK_MAX_LINE) {
			char *line = xmalloc(len);

			evbuffer_remove(in, line, len);
			send_reply(c, ctlsock_handle(c->cs->rt, line, len));
			free(line);
		}
		c->closing = true;
		evbuffer_drain(in, evbuffer_get_length(in));
		bufferevent_disable(bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			return;		/* write_cb closes */
	} else if (what & BEV_EVENT_TIMEOUT)
		log_info(LOG_SRC_CTL, "control client idle or not reading: "
		    "closed");
	/* error, timeout, or nothing left to send: the client is gone */
	client_free(c);
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctlsock *cs = arg;
	struct timeval idle = {CTLSOCK_IDLE_MS / 1000,
	    (CTLSOCK_IDLE_MS % 1000) * 1000};
	struct client *c;

	(void)sa;
	(void)salen;
	if (cs->nclients >= CTLSOCK_MAX_CLIENTS) {
		log_neterr(LOG_SRC_CTL, "%d control clients already: refused "
		    "one", CTLSOCK_MAX_CLIENTS);
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->cs = cs;
	c->bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = cs->clients;
	cs->clients = c;
	cs->nclients++;
	/* stop reading past one request's limit (and a bit) */
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTLSOCK_MAX_LINE + 2);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	(void)lev;
	(void)arg;
	log_warn(LOG_SRC_CTL, "control socket accept: %s",
	    evutil_socket_error_to_string(e));
}

int
ctlsock_start(struct ctlsock *cs, struct event_base *base,
    struct runtime *rt, char **errmsg)
{
	cs->rt = rt;
	/* backlog -1: ctlsock_bind() listens already */
	cs->lev = evconnlistener_new(base, accept_cb, cs,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, cs->fd);
	if (cs->lev == NULL) {
		*errmsg = xstrfmt("control socket %s: cannot listen",
		    cs->path);
		return ERR_IO;
	}
	cs->fd = -1;
	evconnlistener_set_error_cb(cs->lev, accept_error_cb);
	log_info(LOG_SRC_CTL, "control socket on %s", cs->path);
	return 0;
}

void
ctlsock_free(struct ctlsock *cs)
{
	if (cs == NULL)
		return;
	while (cs->clients != NULL)
		client_free(cs->clients);
	if (cs->lev != NULL)
		evconnlistener_free(cs->lev);
	if (cs->fd >= 0)
		close(cs->fd);
	if (unlink(cs->path) != 0 && errno != ENOENT)
		log_warn(LOG_SRC_CTL, "cannot remove %s: %s", cs->path,
		    strerror(errno));
	free(cs->path);
	free(cs);
}
