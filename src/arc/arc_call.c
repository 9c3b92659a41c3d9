#include "arc/arc_call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "arc/arc_req.h"
#include "arc/creds.h"
#include "arc/curl_ev.h"
#include "conf/conf.h"
#include "log/log.h"
#include "mirror/mirror.h"
#include "util/err.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

#define CREDS_WAIT_MS	50	/* poll for credentials being fetched */
#define AUTH_RETRY_MS	250	/* after creds_invalidate() */
#define CREDS_GRACE_MS	2000	/* default deadline: time for credentials */
#define MSG_MAX		300	/* bytes of a service message kept */

enum op { OP_LIST, OP_GET, OP_UPDATE };

struct ep {
	const char	*region;	/* borrowed from the conf */
	const char	*url;
	struct arc_url	 u;
};

struct arc_call {
	struct event_base	*base;
	const struct conf_arc	*ca;
	struct curl_ev		*ce;
	struct creds		*creds;
	struct arc_clock	 clock;
	uint32_t		 deadline_ms;
	struct ep		*eps;		/* in the order asked */
	size_t			 n;
	CURL			*easy;
	struct curl_slist	*hdrs;
	struct arc_reply	 rep;
	struct event		*timer;		/* start, retry, creds wait */
	struct event		*deadline_ev;
	/* the call in flight */
	bool			 busy;
	bool			 in_transfer;
	enum op			 op;
	const char		*operation;
	char			*body;		/* get and update */
	char			*token;		/* list: next page */
	int			 pages;
	size_t			 pos;		/* index into eps */
	bool			 auth_retried;
	uint64_t		 deadline;	/* monotonic ms */
	uint64_t		 req_started;
	arc_call_done_cb	 cb;
	void			*arg;
	/* the result */
	struct arc_page		 page;
	struct arc_call_attempt	*attempts;
	size_t			 nattempts;
	size_t			 attempts_cap;
	char			 code[96];
	char			*message;
	char			*resource_id;
	char			*resource_type;
	struct arc_call_result	 res;
};

/* ---- pure helpers ----------------------------------------------------- */

static char *
dump(json_t *o)
{
	char *s = jsonx_dump(o);

	json_decref(o);
	return s;
}

static json_t *
str(const char *s)
{
	return jsonx_check(json_string(s));
}

char *
arc_call_list_body(const char *panel_arn, const char *token)
{
	json_t *o = jsonx_check(json_object());

	if (panel_arn != NULL)
		jsonx_set(o, "ControlPanelArn", str(panel_arn));
	if (token != NULL)
		jsonx_set(o, "NextToken", str(token));
	return dump(o);
}

char *
arc_call_get_body(const char *arn)
{
	json_t *o = jsonx_check(json_object());

	jsonx_set(o, "RoutingControlArn", str(arn));
	return dump(o);
}

char *
arc_call_update_body(const struct arc_call_entry *e, size_t n, bool batch,
    const char *const *overrides, size_t noverrides)
{
	json_t *o = jsonx_check(json_object());

	if (n == 1 && !batch) {
		jsonx_set(o, "RoutingControlArn", str(e[0].arn));
		jsonx_set(o, "RoutingControlState", str(e[0].on ? "On" :
		    "Off"));
	} else {
		json_t *list = jsonx_check(json_array());

		for (size_t i = 0; i < n; i++) {
			json_t *x = jsonx_check(json_object());

			jsonx_set(x, "RoutingControlArn", str(e[i].arn));
			jsonx_set(x, "RoutingControlState", str(e[i].on ?
			    "On" : "Off"));
			jsonx_append(list, x);
		}
		jsonx_set(o, "UpdateRoutingControlStateEntries", list);
	}
	if (noverrides > 0) {
		json_t *list = jsonx_check(json_array());

		for (size_t i = 0; i < noverrides; i++)
			jsonx_append(list, str(overrides[i]));
		jsonx_set(o, "SafetyRulesToOverride", list);
	}
	return dump(o);
}

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
arc_call_get_decode(const char *body, size_t len, struct mirror_entry *e,
    char **errmsg)
{
	json_t *doc = json_loadb(body, len, 0, NULL);
	const char *arn = jstr(doc, "RoutingControlArn");
	const char *state = jstr(doc, "RoutingControlState");
	const char *name = jstr(doc, "RoutingControlName");

	memset(e, 0, sizeof(*e));
	if (!json_is_object(doc) || arn == NULL || arn[0] == '\0' ||
	    state == NULL || (strcmp(state, "On") != 0 &&
	    strcmp(state, "Off") != 0)) {
		*errmsg = xstrdup(json_is_object(doc) ? "reply has no "
		    "RoutingControlArn or no valid RoutingControlState" :
		    "reply is not a JSON object");
		json_decref(doc);
		return ERR_PARSE;
	}
	e->arn = xstrdup(arn);
	e->name = name != NULL ? xstrdup(name) : NULL;
	e->on = strcmp(state, "On") == 0;
	json_decref(doc);
	return 0;
}

/* printable ASCII, at most MSG_MAX bytes (new) */
static char *
clean(const char *s)
{
	size_t n = strlen(s), k;
	char *out;

	if (n > MSG_MAX)
		n = MSG_MAX;
	out = xmalloc(n + 1);
	for (k = 0; k < n; k++)
		out[k] = (s[k] >= 0x20 && s[k] < 0x7f) ? s[k] : '?';
	out[k] = '\0';
	return out;
}

void
arc_call_error_members(const char *body, size_t len, char **message,
    char **resource_id, char **resource_type)
{
	json_t *doc = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
	const char *m = NULL, *id = NULL, *type = NULL;

	if (json_is_object(doc)) {
		m = jstr(doc, "message");
		if (m == NULL)
			m = jstr(doc, "Message");
		id = jstr(doc, "resourceId");
		type = jstr(doc, "resourceType");
	}
	*message = m != NULL ? clean(m) : NULL;
	*resource_id = id != NULL ? clean(id) : NULL;
	*resource_type = type != NULL ? clean(type) : NULL;
	json_decref(doc);
}

static bool
is_arn_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == ':' || ch == '.' || ch == '/' ||
	    ch == '_' || ch == '-';
}

/* Add arn (len bytes) with name to rules unless it is there already. */
static size_t
add_rule(struct arc_rule_ref *rules, size_t k, size_t max, const char *arn,
    size_t len, const char *name, size_t nlen)
{
	for (size_t i = 0; i < k; i++)
		if (strlen(rules[i].arn) == len &&
		    memcmp(rules[i].arn, arn, len) == 0) {
			if (rules[i].name == NULL && name != NULL)
				rules[i].name = xstrndup(name, nlen);
			return k;
		}
	if (k >= max)
		return k;
	rules[k].arn = xstrndup(arn, len);
	rules[k].name = name != NULL ? xstrndup(name, nlen) : NULL;
	return k + 1;
}

size_t
arc_call_conflict_rules(const char *message, const char *resource_id,
    struct arc_rule_ref *rules, size_t max)
{
	size_t k = 0;
	const char *p;

	if (resource_id != NULL && strstr(resource_id, "/safetyrule/") != NULL)
		k = add_rule(rules, k, max, resource_id, strlen(resource_id),
		    NULL, 0);
	for (p = message; p != NULL && (p = strstr(p, "arn:")) != NULL;) {
		size_t len = 0, nlen = 0;
		const char *name = NULL, *q;

		while (is_arn_char(p[len]) && len < 255)
			len++;
		/* an ARN ends at the first character that cannot be one */
		while (len > 0 && (p[len - 1] == '.' || p[len - 1] == ':'))
			len--;
		q = p + len;
		if (strncmp(q, " ('", 3) == 0 || strncmp(q, " (\"", 3) == 0) {
			char quote = q[2];
			const char *end = strchr(q + 3, quote);

			if (end != NULL && end > q + 3 && end - (q + 3) <= 64) {
				name = q + 3;
				nlen = (size_t)(end - name);
			}
		}
		if (memmem(p, len, "/safetyrule/", 12) != NULL)
			k = add_rule(rules, k, max, p, len, name, nlen);
		p += len > 0 ? len : 4;
	}
	return k;
}

void
arc_rule_ref_fini(struct arc_rule_ref *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].arn);
		free(r[i].name);
		r[i].arn = r[i].name = NULL;
	}
}

/* The model's pattern for Arn: 1..255 of [A-Za-z0-9:./_-]. */
static bool
arn_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_arn_char(s[i]))
			return false;
	return true;
}

/* ---- clocks ----------------------------------------------------------- */

static uint64_t
now_mono(const struct arc_call *c)
{
	return c->clock.mono_ms(c->clock.arg);
}

/* ---- the call --------------------------------------------------------- */

static void	send_request(struct arc_call *c);

static void
arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static struct arc_call_attempt *
new_attempt(struct arc_call *c)
{
	struct arc_call_attempt *a;

	if (c->nattempts == c->attempts_cap) {
		c->attempts_cap = c->attempts_cap ? 2 * c->attempts_cap : 8;
		c->attempts = xrealloc(c->attempts, c->attempts_cap,
		    sizeof(*c->attempts));
	}
	a = &c->attempts[c->nattempts++];
	memset(a, 0, sizeof(*a));
	a->region = c->eps[c->pos].region;
	a->ms = now_mono(c) - c->req_started;
	return a;
}

/* Forget the previous call's result. */
static void
result_reset(struct arc_call *c)
{
	arc_page_fini(&c->page);
	c->nattempts = 0;
	c->code[0] = '\0';
	free(c->message);
	free(c->resource_id);
	free(c->resource_type);
	c->message = c->resource_id = c->resource_type = NULL;
	memset(&c->res, 0, sizeof(c->res));
}

/* "us-east-1: Connection refused; us-west-2: ThrottlingException" */
static char *
attempts_text(const struct arc_call *c)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < c->nattempts; i++) {
		char *t = xstrfmt("%s%s%s: %s", s, i ? "; " : "",
		    c->attempts[i].region, c->attempts[i].code[0] ?
		    c->attempts[i].code : "ok");

		free(s);
		s = t;
	}
	return s;
}

/*
 * The call is over: fill the result, then run the callback (last: it may
 * free the caller or start the next call).
 */
static void
finish(struct arc_call *c, int err, enum arc_class cls, bool with_ep)
{
	struct arc_call_result *r = &c->res;
	arc_call_done_cb cb = c->cb;
	void *arg = c->arg;

	evtimer_del(c->timer);
	evtimer_del(c->deadline_ev);
	arc_req_headers_free(c->hdrs);
	c->hdrs = NULL;
	c->busy = false;
	c->in_transfer = false;
	free(c->body);
	free(c->token);
	c->body = c->token = NULL;
	r->err = err;
	r->cls = cls;
	r->region = with_ep ? c->eps[c->pos].region : NULL;
	r->url = with_ep ? c->eps[c->pos].url : NULL;
	r->code = c->code;
	if (c->message == NULL)
		c->message = xstrdup(err == 0 ? "" : c->code);
	r->message = c->message;
	r->resource_id = c->resource_id;
	r->resource_type = c->resource_type;
	r->entries = c->page.entries;
	r->nentries = c->page.n;
	r->attempts = c->attempts;
	r->nattempts = c->nattempts;
	arc_reply_reset(&c->rep);
	cb(r, arg);
}

/* Every endpoint was asked and none gave a usable answer. */
static void
finish_exhausted(struct arc_call *c, enum arc_class cls)
{
	char *t = attempts_text(c);

	free(c->message);
	c->message = xstrfmt("no endpoint answered (%s)", t);
	free(t);
	finish(c, ERR_IO, cls, false);
}

/* The endpoint at pos failed in a way another endpoint may not: next. */
static void
next_endpoint(struct arc_call *c, enum arc_class cls)
{
	arc_page_fini(&c->page);
	free(c->token);
	c->token = NULL;
	c->pages = 0;
	c->auth_retried = false;
	c->pos++;
	if (c->pos >= c->n) {
		c->pos = c->n - 1;
		finish_exhausted(c, cls);
		return;
	}
	send_request(c);
}

static void
done_cb(CURL *easy, int result, void *arg)
{
	struct arc_call *c = arg;
	struct arc_call_attempt *a;
	enum arc_class cls;
	long status = 0;
	uint32_t ra;
	char *err = NULL;

	c->in_transfer = false;
	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (c->rep.too_big)
		result = CURLE_FILESIZE_EXCEEDED;
	a = new_attempt(c);
	cls = arc_classify(result, status, c->rep.buf, c->rep.len,
	    c->rep.errtype[0] ? c->rep.errtype : NULL,
	    c->rep.retry_after[0] ? c->rep.retry_after : NULL, a->code,
	    sizeof(a->code), &ra);
	if (result != 0)
		snprintf(a->code, sizeof(a->code), "%s",
		    curl_easy_strerror(result));
	a->cls = cls;
	log_debug(LOG_SRC_ARC, "%s %s: %s (%llu ms)", c->eps[c->pos].region,
	    c->operation, a->code[0] ? a->code : "ok",
	    (unsigned long long)a->ms);
	snprintf(c->code, sizeof(c->code), "%s", a->code);
	switch (cls) {
	case ARC_CLASS_ENDPOINT:
	case ARC_CLASS_THROTTLE:
		next_endpoint(c, cls);
		return;
	case ARC_CLASS_AUTH:
		if (!c->auth_retried) {
			c->auth_retried = true;
			creds_invalidate(c->creds);
			arm(c->timer, AUTH_RETRY_MS);
			return;
		}
		/* FALLTHROUGH */
	case ARC_CLASS_CONFIG:
		free(c->message);
		arc_call_error_members(c->rep.buf, c->rep.len, &c->message,
		    &c->resource_id, &c->resource_type);
		finish(c, ERR_INVAL, cls, true);
		return;
	case ARC_CLASS_OK:
		break;
	}
	if (c->op == OP_UPDATE) {
		finish(c, 0, ARC_CLASS_OK, true);
		return;
	}
	if (c->op == OP_GET) {
		struct mirror_entry e;

		if (arc_call_get_decode(c->rep.buf, c->rep.len, &e, &err) != 0)
			goto bad_reply;
		c->page.entries = xcalloc(1, sizeof(*c->page.entries));
		c->page.entries[0] = e;
		c->page.n = 1;
		finish(c, 0, ARC_CLASS_OK, true);
		return;
	}
	if (arc_page_decode(c->rep.buf, c->rep.len, &c->page, &err) != 0)
		goto bad_reply;
	c->pages++;
	if (c->page.next_token != NULL) {
		if (c->pages >= ARC_MAX_PAGES) {
			err = xstrdup("too many pages");
			goto bad_reply;
		}
		free(c->token);
		c->token = c->page.next_token;
		c->page.next_token = NULL;
		send_request(c);
		return;
	}
	finish(c, 0, ARC_CLASS_OK, true);
	return;
bad_reply:
	snprintf(a->code, sizeof(a->code), "%s", err);
	snprintf(c->code, sizeof(c->code), "%s", err);
	a->cls = ARC_CLASS_ENDPOINT;
	free(err);
	next_endpoint(c, ARC_CLASS_ENDPOINT);
}

/* Build, sign and start the request for endpoint pos. */
static void
send_request(struct arc_call *c)
{
	struct ep *ep = &c->eps[c->pos];
	uint64_t now = now_mono(c), left;
	const struct sigv4_creds *cr;
	struct arc_req req;
	char *list_body = NULL;
	int ret;

	cr = creds_current(c->creds, c->clock.wall_ms(c->clock.arg));
	if (cr == NULL) {
		if (creds_failures(c->creds) > 0) {
			snprintf(c->code, sizeof(c->code), "no credentials");
			free(c->message);
			c->message = xstrfmt("no AWS credentials (source %s): "
			    "see arcdns.yaml(5) arc.credentials",
			    c->ca->credentials != NULL ? c->ca->credentials :
			    "auto");
			finish(c, ERR_INVAL, ARC_CLASS_AUTH, false);
			return;
		}
		arm(c->timer, CREDS_WAIT_MS);	/* still fetching */
		return;
	}
	left = c->deadline > now ? c->deadline - now : 1;
	if (c->op == OP_LIST)
		list_body = arc_call_list_body(c->ca->control_panel, c->token);
	req = (struct arc_req){
		.url = ep->url, .region = ep->region, .u = &ep->u,
		.operation = c->operation,
		.body = list_body != NULL ? list_body : c->body,
		.timeout_ms = c->ca->timeout_ms < left ? c->ca->timeout_ms :
		    (uint32_t)left,
		.connect_timeout_ms = c->ca->connect_timeout_ms,
		.ca_file = c->ca->ca_file,
		.user_agent = "arcdnsctl/" PACKAGE_VERSION,
		.write_cb = arc_reply_write_cb,
		.header_cb = arc_reply_header_cb, .cb_arg = &c->rep };
	arc_reply_reset(&c->rep);
	curl_easy_reset(c->easy);
	ret = arc_req_prepare(c->easy, &req, cr, c->clock.wall_ms(
	    c->clock.arg), &c->hdrs);
	free(list_body);
	c->req_started = now;
	if (ret != 0) {
		snprintf(c->code, sizeof(c->code), "cannot sign");
		free(c->message);
		c->message = xstrdup("cannot sign the request (unusable "
		    "credentials or region)");
		finish(c, ERR_INVAL, ARC_CLASS_CONFIG, true);
		return;
	}
	log_debug(LOG_SRC_ARC, "%s %s: asking %s", ep->region, c->operation,
	    ep->url);
	if (curl_ev_add(c->ce, c->easy, done_cb, c) != 0) {
		struct arc_call_attempt *a = new_attempt(c);

		snprintf(a->code, sizeof(a->code), "curl refused the request");
		a->cls = ARC_CLASS_ENDPOINT;
		next_endpoint(c, ARC_CLASS_ENDPOINT);
		return;
	}
	c->in_transfer = true;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	send_request(arg);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct arc_call *c = arg;
	char *t;

	if (c->in_transfer) {
		struct arc_call_attempt *a;

		curl_ev_cancel(c->ce, c->easy);
		c->in_transfer = false;
		a = new_attempt(c);
		snprintf(a->code, sizeof(a->code), "deadline");
		a->cls = ARC_CLASS_ENDPOINT;
	}
	t = attempts_text(c);
	snprintf(c->code, sizeof(c->code), "deadline");
	free(c->message);
	c->message = xstrfmt("no answer within %u ms%s%s%s", c->deadline_ms,
	    c->nattempts ? " (" : "", t, c->nattempts ? ")" : "");
	free(t);
	finish(c, ERR_LIMIT, ARC_CLASS_ENDPOINT, false);
}

static int
begin(struct arc_call *c, enum op op, const char *operation, char *body,
    arc_call_done_cb cb, void *arg)
{
	result_reset(c);
	c->busy = true;
	c->op = op;
	c->operation = operation;
	c->body = body;
	c->token = NULL;
	c->pages = 0;
	c->pos = 0;
	c->auth_retried = false;
	c->cb = cb;
	c->arg = arg;
	c->deadline = now_mono(c) + c->deadline_ms;
	arm(c->deadline_ev, c->deadline_ms);
	arm(c->timer, 0);	/* the callback never runs from here */
	return 0;
}

int
arc_call_list(struct arc_call *c, arc_call_done_cb cb, void *arg)
{
	if (c->busy)
		return ERR_INVAL;
	return begin(c, OP_LIST, "ListRoutingControls", NULL, cb, arg);
}

int
arc_call_get(struct arc_call *c, const char *arn, arc_call_done_cb cb,
    void *arg)
{
	if (c->busy || !arn_ok(arn))
		return ERR_INVAL;
	return begin(c, OP_GET, "GetRoutingControlState",
	    arc_call_get_body(arn), cb, arg);
}

int
arc_call_update(struct arc_call *c, const struct arc_call_entry *e,
    size_t n, bool batch, const char *const *overrides, size_t noverrides,
    arc_call_done_cb cb, void *arg)
{
	if (c->busy || n == 0 || n > ARC_CALL_MAX_ENTRIES)
		return ERR_INVAL;
	for (size_t i = 0; i < n; i++)
		if (!arn_ok(e[i].arn))
			return ERR_INVAL;
	for (size_t i = 0; i < noverrides; i++)
		if (!arn_ok(overrides[i]))
			return ERR_INVAL;
	return begin(c, OP_UPDATE, n == 1 && !batch ?
	    "UpdateRoutingControlState" : "UpdateRoutingControlStates",
	    arc_call_update_body(e, n, batch, overrides, noverrides), cb, arg);
}

size_t
arc_call_endpoints(const struct arc_call *c)
{
	return c->n;
}

const char *
arc_call_endpoint_region(const struct arc_call *c, size_t k)
{
	return k < c->n ? c->eps[k].region : NULL;
}

/* ---- setup ------------------------------------------------------------ */

int
arc_call_new(struct event_base *base, const struct conf_arc *ca,
    struct curl_ev *ce, struct creds *creds, const struct arc_call_opts *opts,
    struct arc_call **out, char **errmsg)
{
	struct arc_call *c;

	if (ca->nendpoints == 0) {
		*errmsg = xstrdup("arc: no endpoints configured");
		return ERR_INVAL;
	}
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->ca = ca;
	c->ce = ce;
	c->creds = creds;
	if (opts != NULL && opts->clock != NULL)
		c->clock = *opts->clock;
	else
		c->clock = arc_clock_real;
	c->n = ca->nendpoints;
	c->deadline_ms = opts != NULL && opts->deadline_ms != 0 ?
	    opts->deadline_ms : (uint32_t)c->n * ca->timeout_ms +
	    CREDS_GRACE_MS;
	c->eps = xcalloc(c->n, sizeof(*c->eps));
	for (size_t i = 0; i < c->n; i++) {
		c->eps[i].region = ca->endpoints[i].region;
		c->eps[i].url = ca->endpoints[i].url;
		if (arc_url_parse(c->eps[i].region, c->eps[i].url,
		    &c->eps[i].u, errmsg) != 0) {
			arc_call_free(c);
			return ERR_INVAL;
		}
	}
	if (opts == NULL || !opts->no_shuffle)
		for (size_t i = c->n - 1; i > 0; i--) {
			size_t j = c->clock.random(c->clock.arg) % (i + 1);
			struct ep t = c->eps[i];

			c->eps[i] = c->eps[j];
			c->eps[j] = t;
		}
	c->easy = curl_easy_init();
	if (c->easy == NULL)
		abort();
	c->timer = evtimer_new(base, timer_cb, c);
	c->deadline_ev = evtimer_new(base, deadline_cb, c);
	if (c->timer == NULL || c->deadline_ev == NULL)
		abort();
	*out = c;
	return 0;
}

void
arc_call_free(struct arc_call *c)
{
	if (c == NULL)
		return;
	if (c->in_transfer)
		curl_ev_cancel(c->ce, c->easy);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->deadline_ev != NULL)
		event_free(c->deadline_ev);
	arc_req_headers_free(c->hdrs);
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	arc_reply_reset(&c->rep);
	result_reset(c);
	free(c->attempts);
	free(c->body);
	free(c->token);
	for (size_t i = 0; i < c->n; i++)
		arc_url_fini(&c->eps[i].u);
	free(c->eps);
	free(c);
}
