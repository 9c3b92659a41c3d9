/*
 * test_hook.c -- hook runs on a real event base. The children are
 * /bin/sh -c scripts, as test fixtures only: the module itself never uses
 * a shell. Exit codes, a killed child, a timeout (TERM, then KILL for a
 * child that ignores TERM), bounded output, the environment exactly as
 * given, many runs at once, cancel, and a grandchild that keeps the pipes
 * open.
 */
#include "fence/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "log/log.h"

struct done {
	int			calls;
	struct hook_result	r;
};

static struct event_base *base;
static char tmpdir[64];
static char logpath[128];
static int saved_stderr = -1;

static void
setup(void)
{
	int fd;

	strcpy(tmpdir, "/tmp/test_hook.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	/* The log goes to stderr: catch it in a file to check it. */
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	cr_assert(fd >= 0);
	saved_stderr = dup(2);
	cr_assert_eq(dup2(fd, 2), 2);
	close(fd);
	log_setup("test_hook", LOG_FORMAT_TEXT, LOG_TARGET_STDERR,
	    LOG_LEVEL_DEBUG);
	base = event_base_new();
	cr_assert_not_null(base);
}

static void
teardown(void)
{
	char cmd[128];

	cr_expect_eq(hook_running(), 0u);
	event_base_free(base);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)system(cmd);
}

TestSuite(hook, .init = setup, .fini = teardown, .timeout = 30);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
done_cb(const struct hook_result *r, void *arg)
{
	struct done *d = arg;

	d->calls++;
	d->r = *r;
}

/* Run the loop until *flag >= want or limit_ms passed. */
static void
loop_until(const int *flag, int want, uint64_t limit_ms)
{
	struct timeval tick = {0, 20000};
	uint64_t end = now_ms() + limit_ms;

	while (*flag < want && now_ms() < end) {
		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
}

static struct hookrun *
start_sh(const char *script, uint32_t timeout_ms, struct done *d)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, "sh", NULL};
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	char *err = NULL;
	struct hookrun *h;

	h = hook_run(base, argv, env, timeout_ms, "test", done_cb, d, &err);
	cr_assert_not_null(h, "hook_run: %s", err ? err : "?");
	return h;
}

static char *
log_text(void)
{
	FILE *f = fopen(logpath, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(hook, exit_codes)
{
	static const int codes[] = {0, 1, 3, 42, 255};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct done d = {0};
		char script[32];

		snprintf(script, sizeof(script), "exit %d", codes[i]);
		start_sh(script, 5000, &d);
		cr_assert_eq(hook_running(), 1u);
		loop_until(&d.calls, 1, 5000);
		cr_assert_eq(d.calls, 1);
		cr_expect_eq(d.r.exit_status, codes[i]);
		cr_expect_eq(d.r.signal, 0);
		cr_expect(!d.r.timed_out);
		cr_expect_eq(hook_running(), 0u);
	}
}

Test(hook, killed_by_a_signal)
{
	struct done d = {0};

	start_sh("kill -KILL $$", 5000, &d);
	loop_until(&d.calls, 1, 5000);
	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.r.exit_status, -1);
	cr_expect_eq(d.r.signal, SIGKILL);
	cr_expect(!d.r.timed_out);
}

Test(hook, timeout_sends_term)
{
	struct done d = {0};

	start_sh("sleep 30", 300, &d);
	loop_until(&d.calls, 1, 5000);
	cr_assert_eq(d.calls, 1);
	cr_expect(d.r.timed_out);
	cr_expect_eq(d.r.exit_status, -1);
	cr_expect_eq(d.r.signal, SIGTERM);
	/* A few ms of slack: the clocks are read at slightly other times. */
	cr_expect(d.r.elapsed_ms >= 290 && d.r.elapsed_ms < 2000,
	    "elapsed %llu", (unsigned long long)d.r.elapsed_ms);
}

Test(hook, timeout_then_kill_when_term_is_ignored)
{
	struct done d = {0};
	char *log;

	/* The trap is inherited as "ignored" by sleep too. */
	start_sh("trap '' TERM; echo trapped; while :; do sleep 1; done",
	    200, &d);
	loop_until(&d.calls, 1, 10000);
	cr_assert_eq(d.calls, 1);
	cr_expect(d.r.timed_out);
	cr_expect_eq(d.r.signal, SIGKILL);
	cr_expect(d.r.elapsed_ms >= 190 + HOOK_KILL_GRACE_MS &&
	    d.r.elapsed_ms < 200 + 2 * HOOK_KILL_GRACE_MS,
	    "elapsed %llu", (unsigned long long)d.r.elapsed_ms);
	log = log_text();
	cr_expect(strstr(log, "stdout: trapped") != NULL, "%s", log);
	cr_expect(strstr(log, "SIGTERM") != NULL, "%s", log);
	cr_expect(strstr(log, "SIGKILL") != NULL, "%s", log);
	free(log);
}

Test(hook, output_logged_by_line_and_bounded)
{
	struct done d = {0};
	char *log;
	size_t out_bytes = 0;

	/* Two short lines on each stream, then ~200 KB that must be drained
	 * (or the child would block on a full pipe) but not logged. */
	start_sh("echo first line; echo 'to stderr' >&2; printf 'x\\033y\\n';"
	    "i=0; while [ $i -lt 4000 ]; do "
	    "echo 'filler filler filler filler filler filler filler'; "
	    "i=$((i+1)); done; printf 'no newline at the end'",
	    10000, &d);
	loop_until(&d.calls, 1, 10000);
	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.r.exit_status, 0);
	log = log_text();
	cr_expect(strstr(log, "test[") != NULL, "%s", log);
	cr_expect(strstr(log, "stdout: first line\n") != NULL);
	cr_expect(strstr(log, "stderr: to stderr\n") != NULL);
	/* Control characters never reach the log. */
	cr_expect(strstr(log, "stdout: x?y\n") != NULL);
	cr_expect(strstr(log, "no newline at the end") == NULL);
	cr_expect(strstr(log, "bytes of output not logged") != NULL);
	for (const char *p = strstr(log, "stdout: "); p;
	    p = strstr(p + 1, "stdout: ")) {
		const char *e = strchr(p, '\n');

		out_bytes += (size_t)(e - p) - 8 + 1;
	}
	cr_expect(out_bytes <= HOOK_MAX_LOG, "logged %zu", out_bytes);
	cr_expect(out_bytes > HOOK_MAX_LOG / 2, "logged %zu", out_bytes);
	free(log);
}

Test(hook, env_exactly_as_given)
{
	char *argv[] = {"/usr/bin/env", NULL};
	char *env[] = {"ARCDNS_ACTION=fence", "ARCDNS_TARGET=east",
	    "PATH=/bin", NULL};
	struct done d = {0};
	char *err = NULL, *log;

	setenv("HOOK_TEST_LEAK", "inherited", 1);
	cr_assert_not_null(hook_run(base, argv, env, 5000, "env", done_cb, &d,
	    &err));
	loop_until(&d.calls, 1, 5000);
	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.r.exit_status, 0);
	log = log_text();
	cr_expect_eq(count(log, "stdout: "), 3, "%s", log);
	cr_expect(strstr(log, "stdout: ARCDNS_ACTION=fence\n") != NULL);
	cr_expect(strstr(log, "stdout: ARCDNS_TARGET=east\n") != NULL);
	cr_expect(strstr(log, "stdout: PATH=/bin\n") != NULL);
	cr_expect(strstr(log, "HOOK_TEST_LEAK") == NULL);
	free(log);
}

Test(hook, argv_passed_verbatim_and_no_fds_leak)
{
	/* argv with spaces and shell syntax: no shell between us and it. */
	char *argv[] = {"/bin/sh", "-c",
	    "printf '<%s>' \"$1\" \"$2\"; echo; ls /proc/self/fd | wc -l",
	    "sh", "a b; $(x)", "*", NULL};
	char *env[] = {NULL};
	struct done d = {0};
	char *err = NULL, *log;
	int extra = open("/dev/null", O_RDONLY);	/* not CLOEXEC */

	cr_assert(extra >= 0);
	cr_assert_not_null(hook_run(base, argv, env, 5000, "argv", done_cb,
	    &d, &err));
	loop_until(&d.calls, 1, 5000);
	cr_assert_eq(d.calls, 1);
	log = log_text();
	cr_expect(strstr(log, "stdout: <a b; $(x)><*>\n") != NULL, "%s", log);
	/* 0, 1, 2 and the one ls opens for /proc/self/fd */
	cr_expect(strstr(log, "stdout: 4\n") != NULL, "%s", log);
	close(extra);
	free(log);
}

Test(hook, cannot_start)
{
	char *missing[] = {"/nonexistent/hook", NULL};
	char *relative[] = {"sh", "-c", "true", NULL};
	char *env[] = {NULL};
	struct done d = {0};
	char *err = NULL;

	cr_expect_null(hook_run(base, missing, env, 1000, "x", done_cb, &d,
	    &err));
	cr_assert_not_null(err);
	cr_expect(strstr(err, "/nonexistent/hook") != NULL, "%s", err);
	free(err);
	err = NULL;
	cr_expect_null(hook_run(base, relative, env, 1000, "x", done_cb, &d,
	    &err));
	cr_assert_not_null(err);
	free(err);
	cr_expect_eq(hook_running(), 0u);
	cr_expect_eq(d.calls, 0);
}

#define MANY 40

Test(hook, many_at_once)
{
	struct done d[MANY];
	int total = 0;

	memset(d, 0, sizeof(d));
	for (int i = 0; i < MANY; i++) {
		char script[64];

		snprintf(script, sizeof(script), "echo run %d; exit %d", i,
		    i % 7);
		start_sh(script, 10000, &d[i]);
	}
	cr_expect_eq(hook_running(), (unsigned)MANY);
	for (uint64_t end = now_ms() + 20000; now_ms() < end;) {
		total = 0;
		for (int i = 0; i < MANY; i++)
			total += d[i].calls;
		if (total == MANY)
			break;
		loop_until(&total, MANY + 1, 20);
	}
	for (int i = 0; i < MANY; i++) {
		cr_expect_eq(d[i].calls, 1, "run %d: %d calls", i, d[i].calls);
		cr_expect_eq(d[i].r.exit_status, i % 7);
	}
	cr_expect_eq(hook_running(), 0u);
}

static void
chain_cb(const struct hook_result *r, void *arg)
{
	struct done *d = arg;

	/* A callback may start the next run. */
	if (d->calls++ == 0)
		start_sh("exit 9", 5000, d);
	d->r = *r;
}

Test(hook, callback_starts_the_next_run)
{
	char *argv[] = {"/bin/sh", "-c", "exit 8", NULL};
	char *env[] = {NULL};
	struct done d = {0};
	char *err = NULL;

	cr_assert_not_null(hook_run(base, argv, env, 5000, "chain", chain_cb,
	    &d, &err));
	loop_until(&d.calls, 2, 5000);
	/* The second run calls done_cb, which counts too. */
	cr_expect_eq(d.calls, 2);
	cr_expect_eq(d.r.exit_status, 9);
}

Test(hook, cancel_kills_and_never_calls_back)
{
	struct done d = {0};
	char pidfile[160], script[640], buf[32] = "";
	struct hookrun *h;
	pid_t pid = 0;
	FILE *f;
	int gone = 0;

	snprintf(pidfile, sizeof(pidfile), "%s/pid", tmpdir);
	snprintf(script, sizeof(script), "echo $$ > %s.tmp && mv %s.tmp %s; "
	    "exec sleep 30", pidfile, pidfile, pidfile);
	h = start_sh(script, 60000, &d);
	for (uint64_t end = now_ms() + 5000; now_ms() < end && pid == 0;) {
		int never = 0;

		loop_until(&never, 1, 20);
		f = fopen(pidfile, "r");
		if (f != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL)
				pid = (pid_t)atol(buf);
			fclose(f);
		}
	}
	cr_assert(pid > 0);
	hook_cancel(h);
	cr_expect_eq(hook_running(), 0u);
	/* Dead and reaped: a zombie would still answer kill(pid, 0). */
	for (uint64_t end = now_ms() + 3000; now_ms() < end && !gone;) {
		int never = 0;

		(void)hook_running();
		gone = kill(pid, 0) != 0 && errno == ESRCH;
		if (!gone)
			loop_until(&never, 1, 20);
	}
	cr_expect(gone, "pid %ld still there", (long)pid);
	cr_expect_eq(d.calls, 0);
	hook_cancel(NULL);
}

Test(hook, grandchild_holding_the_pipe_does_not_hang_the_run)
{
	struct done d = {0};

	/* The background sleep keeps stdout open after sh exits. */
	start_sh("sleep 30 & echo parent done; exit 4", 60000, &d);
	loop_until(&d.calls, 1, 4 * HOOK_KILL_GRACE_MS + 2000);
	cr_assert_eq(d.calls, 1);
	cr_expect_eq(d.r.exit_status, 4);
	cr_expect(!d.r.timed_out);
	cr_expect(d.r.elapsed_ms < 3 * HOOK_KILL_GRACE_MS + 1000);
}
