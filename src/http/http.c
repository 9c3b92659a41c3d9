#include "http/http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "log/log.h"
#include "report/metrics.h"
#include "report/state.h"
#include "util/err.h"
#include "util/jsonx.h"
#include "util/netaddr.h"
#include "util/xalloc.h"

struct http {
	struct event_base	*base;
	int			 fd;		/* listening; evhttp owns it
						   once started */
	char			 name[80];	/* the address, for logs */
	const struct runtime	*rt;
	struct evhttp		*eh;
	struct evconnlistener	*lev;		/* evhttp's, borrowed */
	struct event		*attach;	/* deferred: close callbacks */
	struct bufferevent	**pending;	/* accepted, not attached */
	size_t			 npending, cap;
	bool			 paused, freeing;
	time_t			 warned;	/* last "not accepting" warning */
	struct http_stats	 st;
};

int
http_bind(const struct netaddr *addr, struct http **out, char **errmsg)
{
	struct http *h;
	int fd, on = 1, err;
	char text[80];

	netaddr_format(addr, text, sizeof(text));
	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0)
		goto fail;
	if (addr->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) != 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 ||
	    listen(fd, HTTP_BACKLOG) != 0)
		goto fail;
	h = xcalloc(1, sizeof(*h));
	h->fd = fd;
	snprintf(h->name, sizeof(h->name), "%s", text);
	*out = h;
	return 0;
fail:
	err = errno;
	*errmsg = xstrfmt("cannot listen on %s (http): %s", text,
	    strerror(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

/* ---- connection count ------------------------------------------------ */

/* One counted connection: its lifetime deadline. */
struct conn {
	struct http			*h;
	struct evhttp_connection	*evcon;
	struct event			*deadline;
	bool				 expiring;	/* in deadline_cb */
	bool				 closed;	/* closed_cb ran */
};

static void
pause_or_resume(struct http *h)
{
	if (h->freeing || h->lev == NULL)
		return;
	if (!h->paused && h->st.open >= HTTP_MAX_CONNECTIONS) {
		evconnlistener_disable(h->lev);
		h->paused = true;
		h->st.paused++;
		/* once a minute at most: a flood must not flood the log */
		if (time(NULL) - h->warned >= 60) {
			h->warned = time(NULL);
			log_warn(LOG_SRC_HTTP, "%zu connections open: not "
			    "accepting more until one closes (%llu times so "
			    "far)", h->st.open,
			    (unsigned long long)h->st.paused);
		}
	} else if (h->paused && h->st.open < HTTP_MAX_CONNECTIONS) {
		evconnlistener_enable(h->lev);
		h->paused = false;
		log_debug(LOG_SRC_HTTP, "accepting connections again");
	}
}

/* evhttp frees a connection (any reason, http_free included). */
static void
closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	struct http *h = c->h;

	(void)evcon;
	c->closed = true;
	if (h->st.open > 0)
		h->st.open--;
	if (!c->expiring) {
		event_free(c->deadline);
		free(c);
	}
	pause_or_resume(h);
}

/*
 * HTTP_LIFETIME_S after the accept: close, whatever the client is doing
 * (a client trickling one header byte at a time never trips the
 * inactivity timeout).
 */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	c->h->st.expired++;
	log_debug(LOG_SRC_HTTP, "a connection reached its %d s lifetime: "
	    "closed", HTTP_LIFETIME_S);
	c->expiring = true;
	evhttp_connection_free(c->evcon);	/* runs closed_cb */
	if (!c->closed) {
		if (c->h->st.open > 0)
			c->h->st.open--;
		pause_or_resume(c->h);
	}
	event_free(c->deadline);
	free(c);
}

/* Count evcon out when it closes, and close it at its deadline. */
static void
track(struct http *h, struct evhttp_connection *evcon)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct timeval tv = { HTTP_LIFETIME_S, 0 };

	c->h = h;
	c->evcon = evcon;
	c->deadline = evtimer_new(h->base, deadline_cb, c);
	if (c->deadline == NULL)
		abort();
	evtimer_add(c->deadline, &tv);
	evhttp_connection_set_closecb(evcon, closed_cb, c);
}

/*
 * Runs after the accept that created them: evhttp has set up each new
 * connection by now, and its bufferevent's callback argument is the
 * evhttp_connection (or NULL when evhttp already freed it).
 */
static void
attach_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < h->npending; i++) {
		struct bufferevent *bev = h->pending[i];
		bufferevent_event_cb ecb = NULL;
		void *cbarg = NULL;

		bufferevent_getcb(bev, NULL, NULL, &ecb, &cbarg);
		if (ecb != NULL && cbarg != NULL)
			track(h, cbarg);
		else if (h->st.open > 0)
			h->st.open--;
		bufferevent_decref(bev);
	}
	h->npending = 0;
	pause_or_resume(h);
}

static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct http *h = arg;
	struct bufferevent *bev;

	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;	/* evhttp makes its own; not counted */
	bufferevent_incref(bev);
	if (h->npending == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 8;
		h->pending = xrealloc(h->pending, h->cap, sizeof(*h->pending));
	}
	h->pending[h->npending++] = bev;
	h->st.open++;
	h->st.accepted++;
	event_active(h->attach, EV_TIMEOUT, 0);
	/* at the cap now: the listener's accept loop stops after this one */
	pause_or_resume(h);
	return bev;
}

/*
 * accept() failed (EMFILE, ENFILE, ENOBUFS...): the connection stays in
 * the listen queue and the listener would fire again at once, spinning
 * the main loop. Stop accepting for a second instead. arg is evhttp's
 * (the listener's callback argument), so the resumption is a one-shot
 * event on the listener itself; it can only run while the loop runs, and
 * http_free() (which frees the listener) runs after the loop ended.
 */
static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 1, 0 };

	(void)arg;
	log_warn(LOG_SRC_HTTP, "accept: %s: not accepting for 1 s",
	    evutil_socket_error_to_string(err));
	evconnlistener_disable(lev);
	if (event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT,
	    resume_cb, lev, &tv) != 0)
		evconnlistener_enable(lev);
}

/* ---- answers ------------------------------------------------------------ */

static const char *
reason_of(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 503:
		return "Service Unavailable";
	}
	return "Error";
}

static void
reply(struct evhttp_request *req, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		abort();
	evhttp_add_header(hd, "Content-Type", ctype);
	evhttp_add_header(hd, "Cache-Control", "no-store");
	evbuffer_add(b, body, len);
	evhttp_send_reply(req, status, reason_of(status), b);
	evbuffer_free(b);
}

static void
reply_text(struct evhttp_request *req, int status, const char *text)
{
	char *body = xstrfmt("%s\n", text);

	reply(req, status, "text/plain; charset=utf-8", body, strlen(body));
	free(body);
}

/* Takes doc. */
static void
reply_json(struct evhttp_request *req, int status, json_t *doc)
{
	char *s = jsonx_dump(doc);
	char *body = xstrfmt("%s\n", s);

	reply(req, status, "application/json", body, strlen(body));
	free(body);
	free(s);
	json_decref(doc);
}

static void
reply_error(struct evhttp_request *req, int status, const char *msg)
{
	json_t *doc = jsonx_check(json_object());

	jsonx_set(doc, "error", jsonx_check(json_string(msg)));
	reply_json(req, status, doc);
}

/*
 * The decoded rest of path after prefix, when path starts with prefix and
 * the rest is one non-empty segment: a new string, else NULL.
 */
static char *
segment(const char *path, const char *prefix)
{
	size_t n = strlen(prefix), len = 0;
	char *s;

	if (strncmp(path, prefix, n) != 0 || path[n] == '\0')
		return NULL;
	s = evhttp_uridecode(path + n, 0, &len);
	if (s == NULL)
		return NULL;
	if (len == 0 || strlen(s) != len || strchr(s, '/') != NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static void
route(struct http *h, struct evhttp_request *req, const char *path)
{
	const struct runtime *rt = h->rt;
	const char *text;
	json_t *doc;
	char *arg;
	bool ready;
	int status;

	if (strcmp(path, "/healthz") == 0) {
		reply_text(req, 200, "ok");
	} else if (strcmp(path, "/readyz") == 0) {
		doc = report_ready(rt, &ready);
		reply_json(req, ready ? 200 : 503, doc);
	} else if (strcmp(path, "/v1/state") == 0) {
		reply_json(req, 200, report_state(rt));
	} else if (strcmp(path, "/metrics") == 0) {
		char *m = report_metrics(rt);

		reply(req, 200, REPORT_METRICS_CONTENT_TYPE, m, strlen(m));
		free(m);
	} else if ((arg = segment(path, "/v1/controls/")) != NULL) {
		doc = report_control_doc(rt, arg, &status);
		if (doc != NULL)
			reply_json(req, status, doc);
		else
			reply_error(req, 404, "no control has this name");
		free(arg);
	} else if ((arg = segment(path, "/v1/regions/")) != NULL) {
		doc = report_region_doc(rt, arg, &status);
		if (doc != NULL)
			reply_json(req, status, doc);
		else
			reply_error(req, 404, "no record target names this "
			    "region");
		free(arg);
	} else if ((arg = segment(path, "/v1/role/")) != NULL) {
		status = report_role(rt, arg, &text);
		reply_text(req, status, text);
		free(arg);
	} else {
		reply_error(req, 404, "no such resource");
		return;
	}
	h->st.requests++;
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		reply_error(req, 405, "read-only: GET and HEAD only");
		return;
	}
	route(h, req, path != NULL && path[0] != '\0' ? path : "/");
}

/* ---- lifetime ------------------------------------------------------------ */

int
http_start(struct http *h, struct event_base *base, const struct runtime *rt,
    char **errmsg)
{
	struct evhttp_bound_socket *bs;

	h->rt = rt;
	h->base = base;
	h->eh = evhttp_new(base);
	h->attach = event_new(base, -1, 0, attach_cb, h);
	if (h->eh == NULL || h->attach == NULL) {
		*errmsg = xstrdup("cannot create the HTTP server");
		return ERR_IO;
	}
	evhttp_set_max_headers_size(h->eh, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->eh, HTTP_MAX_BODY);
	evhttp_set_timeout(h->eh, HTTP_TIMEOUT_S);
	/* every method reaches request_cb, which answers 405 (not 501) */
	evhttp_set_allowed_methods(h->eh, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->eh, request_cb, h);
	evhttp_set_bevcb(h->eh, bev_cb, h);
	bs = evhttp_accept_socket_with_handle(h->eh, h->fd);
	if (bs == NULL) {
		*errmsg = xstrfmt("cannot serve HTTP on %s", h->name);
		return ERR_IO;
	}
	h->fd = -1;	/* the listener closes it */
	h->lev = evhttp_bound_socket_get_listener(bs);
	evconnlistener_set_error_cb(h->lev, accept_error_cb);
	log_notice(LOG_SRC_HTTP, "health responder on %s", h->name);
	return 0;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	h->freeing = true;
	if (h->eh != NULL) {
		log_info(LOG_SRC_HTTP, "stopping: %llu connections accepted, "
		    "%llu requests answered, %llu closed at their lifetime, "
		    "%zu open", (unsigned long long)h->st.accepted,
		    (unsigned long long)h->st.requests,
		    (unsigned long long)h->st.expired, h->st.open);
		evhttp_free(h->eh);	/* runs closed_cb per connection */
	}
	for (size_t i = 0; i < h->npending; i++)
		bufferevent_decref(h->pending[i]);
	free(h->pending);
	if (h->attach != NULL)
		event_free(h->attach);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

void
http_stats(const struct http *h, struct http_stats *out)
{
	*out = h->st;
}
