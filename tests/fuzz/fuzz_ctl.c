/*
 * fuzz_ctl.c -- bytes -> ctlsock_handle(): any request line gets exactly
 * one reply, a JSON object with a boolean "ok" ("error" a string when it
 * is false) that serialises on one line. Never a crash, a leak or a
 * hang, and never a change to what is served (the policy's serials stay
 * put after a what-if).
 *
 * The runtime is built once: tests/data/policy.svc.test.zone with
 * ARC-driven records in two views, a mirror with east On and west Off,
 * ghost never seen; no sockets, no event base. "reload" requests are
 * skipped (a reload starts the ARC client, which needs the event loop).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "ctl/ctlsock.h"
#include "dns/snapshot.h"
#include "dns/table.h"
#include "mirror/mirror.h"
#include "policy/policy.h"
#include "runtime.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONF[] =
	"server:\n"
	"  listen: \"127.0.0.1:5300\"\n"
	"  state-dir: \"%s/state\"\n"
	"  log: { level: err }\n"
	"arc:\n"
	"  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n"
	"controls:\n"
	"  east: { name: route-us-east-1 }\n"
	"  west: { name: route-us-west-2 }\n"
	"  ghost: { name: route-nowhere }\n"
	"zones:\n"
	"  - id: svc\n"
	"    origin: svc.test.\n"
	"    file: " TEST_DATA_DIR "/policy.svc.test.zone\n"
	"    records:\n"
	"      - name: api\n"
	"        type: A\n"
	"        policy: failover\n"
	"        targets:\n"
	"          - { control: east, region: us-east-1, values: [10.0.1.10] }\n"
	"          - { control: west, region: us-west-2, values: [10.1.1.10] }\n"
	"      - name: www\n"
	"        type: CNAME\n"
	"        policy: failover\n"
	"        when-none-on: nodata\n"
	"        targets:\n"
	"          - { control: east, values: [east-lb.svc.test.] }\n"
	"          - { control: ghost, values: [west-lb.example.net.] }\n"
	"      - name: role\n"
	"        policy: role\n"
	"        targets:\n"
	"          - { control: east, region: us-east-1 }\n"
	"          - { control: west, region: us-west-2 }\n"
	"  - id: vpc\n"
	"    origin: svc.test.\n"
	"    file: " TEST_DATA_DIR "/policy.svc.test.zone\n"
	"    records:\n"
	"      - name: api\n"
	"        type: A\n"
	"        policy: multivalue\n"
	"        when-none-on: servfail\n"
	"        targets:\n"
	"          - { control: east, values: [10.50.1.10] }\n"
	"          - { control: west, values: [10.51.1.10] }\n"
	"views:\n"
	"  - name: vpc\n"
	"    match-clients: [\"127.0.0.2/32\"]\n"
	"    zones: [vpc]\n"
	"  - name: default\n"
	"    match-clients: [any]\n"
	"    zones: [svc]\n";

static void
free_table(void *t)
{
	table_free(t);
}

static struct runtime *
world(void)
{
	static struct runtime *rt;
	struct mirror_entry e[2] = {
		{"arn:aws:route53-recovery-control::1:controlpanel/p/"
		    "routingcontrol/e", "route-us-east-1", "arn:p", true},
		{"arn:aws:route53-recovery-control::1:controlpanel/p/"
		    "routingcontrol/w", "route-us-west-2", "arn:p", false},
	};
	char dir[] = "/tmp/fuzz_ctl.XXXXXX", *path, *text, *err = NULL;
	enum mirror_state st[3];
	struct zone **zones;
	struct table *table;
	struct loaded l;
	FILE *fp;

	if (rt != NULL)
		return rt;
	if (mkdtemp(dir) == NULL)
		abort();
	path = xstrfmt("%s/arcdns.yaml", dir);
	text = xstrfmt(CONF, dir);
	fp = fopen(path, "w");
	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
		abort();
	if (runtime_load(path, &l, &err) != 0) {
		fprintf(stderr, "fuzz_ctl: %s\n", err);
		abort();
	}
	unlink(path);
	rmdir(dir);
	rt = runtime_new(path, &l);
	rt->snap = snapshot_new(1, free_table);
	rt->mirror = mirror_new(rt->cur.conf);
	(void)mirror_apply(rt->mirror, e, 2, "us-east-1", 1000);
	/* serve the mirror's states, as runtime's rebuild does */
	for (size_t i = 0; i < 3; i++) {
		const struct mirror_control *c = mirror_control(rt->mirror, i);

		st[i] = c != NULL ? c->state : MIRROR_UNKNOWN;
	}
	if (policy_eval(rt->cur.policy, st, &zones, &err) != 0 ||
	    table_build(rt->cur.conf, zones, &table, &err) != 0)
		abort();
	policy_commit(rt->cur.policy);
	policy_zones_free(rt->cur.policy, zones);
	snapshot_publish(rt->snap, table);
	free(path);
	free(text);
	return rt;
}

/* Is this a reload request (skipped: see above)? */
static bool
is_reload(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, 0, NULL);
	const char *cmd = json_string_value(json_object_get(j, "cmd"));
	bool r = cmd != NULL && strcmp(cmd, "reload") == 0;

	json_decref(j);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct runtime *rt = world();
	uint32_t s0, s1;
	json_t *reply, *ok;
	char *text;

	if (is_reload(data, size))
		return 0;
	s0 = policy_serial(rt->cur.policy, 0);
	s1 = policy_serial(rt->cur.policy, 1);
	reply = ctlsock_handle(rt, (const char *)data, size);
	ok = json_object_get(reply, "ok");
	if (!json_is_object(reply) || !json_is_boolean(ok) ||
	    (json_is_false(ok) && !json_is_string(json_object_get(reply,
	    "error"))))
		abort();
	text = jsonx_dump(reply);
	if (strchr(text, '\n') != NULL)
		abort();
	if (policy_serial(rt->cur.policy, 0) != s0 ||
	    policy_serial(rt->cur.policy, 1) != s1)
		abort();
	free(text);
	json_decref(reply);
	return 0;
}
