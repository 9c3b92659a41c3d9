/*
 * test_arc_call.c -- one-shot ARC calls: request bodies, reply and error
 * decoding, the safety rules a refusal names; then whole calls against
 * three fake loopback endpoints on a private event base: every page of a
 * list, get, update and batch update on the wire (signed), failover on
 * transport/5xx/throttle errors, a stop on config errors and refusals,
 * one credential refresh on an auth error, and the deadline; and the
 * arc_req pieces (URL split, header values).
 */
#include "arc/arc_call.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "arc/arc_req.h"
#include "arc/creds.h"
#include "arc/curl_ev.h"
#include "conf/conf.h"
#include "mirror/mirror.h"
#include "util/err.h"

#define PANEL	"arn:aws:route53-recovery-control::111122223333:controlpanel/p"
#define ARN(n)	PANEL "/routingcontrol/" n
#define RULE	PANEL "/safetyrule/r1"

/* ---- bodies --------------------------------------------------------- */

Test(arc_call, list_body)
{
	char *s = arc_call_list_body(NULL, NULL);

	cr_assert_str_eq(s, "{}");
	free(s);
	s = arc_call_list_body(PANEL, "tok");
	cr_assert_str_eq(s, "{\"ControlPanelArn\":\"" PANEL "\","
	    "\"NextToken\":\"tok\"}");
	free(s);
}

Test(arc_call, get_body)
{
	char *s = arc_call_get_body(ARN("a"));

	cr_assert_str_eq(s, "{\"RoutingControlArn\":\"" ARN("a") "\"}");
	free(s);
}

Test(arc_call, update_bodies)
{
	struct arc_call_entry e[2] = { { ARN("a"), true }, { ARN("b"), false } };
	const char *ovr[2] = { RULE, PANEL "/safetyrule/r2" };
	char *s;

	s = arc_call_update_body(e, 1, false, NULL, 0);
	cr_assert_str_eq(s, "{\"RoutingControlArn\":\"" ARN("a") "\","
	    "\"RoutingControlState\":\"On\"}");
	free(s);
	s = arc_call_update_body(e + 1, 1, false, ovr, 1);
	cr_assert_str_eq(s, "{\"RoutingControlArn\":\"" ARN("b") "\","
	    "\"RoutingControlState\":\"Off\",\"SafetyRulesToOverride\":[\""
	    RULE "\"]}");
	free(s);
	s = arc_call_update_body(e, 2, true, ovr, 2);
	cr_assert_str_eq(s, "{\"UpdateRoutingControlStateEntries\":["
	    "{\"RoutingControlArn\":\"" ARN("a") "\",\"RoutingControlState\":"
	    "\"On\"},{\"RoutingControlArn\":\"" ARN("b") "\","
	    "\"RoutingControlState\":\"Off\"}],\"SafetyRulesToOverride\":[\""
	    RULE "\",\"" PANEL "/safetyrule/r2\"]}");
	free(s);
	s = arc_call_update_body(e, 1, true, NULL, 0);
	cr_assert(strncmp(s, "{\"UpdateRoutingControlStateEntries\":[", 37)
	    == 0, "batch of one: %s", s);
	free(s);
}

/* ---- replies -------------------------------------------------------- */

static int
get_decode(const char *body, struct mirror_entry *e)
{
	char *err = NULL;
	int ret = arc_call_get_decode(body, strlen(body), e, &err);

	if (ret != 0) {
		cr_assert_not_null(err);
		free(err);
	}
	return ret;
}

Test(arc_call, get_decode)
{
	struct mirror_entry e;

	cr_assert_eq(get_decode("{\"RoutingControlArn\":\"" ARN("a") "\","
	    "\"RoutingControlState\":\"Off\",\"RoutingControlName\":\"n\"}",
	    &e), 0);
	cr_assert_str_eq(e.arn, ARN("a"));
	cr_assert_str_eq(e.name, "n");
	cr_assert(!e.on);
	free((char *)e.arn);
	free((char *)e.name);
	cr_assert_eq(get_decode("{\"RoutingControlArn\":\"x\","
	    "\"RoutingControlState\":\"On\"}", &e), 0);
	cr_assert(e.on);
	cr_assert_null(e.name);
	free((char *)e.arn);
	cr_assert_eq(get_decode("{\"RoutingControlArn\":\"x\","
	    "\"RoutingControlState\":\"on\"}", &e), ERR_PARSE);
	cr_assert_eq(get_decode("{\"RoutingControlState\":\"On\"}", &e),
	    ERR_PARSE);
	cr_assert_eq(get_decode("[]", &e), ERR_PARSE);
	cr_assert_eq(get_decode("<html>", &e), ERR_PARSE);
	cr_assert_eq(get_decode("", &e), ERR_PARSE);
}

Test(arc_call, error_members)
{
	char *m, *id, *type;
	const char *body = "{\"__type\":\"ConflictException\",\"message\":"
	    "\"blocked\\nby\",\"resourceId\":\"" RULE "\",\"resourceType\":"
	    "\"SafetyRule\"}";

	arc_call_error_members(body, strlen(body), &m, &id, &type);
	cr_assert_str_eq(m, "blocked?by", "control characters replaced");
	cr_assert_str_eq(id, RULE);
	cr_assert_str_eq(type, "SafetyRule");
	free(m);
	free(id);
	free(type);
	body = "{\"Message\":\"M\"}";
	arc_call_error_members(body, strlen(body), &m, &id, &type);
	cr_assert_str_eq(m, "M");
	cr_assert_null(id);
	cr_assert_null(type);
	free(m);
	arc_call_error_members("oops", 4, &m, &id, &type);
	cr_assert_null(m);
	arc_call_error_members(NULL, 0, &m, &id, &type);
	cr_assert_null(m);
}

Test(arc_call, conflict_rules_arcsim_message)
{
	struct arc_rule_ref r[4];
	size_t n = arc_call_conflict_rules("Routing control state update "
	    "blocked by safety rule " RULE " ('at-least-one-region': assertion "
	    "rule ATLEAST 1 would not hold after this update)", RULE, r, 4);

	cr_assert_eq(n, 1, "resourceId and message name the same rule");
	cr_assert_str_eq(r[0].arn, RULE);
	cr_assert_str_eq(r[0].name, "at-least-one-region");
	arc_rule_ref_fini(r, n);
}

Test(arc_call, conflict_rules_several_and_unnamed)
{
	struct arc_rule_ref r[4];
	size_t n = arc_call_conflict_rules("blocked by safety rules " RULE
	    " ('one': x); " PANEL "/safetyrule/r2 ('two': y); and " PANEL
	    "/safetyrule/r3. Also " ARN("a") " is mentioned", NULL, r, 4);

	cr_assert_eq(n, 3);
	cr_assert_str_eq(r[0].name, "one");
	cr_assert_str_eq(r[1].arn, PANEL "/safetyrule/r2");
	cr_assert_str_eq(r[1].name, "two");
	cr_assert_str_eq(r[2].arn, PANEL "/safetyrule/r3", "final dot cut");
	cr_assert_null(r[2].name);
	arc_rule_ref_fini(r, n);
	n = arc_call_conflict_rules("blocked by " RULE ", " PANEL
	    "/safetyrule/r2", NULL, r, 1);
	cr_assert_eq(n, 1, "at most max");
	arc_rule_ref_fini(r, n);
	cr_assert_eq(arc_call_conflict_rules("conflict", "some-id", r, 4), 0);
	cr_assert_eq(arc_call_conflict_rules(NULL, NULL, r, 4), 0);
	cr_assert_eq(arc_call_conflict_rules("arn:", NULL, r, 4), 0);
	n = arc_call_conflict_rules(NULL, RULE, r, 4);
	cr_assert_eq(n, 1, "resourceId alone");
	cr_assert_null(r[0].name);
	arc_rule_ref_fini(r, n);
}

/* ---- whole calls against fake endpoints ------------------------------ */

#define NFAKE	3

struct fake_reply {
	int		 status;
	const char	*body;	/* NULL: the default for the operation */
	bool		 hang;	/* never answer */
};

struct fake_ep {
	struct evhttp		*http;
	int			 port;
	struct fake_reply	 script[4];	/* then defaults */
	int			 nscript;
	int			 requests;
	char			 body[1024];	/* last request's */
	char			 target[96];
	char			 auth[256];
};

static struct {
	struct event_base	*base;
	struct curl_ev		*ce;
	struct creds		*creds;
	struct arc_call		*call;
	struct conf_arc		 ca;
	struct conf_arc_endpoint eps[NFAKE];
	struct fake_ep		 fake[NFAKE];
	char			 urls[NFAKE][64];
	bool			 done;
	int			 err;
	enum arc_class		 cls;
	char			 region[32];
	char			 code[96];
	char			 message[512];
	char			 rid[256];
	size_t			 nentries;
	char			 first_arn[256];
	bool			 first_on;
	size_t			 nattempts;
} F;

static const char *
default_reply(const char *target, const char *body)
{
	if (strstr(target, "ListRoutingControls") != NULL) {
		if (strstr(body, "\"NextToken\":\"p2\"") != NULL)
			return "{\"RoutingControls\":[{\"RoutingControlArn\":"
			    "\"" ARN("b") "\",\"RoutingControlState\":\"Off\","
			    "\"RoutingControlName\":\"bee\"}]}";
		return "{\"RoutingControls\":[{\"RoutingControlArn\":\""
		    ARN("a") "\",\"RoutingControlState\":\"On\"}],"
		    "\"NextToken\":\"p2\"}";
	}
	if (strstr(target, "GetRoutingControlState") != NULL)
		return "{\"RoutingControlArn\":\"" ARN("a") "\","
		    "\"RoutingControlState\":\"On\",\"RoutingControlName\":"
		    "\"ay\"}";
	return "{}";
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
	struct evbuffer *in = evhttp_request_get_input_buffer(req), *b;
	size_t len = evbuffer_get_length(in);
	struct fake_reply r = { 200, NULL, false };

	if (f->requests < f->nscript)
		r = f->script[f->requests];
	f->requests++;
	if (len >= sizeof(f->body))
		len = sizeof(f->body) - 1;
	evbuffer_copyout(in, f->body, len);
	f->body[len] = '\0';
	copy_header(req, "X-Amz-Target", f->target, sizeof(f->target));
	copy_header(req, "Authorization", f->auth, sizeof(f->auth));
	if (r.hang)
		return;		/* evhttp_free closes it */
	b = evbuffer_new();
	if (r.body == NULL)
		r.body = default_reply(f->target, f->body);
	evbuffer_add(b, r.body, strlen(r.body));
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/x-amz-json-1.0");
	evhttp_send_reply(req, r.status, "X", b);
	evbuffer_free(b);
}

static const char *
fake_getenv(const char *name, void *arg)
{
	if (strcmp(name, "AWS_ACCESS_KEY_ID") == 0)
		return "AKIDTEST";
	if (strcmp(name, "AWS_SECRET_ACCESS_KEY") == 0)
		return "test/secret";
	return NULL;
}

static void
setup(void)
{
	static const char *regions[NFAKE] = { "us-east-1", "us-west-2",
	    "eu-west-1" };

	memset(&F, 0, sizeof(F));
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	F.base = event_base_new();
	for (int i = 0; i < NFAKE; i++) {
		struct evhttp_bound_socket *s;
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);

		F.fake[i].http = evhttp_new(F.base);
		evhttp_set_gencb(F.fake[i].http, fake_cb, &F.fake[i]);
		s = evhttp_bind_socket_with_handle(F.fake[i].http, "127.0.0.1",
		    0);
		cr_assert_not_null(s);
		getsockname(evhttp_bound_socket_get_fd(s),
		    (struct sockaddr *)&sin, &len);
		F.fake[i].port = ntohs(sin.sin_port);
		snprintf(F.urls[i], sizeof(F.urls[i]),
		    "http://127.0.0.1:%d/v1", F.fake[i].port);
		F.eps[i].region = (char *)regions[i];
		F.eps[i].url = F.urls[i];
	}
	F.ca = (struct conf_arc){ .enabled = true, .endpoints = F.eps,
	    .nendpoints = NFAKE, .control_panel = PANEL,
	    .poll_interval_ms = 1000, .timeout_ms = 2000,
	    .connect_timeout_ms = 1000 };
	F.ce = curl_ev_new(F.base);
	F.creds = creds_new(F.base, F.ce, CREDS_ENV, fake_getenv, NULL, NULL,
	    NULL);
	creds_start(F.creds);
}

static void
teardown(void)
{
	arc_call_free(F.call);
	creds_free(F.creds);
	curl_ev_free(F.ce);
	for (int i = 0; i < NFAKE; i++)
		evhttp_free(F.fake[i].http);
	event_base_free(F.base);
	curl_global_cleanup();
}

static void
new_call(uint32_t deadline_ms)
{
	struct arc_call_opts o = { .deadline_ms = deadline_ms,
	    .no_shuffle = true };
	char *err = NULL;

	cr_assert_eq(arc_call_new(F.base, &F.ca, F.ce, F.creds, &o, &F.call,
	    &err), 0, "%s", err ? err : "");
	cr_assert_eq(arc_call_endpoints(F.call), NFAKE);
	cr_assert_str_eq(arc_call_endpoint_region(F.call, 0), "us-east-1",
	    "no_shuffle: the config's order");
}

static void
done_cb(const struct arc_call_result *r, void *arg)
{
	cr_assert_eq(arg, &F);
	F.done = true;
	F.err = r->err;
	F.cls = r->cls;
	snprintf(F.region, sizeof(F.region), "%s", r->region ? r->region :
	    "-");
	snprintf(F.code, sizeof(F.code), "%s", r->code);
	snprintf(F.message, sizeof(F.message), "%s", r->message);
	snprintf(F.rid, sizeof(F.rid), "%s", r->resource_id ? r->resource_id :
	    "-");
	F.nentries = r->nentries;
	if (r->nentries > 0) {
		snprintf(F.first_arn, sizeof(F.first_arn), "%s",
		    r->entries[0].arn);
		F.first_on = r->entries[0].on;
	}
	F.nattempts = r->nattempts;
	cr_assert_not_null(r->message);
	cr_assert_not_null(r->code);
}

/* Run the loop until the call is over or ms pass; elapsed ms. */
static uint64_t
run(int ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int k = 0; k < ms / 10 && !F.done; k++) {
		struct timeval tv = { 0, 10000 };

		event_base_loopexit(F.base, &tv);
		event_base_dispatch(F.base);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	cr_assert(F.done, "the call ended within %d ms", ms);
	return (uint64_t)(((int64_t)b.tv_sec - a.tv_sec) * 1000 +
	    ((int64_t)b.tv_nsec - a.tv_nsec) / 1000000);
}

static void
script(int i, int status, const char *body)
{
	struct fake_ep *f = &F.fake[i];

	f->script[f->nscript++] = (struct fake_reply){ status, body, false };
}

#define UNAVAILABLE "{\"__type\":\"EndpointTemporarilyUnavailableException\"," \
	"\"message\":\"m\"}"

TestSuite(calls, .init = setup, .fini = teardown, .timeout = 30);

Test(calls, list_every_page_signed)
{
	new_call(0);
	cr_assert_eq(arc_call_list(F.call, done_cb, &F), 0);
	cr_assert(!F.done, "the callback runs from the loop only");
	cr_assert_eq(arc_call_list(F.call, done_cb, &F), ERR_INVAL,
	    "one call at a time");
	run(5000);
	cr_assert_eq(F.err, 0, "%s", F.message);
	cr_assert_eq(F.nentries, 2, "both pages");
	cr_assert_str_eq(F.first_arn, ARN("a"));
	cr_assert_str_eq(F.region, "us-east-1");
	cr_assert_eq(F.fake[0].requests, 2);
	cr_assert_eq(F.fake[1].requests, 0);
	cr_assert_str_eq(F.fake[0].target,
	    "ToggleCustomerAPI.ListRoutingControls");
	cr_assert(strstr(F.fake[0].body, "\"ControlPanelArn\":\"" PANEL "\"")
	    != NULL, "%s", F.fake[0].body);
	cr_assert(strncmp(F.fake[0].auth, "AWS4-HMAC-SHA256 Credential="
	    "AKIDTEST/", 37) == 0, "%s", F.fake[0].auth);
	cr_assert(strstr(F.fake[0].auth, "/us-east-1/route53-recovery-"
	    "cluster/") != NULL, "signed for the endpoint's region");
	cr_assert_eq(F.nattempts, 2);
}

Test(calls, get_and_update_on_the_wire)
{
	struct arc_call_entry e[2] = { { ARN("a"), true }, { ARN("b"), false } };
	const char *ovr[1] = { RULE };

	new_call(0);
	cr_assert_eq(arc_call_get(F.call, ARN("a"), done_cb, &F), 0);
	run(5000);
	cr_assert_eq(F.err, 0);
	cr_assert_eq(F.nentries, 1);
	cr_assert(F.first_on);
	cr_assert_str_eq(F.fake[0].target,
	    "ToggleCustomerAPI.GetRoutingControlState");
	F.done = false;
	cr_assert_eq(arc_call_update(F.call, e, 1, false, NULL, 0, done_cb,
	    &F), 0);
	run(5000);
	cr_assert_eq(F.err, 0);
	cr_assert_eq(F.nentries, 0);
	cr_assert_str_eq(F.fake[0].target,
	    "ToggleCustomerAPI.UpdateRoutingControlState");
	F.done = false;
	cr_assert_eq(arc_call_update(F.call, e, 2, true, ovr, 1, done_cb, &F),
	    0);
	run(5000);
	cr_assert_eq(F.err, 0);
	cr_assert_str_eq(F.fake[0].target,
	    "ToggleCustomerAPI.UpdateRoutingControlStates");
	cr_assert(strstr(F.fake[0].body, "\"SafetyRulesToOverride\":[\"" RULE
	    "\"]") != NULL, "%s", F.fake[0].body);
	cr_assert_eq(F.fake[0].requests, 3, "one request per call");
}

Test(calls, bad_arguments)
{
	struct arc_call_entry e[11];

	new_call(0);
	for (int i = 0; i < 11; i++)
		e[i] = (struct arc_call_entry){ ARN("a"), true };
	cr_assert_eq(arc_call_update(F.call, e, 0, true, NULL, 0, done_cb,
	    &F), ERR_INVAL);
	cr_assert_eq(arc_call_update(F.call, e, 11, true, NULL, 0, done_cb,
	    &F), ERR_INVAL, "more than 10 entries");
	e[0].arn = "arn:with space";
	cr_assert_eq(arc_call_update(F.call, e, 1, false, NULL, 0, done_cb,
	    &F), ERR_INVAL);
	cr_assert_eq(arc_call_get(F.call, "", done_cb, &F), ERR_INVAL);
	cr_assert_eq(arc_call_get(F.call, "arn:\xc3(", done_cb, &F),
	    ERR_INVAL, "not the model's pattern");
}

Test(calls, endpoint_errors_fail_over_at_once)
{
	struct arc_call_entry e = { ARN("a"), false };

	script(0, 503, UNAVAILABLE);
	script(1, 429, "{\"__type\":\"ThrottlingException\",\"message\":\"slow"
	    " down\",\"retryAfterSeconds\":30}");
	new_call(0);
	cr_assert_eq(arc_call_update(F.call, &e, 1, false, NULL, 0, done_cb,
	    &F), 0);
	cr_assert_lt(run(5000), 1500, "no waiting for the throttle advice");
	cr_assert_eq(F.err, 0, "%s", F.message);
	cr_assert_str_eq(F.region, "eu-west-1");
	cr_assert_eq(F.nattempts, 3);
	cr_assert_eq(F.fake[0].requests + F.fake[1].requests +
	    F.fake[2].requests, 3);
}

Test(calls, transport_failure_fails_over)
{
	evhttp_free(F.fake[0].http);	/* nobody listens there any more */
	F.fake[0].http = evhttp_new(F.base);
	script(1, 200, "<html>not json</html>");
	new_call(0);
	cr_assert_eq(arc_call_list(F.call, done_cb, &F), 0);
	run(5000);
	cr_assert_eq(F.err, 0, "%s", F.message);
	cr_assert_str_eq(F.region, "eu-west-1");
	cr_assert_eq(F.nentries, 2);
	cr_assert_eq(F.nattempts, 4, "refused, garbage, two pages");
}

Test(calls, a_list_failing_on_page_two_starts_over)
{
	script(0, 200, NULL);
	script(0, 500, "{\"__type\":\"InternalServerException\","
	    "\"message\":\"x\"}");
	new_call(0);
	cr_assert_eq(arc_call_list(F.call, done_cb, &F), 0);
	run(5000);
	cr_assert_eq(F.err, 0, "%s", F.message);
	cr_assert_eq(F.nentries, 2, "page one not kept twice");
	cr_assert_str_eq(F.region, "us-west-2");
	cr_assert(strstr(F.fake[1].body, "NextToken") != NULL);
	cr_assert_eq(F.fake[1].requests, 2);
}

Test(calls, config_errors_stop)
{
	script(0, 400, "{\"__type\":\"ValidationException\",\"message\":"
	    "\"bad arn\",\"reason\":\"fieldValidationFailed\"}");
	new_call(0);
	cr_assert_eq(arc_call_get(F.call, ARN("a"), done_cb, &F), 0);
	run(5000);
	cr_assert_eq(F.err, ERR_INVAL);
	cr_assert_eq(F.cls, ARC_CLASS_CONFIG);
	cr_assert_str_eq(F.code, "ValidationException");
	cr_assert_str_eq(F.message, "bad arn");
	cr_assert_str_eq(F.region, "us-east-1");
	cr_assert_eq(F.fake[1].requests + F.fake[2].requests, 0,
	    "no other endpoint asked");
}

Test(calls, safety_rule_refusal)
{
	struct arc_call_entry e[2] = { { ARN("a"), true }, { ARN("b"), false } };

	script(0, 409, "{\"__type\":\"ConflictException\",\"message\":"
	    "\"blocked by safety rule " RULE " ('r-one': x)\",\"resourceId\":"
	    "\"" RULE "\",\"resourceType\":\"SafetyRule\"}");
	new_call(0);
	cr_assert_eq(arc_call_update(F.call, e, 2, true, NULL, 0, done_cb,
	    &F), 0);
	run(5000);
	cr_assert_eq(F.err, ERR_INVAL);
	cr_assert_str_eq(F.code, "ConflictException");
	cr_assert_str_eq(F.rid, RULE);
	cr_assert(strstr(F.message, "'r-one'") != NULL);
	cr_assert_eq(F.fake[1].requests, 0, "not retried elsewhere");
}

Test(calls, auth_error_refreshes_once_then_fails)
{
	const char *bad = "{\"__type\":\"InvalidSignatureException\","
	    "\"message\":\"sig\"}";

	script(0, 403, bad);
	new_call(0);
	cr_assert_eq(arc_call_get(F.call, ARN("a"), done_cb, &F), 0);
	run(5000);
	cr_assert_eq(F.err, 0, "the retry went through: %s", F.message);
	cr_assert_eq(F.fake[0].requests, 2);
	F.done = false;
	F.fake[0].nscript = 0;
	F.fake[0].requests = 0;
	script(0, 403, bad);
	script(0, 403, bad);
	cr_assert_eq(arc_call_get(F.call, ARN("a"), done_cb, &F), 0);
	run(5000);
	cr_assert_eq(F.err, ERR_INVAL);
	cr_assert_eq(F.cls, ARC_CLASS_AUTH);
	cr_assert_eq(F.fake[0].requests, 2);
	cr_assert_eq(F.fake[1].requests, 0);
}

Test(calls, every_endpoint_failing)
{
	for (int i = 0; i < NFAKE; i++)
		script(i, 503, UNAVAILABLE);
	new_call(0);
	cr_assert_eq(arc_call_list(F.call, done_cb, &F), 0);
	run(5000);
	cr_assert_eq(F.err, ERR_IO);
	cr_assert_eq(F.cls, ARC_CLASS_ENDPOINT);
	cr_assert_str_eq(F.region, "-");
	cr_assert(strstr(F.message, "us-east-1: EndpointTemporarily"
	    "UnavailableException; us-west-2: ") != NULL, "%s", F.message);
	cr_assert_eq(F.nattempts, 3, "each endpoint once");
}

Test(calls, deadline_bounds_the_call)
{
	uint64_t ms;

	for (int i = 0; i < NFAKE; i++)
		F.fake[i].script[F.fake[i].nscript++] =
		    (struct fake_reply){ 0, NULL, true };
	new_call(700);
	cr_assert_eq(arc_call_get(F.call, ARN("a"), done_cb, &F), 0);
	ms = run(5000);
	cr_assert_eq(F.err, ERR_LIMIT);
	cr_assert_geq(ms, 600);
	cr_assert_lt(ms, 1500, "%llu ms", (unsigned long long)ms);
	cr_assert(strstr(F.message, "no answer within 700 ms") != NULL, "%s",
	    F.message);
	cr_assert_eq(F.fake[0].requests, 1);
}

Test(calls, timeouts_move_on)
{
	uint64_t ms;

	F.ca.timeout_ms = 300;
	F.ca.connect_timeout_ms = 300;
	F.fake[0].script[F.fake[0].nscript++] =
	    (struct fake_reply){ 0, NULL, true };
	new_call(0);
	cr_assert_eq(arc_call_get(F.call, ARN("a"), done_cb, &F), 0);
	ms = run(5000);
	cr_assert_eq(F.err, 0, "%s", F.message);
	cr_assert_str_eq(F.region, "us-west-2");
	cr_assert_lt(ms, 1000);
}

Test(calls, free_with_a_call_in_flight)
{
	F.fake[0].script[F.fake[0].nscript++] =
	    (struct fake_reply){ 0, NULL, true };
	new_call(0);
	cr_assert_eq(arc_call_get(F.call, ARN("a"), done_cb, &F), 0);
	for (int k = 0; k < 10; k++) {
		struct timeval tv = { 0, 10000 };

		event_base_loopexit(F.base, &tv);
		event_base_dispatch(F.base);
	}
	cr_assert(!F.done);
	arc_call_free(F.call);
	F.call = NULL;
	{
		struct timeval tv = { 0, 50000 };

		event_base_loopexit(F.base, &tv);
		event_base_dispatch(F.base);
	}
	cr_assert(!F.done, "no callback after free");
}

Test(calls, shuffled_order_is_a_permutation)
{
	char *err = NULL;
	bool seen[NFAKE] = { false };

	cr_assert_eq(arc_call_new(F.base, &F.ca, F.ce, F.creds, NULL,
	    &F.call, &err), 0);
	for (size_t k = 0; k < NFAKE; k++) {
		const char *r = arc_call_endpoint_region(F.call, k);

		for (int i = 0; i < NFAKE; i++)
			if (strcmp(r, F.eps[i].region) == 0)
				seen[i] = true;
	}
	for (int i = 0; i < NFAKE; i++)
		cr_assert(seen[i]);
	cr_assert_null(arc_call_endpoint_region(F.call, NFAKE));
}

Test(calls, bad_urls_refused)
{
	char *err = NULL;

	F.eps[1].url = (char *)"http://192.0.2.1/v1";
	cr_assert_eq(arc_call_new(F.base, &F.ca, F.ce, F.creds, NULL,
	    &F.call, &err), ERR_INVAL);
	cr_assert(strstr(err, "plain http://") != NULL, "%s", err);
	free(err);
	F.ca.nendpoints = 0;
	cr_assert_eq(arc_call_new(F.base, &F.ca, F.ce, F.creds, NULL,
	    &F.call, &err), ERR_INVAL);
	free(err);
	cr_assert_null(F.call);
}

/* ---- arc_req pieces --------------------------------------------------- */

Test(arc_req, header_value)
{
	char out[16] = "untouched";
	const char *l = "x-amzn-errortype:  ThrottlingException \r\n";

	cr_assert(arc_header_value(l, strlen(l), "X-Amzn-ErrorType", out,
	    sizeof(out)));
	cr_assert_str_eq(out, "ThrottlingExcep", "cut to the buffer");
	l = "Retry-After: 3\r\n";
	cr_assert(!arc_header_value(l, strlen(l), "X-Amzn-ErrorType", out,
	    sizeof(out)));
	cr_assert(!arc_header_value(l, strlen(l), "Retry", out, sizeof(out)),
	    "a prefix of the name is not the header");
	cr_assert(arc_header_value(l, strlen(l), "retry-after", out,
	    sizeof(out)));
	cr_assert_str_eq(out, "3");
	l = "Retry-After:\r\n";
	cr_assert(arc_header_value(l, strlen(l), "Retry-After", out,
	    sizeof(out)));
	cr_assert_str_eq(out, "");
}

Test(arc_req, url_parse)
{
	struct arc_url u;
	char *err = NULL;

	cr_assert_eq(arc_url_parse("r", "https://h.example.com/v1", &u, &err),
	    0);
	cr_assert_str_eq(u.host, "h.example.com", "no default port");
	cr_assert_str_eq(u.path, "/v1");
	cr_assert_null(u.query);
	cr_assert(!u.plain);
	arc_url_fini(&u);
	cr_assert_eq(arc_url_parse("r", "https://h:8443", &u, &err), 0);
	cr_assert_str_eq(u.host, "h:8443");
	cr_assert_str_eq(u.path, "/");
	arc_url_fini(&u);
	cr_assert_eq(arc_url_parse("r", "http://[::1]:80/v1/?a=b", &u, &err),
	    0);
	cr_assert(u.plain);
	cr_assert_str_eq(u.path, "/v1/");
	cr_assert_str_eq(u.query, "a=b");
	arc_url_fini(&u);
	arc_url_fini(NULL);
	cr_assert_eq(arc_url_parse("r", "http://10.0.0.1/v1", &u, &err),
	    ERR_INVAL);
	cr_assert(strstr(err, "loopback") != NULL, "%s", err);
	free(err);
	cr_assert_eq(arc_url_parse("r", "ftp://127.0.0.1/", &u, &err),
	    ERR_INVAL);
	free(err);
	cr_assert_eq(arc_url_parse("r", "::", &u, &err), ERR_INVAL);
	free(err);
}
