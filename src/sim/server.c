#include "sim/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "arc/sigv4.h"
#include "log/log.h"
#include "sim/api.h"
#include "sim/cluster.h"
#include "sim/tls.h"
#include "util/err.h"
#include "util/xalloc.h"

#define TARGET_PREFIX	SIM_API_TARGET_PREFIX
#define JSON_TYPE	"application/x-amz-json-1.0"
#define MAX_BODY	(1024 * 1024)
#define MAX_HEADERS	(64 * 1024)
#define IDLE_TIMEOUT	60		/* seconds, keep-alive connections */
#define MAX_HELD	256		/* held requests per endpoint */
#define MAX_DELAY_MS	600000
#define MAX_RETRY_AFTER	3600
#define DEFAULT_DELAY_MS 1000
#define GARBAGE_BODY	"{\"RoutingControls\": [{\"RoutingControlArn\": <html>"

static const char *const regions[SIM_NENDPOINTS] = {
	"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1",
	"ap-southeast-2"
};

enum fault_mode {
	FAULT_OK = 0,
	FAULT_DOWN,
	FAULT_HANG,
	FAULT_HTTP500,
	FAULT_UNAVAILABLE,
	FAULT_THROTTLE,
	FAULT_GARBAGE,
	FAULT_SLOW,
	FAULT_COUNT
};

static const char *const fault_names[FAULT_COUNT] = {
	"ok", "down", "hang", "http500", "unavailable", "throttle", "garbage",
	"slow"
};

struct endpoint;

/* A request read but not answered yet: hang (no timer) or slow. */
struct held {
	TAILQ_ENTRY(held)	 entry;
	struct endpoint		*ep;
	struct evhttp_request	*req;
	struct event		*timer;		/* slow only */
	uint64_t		 t0;		/* monotonic ms, for latency */
};
TAILQ_HEAD(heldq, held);

struct endpoint {
	struct sim_server	*srv;
	int			 index;
	const char		*region;
	struct netaddr		 addr;
	char			*url;
	struct evhttp		*http;		/* NULL while down */
	enum fault_mode		 mode;
	int			 delay_ms;
	int			 retry_after;
	uint64_t		*upd;		/* ring: last accepted updates */
	size_t			 nupd, updpos;
	struct heldq		 held;
	size_t			 nheld;
};

struct sim_server {
	struct event_base	*base;
	struct sim_cluster	*cluster;
	struct sim_server_opts	 opts;
	struct endpoint		 ep[SIM_NENDPOINTS];
	struct evhttp		*admin;
	char			*admin_url;
};

/* ---------------------------------------------------------------- utils */

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
wall_ms(const struct sim_server *s)
{
	struct timespec ts;

	if (s->opts.now_ms != NULL)
		return s->opts.now_ms(s->opts.now_arg);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A random (version 4) UUID into out (37 bytes). */
static void
make_uuid(char *out, size_t size)
{
	static uint64_t counter;
	uint8_t b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* Unique is all a request id needs. */
		uint64_t v[2] = { mono_us(), ++counter };

		memcpy(b, v, sizeof(b));
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static const struct {
	int		 status;
	const char	*reason;
} reasons[] = {
	{ 200, "OK" },
	{ 400, "Bad Request" },
	{ 402, "Payment Required" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

static const char *
reason_phrase(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (reasons[i].status == status)
			return reasons[i].reason;
	}
	return status < 400 ? "OK" : "Error";
}

static const struct {
	enum evhttp_cmd_type	 cmd;
	const char		*name;
} methods[] = {
	{ EVHTTP_REQ_GET, "GET" },
	{ EVHTTP_REQ_POST, "POST" },
	{ EVHTTP_REQ_HEAD, "HEAD" },
	{ EVHTTP_REQ_PUT, "PUT" },
	{ EVHTTP_REQ_DELETE, "DELETE" },
	{ EVHTTP_REQ_OPTIONS, "OPTIONS" },
	{ EVHTTP_REQ_TRACE, "TRACE" },
	{ EVHTTP_REQ_CONNECT, "CONNECT" },
	{ EVHTTP_REQ_PATCH, "PATCH" },
};

static const char *
method_str(enum evhttp_cmd_type cmd)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (methods[i].cmd == cmd)
			return methods[i].name;
	}
	return "?";
}

/*
 * The operation named by X-Amz-Target, for logs: the part after the
 * prefix, printable characters only, at most 63 of them; "-" if none.
 */
static void
op_name(struct evhttp_request *req, char *out, size_t size)
{
	const char *t = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Amz-Target");
	size_t i, n = 0;

	if (t == NULL || *t == '\0') {
		snprintf(out, size, "-");
		return;
	}
	if (strncmp(t, TARGET_PREFIX, strlen(TARGET_PREFIX)) == 0)
		t += strlen(TARGET_PREFIX);
	for (i = 0; t[i] != '\0' && n + 1 < size && n < 63; i++) {
		unsigned char ch = (unsigned char)t[i];

		out[n++] = (ch > 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, size, "-");
}

/* The raw path of the request, without the query (new string). */
static char *
raw_path(struct evhttp_request *req, const char **query)
{
	const char *uri = evhttp_request_get_uri(req);
	const char *q;

	if (uri == NULL)
		uri = "";
	q = strchr(uri, '?');
	if (q == NULL) {
		*query = "";
		return xstrdup(uri);
	}
	*query = q + 1;
	return xstrndup(uri, (size_t)(q - uri));
}

/* ------------------------------------------------------------- replies */

/* Send r on req (which is then gone) and log the request's line. */
static void
send_reply(struct endpoint *ep, struct evhttp_request *req,
    const struct sim_reply *r, const char *op, uint64_t t0_us)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	char uuid[40], num[16];
	double ms;

	make_uuid(uuid, sizeof(uuid));
	(void)evhttp_add_header(out, "Content-Type", JSON_TYPE);
	(void)evhttp_add_header(out, "x-amzn-RequestId", uuid);
	if (r->error_type != NULL)
		(void)evhttp_add_header(out, "X-Amzn-ErrorType", r->error_type);
	if (r->retry_after >= 0) {
		snprintf(num, sizeof(num), "%d", r->retry_after);
		(void)evhttp_add_header(out, "Retry-After", num);
	}
	if (evbuffer_add(body, r->body, strlen(r->body)) != 0)
		log_neterr(LOG_SRC_HTTP, "%s: cannot queue a reply", ep->region);
	evhttp_send_reply(req, r->status, reason_phrase(r->status), NULL);
	ms = (double)(mono_us() - t0_us) / 1000.0;
	log_info(LOG_SRC_HTTP, "%s %s -> %d%s%s (%.1f ms)", ep->region, op,
	    r->status, r->error_type != NULL ? " " : "",
	    r->error_type != NULL ? r->error_type : "", ms);
}

static void
send_error(struct endpoint *ep, struct evhttp_request *req, int status,
    const char *type, const char *message, int retry_after, const char *op,
    uint64_t t0_us)
{
	struct sim_reply r;

	memset(&r, 0, sizeof(r));
	sim_reply_error(&r, status, type, message, retry_after);
	send_reply(ep, req, &r, op, t0_us);
	sim_reply_fini(&r);
}

/* ----------------------------------------------------------- requests */

/* Count one update against the endpoint's window; false: over the limit. */
static bool
rate_allow(struct endpoint *ep, uint64_t now)
{
	size_t limit = (size_t)ep->srv->opts.rate_limit;

	if (limit == 0)
		return true;
	/* Full ring: updpos is the oldest of the last `limit` updates. */
	if (ep->nupd == limit && now < ep->upd[ep->updpos] + 1000)
		return false;
	ep->upd[ep->updpos] = now;
	ep->updpos = (ep->updpos + 1) % limit;
	if (ep->nupd < limit)
		ep->nupd++;
	return true;
}

static void
verdict_error(enum sigv4_verdict v, const char **type, const char **msg)
{
	switch (v) {
	case SIGV4_MISSING:
		*type = "MissingAuthenticationTokenException";
		*msg = "Missing Authentication Token";
		break;
	case SIGV4_UNKNOWN_KEY:
		*type = "UnrecognizedClientException";
		*msg = "The security token included in the request is invalid.";
		break;
	case SIGV4_BAD_TOKEN:
		*type = "ExpiredTokenException";
		*msg = "The security token included in the request is expired "
		    "or invalid.";
		break;
	case SIGV4_SKEWED:
		*type = "InvalidSignatureException";
		*msg = "Signature expired: X-Amz-Date is more than 5 minutes "
		    "away from the server's time.";
		break;
	case SIGV4_BAD_SCOPE:
		*type = "InvalidSignatureException";
		*msg = "Credential should be scoped to a valid region and to "
		    "the service route53-recovery-cluster.";
		break;
	case SIGV4_MALFORMED:
		*type = "InvalidSignatureException";
		*msg = "Authorization header or X-Amz-Date is malformed.";
		break;
	default:
		*type = "InvalidSignatureException";
		*msg = "The request signature we calculated does not match the "
		    "signature you provided. Check your AWS Secret Access Key "
		    "and signing method.";
		break;
	}
}

static enum sigv4_verdict
verify(struct endpoint *ep, struct evhttp_request *req, const char *path,
    const char *query, const uint8_t *body, size_t len, uint64_t now_ms)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct sigv4_header *hdrs;
	struct sigv4_request sr;
	struct evkeyval *kv;
	enum sigv4_verdict v;
	size_t n = 0;

	TAILQ_FOREACH(kv, in, next)
		n++;
	hdrs = xcalloc(n, sizeof(*hdrs));
	n = 0;
	TAILQ_FOREACH(kv, in, next) {
		hdrs[n].name = kv->key;
		hdrs[n].value = kv->value;
		n++;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = method_str(evhttp_request_get_command(req));
	sr.path = path;
	sr.query = query;
	sr.headers = hdrs;
	sr.nheaders = n;
	sr.body = body;
	sr.bodylen = len;
	v = sigv4_verify(&sr, sim_cluster_lookup_cb, ep->srv->cluster,
	    ep->region, SIGV4_SERVICE, (time_t)(now_ms / 1000), SIM_MAX_SKEW);
	free(hdrs);
	return v;
}

/* A request past the endpoint's fault: the data-plane API proper. */
static void
serve(struct endpoint *ep, struct evhttp_request *req, uint64_t t0_us)
{
	struct sim_server *s = ep->srv;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *query, *target, *type, *msg;
	const uint8_t *body;
	struct sim_reply r;
	enum sigv4_verdict v;
	uint64_t now = wall_ms(s);
	char op[64], *path, *why, *err = NULL;
	size_t len;

	op_name(req, op, sizeof(op));
	path = raw_path(req, &query);
	if (strcmp(path, "/v1") != 0 && strcmp(path, "/v1/") != 0 &&
	    strcmp(path, "/") != 0) {
		send_error(ep, req, 404, "UnknownOperationException",
		    "Not Found: the API is served on POST /v1", -1, op, t0_us);
		goto out;
	}
	if (cmd != EVHTTP_REQ_POST) {
		(void)evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		why = xstrfmt("Method %s is not allowed: use POST",
		    method_str(cmd));
		send_error(ep, req, 405, "UnknownOperationException", why, -1,
		    op, t0_us);
		free(why);
		goto out;
	}
	len = evbuffer_get_length(in);
	body = len > 0 ? evbuffer_pullup(in, -1) : (const uint8_t *)"";
	if (body == NULL) {
		send_error(ep, req, 500, "InternalServerException",
		    "cannot read the request body", -1, op, t0_us);
		goto out;
	}
	v = verify(ep, req, path, query, body, len, now);
	if (v != SIGV4_OK) {
		verdict_error(v, &type, &msg);
		log_debug(LOG_SRC_HTTP, "%s: SigV4: %s", ep->region,
		    sigv4_verdict_str(v));
		send_error(ep, req, sim_api_status(s->cluster, type), type,
		    msg, -1, op, t0_us);
		goto out;
	}
	target = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "X-Amz-Target");
	if (target != NULL && sim_api_is_update(target) &&
	    !rate_allow(ep, now)) {
		send_error(ep, req, sim_api_status(s->cluster,
		    "ThrottlingException"), "ThrottlingException", "Rate exceeded",
		    1, op, t0_us);
		goto out;
	}
	memset(&r, 0, sizeof(r));
	sim_api_call(s->cluster, target != NULL ? target : "", body, len, now,
	    &r);
	if (r.status == 200 && r.changed > 0 && s->opts.state_path != NULL &&
	    sim_cluster_save(s->cluster, s->opts.state_path, &err) != 0) {
		log_warn(LOG_SRC_MAIN, "state not saved: %s", err);
		free(err);
	}
	send_reply(ep, req, &r, op, t0_us);
	sim_reply_fini(&r);
out:
	free(path);
}

/* ------------------------------------------------------ held requests */

/*
 * Ownership: a held request belongs to its connection until libevent
 * detaches it (the client went away before the answer: the request's
 * connection is then NULL and the request is ours to free, or to answer,
 * which frees it). The connection's close callback tells us either way
 * -- when libevent notices: it does not read from a connection whose
 * request awaits its answer, so a client that gives up on a hung request
 * usually goes unnoticed. MAX_HELD bounds those: beyond it, the oldest
 * hung request is dropped with its connection.
 */

/* Unlink h and free it; h->req is left alone. */
static void
held_forget(struct held *h)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(h->req);

	if (conn != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	TAILQ_REMOVE(&h->ep->held, h, entry);
	h->ep->nheld--;
	if (h->timer != NULL)
		event_free(h->timer);
	free(h);
}

/* Forget h and drop its request, closing its connection when it has one. */
static void
held_drop(struct held *h)
{
	struct evhttp_request *req = h->req;
	struct evhttp_connection *conn = evhttp_request_get_connection(req);

	held_forget(h);
	if (conn == NULL)
		evhttp_request_free(req);
	else
		evhttp_connection_free(conn);	/* frees req too */
}

/* The client closed a held request's connection. */
static void
held_close_cb(struct evhttp_connection *conn, void *arg)
{
	struct held *h = arg;
	struct endpoint *ep = h->ep;
	struct evhttp_request *req = h->req;
	bool detached = evhttp_request_get_connection(req) == NULL;
	char op[64];

	op_name(req, op, sizeof(op));
	log_info(LOG_SRC_HTTP, "%s %s -> closed by the client after %.1f ms "
	    "(fault %s)", ep->region, op,
	    (double)(mono_us() - h->t0) / 1000.0,
	    h->timer != NULL ? "slow" : "hang");
	held_forget(h);
	if (detached)
		evhttp_request_free(req);
	/* else libevent frees it with the connection */
}

static void
slow_cb(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;
	struct endpoint *ep = h->ep;
	struct evhttp_request *req = h->req;
	uint64_t t0 = h->t0;

	held_forget(h);
	serve(ep, req, t0);
}

/*
 * Forget every held request of ep before its evhttp is freed (which
 * frees the attached ones with their connections); free detached ones.
 */
static void
held_drop_all(struct endpoint *ep)
{
	while (!TAILQ_EMPTY(&ep->held)) {
		struct held *h = TAILQ_FIRST(&ep->held);
		struct evhttp_request *req = h->req;
		bool detached = evhttp_request_get_connection(req) == NULL;

		held_forget(h);
		if (detached)
			evhttp_request_free(req);
	}
}

/* The hang is over: close the connections of the requests it held. */
static void
held_release_hung(struct endpoint *ep)
{
	struct held *h, *next;

	for (h = TAILQ_FIRST(&ep->held); h != NULL; h = next) {
		next = TAILQ_NEXT(h, entry);
		if (h->timer == NULL)
			held_drop(h);
	}
}

static struct held *
find_held(const struct endpoint *ep, const struct evhttp_request *req)
{
	struct held *h;

	TAILQ_FOREACH(h, &ep->held, entry) {
		if (h->req == req)
			return h;
	}
	return NULL;
}

/* Make room for one more held request: drop the oldest hung one. */
static bool
held_make_room(struct endpoint *ep)
{
	struct held *h;

	if (ep->nheld < MAX_HELD)
		return true;
	TAILQ_FOREACH(h, &ep->held, entry) {
		if (h->timer == NULL) {
			held_drop(h);
			return true;
		}
	}
	return false;
}

static void
hold(struct endpoint *ep, struct evhttp_request *req, uint64_t t0_us,
    bool slow)
{
	struct evhttp_connection *conn;
	struct held *h;
	char op[64];

	op_name(req, op, sizeof(op));
	if (!held_make_room(ep)) {
		send_error(ep, req, 503, "EndpointTemporarilyUnavailableException",
		    "too many requests held", -1, op, t0_us);
		return;
	}
	h = xcalloc(1, sizeof(*h));
	h->ep = ep;
	h->req = req;
	h->t0 = t0_us;
	if (slow) {
		struct timeval tv;

		tv.tv_sec = ep->delay_ms / 1000;
		tv.tv_usec = (ep->delay_ms % 1000) * 1000;
		h->timer = evtimer_new(ep->srv->base, slow_cb, h);
		if (h->timer == NULL || evtimer_add(h->timer, &tv) != 0) {
			if (h->timer != NULL)
				event_free(h->timer);
			free(h);
			serve(ep, req, t0_us);
			return;
		}
	}
	TAILQ_INSERT_TAIL(&ep->held, h, entry);
	ep->nheld++;
	conn = evhttp_request_get_connection(req);
	if (conn != NULL)
		evhttp_connection_set_closecb(conn, held_close_cb, h);
	if (!slow)
		log_info(LOG_SRC_HTTP, "%s %s -> held (fault hang)", ep->region,
		    op);
}

/*
 * Replies go out in more than one segment (TLS records): without
 * TCP_NODELAY, Nagle's algorithm and the client's delayed ACK add 40 ms
 * to every request on a kept-alive connection.
 */
static void
set_nodelay(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	evutil_socket_t fd;
	int one = 1;

	if (conn == NULL)
		return;
	bev = evhttp_connection_get_bufferevent(conn);
	fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
}

static int
fault_status(const struct endpoint *ep, const char *type)
{
	return sim_api_status(ep->srv->cluster, type);
}

static void
endpoint_cb(struct evhttp_request *req, void *arg)
{
	struct endpoint *ep = arg;
	uint64_t t0 = mono_us();
	struct held *h;
	char op[64];

	set_nodelay(req);
	h = find_held(ep, req);
	if (h != NULL) {
		/* libevent calls back again when a held request's connection
		 * fails with an error other than EOF: answer it now (the
		 * reply frees it). */
		t0 = h->t0;
		held_forget(h);
		op_name(req, op, sizeof(op));
		send_error(ep, req, 500, "InternalServerException",
		    "connection failed", -1, op, t0);
		return;
	}
	op_name(req, op, sizeof(op));
	switch (ep->mode) {
	case FAULT_HANG:
		hold(ep, req, t0, false);
		break;
	case FAULT_SLOW:
		hold(ep, req, t0, true);
		break;
	case FAULT_HTTP500:
		send_error(ep, req, fault_status(ep, "InternalServerException"),
		    "InternalServerException",
		    "Internal server error (injected fault)", -1, op, t0);
		break;
	case FAULT_UNAVAILABLE:
		send_error(ep, req, fault_status(ep,
		    "EndpointTemporarilyUnavailableException"),
		    "EndpointTemporarilyUnavailableException",
		    "The endpoint is temporarily unavailable (injected fault)",
		    -1, op, t0);
		break;
	case FAULT_THROTTLE:
		send_error(ep, req, fault_status(ep, "ThrottlingException"),
		    "ThrottlingException", "Rate exceeded (injected fault)", ep->retry_after, op, t0);
		break;
	case FAULT_GARBAGE: {
		struct sim_reply r;

		memset(&r, 0, sizeof(r));
		r.status = 200;
		r.body = xstrdup(GARBAGE_BODY);
		r.retry_after = -1;
		send_reply(ep, req, &r, op, t0);
		free(r.body);
		break;
	}
	default:
		serve(ep, req, t0);
		break;
	}
}

/* ------------------------------------------------------------ sockets */

static struct bufferevent *
tls_bev_cb(struct event_base *base, void *arg)
{
	struct endpoint *ep = arg;
	struct bufferevent *bev;
	SSL *ssl = sim_tls_ssl_new(ep->srv->opts.tls);

	if (ssl == NULL) {
		log_neterr(LOG_SRC_HTTP, "%s: SSL_new failed", ep->region);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		log_neterr(LOG_SRC_HTTP, "%s: cannot make a TLS bufferevent",
		    ep->region);
		return NULL;
	}
	/* Clients that just close the socket are normal, not errors. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* A non-blocking listening socket on a, or -errno. */
static int
listen_on(const struct netaddr *a)
{
	int fd, one = 1;
	int family = a->ss.ss_family;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	    &one, sizeof(one)) != 0) ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 ||
	    listen(fd, 128) != 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static struct evhttp *
new_evhttp(struct sim_server *s, const struct netaddr *a,
    void (*cb)(struct evhttp_request *, void *), void *arg, bool tls,
    char **errmsg)
{
	struct evhttp *http;
	char buf[64];
	int fd;

	netaddr_format(a, buf, sizeof(buf));
	fd = listen_on(a);
	if (fd < 0) {
		*errmsg = xstrfmt("%s: %s", buf, strerror(-fd));
		return NULL;
	}
	http = evhttp_new(s->base);
	if (http == NULL) {
		close(fd);
		*errmsg = xstrfmt("%s: evhttp_new failed", buf);
		return NULL;
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_body_size(http, MAX_BODY);
	evhttp_set_max_headers_size(http, MAX_HEADERS);
	evhttp_set_timeout(http, IDLE_TIMEOUT);
	evhttp_set_gencb(http, cb, arg);
	if (tls)
		evhttp_set_bevcb(http, tls_bev_cb, arg);
	if (evhttp_accept_socket_with_handle(http, fd) == NULL) {
		close(fd);
		evhttp_free(http);
		*errmsg = xstrfmt("%s: cannot accept on the socket", buf);
		return NULL;
	}
	return http;
}

static int
endpoint_start(struct endpoint *ep, char **errmsg)
{
	struct sim_server *s = ep->srv;

	if (ep->http != NULL)
		return 0;
	ep->http = new_evhttp(s, &ep->addr, endpoint_cb, ep,
	    s->opts.tls != NULL, errmsg);
	return ep->http != NULL ? 0 : ERR_IO;
}

/* Close the listening socket and every connection ("down"). */
static void
endpoint_stop(struct endpoint *ep)
{
	held_drop_all(ep);
	if (ep->http != NULL) {
		evhttp_free(ep->http);
		ep->http = NULL;
	}
}

/* Switch ep to mode; 0, or an error (then the endpoint stays down). */
static int
endpoint_set_fault(struct endpoint *ep, enum fault_mode mode, int delay_ms,
    int retry_after, char **errmsg)
{
	enum fault_mode old = ep->mode;

	ep->delay_ms = delay_ms;
	ep->retry_after = retry_after;
	if (mode == old)
		return 0;
	if (mode == FAULT_DOWN)
		endpoint_stop(ep);
	else if (old == FAULT_DOWN && endpoint_start(ep, errmsg) != 0)
		return ERR_IO;
	else if (old == FAULT_HANG)
		held_release_hung(ep);
	ep->mode = mode;
	log_notice(LOG_SRC_HTTP, "%s: fault %s (was %s)", ep->region,
	    fault_names[mode], fault_names[old]);
	return 0;
}

/* --------------------------------------------------------------- admin */

static void
admin_send(struct evhttp_request *req, int status, json_t *doc)
{
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	char *text = json_dumps(doc, JSON_COMPACT);
	const char *uri = evhttp_request_get_uri(req);

	(void)evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	if (text != NULL) {
		(void)evbuffer_add(body, text, strlen(text));
		(void)evbuffer_add(body, "\n", 1);
	}
	evhttp_send_reply(req, status, reason_phrase(status), NULL);
	log_info(LOG_SRC_HTTP, "admin %s %.64s -> %d",
	    method_str(evhttp_request_get_command(req)),
	    uri != NULL ? uri : "", status);
	free(text);
	json_decref(doc);
}

static void
admin_error(struct evhttp_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
admin_error(struct evhttp_request *req, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	admin_send(req, status, json_pack("{s:s}", "error", msg));
}

static json_t *
endpoint_json(const struct endpoint *ep)
{
	return json_pack("{s:i, s:s, s:s, s:{s:s, s:i, s:i}, s:I}",
	    "index", ep->index, "region", ep->region, "url", ep->url,
	    "fault", "mode", fault_names[ep->mode], "delay_ms", ep->delay_ms,
	    "retry_after", ep->retry_after, "held", (json_int_t)ep->nheld);
}

static void
admin_state(struct sim_server *s, struct evhttp_request *req)
{
	char *text = sim_cluster_state_json(s->cluster);
	json_t *doc = json_loads(text, 0, NULL);
	json_t *eps = json_array();
	int i;

	free(text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		json_decref(eps);
		admin_error(req, 500, "cannot dump the cluster state");
		return;
	}
	for (i = 0; i < SIM_NENDPOINTS; i++)
		json_array_append_new(eps, endpoint_json(&s->ep[i]));
	json_object_set_new(doc, "endpoints", eps);
	admin_send(req, 200, doc);
}

static int
fault_parse(const char *name, enum fault_mode *out)
{
	int i;

	for (i = 0; i < FAULT_COUNT; i++) {
		if (strcmp(name, fault_names[i]) == 0) {
			*out = (enum fault_mode)i;
			return 0;
		}
	}
	return ERR_INVAL;
}

/* An integer member of obj in [lo, hi], def when absent; -1 + message. */
static int
int_member(const json_t *obj, const char *key, int lo, int hi, int def,
    int *out, char *msg, size_t size)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		snprintf(msg, size, "'%s' must be an integer from %d to %d",
		    key, lo, hi);
		return -1;
	}
	*out = (int)json_integer_value(v);
	return 0;
}

static void
admin_fault(struct sim_server *s, struct evhttp_request *req, int i)
{
	struct endpoint *ep = &s->ep[i];
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *key;
	json_t *doc, *v;
	json_error_t jerr;
	enum fault_mode mode;
	int delay, retry;
	char msg[160], *err = NULL;

	doc = json_loadb(len > 0 ? (const char *)evbuffer_pullup(in, -1) : "",
	    len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		admin_error(req, 400, "body is not JSON: %s", jerr.text);
		return;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		admin_error(req, 400, "body must be a JSON object");
		return;
	}
	json_object_foreach(doc, key, v) {
		if (strcmp(key, "mode") != 0 && strcmp(key, "delay_ms") != 0 &&
		    strcmp(key, "retry_after") != 0) {
			admin_error(req, 400, "unknown member '%.64s' (mode, "
			    "delay_ms, retry_after)", key);
			json_decref(doc);
			return;
		}
	}
	v = json_object_get(doc, "mode");
	if (!json_is_string(v) || fault_parse(json_string_value(v), &mode)) {
		json_decref(doc);
		admin_error(req, 400, "'mode' must be one of ok, down, hang, "
		    "http500, unavailable, throttle, garbage, slow");
		return;
	}
	if (int_member(doc, "delay_ms", 0, MAX_DELAY_MS, DEFAULT_DELAY_MS,
	    &delay, msg, sizeof(msg)) != 0 ||
	    int_member(doc, "retry_after", 0, MAX_RETRY_AFTER, 1, &retry,
	    msg, sizeof(msg)) != 0) {
		json_decref(doc);
		admin_error(req, 400, "%s", msg);
		return;
	}
	json_decref(doc);
	if (endpoint_set_fault(ep, mode, delay, retry, &err) != 0) {
		admin_error(req, 500, "%s: cannot listen again: %s", ep->region,
		    err);
		free(err);
		return;
	}
	admin_send(req, 200, endpoint_json(ep));
}

static void
admin_reset(struct sim_server *s, struct evhttp_request *req)
{
	json_t *eps = json_array();
	char *err = NULL;
	int i, failed = 0;

	for (i = 0; i < SIM_NENDPOINTS; i++) {
		struct endpoint *ep = &s->ep[i];

		ep->nupd = 0;
		ep->updpos = 0;
		if (endpoint_set_fault(ep, FAULT_OK, DEFAULT_DELAY_MS, 1,
		    &err) != 0) {
			log_warn(LOG_SRC_HTTP, "%s: cannot listen again: %s",
			    ep->region, err);
			free(err);
			err = NULL;
			failed++;
		}
		json_array_append_new(eps, endpoint_json(ep));
	}
	if (failed > 0) {
		json_decref(eps);
		admin_error(req, 500, "%d endpoint(s) cannot listen again",
		    failed);
		return;
	}
	admin_send(req, 200, json_pack("{s:o}", "endpoints", eps));
}

/* "/endpoints/<0..4>/fault" -> index, else -1. */
static int
fault_path_index(const char *path)
{
	static const char pre[] = "/endpoints/";

	if (strncmp(path, pre, sizeof(pre) - 1) != 0)
		return -1;
	path += sizeof(pre) - 1;
	if (path[0] < '0' || path[0] >= '0' + SIM_NENDPOINTS ||
	    strcmp(path + 1, "/fault") != 0)
		return -1;
	return path[0] - '0';
}

static void
admin_cb(struct evhttp_request *req, void *arg)
{
	struct sim_server *s = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *query;
	char *path = raw_path(req, &query);
	int i = fault_path_index(path);

	if (strcmp(path, "/state") == 0) {
		if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
			admin_state(s, req);
		else
			admin_error(req, 405, "use GET /state");
	} else if (strcmp(path, "/reset") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			admin_reset(s, req);
		else
			admin_error(req, 405, "use POST /reset");
	} else if (i >= 0) {
		if (cmd == EVHTTP_REQ_PUT)
			admin_fault(s, req, i);
		else if (cmd == EVHTTP_REQ_GET)
			admin_send(req, 200, endpoint_json(&s->ep[i]));
		else
			admin_error(req, 405, "use PUT /endpoints/%d/fault", i);
	} else if (strncmp(path, "/endpoints/", 11) == 0) {
		admin_error(req, 404, "no such endpoint: use "
		    "/endpoints/{0..%d}/fault", SIM_NENDPOINTS - 1);
	} else {
		admin_error(req, 404, "no such resource (GET /state, "
		    "PUT /endpoints/{0..%d}/fault, POST /reset)",
		    SIM_NENDPOINTS - 1);
	}
	free(path);
}

/* ----------------------------------------------------------- lifecycle */

const char *
sim_server_region(int i)
{
	return i >= 0 && i < SIM_NENDPOINTS ? regions[i] : NULL;
}

static void
set_port(struct netaddr *a, int port)
{
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port =
		    htons((uint16_t)port);
}

int
sim_server_new(struct event_base *base, struct sim_cluster *cluster,
    const struct sim_server_opts *opts, struct sim_server **out,
    char **errmsg)
{
	struct sim_server *s;
	struct netaddr a;
	char buf[64];
	int i;

	if (netaddr_parse(opts->listen, 0, &a) != 0) {
		*errmsg = xstrfmt("--listen %s: not an IP address",
		    opts->listen);
		return ERR_INVAL;
	}
	if (opts->base_port < 1 || opts->base_port > 65535 - 4) {
		*errmsg = xstrfmt("--base-port %d: must be 1 to 65531",
		    opts->base_port);
		return ERR_INVAL;
	}
	s = xcalloc(1, sizeof(*s));
	s->base = base;
	s->cluster = cluster;
	s->opts = *opts;
	if (s->opts.rate_limit < 0)
		s->opts.rate_limit = 0;
	for (i = 0; i < SIM_NENDPOINTS; i++) {
		struct endpoint *ep = &s->ep[i];

		ep->srv = s;
		ep->index = i;
		ep->region = regions[i];
		ep->addr = a;
		set_port(&ep->addr, opts->base_port + i);
		netaddr_format(&ep->addr, buf, sizeof(buf));
		ep->url = xstrfmt("%s://%s/v1", opts->tls != NULL ? "https" :
		    "http", buf);
		ep->delay_ms = DEFAULT_DELAY_MS;
		ep->retry_after = 1;
		ep->upd = xcalloc(s->opts.rate_limit > 0 ?
		    (size_t)s->opts.rate_limit : 1, sizeof(uint64_t));
		TAILQ_INIT(&ep->held);
	}
	for (i = 0; i < SIM_NENDPOINTS; i++) {
		if (endpoint_start(&s->ep[i], errmsg) != 0)
			goto fail;
	}
	if (opts->admin != NULL) {
		s->admin = new_evhttp(s, opts->admin, admin_cb, s, false,
		    errmsg);
		if (s->admin == NULL)
			goto fail;
		netaddr_format(opts->admin, buf, sizeof(buf));
		s->admin_url = xstrfmt("http://%s", buf);
	}
	*out = s;
	return 0;
fail:
	sim_server_free(s);
	return ERR_IO;
}

void
sim_server_free(struct sim_server *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < SIM_NENDPOINTS; i++) {
		endpoint_stop(&s->ep[i]);
		free(s->ep[i].url);
		free(s->ep[i].upd);
	}
	if (s->admin != NULL)
		evhttp_free(s->admin);
	free(s->admin_url);
	free(s);
}

const char *
sim_server_url(const struct sim_server *s, int i)
{
	return i >= 0 && i < SIM_NENDPOINTS ? s->ep[i].url : NULL;
}

const char *
sim_server_admin_url(const struct sim_server *s)
{
	return s->admin_url;
}

char *
sim_server_describe(const struct sim_server *s)
{
	char buf[64];

	netaddr_format(&s->ep[0].addr, buf, sizeof(buf));
	return xstrfmt("%s://%s..%d", s->opts.tls != NULL ? "https" : "http",
	    buf, s->opts.base_port + SIM_NENDPOINTS - 1);
}
