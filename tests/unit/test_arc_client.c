/*
 * test_arc_client.c -- the ARC client's decisions, with a fake clock:
 * error classes, backoff, the next endpoint, probes when every endpoint is
 * held, throttling, hedging, staleness, and page decoding.
 */
#include "arc/arc_client.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "mirror/mirror.h"
#include "util/err.h"

/* ---- error codes and classes --------------------------------------- */

static void
check_code(const char *type, const char *want)
{
	char out[64];

	arc_error_code(type, out, sizeof(out));
	cr_assert_str_eq(out, want, "%s", type);
}

Test(arc_client, error_code)
{
	check_code("ThrottlingException", "ThrottlingException");
	check_code("com.amazonaws.route53recoverycluster#ThrottlingException",
	    "ThrottlingException");
	check_code("ThrottlingException:http://internal.amazon.com/",
	    "ThrottlingException");
	check_code("aws#x#AccessDeniedException:urn:x", "AccessDeniedException");
	check_code("", "");
	check_code("#", "");
}

Test(arc_client, error_code_truncates)
{
	char out[6];

	arc_error_code("ValidationException", out, sizeof(out));
	cr_assert_str_eq(out, "Valid");
}

struct ccase {
	int		 curl;
	long		 status;
	const char	*body;
	const char	*errtype;
	const char	*retry_after;
	enum arc_class	 want;
	const char	*code;
	uint32_t	 ra;
};

static const struct ccase ccases[] = {
	{ 7, 0, NULL, NULL, NULL, ARC_CLASS_ENDPOINT, "transport", 0 },
	{ 28, 0, NULL, NULL, NULL, ARC_CLASS_ENDPOINT, "transport", 0 },
	{ 0, 200, "{\"RoutingControls\":[]}", NULL, NULL, ARC_CLASS_OK, "", 0 },
	{ 0, 200, "<html>garbage", NULL, NULL, ARC_CLASS_ENDPOINT,
	  "non-JSON reply", 0 },
	{ 0, 200, "[1,2]", NULL, NULL, ARC_CLASS_ENDPOINT, "non-JSON reply",
	  0 },
	{ 0, 200, "", NULL, NULL, ARC_CLASS_ENDPOINT, "non-JSON reply", 0 },
	{ 0, 500, "{\"__type\":\"InternalServerException\",\"message\":\"x\"}",
	  NULL, NULL, ARC_CLASS_ENDPOINT, "InternalServerException", 0 },
	{ 0, 503, "{\"__type\":\"EndpointTemporarilyUnavailableException\","
	  "\"message\":\"x\"}", NULL, NULL, ARC_CLASS_ENDPOINT,
	  "EndpointTemporarilyUnavailableException", 0 },
	/* API-reference status 400 for a server fault: __type wins */
	{ 0, 400, "{\"__type\":\"EndpointTemporarilyUnavailableException\","
	  "\"message\":\"x\"}", NULL, NULL, ARC_CLASS_ENDPOINT,
	  "EndpointTemporarilyUnavailableException", 0 },
	{ 0, 429, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate\","
	  "\"retryAfterSeconds\":3}", "ThrottlingException", "9",
	  ARC_CLASS_THROTTLE, "ThrottlingException", 3 },
	{ 0, 400, "{\"__type\":\"com.amazonaws.x#ThrottlingException\"}", NULL,
	  "5", ARC_CLASS_THROTTLE, "ThrottlingException", 5 },
	{ 0, 429, "not json", NULL, "2", ARC_CLASS_THROTTLE, "HTTP 429", 2 },
	{ 0, 403, "{\"__type\":\"InvalidSignatureException\"}", NULL, NULL,
	  ARC_CLASS_AUTH, "InvalidSignatureException", 0 },
	{ 0, 400, "{\"__type\":\"ExpiredTokenException\"}", NULL, NULL,
	  ARC_CLASS_AUTH, "ExpiredTokenException", 0 },
	{ 0, 403, "{\"__type\":\"UnrecognizedClientException\"}", NULL, NULL,
	  ARC_CLASS_AUTH, "UnrecognizedClientException", 0 },
	{ 0, 403, "{\"__type\":\"MissingAuthenticationTokenException\"}", NULL,
	  NULL, ARC_CLASS_AUTH, "MissingAuthenticationTokenException", 0 },
	{ 0, 403, "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}",
	  NULL, NULL, ARC_CLASS_CONFIG, "AccessDeniedException", 0 },
	{ 0, 400, "{\"__type\":\"AccessDeniedException\"}", NULL, NULL,
	  ARC_CLASS_CONFIG, "AccessDeniedException", 0 },
	{ 0, 400, "{\"__type\":\"ValidationException\",\"reason\":\"other\"}",
	  NULL, NULL, ARC_CLASS_CONFIG, "ValidationException", 0 },
	{ 0, 404, "{\"__type\":\"ResourceNotFoundException\"}", NULL, NULL,
	  ARC_CLASS_CONFIG, "ResourceNotFoundException", 0 },
	/* no __type: the header, then the status */
	{ 0, 400, "{\"message\":\"x\"}", "ThrottlingException:urn", NULL,
	  ARC_CLASS_THROTTLE, "ThrottlingException", 0 },
	{ 0, 503, "oops", "EndpointTemporarilyUnavailableException", NULL,
	  ARC_CLASS_ENDPOINT, "EndpointTemporarilyUnavailableException", 0 },
	{ 0, 502, "<html>bad gateway</html>", NULL, NULL, ARC_CLASS_ENDPOINT,
	  "HTTP 502", 0 },
	{ 0, 504, NULL, NULL, NULL, ARC_CLASS_ENDPOINT, "HTTP 504", 0 },
	{ 0, 403, "", NULL, NULL, ARC_CLASS_AUTH, "HTTP 403", 0 },
	{ 0, 404, "", NULL, NULL, ARC_CLASS_CONFIG, "HTTP 404", 0 },
	{ 0, 302, "", NULL, NULL, ARC_CLASS_ENDPOINT, "HTTP 302", 0 },
	/* an unknown code: by the status */
	{ 0, 500, "{\"__type\":\"Whatever\"}", NULL, NULL, ARC_CLASS_ENDPOINT,
	  "Whatever", 0 },
	{ 0, 400, "{\"__type\":\"Whatever\"}", NULL, NULL, ARC_CLASS_CONFIG,
	  "Whatever", 0 },
	/* __type not a string: falls back to the header */
	{ 0, 500, "{\"__type\":5}", "InternalServerException", NULL,
	  ARC_CLASS_ENDPOINT, "InternalServerException", 0 },
	/* silly Retry-After values */
	{ 0, 429, "{\"__type\":\"ThrottlingException\",\"retryAfterSeconds\":"
	  "-4}", NULL, "x", ARC_CLASS_THROTTLE, "ThrottlingException", 0 },
	{ 0, 429, "{\"__type\":\"ThrottlingException\",\"retryAfterSeconds\":"
	  "99999999}", NULL, NULL, ARC_CLASS_THROTTLE, "ThrottlingException",
	  3600 },
};

Test(arc_client, classify_table)
{
	for (size_t i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];
		char code[96];
		uint32_t ra = 77;
		enum arc_class got;

		got = arc_classify(c->curl, c->status, c->body,
		    c->body ? strlen(c->body) : 0, c->errtype, c->retry_after,
		    code, sizeof(code), &ra);
		cr_expect_eq(got, c->want, "case %zu: %s, want %s", i,
		    arc_class_str(got), arc_class_str(c->want));
		cr_expect_str_eq(code, c->code, "case %zu", i);
		cr_expect_eq(ra, c->ra, "case %zu: retry after %u", i, ra);
	}
}

Test(arc_client, class_names)
{
	cr_assert_str_eq(arc_class_str(ARC_CLASS_OK), "ok");
	cr_assert_str_eq(arc_class_str(ARC_CLASS_CONFIG), "config");
	cr_assert_str_eq(arc_class_str((enum arc_class)42), "?");
}

/* ---- backoff --------------------------------------------------------- */

Test(arc_client, backoff_bounds_and_growth)
{
	uint32_t rnds[] = { 0, 1, 499, 500, 12345, 0x7fffffff, UINT32_MAX };

	cr_assert_eq(arc_backoff_ms(0, 1000, 30000, 5), 0);
	for (unsigned f = 1; f <= 40; f++) {
		uint64_t d = 1000;

		for (unsigned k = 1; k < f && d < 30000; k++)
			d *= 2;
		if (d > 30000)
			d = 30000;
		for (size_t r = 0; r < sizeof(rnds) / sizeof(rnds[0]); r++) {
			uint64_t b = arc_backoff_ms(f, 1000, 30000, rnds[r]);

			cr_assert_geq(b, d / 2, "fails %u rnd %u: %llu", f,
			    rnds[r], (unsigned long long)b);
			cr_assert_leq(b, d, "fails %u rnd %u: %llu", f,
			    rnds[r], (unsigned long long)b);
		}
	}
	/* the lower bound doubles until the cap */
	cr_assert_eq(arc_backoff_ms(1, 1000, 30000, 0), 500);
	cr_assert_eq(arc_backoff_ms(2, 1000, 30000, 0), 1000);
	cr_assert_eq(arc_backoff_ms(3, 1000, 30000, 0), 2000);
	cr_assert_eq(arc_backoff_ms(6, 1000, 30000, 0), 15000);
	cr_assert_eq(arc_backoff_ms(1000, 1000, 30000, 0), 15000);
	cr_assert_eq(arc_backoff_ms(1, 1000, 30000, 500), 1000);
}

Test(arc_client, backoff_jitter_spreads)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	srand(7);
	for (int i = 0; i < 1000; i++) {
		uint64_t b = arc_backoff_ms(4, 1000, 30000, (uint32_t)rand());

		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
	}
	cr_assert_lt(lo, 4500);
	cr_assert_gt(hi, 7500);
}

/* ---- choosing endpoints ---------------------------------------------- */

Test(arc_client, next_endpoint)
{
	struct arc_ep_state s[5] = {0};

	cr_assert_eq(arc_next_endpoint(s, 5, 0, 100), 0);
	cr_assert_eq(arc_next_endpoint(s, 5, 3, 100), 3);
	s[3].hold_until = 200;
	cr_assert_eq(arc_next_endpoint(s, 5, 3, 100), 4);
	cr_assert_eq(arc_next_endpoint(s, 5, 3, 200), 3, "hold over");
	s[4].tried = true;
	cr_assert_eq(arc_next_endpoint(s, 5, 3, 100), 0, "wraps");
	s[0].busy = true;
	cr_assert_eq(arc_next_endpoint(s, 5, 3, 100), 1);
	s[1].hold_until = s[2].hold_until = 1000;
	cr_assert_eq(arc_next_endpoint(s, 5, 3, 100), -1);
	cr_assert_eq(arc_next_endpoint(s, 0, 0, 100), -1);
}

Test(arc_client, probe_when_all_held)
{
	struct arc_ep_state s[5] = {
		{ .hold_until = 900 }, { .hold_until = 400 },
		{ .hold_until = 300, .throttle_until = 3000 },
		{ .hold_until = 500 }, { .hold_until = 700 },
	};

	cr_assert_eq(arc_next_endpoint(s, 5, 0, 100), -1);
	cr_assert_eq(arc_probe_endpoint(s, 5, 100), 1,
	    "earliest hold that is not a throttle");
	s[1].tried = true;
	cr_assert_eq(arc_probe_endpoint(s, 5, 100), 3);
	cr_assert_eq(arc_probe_endpoint(s, 5, 3000), 2, "throttle over");
	for (int i = 0; i < 5; i++)
		s[i].throttle_until = 5000;
	cr_assert_eq(arc_probe_endpoint(s, 5, 100), -1);
}

Test(arc_client, next_poll_at)
{
	cr_assert_eq(arc_next_poll_at(1000, 500, 1200), 1500);
	cr_assert_eq(arc_next_poll_at(1000, 500, 2100), 2100, "late: now");
}

/*
 * One simulated poll with the client's rules: each available endpoint
 * once, in order, until one answers; when none is left, one probe.
 * up[i]: endpoint i answers. Returns the requests sent to each endpoint.
 */
static int
sim_poll(struct arc_ep_state *s, size_t n, size_t *cur, uint64_t now,
    const bool *up, int *count, uint32_t *rnd)
{
	int i, sent = 0;
	bool probed = false;

	for (size_t k = 0; k < n; k++)
		s[k].tried = false;
	i = arc_next_endpoint(s, n, *cur, now);
	if (i < 0) {
		i = arc_probe_endpoint(s, n, now);
		probed = true;
	}
	while (i >= 0) {
		s[i].tried = true;
		count[i]++;
		sent++;
		if (up[i]) {
			s[i].fails = 0;
			s[i].hold_until = 0;
			*cur = (size_t)i;
			return sent;
		}
		s[i].fails++;
		*rnd = *rnd * 1103515245u + 12345u;
		s[i].hold_until = now + arc_backoff_ms(s[i].fails,
		    ARC_BACKOFF_BASE_MS, ARC_BACKOFF_MAX_MS, *rnd);
		i = arc_next_endpoint(s, n, *cur, now);
		if (i < 0 && !probed) {
			i = arc_probe_endpoint(s, n, now);
			probed = true;
		}
	}
	return sent;
}

Test(arc_client, all_five_down_request_ceiling)
{
	struct arc_ep_state s[5] = {0};
	bool up[5] = { false, false, false, false, false };
	int count[5] = {0}, total = 0, polls = 0;
	uint32_t rnd = 1;
	size_t cur = 0;
	const uint32_t interval = 1000;
	uint64_t t;

	/* 5 minutes with the whole cluster down */
	for (t = 0; t < 300000; t += interval, polls++)
		total += sim_poll(s, 5, &cur, t, up, count, &rnd);
	/* ceiling: one probe per poll plus each endpoint's own backoff */
	cr_assert_leq(total, polls + 5 * (300000 / (ARC_BACKOFF_MAX_MS / 2)) +
	    25, "%d requests in %d polls", total, polls);
	cr_assert_geq(total, polls, "a probe every poll");
	/* recovery: the first poll after the cluster is back succeeds */
	for (int i = 0; i < 5; i++)
		up[i] = true;
	memset(count, 0, sizeof(count));
	cr_assert_eq(sim_poll(s, 5, &cur, t, up, count, &rnd), 1);
	cr_assert_eq(s[cur].fails, 0);
}

Test(arc_client, four_down_no_faster_than_backoff)
{
	struct arc_ep_state s[5] = {0};
	bool up[5] = { false, false, true, false, false };
	int count[5] = {0};
	uint32_t rnd = 99;
	size_t cur = 0;
	uint64_t t;

	for (t = 0; t < 60000; t += 200) {
		struct arc_ep_state before[5];

		memcpy(before, s, sizeof(s));
		cr_assert_eq(sim_poll(s, 5, &cur, t, up, count, &rnd) >= 1, 1);
		for (int i = 0; i < 5; i++)
			if (i != 2 && s[i].fails != before[i].fails)
				cr_assert_geq(t, before[i].hold_until,
				    "endpoint %d retried during its hold", i);
	}
	/* the good one is sticky: the bad ones were asked a few times only */
	for (int i = 0; i < 5; i++)
		if (i != 2)
			cr_assert_leq(count[i], 8, "endpoint %d: %d", i,
			    count[i]);
	cr_assert_geq(count[2], 60000 / 200 - 1);
}

Test(arc_client, throttle_holds_for_retry_after)
{
	struct arc_ep_state s[2] = {0};
	char code[64];
	uint32_t ra;
	const char *body = "{\"__type\":\"ThrottlingException\","
	    "\"retryAfterSeconds\":7}";
	uint64_t hold;

	cr_assert_eq(arc_classify(0, 429, body, strlen(body), NULL, NULL,
	    code, sizeof(code), &ra), ARC_CLASS_THROTTLE);
	cr_assert_eq(ra, 7);
	/* the client's rule: max(retry-after, backoff) */
	hold = arc_backoff_ms(1, ARC_BACKOFF_BASE_MS, ARC_BACKOFF_MAX_MS, 0);
	if ((uint64_t)ra * 1000 > hold)
		hold = (uint64_t)ra * 1000;
	s[0].hold_until = 1000 + hold;
	s[0].throttle_until = 1000 + (uint64_t)ra * 1000;
	cr_assert_eq(s[0].hold_until, 8000);
	cr_assert_eq(arc_next_endpoint(s, 2, 0, 1000), 1, "next at once");
	s[1].hold_until = 2000;
	cr_assert_eq(arc_probe_endpoint(s, 2, 1500), 1,
	    "a throttled endpoint is never probed");
	s[1].throttle_until = 9000;
	cr_assert_eq(arc_probe_endpoint(s, 2, 1500), -1);
}

/* ---- hedging and staleness ------------------------------------------- */

Test(arc_client, hedging)
{
	cr_assert(!arc_should_hedge(0, 1, 0, 10000, true), "off");
	cr_assert(!arc_should_hedge(300, 1, 1000, 1299, true), "too soon");
	cr_assert(arc_should_hedge(300, 1, 1000, 1300, true));
	cr_assert(!arc_should_hedge(300, 2, 1000, 1300, true), "already two");
	cr_assert(!arc_should_hedge(300, 0, 1000, 1300, true), "none");
	cr_assert(!arc_should_hedge(300, 1, 1000, 5000, false), "no other");
}

Test(arc_client, staleness)
{
	/* never polled: counts from the start */
	cr_assert(!arc_is_stale(0, 1000, 4000, 3800));
	cr_assert(arc_is_stale(0, 1000, 4801, 3800));
	cr_assert(!arc_is_stale(5000, 1000, 8800, 3800));
	cr_assert(arc_is_stale(5000, 1000, 8801, 3800));
	cr_assert(!arc_is_stale(5000, 1000, 4000, 3800), "clock before");
}

/* ---- page decoding ----------------------------------------------------- */

#define RC(arn, name, state)						\
	"{\"ControlPanelArn\":\"arn:p\",\"ControlPanelName\":\"P\","	\
	"\"RoutingControlArn\":\"" arn "\",\"RoutingControlName\":\""	\
	name "\",\"RoutingControlState\":\"" state "\",\"Owner\":\"1\"}"

Test(arc_client, page_decode_pages)
{
	struct arc_page p = {0};
	char *err = NULL;
	const char *p1 = "{\"RoutingControls\":[" RC("arn:a", "a", "On") ","
	    RC("arn:b", "b", "Off") "],\"NextToken\":\"tok 1\"}";
	const char *p2 = "{\"RoutingControls\":[" RC("arn:c", "c", "On")
	    "],\"NextToken\":null}";

	cr_assert_eq(arc_page_decode(p1, strlen(p1), &p, &err), 0);
	cr_assert_eq(p.n, 2);
	cr_assert_str_eq(p.next_token, "tok 1");
	cr_assert_str_eq(p.entries[0].arn, "arn:a");
	cr_assert_str_eq(p.entries[0].name, "a");
	cr_assert_str_eq(p.entries[0].panel_arn, "arn:p");
	cr_assert(p.entries[0].on);
	cr_assert(!p.entries[1].on);
	cr_assert_eq(arc_page_decode(p2, strlen(p2), &p, &err), 0);
	cr_assert_eq(p.n, 3, "appended");
	cr_assert_null(p.next_token);
	cr_assert_str_eq(p.entries[2].arn, "arn:c");
	arc_page_fini(&p);
	cr_assert_eq(p.n, 0);
	cr_assert_null(p.entries);
}

Test(arc_client, page_decode_minimal)
{
	struct arc_page p = {0};
	char *err = NULL;
	const char *b = "{\"RoutingControls\":[{\"RoutingControlArn\":\"x\","
	    "\"RoutingControlState\":\"Off\",\"Extra\":[1]}]}";
	const char *empty = "{\"RoutingControls\":[]}";

	cr_assert_eq(arc_page_decode(b, strlen(b), &p, &err), 0);
	cr_assert_eq(p.n, 1);
	cr_assert_null(p.entries[0].name);
	cr_assert_null(p.entries[0].panel_arn);
	arc_page_fini(&p);
	cr_assert_eq(arc_page_decode(empty, strlen(empty), &p, &err), 0);
	cr_assert_eq(p.n, 0);
	arc_page_fini(&p);
}

Test(arc_client, page_decode_malformed)
{
	static const char *bad[] = {
		"",
		"garbage",
		"{\"RoutingControls\":[",
		"[]",
		"\"RoutingControls\"",
		"{}",
		"{\"RoutingControls\":{}}",
		"{\"RoutingControls\":null}",
		"{\"RoutingControls\":[1]}",
		"{\"RoutingControls\":[{}]}",
		"{\"RoutingControls\":[{\"RoutingControlArn\":\"\","
		"\"RoutingControlState\":\"On\"}]}",
		"{\"RoutingControls\":[{\"RoutingControlArn\":7,"
		"\"RoutingControlState\":\"On\"}]}",
		"{\"RoutingControls\":[{\"RoutingControlArn\":\"a\"}]}",
		"{\"RoutingControls\":[{\"RoutingControlArn\":\"a\","
		"\"RoutingControlState\":\"on\"}]}",
		"{\"RoutingControls\":[{\"RoutingControlArn\":\"a\","
		"\"RoutingControlState\":true}]}",
		"{\"RoutingControls\":[],\"NextToken\":\"\"}",
		"{\"RoutingControls\":[],\"NextToken\":5}",
		"{\"RoutingControls\":[" RC("arn:a", "a", "On") ","
		"{\"RoutingControlArn\":\"b\",\"RoutingControlState\":\"?\"}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct arc_page p = {0};
		char *err = NULL;
		const char *good = "{\"RoutingControls\":[" RC("arn:z", "z",
		    "On") "],\"NextToken\":\"t\"}";

		cr_assert_eq(arc_page_decode(good, strlen(good), &p, &err), 0);
		cr_expect_eq(arc_page_decode(bad[i], strlen(bad[i]), &p, &err),
		    ERR_PARSE, "case %zu: %s", i, bad[i]);
		cr_expect_not_null(err, "case %zu", i);
		cr_expect_eq(p.n, 1, "case %zu: page unchanged", i);
		cr_expect_str_eq(p.next_token, "t", "case %zu", i);
		free(err);
		arc_page_fini(&p);
	}
}

Test(arc_client, page_decode_embedded_nul)
{
	struct arc_page p = {0};
	char *err = NULL;
	const char b[] = "{\"RoutingControls\":[]}\0junk";

	cr_assert_eq(arc_page_decode(b, sizeof(b) - 1, &p, &err), ERR_PARSE);
	free(err);
}

/* ---- the client against loopback fake endpoints ------------------------- */

#include <arpa/inet.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "arc/creds.h"
#include "arc/curl_ev.h"
#include "conf/conf.h"

enum fake_mode { FAKE_OK, FAKE_ERROR, FAKE_DELAY };

struct fake_ep {
	struct evhttp	*http;
	int		 port;
	enum fake_mode	 mode;
	int		 errors_left;	/* FAKE_ERROR: then OK; -1: always */
	int		 status;
	const char	*error_body;
	int		 delay_ms;
	int		 requests;
	char		 body[512];	/* the last request's body */
	char		 target[96];
	char		 ctype[64];
	char		 token[64];
	char		 auth[64];	/* the first 63 bytes */
	char		 host[64];
};

struct delayed {
	struct event		*ev;
	struct evhttp_request	*req;
	char			*text;
};

static struct {
	struct event_base	*base;
	struct curl_ev		*ce;
	struct creds		*creds;
	struct mirror		*m;
	struct arc_client	*ac;
	struct conf		 conf;
	struct conf_arc_endpoint eps[2];
	struct conf_control	 ctl[3];
	struct fake_ep		 fake[2];
	char			 dir[64];
	struct delayed		*delayed[8];	/* replies not sent yet */
} C;

#define PANEL	"arn:aws:route53-recovery-control::111122223333:controlpanel/p"
#define ARN(n)	PANEL "/routingcontrol/" n

static const char *
page_for(const char *body)
{
	if (strstr(body, "\"NextToken\":\"p2\"") != NULL)
		return "{\"RoutingControls\":[{\"RoutingControlArn\":\""
		    ARN("c2") "\",\"RoutingControlState\":\"Off\"}],"
		    "\"NextToken\":\"p3\"}";
	if (strstr(body, "\"NextToken\":\"p3\"") != NULL)
		return "{\"RoutingControls\":[{\"RoutingControlArn\":\""
		    ARN("c3") "\",\"RoutingControlName\":\"n3\","
		    "\"RoutingControlState\":\"On\"}],\"NextToken\":null}";
	return "{\"RoutingControls\":[{\"RoutingControlArn\":\"" ARN("c1")
	    "\",\"RoutingControlState\":\"On\"}],\"NextToken\":\"p2\"}";
}

static void
reply(struct evhttp_request *req, int status, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/x-amz-json-1.0");
	evhttp_send_reply(req, status, "X", b);
	evbuffer_free(b);
}

static void
delayed_free(struct delayed *d)
{
	for (size_t i = 0; i < 8; i++)
		if (C.delayed[i] == d)
			C.delayed[i] = NULL;
	event_free(d->ev);
	free(d->text);
	free(d);
}

static void
delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;

	reply(d->req, 200, d->text);
	delayed_free(d);
}

static void
copy_header(struct evhttp_request *req, const char *name, char *out,
    size_t outsz)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
	    name);

	snprintf(out, outsz, "%s", v != NULL ? v : "");
}

static void
fake_cb(struct evhttp_request *req, void *arg)
{
	struct fake_ep *f = arg;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);

	f->requests++;
	if (len >= sizeof(f->body))
		len = sizeof(f->body) - 1;
	evbuffer_copyout(in, f->body, len);
	f->body[len] = '\0';
	copy_header(req, "X-Amz-Target", f->target, sizeof(f->target));
	copy_header(req, "Content-Type", f->ctype, sizeof(f->ctype));
	copy_header(req, "X-Amz-Security-Token", f->token, sizeof(f->token));
	copy_header(req, "Authorization", f->auth, sizeof(f->auth));
	copy_header(req, "Host", f->host, sizeof(f->host));
	if (f->mode == FAKE_ERROR && f->errors_left != 0) {
		if (f->errors_left > 0)
			f->errors_left--;
		reply(req, f->status, f->error_body);
	} else if (f->mode == FAKE_DELAY) {
		struct delayed *d = calloc(1, sizeof(*d));
		struct timeval tv = { f->delay_ms / 1000,
		    (f->delay_ms % 1000) * 1000 };

		d->req = req;
		d->text = strdup(page_for(f->body));
		d->ev = evtimer_new(C.base, delayed_cb, d);
		evtimer_add(d->ev, &tv);
		for (size_t i = 0; i < 8; i++)
			if (C.delayed[i] == NULL) {
				C.delayed[i] = d;
				break;
			}
	} else
		reply(req, 200, page_for(f->body));
}

static const char *
fake_getenv(const char *name, void *arg)
{
	if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
		return "AKIDTEST";
	if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
		return "test/secret";
	if (strcmp(name, "AWS_SESSION_TOKEN") == 0)
		return "tok3n";
	return NULL;
}

static uint64_t
fake_mono(void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
fake_wall(void *arg)
{
	return 1714566896000ull;	/* 2024-05-01T12:34:56Z */
}

static uint32_t
fake_random(void *arg)
{
	return 59;	/* i % (k + 1) == k for k < 5: no shuffle */
}

static void
client_setup(void)
{
	static char urls[2][64];
	static const char *regions[2] = { "us-east-1", "us-west-2" };

	memset(&C, 0, sizeof(C));
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	C.base = event_base_new();
	for (int i = 0; i < 2; i++) {
		struct evhttp_bound_socket *s;
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);

		C.fake[i].http = evhttp_new(C.base);
		evhttp_set_gencb(C.fake[i].http, fake_cb, &C.fake[i]);
		s = evhttp_bind_socket_with_handle(C.fake[i].http, "127.0.0.1",
		    0);
		cr_assert_not_null(s);
		getsockname(evhttp_bound_socket_get_fd(s),
		    (struct sockaddr *)&sin, &len);
		C.fake[i].port = ntohs(sin.sin_port);
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d/v1",
		    C.fake[i].port);
		C.eps[i].region = (char *)regions[i];
		C.eps[i].url = urls[i];
	}
	C.ctl[0] = (struct conf_control){ .name = "one", .arn = ARN("c1") };
	C.ctl[1] = (struct conf_control){ .name = "two", .arn = ARN("c2") };
	C.ctl[2] = (struct conf_control){ .name = "three", .arc_name = "n3" };
	C.conf.controls = C.ctl;
	C.conf.ncontrols = 3;
	C.conf.arc = (struct conf_arc){ .enabled = true, .endpoints = C.eps,
	    .nendpoints = 2, .control_panel = PANEL, .poll_interval_ms = 100,
	    .timeout_ms = 3000, .connect_timeout_ms = 1000 };
	snprintf(C.dir, sizeof(C.dir), "/tmp/test_arc_client.XXXXXX");
	cr_assert_not_null(mkdtemp(C.dir));
	C.conf.server.state_dir = C.dir;
	C.ce = curl_ev_new(C.base);
	C.creds = creds_new(C.base, C.ce, CREDS_ENV, fake_getenv, NULL, NULL,
	    NULL);
	creds_start(C.creds);
	C.m = mirror_new(&C.conf);
}

static void
client_teardown(void)
{
	char path[128];

	arc_client_free(C.ac);
	for (size_t i = 0; i < 8; i++)
		if (C.delayed[i] != NULL)
			delayed_free(C.delayed[i]);
	creds_free(C.creds);
	curl_ev_free(C.ce);
	mirror_free(C.m);
	for (int i = 0; i < 2; i++)
		evhttp_free(C.fake[i].http);
	event_base_free(C.base);
	curl_global_cleanup();
	snprintf(path, sizeof(path), "%s/mirror.json", C.dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/events.jsonl", C.dir);
	unlink(path);
	rmdir(C.dir);
}

static void
start_client(void)
{
	struct arc_clock clk = { fake_mono, fake_wall, fake_random, NULL };
	char *err = NULL;

	cr_assert_eq(arc_client_new(C.base, &C.conf, C.ce, C.creds, C.m,
	    C.dir, &clk, &C.ac, &err), 0, "%s", err ? err : "");
	arc_client_start(C.ac);
}

/* Run the loop until polls_ok >= want or ms pass; the stats. */
static struct arc_stats
run_until(uint64_t want_ok, int ms)
{
	struct arc_stats st;

	for (int k = 0; k < ms / 10; k++) {
		struct timeval tv = { 0, 10000 };

		arc_client_stats(C.ac, &st);
		if (want_ok > 0 && st.polls_ok >= want_ok)
			return st;
		event_base_loopexit(C.base, &tv);
		event_base_dispatch(C.base);
	}
	arc_client_stats(C.ac, &st);
	return st;
}

TestSuite(client, .init = client_setup, .fini = client_teardown,
    .timeout = 30);

Test(client, every_page_signed_into_the_mirror)
{
	struct arc_stats st;
	const struct mirror_control *mc;

	start_client();
	st = run_until(1, 5000);
	cr_assert_eq(st.polls_ok, 1);
	cr_assert_eq(st.polls_failed, 0);
	cr_assert_eq(C.fake[0].requests, 3, "three pages from the first");
	cr_assert_eq(C.fake[1].requests, 0);
	cr_assert_str_eq(C.fake[0].target,
	    "ToggleCustomerAPI.ListRoutingControls");
	cr_assert_str_eq(C.fake[0].ctype, "application/x-amz-json-1.0");
	cr_assert_str_eq(C.fake[0].token, "tok3n");
	cr_assert(strncmp(C.fake[0].auth, "AWS4-HMAC-SHA256 Credential="
	    "AKIDTEST/20240501/us-east-1/route53-recovery-cluster/", 63) == 0,
	    "%s", C.fake[0].auth);
	cr_assert(strstr(C.fake[0].body, "\"ControlPanelArn\":\"" PANEL "\"")
	    != NULL, "%s", C.fake[0].body);
	cr_assert(strstr(C.fake[0].body, "\"NextToken\":\"p3\"") != NULL);
	cr_assert(strstr(C.fake[0].body, "MaxResults") == NULL);
	mc = mirror_find(C.m, "one");
	cr_assert_eq(mc->state, MIRROR_ON);
	cr_assert_eq(mirror_find(C.m, "two")->state, MIRROR_OFF);
	cr_assert_eq(mirror_find(C.m, "three")->state, MIRROR_ON,
	    "by ARC name");
	cr_assert_eq(st.changes, 3);
	cr_assert(!st.stale);
	/* it goes on polling, and only the changes count */
	st = run_until(3, 5000);
	cr_assert_geq(st.polls_ok, 3);
	cr_assert_eq(st.changes, 3);
}

Test(client, failing_endpoint_next_at_once)
{
	struct arc_stats st;

	C.fake[0].mode = FAKE_ERROR;
	C.fake[0].errors_left = -1;
	C.fake[0].status = 503;
	C.fake[0].error_body = "{\"__type\":\"EndpointTemporarilyUnavailable"
	    "Exception\",\"message\":\"m\"}";
	start_client();
	st = run_until(1, 5000);
	cr_assert_eq(st.polls_ok, 1);
	cr_assert_eq(st.polls_failed, 0, "the same poll went on");
	cr_assert_eq(C.fake[0].requests, 1);
	cr_assert_eq(C.fake[1].requests, 3);
	cr_assert_eq(mirror_find(C.m, "one")->state, MIRROR_ON);
	cr_assert_str_eq(mirror_find(C.m, "one")->endpoint, "us-west-2");
	/* held at least 0.5 s: not asked again by the polls meanwhile */
	st = run_until(4, 400);
	cr_assert_eq(C.fake[0].requests, 1);
}

Test(client, hedging_takes_the_first_answer)
{
	struct arc_stats st;
	uint64_t t0;

	C.conf.arc.hedge_after_ms = 100;
	C.fake[0].mode = FAKE_DELAY;
	C.fake[0].delay_ms = 2000;
	t0 = fake_mono(NULL);
	start_client();
	st = run_until(1, 5000);
	cr_assert_geq(st.polls_ok, 1);
	cr_assert_lt(fake_mono(NULL) - t0, 1500, "did not wait for the slow one");
	cr_assert_eq(C.fake[0].requests, 1);
	cr_assert_geq(C.fake[1].requests, 3);
	cr_assert_str_eq(mirror_find(C.m, "one")->endpoint, "us-west-2");
}

Test(client, config_error_does_not_cycle)
{
	struct arc_stats st;

	for (int i = 0; i < 2; i++) {
		C.fake[i].mode = FAKE_ERROR;
		C.fake[i].errors_left = -1;
		C.fake[i].status = 400;
		C.fake[i].error_body = "{\"__type\":\"ValidationException\","
		    "\"message\":\"bad panel\",\"reason\":\"other\"}";
	}
	start_client();
	st = run_until(0, 1200);
	cr_assert_eq(st.polls_ok, 0);
	/* 12 poll intervals: a config error ends the poll and backs off */
	cr_assert_leq(C.fake[0].requests + C.fake[1].requests, 3, "%d + %d",
	    C.fake[0].requests, C.fake[1].requests);
	cr_assert_eq(mirror_find(C.m, "one")->state, MIRROR_UNKNOWN);
}

Test(client, auth_error_refreshes_and_retries_once)
{
	struct arc_stats st;

	C.fake[0].mode = FAKE_ERROR;
	C.fake[0].errors_left = 1;
	C.fake[0].status = 403;
	C.fake[0].error_body = "{\"__type\":\"InvalidSignatureException\","
	    "\"message\":\"m\"}";
	start_client();
	st = run_until(1, 5000);
	cr_assert_geq(st.polls_ok, 1);
	cr_assert_eq(st.polls_failed, 0);
	cr_assert_geq(C.fake[0].requests, 4, "1 refused + 3 pages");
	cr_assert_eq(C.fake[0].requests % 3, 1, "then whole polls");
	cr_assert_eq(C.fake[1].requests, 0, "not counted as an endpoint "
	    "failure");
}

Test(client, throttle_moves_on_and_holds)
{
	struct arc_stats st;
	int before;
	uint64_t t0, ceiling;

	C.fake[0].mode = FAKE_ERROR;
	C.fake[0].errors_left = -1;
	C.fake[0].status = 429;
	C.fake[0].error_body = "{\"__type\":\"ThrottlingException\","
	    "\"message\":\"m\",\"retryAfterSeconds\":2}";
	start_client();
	st = run_until(1, 5000);
	cr_assert_eq(st.polls_ok, 1);
	cr_assert_eq(C.fake[0].requests, 1);
	C.fake[1].mode = FAKE_ERROR;	/* now both fail */
	C.fake[1].errors_left = -1;
	C.fake[1].status = 500;
	C.fake[1].error_body = "{\"__type\":\"InternalServerException\"}";
	before = C.fake[1].requests;
	t0 = fake_mono(NULL);
	st = run_until(0, 1500);
	ceiling = (fake_mono(NULL) - t0) / 100 + 2;
	cr_assert_eq(C.fake[0].requests, 1, "retry-after (2 s) honoured, "
	    "even by the probes");
	cr_assert_geq(C.fake[1].requests - before, 4, "probes go on: %d",
	    C.fake[1].requests - before);
	cr_assert_leq((uint64_t)(C.fake[1].requests - before), ceiling,
	    "at most one request per poll (100 ms): %d > %llu",
	    C.fake[1].requests - before, (unsigned long long)ceiling);
}

Test(client, plain_http_only_on_loopback)
{
	struct arc_clock clk = { fake_mono, fake_wall, fake_random, NULL };
	char *err = NULL;

	C.eps[1].url = "http://192.0.2.1/v1";
	cr_assert_eq(arc_client_new(C.base, &C.conf, C.ce, C.creds, C.m,
	    C.dir, &clk, &C.ac, &err), ERR_INVAL);
	cr_assert_null(C.ac);
	cr_assert(strstr(err, "only accepted on loopback") != NULL, "%s", err);
	free(err);
	C.eps[1].url = "ftp://127.0.0.1/v1";
	cr_assert_eq(arc_client_new(C.base, &C.conf, C.ce, C.creds, C.m,
	    C.dir, &clk, &C.ac, &err), ERR_INVAL);
	free(err);
}

/* ---- per-endpoint info (arc_client_endpoint) -------------------------- */

static struct arc_ep_info
ep_info(size_t i)
{
	struct arc_ep_info in;

	cr_assert_lt(i, arc_client_endpoints(C.ac));
	arc_client_endpoint(C.ac, i, &in);
	return in;
}

/* The histogram is cumulative and its +Inf bucket counts every finish. */
static void
check_histogram(const struct arc_ep_info *in)
{
	uint64_t done = in->ok + in->err_endpoint + in->err_throttle +
	    in->err_auth + in->err_config;

	for (size_t k = 1; k < ARC_LAT_BUCKETS; k++)
		cr_expect_geq(in->latency_le[k], in->latency_le[k - 1]);
	cr_expect_eq(in->latency_le[ARC_LAT_BUCKETS - 1], done);
	cr_expect_geq(in->requests, done);
}

Test(arc_client, latency_bounds)
{
	static const uint64_t want[ARC_LAT_BUCKETS - 1] = {
		5, 10, 25, 50, 100, 250, 500, 1000, 2500
	};

	for (size_t k = 0; k + 1 < ARC_LAT_BUCKETS; k++)
		cr_expect_eq(arc_lat_bound_ms(k), want[k]);
	cr_expect_eq(arc_lat_bound_ms(ARC_LAT_BUCKETS - 1), UINT64_MAX);
	cr_expect_eq(arc_client_endpoints(NULL), 0);
}

Test(client, endpoint_info_counts_requests)
{
	struct arc_ep_info a, b;

	start_client();
	cr_assert_eq(arc_client_endpoints(C.ac), 2);
	a = ep_info(0);
	cr_expect_str_eq(a.region, "us-east-1");
	cr_expect_str_eq(a.url, C.eps[0].url);
	cr_expect(a.healthy, "healthy before any answer");
	(void)run_until(1, 5000);
	a = ep_info(0);
	b = ep_info(1);
	cr_expect_eq(a.requests, 3, "one per page");
	cr_expect_eq(a.ok, 3);
	cr_expect_eq(a.err_endpoint + a.err_throttle + a.err_auth +
	    a.err_config, 0);
	cr_expect(a.healthy);
	cr_expect_eq(a.backoff_until_ms, 0);
	cr_expect_eq(a.fails, 0);
	cr_expect_leq(a.latency_sum_ms, 3 * 2500, "loopback");
	check_histogram(&a);
	cr_expect_str_eq(b.region, "us-west-2");
	cr_expect_eq(b.requests, 0);
	cr_expect_eq(b.latency_le[ARC_LAT_BUCKETS - 1], 0);
}

Test(client, endpoint_info_errors_and_backoff)
{
	struct arc_ep_info a, b;

	C.fake[0].mode = FAKE_ERROR;
	C.fake[0].errors_left = -1;
	C.fake[0].status = 503;
	C.fake[0].error_body = "{\"__type\":\"EndpointTemporarilyUnavailable"
	    "Exception\",\"message\":\"m\"}";
	start_client();
	(void)run_until(1, 5000);
	a = ep_info(0);
	b = ep_info(1);
	cr_expect_eq(a.requests, 1);
	cr_expect_eq(a.err_endpoint, 1);
	cr_expect_eq(a.ok, 0);
	cr_expect(!a.healthy);
	cr_expect_eq(a.fails, 1);
	/* held 0.5..1 s after the first failure; wall clock is fixed */
	cr_expect_gt(a.backoff_until_ms, 1714566896000ull);
	cr_expect_leq(a.backoff_until_ms, 1714566896000ull + 1000);
	check_histogram(&a);
	cr_expect_eq(b.ok, 3);
	cr_expect(b.healthy);
	cr_expect_eq(b.backoff_until_ms, 0);
	check_histogram(&b);
}

Test(client, endpoint_info_throttle_auth_config)
{
	struct arc_ep_info a, b;

	C.fake[0].mode = FAKE_ERROR;
	C.fake[0].errors_left = 1;
	C.fake[0].status = 403;
	C.fake[0].error_body = "{\"__type\":\"InvalidSignatureException\","
	    "\"message\":\"m\"}";
	C.fake[1].mode = FAKE_ERROR;
	C.fake[1].errors_left = -1;
	C.fake[1].status = 429;
	C.fake[1].error_body = "{\"__type\":\"ThrottlingException\","
	    "\"message\":\"m\",\"retryAfterSeconds\":2}";
	start_client();
	(void)run_until(1, 5000);
	a = ep_info(0);
	cr_expect_eq(a.err_auth, 1);
	cr_expect_geq(a.ok, 3);
	cr_expect(a.healthy, "an auth retry is not an endpoint failure");
	check_histogram(&a);
	/* now the first refuses the configuration and the second throttles */
	C.fake[0].errors_left = -1;
	C.fake[0].status = 400;
	C.fake[0].error_body = "{\"__type\":\"ValidationException\","
	    "\"message\":\"bad\"}";
	for (int k = 0; k < 60; k++) {
		(void)run_until(0, 50);
		b = ep_info(1);
		if (b.err_throttle > 0)
			break;
	}
	a = ep_info(0);
	b = ep_info(1);
	cr_expect_geq(a.err_config, 1);
	check_histogram(&a);
	cr_expect_geq(b.err_throttle, 1, "%llu", (unsigned long long)
	    b.requests);
	cr_expect(!b.healthy);
	cr_expect_geq(b.backoff_until_ms, 1714566896000ull + 1500,
	    "retry-after 2 s");
	check_histogram(&b);
}
