/*
 * test_fence.c -- the fence state machine on a real event base with real
 * child processes: the whole sequence and what is published at each
 * step, the environment the hooks get, retries and failing closed,
 * confirm, fencing by hand, a selection that moves during the sequence,
 * and restoring the state file (resume, corrupt file, changed targets).
 *
 * Hooks are small /bin/sh scripts written here (test fixtures only: the
 * daemon runs argv arrays, never a shell). Each records its action and
 * target in a log file, and fails while a "fail" file exists.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "fence/fence.h"
#include "util/err.h"
#include "util/xalloc.h"

static char dir[64];
static struct event_base *base;
static struct conf *conf;
static struct fences *fs;
static int changes;

static char *
path(const char *name)
{
	return xstrfmt("%s/%s", dir, name);
}

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char *p = path(name);
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
	free(p);
}

static void
remove_file(const char *name)
{
	char *p = path(name);

	unlink(p);
	free(p);
}

static char *
read_file(const char *name)
{
	char *p = path(name), *buf = xcalloc(1, 65536);
	FILE *f = fopen(p, "r");

	if (f != NULL) {
		size_t n = fread(buf, 1, 65535, f);

		buf[n] = '\0';
		fclose(f);
	}
	free(p);
	return buf;
}

static void
on_change(void *arg)
{
	(void)arg;
	changes++;
}

static void
setup(void)
{
	char yaml[4096];
	char *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/test_fence.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* hook ACTION: log "ACTION TARGET REGION CONTROL FENCE X", fail
	 * while $dir/fail-ACTION exists, take 0.3 s while $dir/slow-ACTION
	 * exists, hang while $dir/hang exists. */
	snprintf(yaml, sizeof(yaml),
	    "#!/bin/sh\n"
	    "echo \"$ARCDNS_ACTION $ARCDNS_TARGET $ARCDNS_REGION "
	    "$ARCDNS_CONTROL $ARCDNS_FENCE ${EXTRA:-none} ${HOME:-nohome}\" "
	    ">> %s/hooks.log\n"
	    "[ -e %s/hang ] && exec sleep 30\n"
	    "[ -e %s/slow-$ARCDNS_ACTION ] && sleep 0.3\n"
	    "[ -e %s/fail-$ARCDNS_ACTION ] && exit 3\n"
	    "exit 0\n", dir, dir, dir, dir);
	write_file("hook", yaml, 0755);
	snprintf(yaml, sizeof(yaml),
	    "arc:\n  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n"
	    "controls: { east: { name: e }, west: { name: w }, eu: { name: x } }\n"
	    "fences:\n"
	    "  db:\n"
	    "    hook: [%s/hook]\n"
	    "    promote: [%s/hook]\n"
	    "    ready-check: [%s/hook]\n"
	    "    env: { EXTRA: yes }\n"
	    "    timeout: 1s\n"
	    "    retries: 2\n"
	    "    backoff: 10ms\n"
	    "zones:\n"
	    "  - id: a\n    origin: a.test.\n    file: a.zone\n"
	    "    records:\n"
	    "      - { name: w, type: A, policy: failover, fence: db,\n"
	    "          targets: [{ control: east, region: us-east-1, values: [10.0.0.1, 10.0.0.2] },\n"
	    "                    { control: west, region: us-west-2, values: 10.1.0.1 },\n"
	    "                    { control: eu, region: eu-west-1, values: 10.2.0.1 }] }\n",
	    dir, dir, dir);
	cr_assert_eq(conf_load_string("f.yaml", yaml, strlen(yaml), &conf,
	    &err), 0, "%s", err);
	base = event_base_new();
	changes = 0;
}

static struct fences *
fences_open(void)
{
	char *state = path("fences.json"), *events = path("events.jsonl");
	struct fences *f = fences_new(base, conf, state, events, on_change,
	    NULL);

	free(state);
	free(events);
	fences_set_test_timing(f, 10);
	return f;
}

static void
teardown(void)
{
	char *cmd = xstrfmt("rm -rf %s", dir);

	fences_free(fs);
	fs = NULL;
	event_base_free(base);
	conf_free(conf);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
	free(cmd);
}

/* Run the loop until fence 0 is in phase (or 5 s pass). */
static bool
run_until(enum fence_phase phase)
{
	for (int i = 0; i < 500; i++) {
		struct fence_status st;

		fences_status(fs, 0, &st);
		if (st.phase == phase)
			return true;
		struct timeval tv = {0, 10000};

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return false;
}

/* Run the loop until hooks.log has n lines (or 5 s pass). */
static bool
run_until_lines(int n)
{
	for (int i = 0; i < 500; i++) {
		char *log = read_file("hooks.log");
		int lines = 0;

		for (char *p = log; *p != '\0'; p++)
			lines += *p == '\n';
		free(log);
		if (lines >= n)
			return true;
		struct timeval tv = {0, 10000};

		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
	return false;
}

static enum fence_phase
phase(void)
{
	struct fence_status st;

	fences_status(fs, 0, &st);
	return st.phase;
}

TestSuite(fence, .init = setup, .fini = teardown, .timeout = 30);

Test(fence, first_selection_then_the_whole_sequence)
{
	char *log;

	fs = fences_open();
	cr_expect_eq(fences_publish(fs, 0, 0), -1, "nothing selected yet");
	fences_update(fs, 0, -1);
	cr_expect_eq(phase(), FENCE_IDLE, "unknown selects nothing");
	fences_update(fs, 0, 0);
	cr_expect_eq(phase(), FENCE_SERVING);
	cr_expect_eq(fences_publish(fs, 0, 0), 0, "first: no one to fence");
	fences_update(fs, 0, 1);
	/* Withdrawn at once, before any hook ran. */
	cr_expect_eq(phase(), FENCE_FENCING);
	cr_expect_eq(fences_publish(fs, 0, 0), -1);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 1);
	log = read_file("hooks.log");
	cr_expect_str_eq(log,
	    "fence 10.0.0.1,10.0.0.2 us-east-1 east db yes nohome\n"
	    "promote 10.1.0.1 us-west-2 west db yes nohome\n"
	    "check 10.1.0.1 us-west-2 west db yes nohome\n",
	    "order, environment (no HOME inherited): %s", log);
	free(log);
	cr_expect_gt(changes, 0, "the runtime was told");
	log = read_file("events.jsonl");
	cr_expect(strstr(log, "\"event\":\"selection moved: writer "
	    "withdrawn\"") != NULL, "%s", log);
	cr_expect(strstr(log, "\"event\":\"ready: published\"") != NULL);
	free(log);
}

Test(fence, failing_hook_fails_closed_until_confirmed)
{
	struct fence_status st;
	char *err = NULL, *log;

	write_file("fail-fence", "", 0644);
	fs = fences_open();
	fences_update(fs, 0, 0);
	fences_update(fs, 0, 1);
	cr_assert(run_until(FENCE_FAILED));
	fences_status(fs, 0, &st);
	cr_expect_eq(st.step, FENCE_FENCING);
	cr_expect_eq(st.attempt, 3, "the first run and 2 retries");
	cr_expect(st.reason != NULL && strstr(st.reason, "exit status 3") !=
	    NULL, "%s", st.reason);
	cr_expect_eq(fences_publish(fs, 0, 0), -1, "fail closed");
	log = read_file("hooks.log");
	cr_expect(strstr(log, "promote") == NULL, "never promoted: %s", log);
	free(log);
	/* The operator fenced by hand and confirms. */
	cr_expect_eq(fences_confirm(fs, "nope", &err), ERR_NOTFOUND);
	free(err);
	err = NULL;
	cr_assert_eq(fences_confirm(fs, "db", &err), 0, "%s", err);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 1);
	cr_expect_eq(fences_confirm(fs, "db", &err), ERR_INVAL,
	    "nothing to confirm when serving");
	free(err);
}

Test(fence, failing_ready_check_keeps_the_new_target_withdrawn)
{
	write_file("fail-check", "", 0644);
	fs = fences_open();
	fences_update(fs, 0, 0);
	fences_update(fs, 0, 1);
	cr_assert(run_until(FENCE_FAILED));
	cr_expect_eq(fences_publish(fs, 0, 0), -1);
	remove_file("fail-check");
	/* The same selection again does not move anything by itself. */
	fences_update(fs, 0, 1);
	cr_expect_eq(phase(), FENCE_FAILED);
}

Test(fence, a_hanging_hook_times_out)
{
	struct fence_status st;

	write_file("hang", "", 0644);
	fs = fences_open();
	fences_update(fs, 0, 0);
	fences_update(fs, 0, 1);
	cr_assert(run_until(FENCE_FAILED));
	fences_status(fs, 0, &st);
	cr_expect(st.reason != NULL && strstr(st.reason, "timed out") != NULL,
	    "%s", st.reason);
}

Test(fence, selection_moving_during_promotion_fences_the_promoted_one)
{
	char *log;

	write_file("slow-promote", "", 0644);
	fs = fences_open();
	fences_update(fs, 0, 0);
	fences_update(fs, 0, 1);
	cr_assert(run_until(FENCE_PROMOTING));
	fences_update(fs, 0, 2);	/* eu is selected while west promotes */
	cr_expect_eq(fences_publish(fs, 0, 0), -1);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 2);
	log = read_file("hooks.log");
	cr_expect(strstr(log, "promote 10.1.0.1") != NULL, "%s", log);
	cr_expect(strstr(log, "fence 10.1.0.1") != NULL,
	    "west, promoted, is fenced before eu goes on: %s", log);
	cr_expect(strstr(log, "check 10.2.0.1") != NULL, "%s", log);
	free(log);
}

Test(fence, by_hand)
{
	char *err = NULL;

	fs = fences_open();
	cr_expect_eq(fences_manual(fs, "db", &err), ERR_INVAL, "not serving");
	free(err);
	err = NULL;
	fences_update(fs, 0, 0);
	cr_assert_eq(fences_manual(fs, "db", &err), 0, "%s", err);
	cr_expect_eq(fences_publish(fs, 0, 0), -1);
	cr_assert(run_until(FENCE_FENCED));
	cr_expect_eq(fences_publish(fs, 0, 0), -1, "stays withdrawn");
	fences_update(fs, 0, 0);
	cr_expect_eq(phase(), FENCE_FENCED, "the same selection: still held");
	/* The operator says go on: the same target is promoted, checked. */
	cr_assert_eq(fences_confirm(fs, "db", &err), 0, "%s", err);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 0);
}

Test(fence, stale_withdraw_after_the_lease)
{
	char yaml[1024];
	struct conf *c2;
	char *err = NULL;

	snprintf(yaml, sizeof(yaml),
	    "arc:\n  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n"
	    "controls: { east: { name: e } }\n"
	    "fences: { db: { hook: [/bin/true], stale: withdraw, stale-lease: 5s } }\n"
	    "zones:\n  - id: a\n    origin: a.test.\n    file: a.zone\n"
	    "    records: [{ name: w, type: A, policy: failover, fence: db, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }]\n");
	cr_assert_eq(conf_load_string("g.yaml", yaml, strlen(yaml), &c2,
	    &err), 0, "%s", err);
	fs = fences_new(base, c2, NULL, NULL, NULL, NULL);
	fences_update(fs, 0, 0);
	cr_expect_eq(fences_publish(fs, 0, 0), 0);
	cr_expect_eq(fences_publish(fs, 0, 4999), 0);
	cr_expect_eq(fences_publish(fs, 0, 5000), -1);
	fences_free(fs);
	fs = NULL;
	conf_free(c2);
	/* The default (keep) never withdraws for staleness. */
	fs = fences_open();
	fences_update(fs, 0, 0);
	cr_expect_eq(fences_publish(fs, 0, 86400000), 0);
}

Test(fence, restart_resumes_and_never_unfences)
{
	char *log;

	write_file("hang", "", 0644);
	fs = fences_open();
	fences_update(fs, 0, 0);
	fences_update(fs, 0, 1);
	cr_expect_eq(phase(), FENCE_FENCING);
	cr_assert(run_until_lines(1), "the fence hook started");
	/* "kill -9" in the middle of the fence hook: free kills the run. */
	fences_free(fs);
	remove_file("hang");
	fs = fences_open();
	cr_expect_eq(fences_publish(fs, 0, 0), -1, "nothing before loading");
	cr_assert_eq(fences_load(fs, &(char *){NULL}), 0);
	cr_expect_eq(phase(), FENCE_FENCING, "resumed");
	cr_expect_eq(fences_publish(fs, 0, 0), -1);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 1);
	log = read_file("hooks.log");
	cr_expect_str_eq(log,
	    "fence 10.0.0.1,10.0.0.2 us-east-1 east db yes nohome\n"
	    "fence 10.0.0.1,10.0.0.2 us-east-1 east db yes nohome\n"
	    "promote 10.1.0.1 us-west-2 west db yes nohome\n"
	    "check 10.1.0.1 us-west-2 west db yes nohome\n",
	    "the fence ran again after the restart: %s", log);
	free(log);
	/* Serving west survives a restart too. */
	fences_free(fs);
	fs = fences_open();
	cr_assert_eq(fences_load(fs, &(char *){NULL}), 0);
	cr_expect_eq(fences_publish(fs, 0, 0), 1);
}

Test(fence, corrupt_or_foreign_state_fails_closed)
{
	char *err = NULL;
	struct fence_status st;

	write_file("fences.json", "{\"version\":1,", 0644);
	fs = fences_open();
	cr_expect_eq(fences_load(fs, &err), ERR_PARSE);
	cr_expect(err != NULL && strstr(err, "failed closed") != NULL, "%s",
	    err);
	free(err);
	err = NULL;
	cr_expect_eq(phase(), FENCE_FAILED);
	fences_update(fs, 0, 0);
	cr_expect_eq(fences_publish(fs, 0, 0), -1, "never serving");
	fences_free(fs);
	/* Targets that are not the configured ones. */
	write_file("fences.json", "{\"version\":1,\"fences\":[{\"name\":\"db\","
	    "\"phase\":\"serving\",\"step\":\"idle\",\"cur\":0,\"from\":-1,"
	    "\"to\":-1,\"desired\":0,\"attempt\":1,\"since_ms\":1,"
	    "\"reason\":\"\",\"targets\":[\"west\",\"east\",\"eu\"]}]}", 0644);
	fs = fences_open();
	cr_expect_eq(fences_load(fs, &err), ERR_PARSE);
	free(err);
	err = NULL;
	fences_status(fs, 0, &st);
	cr_expect_eq(st.phase, FENCE_FAILED);
	cr_expect_eq(fences_publish(fs, 0, 0), -1);
	/* Confirming goes through promote and check of the selection. */
	fences_update(fs, 0, 2);
	cr_assert_eq(fences_confirm(fs, "db", &err), 0, "%s", err);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 2);
}

Test(fence, selected_again_while_fencing_holds_the_fenced_target)
{
	char *err = NULL, *log;

	write_file("slow-fence", "", 0644);
	fs = fences_open();
	fences_update(fs, 0, 0);
	fences_update(fs, 0, 1);
	cr_expect_eq(phase(), FENCE_FENCING);
	fences_update(fs, 0, 0);	/* east again while east is fenced */
	cr_assert(run_until(FENCE_FENCED));
	cr_expect_eq(fences_publish(fs, 0, 0), -1, "east is read-only now");
	log = read_file("hooks.log");
	cr_expect(strstr(log, "promote") == NULL, "nothing promoted: %s", log);
	free(log);
	/* The selection moves on: west goes through promote and check. */
	fences_update(fs, 0, 1);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 1);
	(void)err;
}

Test(fence, confirm_after_a_failed_fence_follows_the_selection_now)
{
	char *err = NULL, *log;

	write_file("fail-fence", "", 0644);
	fs = fences_open();
	fences_update(fs, 0, 0);
	fences_update(fs, 0, 1);
	cr_assert(run_until(FENCE_FAILED));
	/* east is selected again before the operator confirms: confirming
	 * must not promote west, which is no longer selected. */
	fences_update(fs, 0, 0);
	cr_assert_eq(fences_confirm(fs, "db", &err), 0, "%s", err);
	cr_expect_eq(phase(), FENCE_FENCED);
	cr_expect_eq(fences_publish(fs, 0, 0), -1);
	log = read_file("hooks.log");
	cr_expect(strstr(log, "promote") == NULL, "west not promoted: %s", log);
	free(log);
	/* A second confirmation (east made writable by hand) serves east. */
	remove_file("fail-fence");
	cr_assert_eq(fences_confirm(fs, "db", &err), 0, "%s", err);
	cr_assert(run_until(FENCE_SERVING));
	cr_expect_eq(fences_publish(fs, 0, 0), 0);
}
