/*
 * test_report.c -- report/state.h on a runtime loaded from a config with
 * ARC-driven records (runtime_load, no sockets) and a mirror fed by hand
 * through mirror_apply(): /readyz reasons, controls, regions, roles and
 * the /v1/state document. Time is passed in (the _at variants).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "conf/conf.h"
#include "fence/fence.h"
#include "mirror/mirror.h"
#include "report/state.h"
#include "runtime.h"
#include "rt_fixture.h"

static const char conf_text[] =
    "server:\n"
    "  listen: \"127.0.0.1:5300\"\n"
    "  identity: \"rep-1\"\n"
    "  state-dir: \"%s/state\"\n"
    "arc:\n"
    "  endpoints:\n"
    "    - { region: us-east-1, url: \"http://127.0.0.1:9/v1\" }\n"
    "  poll-interval: 1s\n"
    "  timeout: 500ms\n"
    "  stale-after: 5s\n"
    "  credentials: env\n"
    "controls:\n"
    "  east: { arn: \"" ARN("e") "\" }\n"
    "  west: { arn: \"" ARN("w") "\" }\n"
    "  spare: { name: spare }\n"
    "zones:\n"
    "  - id: svc\n"
    "    origin: svc.test.\n"
    "    file: " TEST_DATA_DIR "/policy.svc.test.zone\n"
    "    ttl: 7\n"
    "    records:\n"
    "      - name: api\n"
    "        type: A\n"
    "        policy: failover\n"
    "        targets:\n"
    "          - { control: east, region: us-east-1, values: [10.0.0.1] }\n"
    "          - { control: west, region: us-west-2, values: [10.0.0.2] }\n"
    "      - name: role\n"
    "        policy: role\n"
    "        when-none-on: servfail\n"
    "        targets:\n"
    "          - { control: east, region: us-east-1 }\n"
    "          - { control: west, region: us-west-2 }\n"
    "views:\n"
    "  - name: inside\n"
    "    match-clients: [\"10.0.0.0/8\"]\n"
    "    zones: [svc]\n"
    "  - name: default\n"
    "    match-clients: [any]\n"
    "    zones: [svc]\n";

static struct {
	struct rtfx	 fx;
	struct runtime	*rt;
} R;

static void
setup(void)
{
	rtfx_init(&R.fx, "test_report");
	R.rt = rtfx_runtime(&R.fx, conf_text, true);
}

static void
teardown(void)
{
	runtime_free(R.rt);
	rtfx_cleanup(&R.fx);
}

TestSuite(report, .init = setup, .fini = teardown);

/* One poll from us-east-1 at t: east and west as given, spare unlisted. */
static void
poll_at(bool east, bool west, uint64_t t)
{
	rtfx_poll(R.rt->mirror, east, west, t);
}

/* The reason codes of a ready document, comma-separated. */
static void
codes(json_t *doc, char *out, size_t outsz)
{
	json_t *r;
	size_t i, off = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(doc, "reasons"), i, r) {
		const char *c = json_string_value(json_object_get(r, "reason"));
		const char *n = json_string_value(json_object_get(r, "control"));

		cr_assert_not_null(c);
		cr_assert(json_is_string(json_object_get(r, "message")));
		off += (size_t)snprintf(out + off, outsz - off, "%s%s%s%s",
		    off ? "," : "", c, n ? ":" : "", n ? n : "");
	}
}

Test(report, ready_reasons)
{
	char buf[256];
	bool ready = true;
	json_t *doc;

	doc = report_ready_at(R.rt, NOW, &ready);
	cr_expect(!ready);
	cr_expect(json_is_false(json_object_get(doc, "ready")));
	codes(doc, buf, sizeof(buf));
	cr_expect_str_eq(buf, "mirror-never,control-unknown:east,"
	    "control-unknown:west,control-unknown:spare");
	json_decref(doc);

	poll_at(true, false, NOW);
	doc = report_ready_at(R.rt, NOW + 1000, &ready);
	codes(doc, buf, sizeof(buf));
	cr_expect(!ready);
	cr_expect_str_eq(buf, "control-unknown:spare", "fresh now");
	json_decref(doc);

	/* every control listed: ready; then stale after 5 s */
	{
		struct mirror_entry e[3] = {
			{ ARN("e"), "route-e", PANEL, true },
			{ ARN("w"), "route-w", PANEL, false },
			{ ARN("s"), "spare", PANEL, false },
		};

		(void)mirror_apply(R.rt->mirror, e, 3, "us-west-2", NOW);
	}
	doc = report_ready_at(R.rt, NOW + 5000, &ready);
	cr_expect(ready, "5 s is still fresh");
	cr_expect_eq(json_array_size(json_object_get(doc, "reasons")), 0);
	json_decref(doc);
	doc = report_ready_at(R.rt, NOW + 5001, &ready);
	codes(doc, buf, sizeof(buf));
	cr_expect(!ready);
	cr_expect_str_eq(buf, "mirror-stale");
	json_decref(doc);

	/* arc configured but no client: arc-off */
	mirror_free(R.rt->mirror);
	R.rt->mirror = NULL;
	doc = report_ready_at(R.rt, NOW, &ready);
	codes(doc, buf, sizeof(buf));
	cr_expect(!ready);
	cr_expect(strncmp(buf, "arc-off,", 8) == 0, "%s", buf);
	json_decref(doc);
}

Test(report, controls)
{
	json_t *doc;
	int st;

	cr_expect_eq(report_control(R.rt, "east"), 503, "unknown");
	doc = report_control_doc(R.rt, "east", &st);
	cr_expect_eq(st, 503);
	cr_expect_str_eq(json_string_value(json_object_get(doc, "state")),
	    "unknown");
	cr_expect(json_is_string(json_object_get(doc, "reason")));
	json_decref(doc);
	cr_expect_eq(report_control(R.rt, "nope"), 404);
	cr_expect_null(report_control_doc(R.rt, "nope", &st));
	cr_expect_eq(st, 404);
	cr_expect_eq(report_control(R.rt, ""), 404);
	poll_at(true, false, NOW);
	cr_expect_eq(report_control(R.rt, "east"), 200);
	cr_expect_eq(report_control(R.rt, "west"), 503);
	cr_expect_eq(report_control(R.rt, "spare"), 503, "never listed");
	doc = report_control_doc(R.rt, "east", &st);
	cr_expect_eq(st, 200);
	cr_expect_str_eq(json_string_value(json_object_get(doc, "state")),
	    "On");
	cr_expect_str_eq(json_string_value(json_object_get(doc, "control")),
	    "east");
	cr_expect_null(json_object_get(doc, "reason"), "known: no reason");
	json_decref(doc);
	/* the last known state counts while stale */
	cr_expect_eq(report_control(R.rt, "east"), 200);
}

Test(report, regions_and_roles)
{
	const char *text = NULL;
	json_t *doc;
	int st;

	cr_expect_eq(report_region(R.rt, "us-east-1"), 503, "unknown");
	cr_expect_eq(report_region(R.rt, "eu-west-1"), 404);
	cr_expect_eq(report_role(R.rt, "us-east-1", &text), 503);
	cr_expect_str_eq(text, "unknown");
	cr_expect_eq(report_role(R.rt, "eu-west-1", &text), 404);
	poll_at(true, true, NOW);
	cr_expect_eq(report_region(R.rt, "us-east-1"), 200);
	cr_expect_eq(report_region(R.rt, "us-west-2"), 200);
	cr_expect_eq(report_role(R.rt, "us-east-1", &text), 200);
	cr_expect_str_eq(text, "active");
	cr_expect_eq(report_role(R.rt, "us-west-2", &text), 200);
	cr_expect_str_eq(text, "passive");
	/* the flip */
	poll_at(false, true, NOW + 1000);
	cr_expect_eq(report_region(R.rt, "us-east-1"), 503);
	cr_expect_eq(report_region(R.rt, "us-west-2"), 200);
	cr_expect_eq(report_role(R.rt, "us-east-1", &text), 200);
	cr_expect_str_eq(text, "passive");
	cr_expect_eq(report_role(R.rt, "us-west-2", &text), 200);
	cr_expect_str_eq(text, "active");
	doc = report_region_doc(R.rt, "us-west-2", &st);
	cr_expect_eq(st, 200);
	cr_expect_str_eq(json_string_value(json_object_get(doc, "region")),
	    "us-west-2");
	cr_expect_str_eq(json_string_value(json_object_get(doc, "control")),
	    "west");
	json_decref(doc);
	/* none On, when-none-on: servfail -> the role is unknown */
	poll_at(false, false, NOW + 2000);
	cr_expect_eq(report_role(R.rt, "us-east-1", &text), 503);
	cr_expect_eq(report_region(R.rt, "us-east-1"), 503);
}

static const char *
sval(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	cr_assert_not_null(s, "%s", k);
	return s;
}

Test(report, state_document)
{
	json_t *doc, *c, *z, *f;

	poll_at(true, false, NOW);
	doc = report_state_at(R.rt, NOW + 1500);
	cr_expect_str_eq(sval(doc, "identity"), "rep-1");
	cr_expect_str_eq(sval(doc, "version"), PACKAGE_VERSION);
	cr_expect_str_eq(sval(doc, "hash"), "", "no table published");
	cr_expect(json_is_false(json_object_get(doc, "ready")));
	f = json_object_get(doc, "freshness");
	cr_expect(json_is_true(json_object_get(f, "arc")));
	cr_expect(json_is_false(json_object_get(f, "stale")));
	cr_expect_eq(json_integer_value(json_object_get(f, "age_ms")), 1500);
	cr_expect_eq(json_integer_value(json_object_get(f, "last_success_ms")),
	    (json_int_t)NOW);
	cr_expect_eq(json_integer_value(json_object_get(f, "stale_after_ms")),
	    5000);
	c = json_object_get(doc, "controls");
	cr_assert_eq(json_array_size(c), 3);
	cr_expect_str_eq(sval(json_array_get(c, 0), "name"), "east");
	cr_expect_str_eq(sval(json_array_get(c, 0), "state"), "On");
	cr_expect_str_eq(sval(json_array_get(c, 0), "arn"), ARN("e"));
	cr_expect_str_eq(sval(json_array_get(c, 0), "endpoint"), "us-east-1");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(c, 0),
	    "changed_ms")), (json_int_t)NOW);
	cr_expect_str_eq(sval(json_array_get(c, 1), "state"), "Off");
	cr_expect_str_eq(sval(json_array_get(c, 2), "state"), "unknown");
	cr_expect(json_is_null(json_object_get(json_array_get(c, 2),
	    "changed_ms")));
	cr_expect(json_is_true(json_object_get(json_array_get(c, 2),
	    "missing")));
	cr_expect_eq(json_array_size(json_object_get(doc, "endpoints")), 0,
	    "no ARC client in this runtime");
	z = json_object_get(doc, "zones");
	cr_assert_eq(json_array_size(z), 2, "one per view");
	cr_expect_str_eq(sval(json_array_get(z, 0), "view"), "inside");
	cr_expect_str_eq(sval(json_array_get(z, 1), "view"), "default");
	cr_expect_str_eq(sval(json_array_get(z, 1), "zone"), "svc");
	cr_expect_str_eq(sval(json_array_get(z, 1), "origin"), "svc.test.");
	cr_expect(json_is_integer(json_object_get(json_array_get(z, 1),
	    "serial")));
	cr_expect_eq(json_array_size(json_object_get(doc, "fences")), 0);
	json_decref(doc);
}

Test(report, without_arc)
{
	static const char text[] =
	    "server:\n"
	    "  listen: \"127.0.0.1:5300\"\n"
	    "zones:\n"
	    "  - id: svc\n"
	    "    origin: svc.test.\n"
	    "    file: " TEST_DATA_DIR "/policy.svc.test.zone\n";
	struct runtime *rt = rtfx_runtime(&R.fx, text, false);
	bool ready = false;
	json_t *doc;
	const char *t;

	doc = report_ready_at(rt, NOW, &ready);
	cr_expect(ready, "static zones only: nothing to wait for");
	json_decref(doc);
	doc = report_state_at(rt, NOW);
	cr_expect(json_is_false(json_object_get(json_object_get(doc,
	    "freshness"), "arc")));
	cr_expect(json_is_false(json_object_get(json_object_get(doc,
	    "freshness"), "stale")));
	cr_expect_eq(json_array_size(json_object_get(doc, "controls")), 0);
	json_decref(doc);
	cr_expect_eq(report_region(rt, "us-east-1"), 404);
	cr_expect_eq(report_role(rt, "us-east-1", &t), 404);
	cr_expect_eq(report_control(rt, "east"), 404);
	runtime_free(rt);
}

/* Run base until fence 0 of fs is in phase p (at most 5 s). */
static bool
fence_reaches(struct event_base *base, struct fences *fs,
    enum fence_phase p)
{
	for (int i = 0; i < 500; i++) {
		struct fence_status st;
		struct timeval tv = {0, 10000};

		fences_status(fs, 0, &st);
		if (st.phase == p)
			return true;
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return false;
}

Test(report, fence_failed_closed_is_a_reason)
{
	static const char text[] =
	    "server:\n"
	    "  listen: \"127.0.0.1:5300\"\n"
	    "  state-dir: \"%s/state\"\n"
	    "arc:\n"
	    "  endpoints:\n"
	    "    - { region: us-east-1, url: \"http://127.0.0.1:9/v1\" }\n"
	    "controls:\n"
	    "  east: { arn: \"" ARN("e") "\" }\n"
	    "  west: { arn: \"" ARN("w") "\" }\n"
	    "fences:\n"
	    "  db:\n"
	    "    hook: [\"/bin/false\"]\n"
	    "    timeout: 1s\n"
	    "    retries: 0\n"
	    "    backoff: 10ms\n"
	    "zones:\n"
	    "  - id: svc\n"
	    "    origin: svc.test.\n"
	    "    file: " TEST_DATA_DIR "/policy.svc.test.zone\n"
	    "    records:\n"
	    "      - name: writer\n"
	    "        type: A\n"
	    "        policy: failover\n"
	    "        fence: db\n"
	    "        targets:\n"
	    "          - { control: east, values: [10.0.0.1] }\n"
	    "          - { control: west, values: [10.0.0.2] }\n";
	struct event_base *base = event_base_new();
	struct runtime *rt = rtfx_runtime(&R.fx, text, true);
	char buf[256];
	bool ready = true;
	json_t *doc, *r;

	rtfx_poll(rt->mirror, true, false, NOW);
	rt->fences = fences_new(base, rt->cur.conf, NULL, NULL, NULL, NULL);
	fences_set_test_timing(rt->fences, 10);
	doc = report_ready_at(rt, NOW, &ready);
	cr_expect(ready, "fresh, every control known, no fence failed");
	json_decref(doc);
	fences_update(rt->fences, 0, 0);
	fences_update(rt->fences, 0, 1);
	cr_assert(fence_reaches(base, rt->fences, FENCE_FAILED));
	doc = report_ready_at(rt, NOW, &ready);
	cr_expect(!ready);
	codes(doc, buf, sizeof(buf));
	cr_expect_str_eq(buf, "fence-failed");
	r = json_array_get(json_object_get(doc, "reasons"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(r, "fence")), "db");
	cr_expect(strstr(json_string_value(json_object_get(r, "message")),
	    "arcdnsctl fence confirm db") != NULL);
	json_decref(doc);
	doc = report_state_at(rt, NOW);
	cr_expect_eq(json_array_size(json_object_get(doc, "fences")), 1);
	json_decref(doc);
	fences_free(rt->fences);
	rt->fences = NULL;
	runtime_free(rt);
	event_base_free(base);
}
