/*
 * hook.h -- run a fence hook (or promote, or ready-check) as a child
 * process without ever blocking the event loop.
 *
 * A hook is an argv array, executed directly (execve, no shell) with
 * exactly the environment given (the caller builds a clean one: PATH and
 * the ARCDNS_* variables). Its stdout and stderr are read through pipes on
 * the event base and logged line by line (source fence, prefixed with the
 * caller's tag), at most HOOK_MAX_LOG bytes per run; the rest is counted
 * and dropped. After timeout_ms the child gets SIGTERM, and SIGKILL
 * HOOK_KILL_GRACE_MS later. The child is reaped through SIGCHLD on the
 * base (waitpid WNOHANG for the pids this module started, never -1), and
 * the callback runs exactly once, from the event loop, after the child has
 * exited and both pipes are drained.
 *
 * Main thread only.
 */
#ifndef FENCE_HOOK_H
#define FENCE_HOOK_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct hookrun;

#define HOOK_MAX_LOG		4096
#define HOOK_KILL_GRACE_MS	2000

struct hook_result {
	int	exit_status;	/* 0..255, or -1 when killed by a signal */
	int	signal;		/* the signal that killed it, or 0 */
	bool	timed_out;	/* we sent SIGTERM (or SIGKILL) */
	uint64_t elapsed_ms;
};

typedef void (*hook_done_cb)(const struct hook_result *r, void *arg);

/*
 * Start argv (argv[0] a path; NULL-terminated; copied) with env
 * (NULL-terminated "NAME=value" strings; copied). Returns the run, or
 * NULL with a new message in *errmsg when it could not be started (the
 * callback is then never called). Success means started: the outcome
 * comes through cb.
 */
struct hookrun	*hook_run(struct event_base *base, char *const argv[],
		    char *const env[], uint32_t timeout_ms, const char *tag,
		    hook_done_cb cb, void *arg, char **errmsg);

/* Kill (SIGKILL) and forget a run: cb is not called. NULL-safe. */
void		 hook_cancel(struct hookrun *h);

/* Runs not finished yet (for tests and shutdown). */
unsigned	 hook_running(void);

#endif
