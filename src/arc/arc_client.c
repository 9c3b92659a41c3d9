#include "arc/arc_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "arc/arc_req.h"
#include "arc/creds.h"
#include "arc/curl_ev.h"
#include "arc/sigv4.h"
#include "conf/conf.h"
#include "log/log.h"
#include "mirror/mirror.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/xalloc.h"

#define AUTH_RETRY_MS	250	/* after creds_invalidate() */

enum health { HEALTH_UNKNOWN = 0, HEALTH_GOOD, HEALTH_BAD };

/* One endpoint: its easy handle (keep-alive) and the attempt in flight. */
struct endpoint {
	struct arc_client	*ac;
	const char		*region;	/* borrowed from conf */
	const char		*url;
	struct arc_url		 u;		/* Host, path, query */
	CURL			*easy;
	enum health		 health;
	/* the attempt in flight (st.busy) */
	struct arc_page		 page;
	char			*token;
	int			 pages;
	bool			 auth_retried;
	uint64_t		 started;	/* monotonic, first page */
	uint64_t		 retry_at;	/* auth retry due, 0: none */
	struct curl_slist	*hdrs;
	char			*buf;
	size_t			 len;
	bool			 too_big;
	char			 errtype[96];
	char			 retry_after[32];
	/* per request, for arc_client_endpoint() */
	size_t			 cidx;		/* index in conf */
	uint64_t		 req_started;	/* monotonic */
	struct arc_ep_info	 info;		/* counters only */
};

struct arc_client {
	struct event_base	*base;
	const struct conf	*conf;
	const struct conf_arc	*ca;
	struct curl_ev		*ce;
	struct creds		*creds;
	struct mirror		*m;
	char			*state_path;	/* state-dir/mirror.json */
	char			*events_path;	/* state-dir/events.jsonl */
	struct arc_clock	 clock;
	struct event		*timer;
	struct endpoint		*eps;
	struct arc_ep_state	*st;		/* parallel to eps */
	size_t			 n;
	size_t			 cur;		/* first to ask in a poll */
	bool			 polling;
	bool			 probed;	/* a held endpoint asked in
						   this poll already */
	uint64_t		 poll_start;
	uint64_t		 next_poll;
	uint64_t		 since;		/* start, for staleness */
	uint64_t		 last_ok;	/* monotonic, 0: never */
	uint64_t		 stale_after;
	unsigned		 config_fails;	/* consecutive config errors */
	char			 last_config[96];
	bool			 no_creds_logged;
	bool			*missing_logged;	/* per control */
	enum mirror_state	*old;		/* per control, scratch */
	struct arc_stats	 stats;
	size_t			*by_conf;	/* conf index -> eps index */
};

/* ---- pure decision logic -------------------------------------------- */

const char *
arc_class_str(enum arc_class c)
{
	switch (c) {
	case ARC_CLASS_OK:
		return "ok";
	case ARC_CLASS_ENDPOINT:
		return "endpoint";
	case ARC_CLASS_THROTTLE:
		return "throttle";
	case ARC_CLASS_AUTH:
		return "auth";
	case ARC_CLASS_CONFIG:
		return "config";
	}
	return "?";
}

void
arc_error_code(const char *type, char *out, size_t outsz)
{
	const char *p = strrchr(type, '#');
	size_t len;

	if (outsz == 0)
		return;
	if (p != NULL)
		type = p + 1;
	len = strcspn(type, ":");
	while (len > 0 && (type[len - 1] == ' ' || type[len - 1] == '\t'))
		len--;
	while (len > 0 && (*type == ' ' || *type == '\t')) {
		type++;
		len--;
	}
	if (len >= outsz)
		len = outsz - 1;
	memcpy(out, type, len);
	out[len] = '\0';
}

static const struct {
	const char	*code;
	enum arc_class	 cls;
} class_table[] = {
	{ "ThrottlingException", ARC_CLASS_THROTTLE },
	{ "EndpointTemporarilyUnavailableException", ARC_CLASS_ENDPOINT },
	{ "InternalServerException", ARC_CLASS_ENDPOINT },
	{ "ServiceUnavailableException", ARC_CLASS_ENDPOINT },
	{ "InvalidSignatureException", ARC_CLASS_AUTH },
	{ "ExpiredTokenException", ARC_CLASS_AUTH },
	{ "UnrecognizedClientException", ARC_CLASS_AUTH },
	{ "MissingAuthenticationTokenException", ARC_CLASS_AUTH },
	{ "IncompleteSignatureException", ARC_CLASS_AUTH },
	{ "AccessDeniedException", ARC_CLASS_CONFIG },
	{ "ValidationException", ARC_CLASS_CONFIG },
	{ "ResourceNotFoundException", ARC_CLASS_CONFIG },
	{ "UnknownOperationException", ARC_CLASS_CONFIG },
};

static uint32_t
parse_seconds(const char *s)
{
	char *end;
	unsigned long v;

	if (s == NULL)
		return 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return 0;
	v = strtoul(s, &end, 10);
	if (v > 3600)
		v = 3600;
	return (uint32_t)v;
}

/* By the status alone, when nothing names the error. */
static enum arc_class
class_of_status(long status)
{
	if (status >= 500 || status == 0)
		return ARC_CLASS_ENDPOINT;
	if (status == 429)
		return ARC_CLASS_THROTTLE;
	if (status == 401 || status == 403)
		return ARC_CLASS_AUTH;
	if (status >= 400)
		return ARC_CLASS_CONFIG;
	return ARC_CLASS_ENDPOINT;	/* 1xx/3xx: not what we asked */
}

enum arc_class
arc_classify(int curl_result, long status, const char *body, size_t len,
    const char *errtype, const char *retry_after, char *code, size_t codesz,
    uint32_t *retry_after_s)
{
	json_t *doc = NULL, *t, *ra;
	enum arc_class cls;

	*retry_after_s = 0;
	code[0] = '\0';
	if (curl_result != 0) {
		snprintf(code, codesz, "transport");
		return ARC_CLASS_ENDPOINT;
	}
	if (len > 0)
		doc = json_loadb(body, len, 0, NULL);
	if (status == 200) {
		if (json_is_object(doc)) {
			json_decref(doc);
			return ARC_CLASS_OK;
		}
		json_decref(doc);
		snprintf(code, codesz, "non-JSON reply");
		return ARC_CLASS_ENDPOINT;
	}
	t = json_is_object(doc) ? json_object_get(doc, "__type") : NULL;
	if (json_is_string(t) && json_string_value(t)[0] != '\0')
		arc_error_code(json_string_value(t), code, codesz);
	else if (errtype != NULL && errtype[0] != '\0')
		arc_error_code(errtype, code, codesz);
	ra = json_is_object(doc) ? json_object_get(doc, "retryAfterSeconds") :
	    NULL;
	if (json_is_integer(ra) && json_integer_value(ra) > 0)
		*retry_after_s = json_integer_value(ra) > 3600 ? 3600 :
		    (uint32_t)json_integer_value(ra);
	else
		*retry_after_s = parse_seconds(retry_after);
	json_decref(doc);
	if (code[0] == '\0') {
		snprintf(code, codesz, "HTTP %ld", status);
		return class_of_status(status);
	}
	cls = class_of_status(status);
	for (size_t i = 0; i < sizeof(class_table) / sizeof(class_table[0]);
	    i++)
		if (strcmp(code, class_table[i].code) == 0)
			return class_table[i].cls;
	/* an unknown name: a 5xx is the endpoint's problem */
	return cls;
}

uint64_t
arc_backoff_ms(unsigned fails, uint32_t base_ms, uint32_t max_ms,
    uint32_t rnd)
{
	uint64_t d = base_ms;

	if (fails == 0)
		return 0;
	for (unsigned i = 1; i < fails && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	return d / 2 + (uint64_t)rnd % (d - d / 2 + 1);
}

static bool
available(const struct arc_ep_state *s, uint64_t now)
{
	return !s->tried && !s->busy && s->hold_until <= now;
}

int
arc_next_endpoint(const struct arc_ep_state *eps, size_t n, size_t start,
    uint64_t now)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;

		if (available(&eps[i], now))
			return (int)i;
	}
	return -1;
}

int
arc_probe_endpoint(const struct arc_ep_state *eps, size_t n, uint64_t now)
{
	int best = -1;

	for (size_t i = 0; i < n; i++) {
		if (eps[i].tried || eps[i].busy || eps[i].throttle_until > now)
			continue;
		if (best < 0 || eps[i].hold_until < eps[best].hold_until)
			best = (int)i;
	}
	return best;
}

uint64_t
arc_next_poll_at(uint64_t last_start, uint32_t interval_ms, uint64_t now)
{
	uint64_t due = last_start + interval_ms;

	return due < now ? now : due;
}

bool
arc_should_hedge(uint32_t hedge_after_ms, int in_flight, uint64_t started,
    uint64_t now, bool other_available)
{
	return hedge_after_ms > 0 && in_flight == 1 && other_available &&
	    now >= started + hedge_after_ms;
}

bool
arc_is_stale(uint64_t last_ok, uint64_t since, uint64_t now,
    uint64_t stale_after_ms)
{
	uint64_t ref = last_ok > since ? last_ok : since;

	return now >= ref && now - ref > stale_after_ms;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

void
arc_page_fini(struct arc_page *page)
{
	for (size_t i = 0; i < page->n; i++) {
		free((char *)page->entries[i].arn);
		free((char *)page->entries[i].name);
		free((char *)page->entries[i].panel_arn);
	}
	free(page->entries);
	free(page->next_token);
	memset(page, 0, sizeof(*page));
}

static char *
opt_dup(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

int
arc_page_decode(const char *body, size_t len, struct arc_page *page,
    char **errmsg)
{
	json_error_t jerr;
	json_t *doc, *list, *tok, *rc;
	size_t i, old = page->n;
	const char *why = NULL;

	doc = json_loadb(body, len, 0, &jerr);
	if (doc == NULL) {
		*errmsg = xstrfmt("reply is not JSON: %s", jerr.text);
		return ERR_PARSE;
	}
	list = json_object_get(doc, "RoutingControls");
	tok = json_object_get(doc, "NextToken");
	if (!json_is_object(doc))
		why = "reply is not a JSON object";
	else if (!json_is_array(list))
		why = "RoutingControls is missing or not a list";
	else if (tok != NULL && !json_is_null(tok) &&
	    (!json_is_string(tok) || json_string_length(tok) == 0))
		why = "NextToken is not a non-empty string";
	json_array_foreach(why == NULL ? list : NULL, i, rc) {
		const char *arn = jstr(rc, "RoutingControlArn");
		const char *state = jstr(rc, "RoutingControlState");

		if (!json_is_object(rc) || arn == NULL || arn[0] == '\0')
			why = "a routing control has no RoutingControlArn";
		else if (state == NULL || (strcmp(state, "On") != 0 &&
		    strcmp(state, "Off") != 0))
			why = "a routing control has no valid "
			    "RoutingControlState";
		if (why != NULL)
			break;
	}
	if (why != NULL) {
		*errmsg = xstrdup(why);
		json_decref(doc);
		return ERR_PARSE;
	}
	page->entries = xrealloc(page->entries, old + json_array_size(list),
	    sizeof(*page->entries));
	json_array_foreach(list, i, rc) {
		struct mirror_entry *e = &page->entries[old + i];

		e->arn = xstrdup(jstr(rc, "RoutingControlArn"));
		e->name = opt_dup(jstr(rc, "RoutingControlName"));
		e->panel_arn = opt_dup(jstr(rc, "ControlPanelArn"));
		e->on = strcmp(jstr(rc, "RoutingControlState"), "On") == 0;
	}
	page->n = old + json_array_size(list);
	free(page->next_token);
	page->next_token = json_is_string(tok) ? xstrdup(json_string_value(tok))
	    : NULL;
	json_decref(doc);
	return 0;
}

/* ---- clocks ----------------------------------------------------------- */

static uint64_t
real_mono(void *arg)
{
	return clock_mono_ms();
}

static uint64_t
real_wall(void *arg)
{
	return clock_wall_ms();
}

static uint32_t
real_random(void *arg)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)clock_mono_ms() * 2654435761u;
	return r;
}

const struct arc_clock arc_clock_real = {real_mono, real_wall, real_random,
	NULL};

static uint64_t
now_mono(const struct arc_client *ac)
{
	return ac->clock.mono_ms(ac->clock.arg);
}

/* ---- scheduling ------------------------------------------------------- */

static int
in_flight(const struct arc_client *ac)
{
	int k = 0;

	for (size_t i = 0; i < ac->n; i++)
		k += ac->st[i].busy;
	return k;
}

/* Could launch_next() start a request now? */
static bool
can_launch(const struct arc_client *ac, uint64_t now)
{
	return arc_next_endpoint(ac->st, ac->n, ac->cur, now) >= 0 ||
	    (!ac->probed && arc_probe_endpoint(ac->st, ac->n, now) >= 0);
}

static void	poll_begin(struct arc_client *);
static void	launch_next(struct arc_client *);
static void	send_page(struct endpoint *);

/* The earliest due time of everything periodic; one timer for it. */
static void
schedule(struct arc_client *ac)
{
	uint64_t now = now_mono(ac), due = UINT64_MAX;
	struct timeval tv;

	if (!ac->polling)
		due = ac->next_poll;
	else if (ac->ca->hedge_after_ms > 0 && in_flight(ac) == 1 &&
	    can_launch(ac, now)) {
		for (size_t i = 0; i < ac->n; i++)
			if (ac->st[i].busy && ac->eps[i].retry_at == 0 &&
			    ac->eps[i].started + ac->ca->hedge_after_ms < due)
				due = ac->eps[i].started +
				    ac->ca->hedge_after_ms;
	}
	for (size_t i = 0; i < ac->n; i++)
		if (ac->eps[i].retry_at != 0 && ac->eps[i].retry_at < due)
			due = ac->eps[i].retry_at;
	if (!ac->stats.stale) {
		uint64_t ref = ac->last_ok > ac->since ? ac->last_ok :
		    ac->since;

		if (ref + ac->stale_after + 1 < due)
			due = ref + ac->stale_after + 1;
	}
	if (due == UINT64_MAX)
		return;
	due = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(due / 1000);
	tv.tv_usec = (suseconds_t)(due % 1000) * 1000;
	evtimer_add(ac->timer, &tv);
}

static void
check_stale(struct arc_client *ac, uint64_t now)
{
	uint64_t ref = ac->last_ok > ac->since ? ac->last_ok : ac->since;

	if (ac->stats.stale || !arc_is_stale(ac->last_ok, ac->since, now,
	    ac->stale_after))
		return;
	ac->stats.stale = true;
	log_warn(LOG_SRC_ARC, "mirror stale: no successful poll for %.1fs%s",
	    (double)(now - ref) / 1000.0, mirror_has_state(ac->m) ?
	    "; serving the last known state" : "; no state known");
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct arc_client *ac = arg;
	uint64_t now = now_mono(ac);

	for (size_t i = 0; i < ac->n; i++)
		if (ac->eps[i].retry_at != 0 && ac->eps[i].retry_at <= now) {
			ac->eps[i].retry_at = 0;
			send_page(&ac->eps[i]);
		}
	if (!ac->polling && now >= ac->next_poll)
		poll_begin(ac);
	else if (ac->polling) {
		for (size_t i = 0; i < ac->n; i++) {
			bool other = can_launch(ac, now);

			if (ac->st[i].busy && ac->eps[i].retry_at == 0 &&
			    arc_should_hedge(ac->ca->hedge_after_ms,
			    in_flight(ac), ac->eps[i].started, now, other)) {
				log_debug(LOG_SRC_ARC, "%s slow after %u ms: "
				    "hedging", ac->eps[i].region,
				    ac->ca->hedge_after_ms);
				launch_next(ac);
				break;
			}
		}
	}
	check_stale(ac, now_mono(ac));
	schedule(ac);
}

/* ---- one attempt ------------------------------------------------------ */

static void
attempt_reset(struct endpoint *ep)
{
	arc_page_fini(&ep->page);
	free(ep->token);
	ep->token = NULL;
	ep->pages = 0;
	ep->auth_retried = false;
	ep->retry_at = 0;
	arc_req_headers_free(ep->hdrs);
	ep->hdrs = NULL;
	free(ep->buf);
	ep->buf = NULL;
	ep->len = 0;
}

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct endpoint *ep = arg;
	size_t n = size * nmemb;

	if (ep->len + n > ARC_MAX_BODY) {
		ep->too_big = true;
		return 0;	/* aborts the transfer */
	}
	ep->buf = xrealloc(ep->buf, ep->len + n + 1, 1);
	memcpy(ep->buf + ep->len, data, n);
	ep->len += n;
	ep->buf[ep->len] = '\0';
	return n;
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct endpoint *ep = arg;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		ep->errtype[0] = '\0';
		ep->retry_after[0] = '\0';
	}
	(void)arc_header_value(data, n, "X-Amzn-ErrorType", ep->errtype,
	    sizeof(ep->errtype));
	(void)arc_header_value(data, n, "Retry-After", ep->retry_after,
	    sizeof(ep->retry_after));
	return n;
}

static char *
request_body(const struct arc_client *ac, const char *token)
{
	json_t *o = json_object();
	char *s, *r;

	if (ac->ca->control_panel != NULL)
		json_object_set_new(o, "ControlPanelArn",
		    json_string(ac->ca->control_panel));
	if (token != NULL)
		json_object_set_new(o, "NextToken", json_string(token));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		abort();
	r = xstrdup(s);
	free(s);
	return r;
}

static void	done_cb(CURL *easy, int result, void *arg);
static void	attempt_failed(struct endpoint *ep, enum arc_class cls,
		    const char *code, uint32_t retry_after_s);

static const uint64_t lat_bounds[ARC_LAT_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, UINT64_MAX
};

uint64_t
arc_lat_bound_ms(size_t k)
{
	return k < ARC_LAT_BUCKETS ? lat_bounds[k] : UINT64_MAX;
}

/* A request of ep finished with class cls: its counters and latency. */
static void
count_done(struct endpoint *ep, enum arc_class cls)
{
	struct arc_ep_info *in = &ep->info;
	uint64_t now = now_mono(ep->ac), d;

	d = now > ep->req_started ? now - ep->req_started : 0;
	switch (cls) {
	case ARC_CLASS_OK:
		in->ok++;
		break;
	case ARC_CLASS_ENDPOINT:
		in->err_endpoint++;
		break;
	case ARC_CLASS_THROTTLE:
		in->err_throttle++;
		break;
	case ARC_CLASS_AUTH:
		in->err_auth++;
		break;
	case ARC_CLASS_CONFIG:
		in->err_config++;
		break;
	}
	in->last_latency_ms = d;
	in->latency_sum_ms += d;
	for (size_t k = 0; k < ARC_LAT_BUCKETS; k++)
		if (d <= lat_bounds[k])
			in->latency_le[k]++;
}

/* Build, sign and start the request for the next page of ep's attempt. */
static void
send_page(struct endpoint *ep)
{
	struct arc_client *ac = ep->ac;
	const struct sigv4_creds *c;
	struct arc_req req;
	char *body;
	int ret;
	uint64_t wall = ac->clock.wall_ms(ac->clock.arg);

	c = creds_current(ac->creds, wall);
	if (c == NULL) {
		attempt_failed(ep, ARC_CLASS_AUTH, "no credentials", 0);
		return;
	}
	body = request_body(ac, ep->token);
	req = (struct arc_req){ .url = ep->url, .region = ep->region,
	    .u = &ep->u, .operation = "ListRoutingControls", .body = body,
	    .timeout_ms = ac->ca->timeout_ms,
	    .connect_timeout_ms = ac->ca->connect_timeout_ms,
	    .ca_file = ac->ca->ca_file, .write_cb = write_cb,
	    .header_cb = header_cb, .cb_arg = ep };
	ret = arc_req_prepare(ep->easy, &req, c, wall, &ep->hdrs);
	free(body);
	if (ret != 0) {
		attempt_failed(ep, ARC_CLASS_CONFIG, "cannot sign the request "
		    "(unusable credentials or region)", 0);
		return;
	}
	free(ep->buf);
	ep->buf = NULL;
	ep->len = 0;
	ep->too_big = false;
	ep->errtype[0] = ep->retry_after[0] = '\0';
	ac->stats.requests++;
	ep->info.requests++;
	ep->req_started = now_mono(ac);
	if (curl_ev_add(ac->ce, ep->easy, done_cb, ep) != 0) {
		count_done(ep, ARC_CLASS_ENDPOINT);
		attempt_failed(ep, ARC_CLASS_ENDPOINT, "curl refused the "
		    "request", 0);
	}
}

static void
attempt_start(struct arc_client *ac, size_t i)
{
	struct endpoint *ep = &ac->eps[i];

	attempt_reset(ep);
	ac->st[i].tried = true;
	ac->st[i].busy = true;
	ep->started = now_mono(ac);
	log_debug(LOG_SRC_ARC, "polling %s (%s)", ep->region, ep->url);
	send_page(ep);
}

static void
launch_next(struct arc_client *ac)
{
	uint64_t now = now_mono(ac);
	int i = arc_next_endpoint(ac->st, ac->n, ac->cur, now);

	if (i >= 0) {
		attempt_start(ac, (size_t)i);
		return;
	}
	if (ac->probed)
		return;
	i = arc_probe_endpoint(ac->st, ac->n, now);
	if (i < 0)
		return;
	ac->probed = true;
	log_debug(LOG_SRC_ARC, "no endpoint left to ask: probing %s, held "
	    "for %llu ms more", ac->eps[i].region, (unsigned long long)
	    (ac->st[i].hold_until > now ? ac->st[i].hold_until - now : 0));
	attempt_start(ac, (size_t)i);
}

/* Stop every attempt in flight (no penalty) and free their state. */
static void
cancel_all(struct arc_client *ac)
{
	for (size_t i = 0; i < ac->n; i++) {
		if (!ac->st[i].busy)
			continue;
		if (ac->eps[i].retry_at == 0)
			curl_ev_cancel(ac->ce, ac->eps[i].easy);
		ac->st[i].busy = false;
		attempt_reset(&ac->eps[i]);
	}
}

static void
poll_end(struct arc_client *ac, bool ok)
{
	uint64_t now = now_mono(ac);

	cancel_all(ac);
	ac->polling = false;
	if (ok)
		ac->stats.polls_ok++;
	else
		ac->stats.polls_failed++;
	ac->next_poll = arc_next_poll_at(ac->poll_start,
	    ac->ca->poll_interval_ms, now);
	if (ac->config_fails > 0) {
		uint64_t b = now + arc_backoff_ms(ac->config_fails,
		    ARC_BACKOFF_BASE_MS, ARC_BACKOFF_MAX_MS,
		    ac->clock.random(ac->clock.arg));

		if (b > ac->next_poll)
			ac->next_poll = b;
	}
	schedule(ac);
}

/* After a complete poll: the mirror, the state file, the log lines. */
static void
apply(struct arc_client *ac, struct endpoint *ep)
{
	size_t nc = mirror_count(ac->m);
	char *err = NULL;
	int changed;

	for (size_t i = 0; i < nc; i++)
		ac->old[i] = mirror_control(ac->m, i)->state;
	changed = mirror_apply(ac->m, ep->page.entries, ep->page.n, ep->region,
	    ac->clock.wall_ms(ac->clock.arg));
	for (size_t i = 0; i < nc; i++) {
		const struct mirror_control *mc = mirror_control(ac->m, i);

		if (mc->state != ac->old[i])
			log_notice(LOG_SRC_ARC, "control %s: %s -> %s (from %s)",
			    mc->name, mirror_state_name(ac->old[i]),
			    mirror_state_name(mc->state), ep->region);
		if (mc->missing && !ac->missing_logged[i])
			log_warn(LOG_SRC_ARC, "control %s (%s) is not listed by "
			    "the cluster", mc->name, mc->arn != NULL ?
			    mc->arn : mc->arc_name != NULL ? mc->arc_name :
			    "?");
		else if (!mc->missing && ac->missing_logged[i])
			log_notice(LOG_SRC_ARC, "control %s is listed again",
			    mc->name);
		ac->missing_logged[i] = mc->missing;
	}
	if (changed <= 0)
		return;
	ac->stats.changes += (uint64_t)changed;
	if (mirror_save(ac->m, ac->state_path, &err) != 0) {
		log_err(LOG_SRC_ARC, "cannot save %s: %s", ac->state_path,
		    err != NULL ? err : "?");
		free(err);
		err = NULL;
	}
	if (mirror_log_changes(ac->m, ac->events_path, &err) != 0) {
		log_err(LOG_SRC_ARC, "cannot append to %s: %s",
		    ac->events_path, err != NULL ? err : "?");
		free(err);
	}
}

static void
attempt_succeeded(struct endpoint *ep)
{
	struct arc_client *ac = ep->ac;
	size_t i = (size_t)(ep - ac->eps);

	ac->st[i].busy = false;
	ac->st[i].fails = 0;
	ac->st[i].hold_until = 0;
	ac->st[i].throttle_until = 0;
	if (ep->health == HEALTH_BAD)
		log_notice(LOG_SRC_ARC, "endpoint %s (%s) is healthy again",
		    ep->region, ep->url);
	ep->health = HEALTH_GOOD;
	if (ac->config_fails > 0)
		log_notice(LOG_SRC_ARC, "%s answers again after %s",
		    ep->region, ac->last_config);
	ac->config_fails = 0;
	ac->last_config[0] = '\0';
	ac->no_creds_logged = false;
	ac->cur = i;
	log_debug(LOG_SRC_ARC, "%s: %zu routing controls in %d page(s), "
	    "%llu ms", ep->region, ep->page.n, ep->pages,
	    (unsigned long long)(now_mono(ac) - ep->started));
	apply(ac, ep);
	ac->last_ok = now_mono(ac);
	if (ac->stats.stale) {
		ac->stats.stale = false;
		log_notice(LOG_SRC_ARC, "mirror fresh again (from %s)",
		    ep->region);
	}
	attempt_reset(ep);
	poll_end(ac, true);
}

/*
 * The "message" (or "Message") of a JSON error body, printable ASCII only
 * and cut at 200 bytes, into out; "" when there is none. Only used for
 * configuration errors (AccessDenied, Validation, NotFound): their
 * messages name resources, never credentials.
 */
static void
error_message(const char *body, size_t len, char *out, size_t outsz)
{
	json_t *doc = body != NULL ? json_loadb(body, len, 0, NULL) : NULL;
	const char *m = NULL;
	size_t k = 0;

	if (json_is_object(doc)) {
		m = jstr(doc, "message");
		if (m == NULL)
			m = jstr(doc, "Message");
	}
	for (; m != NULL && *m != '\0' && k + 1 < outsz && k < 200; m++)
		out[k++] = (*m >= 0x20 && *m < 0x7f) ? *m : '?';
	out[k] = '\0';
	json_decref(doc);
}

/* Log a configuration-class error once per distinct code. */
static void
config_error(struct arc_client *ac, struct endpoint *ep, const char *code,
    const char *msg)
{
	if (strcmp(ac->last_config, code) != 0)
		log_err(LOG_SRC_ARC, "%s refused ListRoutingControls: %s%s%s "
		    "(check the arc: configuration, the credentials and their "
		    "permissions)", ep->region, code, msg[0] ? ": " : "",
		    msg);
	snprintf(ac->last_config, sizeof(ac->last_config), "%s", code);
	ac->config_fails++;
}

static void
attempt_failed(struct endpoint *ep, enum arc_class cls, const char *code,
    uint32_t retry_after_s)
{
	struct arc_client *ac = ep->ac;
	size_t i = (size_t)(ep - ac->eps);
	uint64_t now = now_mono(ac), hold;

	if (cls == ARC_CLASS_AUTH && strcmp(code, "no credentials") == 0) {
		if (!ac->no_creds_logged)
			log_warn(LOG_SRC_ARC, "no AWS credentials available "
			    "yet: not polling");
		ac->no_creds_logged = true;
		ac->st[i].busy = false;
		attempt_reset(ep);
		poll_end(ac, false);
		return;
	}
	if (cls == ARC_CLASS_AUTH && !ep->auth_retried) {
		log_info(LOG_SRC_ARC, "%s: %s: refreshing credentials and "
		    "retrying once", ep->region, code);
		ep->auth_retried = true;
		creds_invalidate(ac->creds);
		ep->retry_at = now + AUTH_RETRY_MS;
		schedule(ac);
		return;
	}
	ac->st[i].busy = false;
	if (cls == ARC_CLASS_AUTH || cls == ARC_CLASS_CONFIG) {
		char msg[208] = "";

		if (cls == ARC_CLASS_CONFIG)
			error_message(ep->buf, ep->len, msg, sizeof(msg));
		config_error(ac, ep, code, msg);
		ac->cur = (i + 1) % ac->n;
		attempt_reset(ep);
		poll_end(ac, false);
		return;
	}
	ac->st[i].fails++;
	hold = arc_backoff_ms(ac->st[i].fails, ARC_BACKOFF_BASE_MS,
	    ARC_BACKOFF_MAX_MS, ac->clock.random(ac->clock.arg));
	if (cls == ARC_CLASS_THROTTLE && (uint64_t)retry_after_s * 1000 > hold)
		hold = (uint64_t)retry_after_s * 1000;
	ac->st[i].hold_until = now + hold;
	if (cls == ARC_CLASS_THROTTLE)
		ac->st[i].throttle_until = now + (uint64_t)retry_after_s * 1000;
	if (ep->health != HEALTH_BAD)
		log_warn(LOG_SRC_ARC, "endpoint %s (%s) failing: %s; held for "
		    "%.1fs", ep->region, ep->url, code, (double)hold / 1000.0);
	else
		log_debug(LOG_SRC_ARC, "%s still failing: %s; held for %.1fs",
		    ep->region, code, (double)hold / 1000.0);
	ep->health = HEALTH_BAD;
	attempt_reset(ep);
	if (in_flight(ac) == 0) {
		launch_next(ac);
		if (in_flight(ac) == 0)
			poll_end(ac, false);
	}
	if (ac->polling)
		schedule(ac);
}

static void
done_cb(CURL *easy, int result, void *arg)
{
	struct endpoint *ep = arg;
	long status = 0;
	char code[96], *err = NULL;
	uint32_t ra;
	enum arc_class cls;

	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (ep->too_big)
		result = CURLE_FILESIZE_EXCEEDED;
	cls = arc_classify(result, status, ep->buf, ep->len,
	    ep->errtype[0] ? ep->errtype : NULL,
	    ep->retry_after[0] ? ep->retry_after : NULL, code, sizeof(code),
	    &ra);
	if (result != 0)
		snprintf(code, sizeof(code), "%s", curl_easy_strerror(result));
	if (cls != ARC_CLASS_OK) {
		count_done(ep, cls);
		attempt_failed(ep, cls, code, ra);
		return;
	}
	if (arc_page_decode(ep->buf, ep->len, &ep->page, &err) != 0) {
		count_done(ep, ARC_CLASS_ENDPOINT);
		attempt_failed(ep, ARC_CLASS_ENDPOINT, err, 0);
		free(err);
		return;
	}
	count_done(ep, ARC_CLASS_OK);
	ep->pages++;
	if (ep->page.next_token != NULL) {
		if (ep->pages >= ARC_MAX_PAGES) {
			attempt_failed(ep, ARC_CLASS_ENDPOINT, "too many pages",
			    0);
			return;
		}
		free(ep->token);
		ep->token = ep->page.next_token;
		ep->page.next_token = NULL;
		send_page(ep);
		return;
	}
	attempt_succeeded(ep);
}

/* ---- the poll --------------------------------------------------------- */

static void
poll_begin(struct arc_client *ac)
{
	ac->polling = true;
	ac->poll_start = now_mono(ac);
	for (size_t k = 0; k < ac->n; k++)
		ac->st[k].tried = false;
	ac->probed = false;
	launch_next(ac);
	if (in_flight(ac) == 0 && ac->polling) {
		log_debug(LOG_SRC_ARC, "every endpoint is throttled: skipping "
		    "this poll");
		poll_end(ac, false);
	}
}

/* ---- setup ------------------------------------------------------------ */

static int
endpoint_init(struct endpoint *ep, const struct conf_arc_endpoint *ce,
    bool *plain, char **errmsg)
{
	ep->region = ce->region;
	ep->url = ce->url;
	*plain = false;
	if (arc_url_parse(ce->region, ce->url, &ep->u, errmsg) != 0)
		return ERR_INVAL;
	*plain = ep->u.plain;
	ep->easy = curl_easy_init();
	if (ep->easy == NULL)
		abort();
	return 0;
}

int
arc_client_new(struct event_base *base, const struct conf *conf,
    struct curl_ev *ce, struct creds *creds, struct mirror *m,
    const char *state_dir, const struct arc_clock *clock,
    struct arc_client **out, char **errmsg)
{
	struct arc_client *ac = xcalloc(1, sizeof(*ac));
	size_t nc;

	ac->base = base;
	ac->conf = conf;
	ac->ca = &conf->arc;
	ac->ce = ce;
	ac->creds = creds;
	ac->m = m;
	ac->state_path = xstrfmt("%s/mirror.json", state_dir);
	ac->events_path = xstrfmt("%s/events.jsonl", state_dir);
	if (clock != NULL)
		ac->clock = *clock;
	else
		ac->clock = arc_clock_real;
	ac->n = ac->ca->nendpoints;
	ac->eps = xcalloc(ac->n ? ac->n : 1, sizeof(*ac->eps));
	ac->st = xcalloc(ac->n ? ac->n : 1, sizeof(*ac->st));
	nc = mirror_count(m);
	ac->missing_logged = xcalloc(nc ? nc : 1, sizeof(bool));
	ac->old = xcalloc(nc ? nc : 1, sizeof(*ac->old));
	ac->stale_after = ac->ca->stale_after_ms ? ac->ca->stale_after_ms :
	    3ull * ac->ca->poll_interval_ms + ac->ca->timeout_ms;
	for (size_t i = 0; i < ac->n; i++) {
		bool plain;

		ac->eps[i].ac = ac;
		ac->eps[i].cidx = i;
		if (endpoint_init(&ac->eps[i], &ac->ca->endpoints[i], &plain,
		    errmsg) != 0) {
			arc_client_free(ac);
			return ERR_INVAL;
		}
		if (plain)
			log_warn(LOG_SRC_ARC, "endpoint %s uses plain http:// "
			    "(%s): for tests with arcsim --plain only",
			    ac->eps[i].region, ac->eps[i].url);
	}
	if (ac->n == 0) {
		*errmsg = xstrdup("arc: no endpoints configured");
		arc_client_free(ac);
		return ERR_INVAL;
	}
	/* shuffle once (Fisher-Yates) */
	for (size_t i = ac->n - 1; i > 0; i--) {
		size_t j = ac->clock.random(ac->clock.arg) % (i + 1);
		struct endpoint t = ac->eps[i];

		ac->eps[i] = ac->eps[j];
		ac->eps[j] = t;
	}
	ac->by_conf = xcalloc(ac->n, sizeof(*ac->by_conf));
	for (size_t i = 0; i < ac->n; i++)
		ac->by_conf[ac->eps[i].cidx] = i;
	ac->timer = evtimer_new(base, timer_cb, ac);
	*out = ac;
	return 0;
}

void
arc_client_start(struct arc_client *ac)
{
	char order[256] = "";
	size_t off = 0;

	for (size_t i = 0; i < ac->n && off < sizeof(order); i++)
		off += (size_t)snprintf(order + off, sizeof(order) - off,
		    "%s%s", i ? " " : "", ac->eps[i].region);
	log_notice(LOG_SRC_ARC, "mirroring %zu controls from %zu endpoints "
	    "(order %s), every %u ms, timeout %u ms%s", mirror_count(ac->m),
	    ac->n, order, ac->ca->poll_interval_ms, ac->ca->timeout_ms,
	    ac->ca->hedge_after_ms ? ", hedging" : "");
	ac->since = now_mono(ac);
	ac->next_poll = ac->since;
	poll_begin(ac);
	schedule(ac);
}

void
arc_client_stats(const struct arc_client *ac, struct arc_stats *out)
{
	*out = ac->stats;
}

size_t
arc_client_endpoints(const struct arc_client *ac)
{
	return ac != NULL ? ac->n : 0;
}

void
arc_client_endpoint(const struct arc_client *ac, size_t i,
    struct arc_ep_info *out)
{
	const struct endpoint *ep = &ac->eps[ac->by_conf[i]];
	const struct arc_ep_state *st = &ac->st[ac->by_conf[i]];
	uint64_t now = now_mono(ac);

	*out = ep->info;
	out->region = ep->region;
	out->url = ep->url;
	out->healthy = ep->health != HEALTH_BAD;
	out->fails = st->fails;
	out->backoff_until_ms = 0;
	if (st->hold_until > now)
		out->backoff_until_ms = ac->clock.wall_ms(ac->clock.arg) +
		    (st->hold_until - now);
}

void
arc_client_free(struct arc_client *ac)
{
	if (ac == NULL)
		return;
	for (size_t i = 0; i < ac->n; i++) {
		struct endpoint *ep = &ac->eps[i];

		if (ac->st[i].busy && ep->retry_at == 0 && ep->easy != NULL)
			curl_ev_cancel(ac->ce, ep->easy);
		attempt_reset(ep);
		if (ep->easy != NULL)
			curl_easy_cleanup(ep->easy);
		arc_url_fini(&ep->u);
	}
	if (ac->timer != NULL)
		event_free(ac->timer);
	free(ac->eps);
	free(ac->st);
	free(ac->by_conf);
	free(ac->missing_logged);
	free(ac->old);
	free(ac->state_path);
	free(ac->events_path);
	free(ac);
}
