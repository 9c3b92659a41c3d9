#include "fence/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* One line of hook output is logged in pieces of at most this size. */
#define LINE_MAX_LOG	512

struct stream {
	struct hookrun	*run;
	struct event	*ev;		/* NULL once at EOF (or cancelled) */
	int		 fd;		/* -1 once closed */
	const char	*name;		/* "stdout" or "stderr" */
	size_t		 len;
	char		 buf[LINE_MAX_LOG];
};

struct hookrun {
	struct hookrun	*next;
	struct event_base *base;
	struct event	*sigchld;
	struct event	*timer;		/* timeout, then kill grace, then drain */
	char		*tag;
	hook_done_cb	 cb;
	void		*arg;
	pid_t		 pid;
	bool		 reaped;
	int		 wstatus;
	bool		 timed_out;
	bool		 killed;	/* SIGKILL sent */
	uint64_t	 start_ms;
	size_t		 logged;	/* bytes logged, against HOOK_MAX_LOG */
	size_t		 dropped;	/* bytes read but not logged */
	struct stream	 out;
	struct stream	 err;
};

/*
 * Module state (main thread only): the runs in flight, and the pids of
 * cancelled runs that were killed but not reaped yet. A cancelled run has
 * given its events back (the base may be freed right after), so its pid
 * is reaped later, whenever this module runs on the loop again.
 */
static struct hookrun *runs;
static unsigned nruns;
#define ORPHANS_MAX 64
static pid_t orphans[ORPHANS_MAX];
static unsigned norphans;

static void
reap_orphans(void)
{
	unsigned i = 0;

	while (i < norphans) {
		pid_t r = waitpid(orphans[i], NULL, WNOHANG);

		if (r == 0 || (r < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		orphans[i] = orphans[--norphans];
	}
}

static void
signal_group(struct hookrun *h, int sig)
{
	/*
	 * The child leads its own process group: a hook that is a script
	 * takes its own children (psql, aws) down with it, and nobody is
	 * left holding our pipes open. Fall back to the pid alone if the
	 * group is gone.
	 */
	if (kill(-h->pid, sig) != 0 && !h->reaped)
		(void)kill(h->pid, sig);
}

/* Keep log lines to printable ASCII: hook output is untrusted text. */
static void
emit(struct hookrun *h, struct stream *s, const char *p, size_t n)
{
	char line[LINE_MAX_LOG + 1];
	size_t room, take;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	room = h->logged < HOOK_MAX_LOG ? HOOK_MAX_LOG - h->logged : 0;
	take = n < room ? n : room;
	if (take > LINE_MAX_LOG)
		take = LINE_MAX_LOG;
	if (room == 0) {
		h->dropped += n + 1;
		return;
	}
	for (size_t i = 0; i < take; i++) {
		unsigned char c = (unsigned char)p[i];

		line[i] = (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '?';
	}
	line[take] = '\0';
	h->logged += take + 1;
	h->dropped += n - take;
	log_info(LOG_SRC_FENCE, "%s[%ld] %s: %s", h->tag, (long)h->pid,
	    s->name, line);
}

/* Log every complete line in the buffer; a full buffer is one line. */
static void
flush_lines(struct hookrun *h, struct stream *s, bool eof)
{
	size_t start = 0;

	for (size_t i = 0; i < s->len; i++) {
		if (s->buf[i] == '\n') {
			emit(h, s, s->buf + start, i - start);
			start = i + 1;
		}
	}
	if (start == 0 && (s->len == sizeof(s->buf) || (eof && s->len > 0))) {
		emit(h, s, s->buf, s->len);
		start = s->len;
	} else if (eof && start < s->len) {
		emit(h, s, s->buf + start, s->len - start);
		start = s->len;
	}
	memmove(s->buf, s->buf + start, s->len - start);
	s->len -= start;
}

static void
stream_close(struct stream *s)
{
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
	if (s->fd >= 0) {
		(void)close(s->fd);
		s->fd = -1;
	}
}

static bool
is_done(const struct hookrun *h)
{
	return h->reaped && h->out.fd < 0 && h->err.fd < 0;
}

static void
unlink_run(struct hookrun *h)
{
	for (struct hookrun **pp = &runs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			nruns--;
			return;
		}
	}
}

static void
run_free(struct hookrun *h)
{
	stream_close(&h->out);
	stream_close(&h->err);
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->sigchld != NULL)
		event_free(h->sigchld);
	free(h->tag);
	free(h);
}

/* Called whenever a piece of the outcome arrives; ends the run once. */
static void
maybe_finish(struct hookrun *h)
{
	struct hook_result r;
	hook_done_cb cb = h->cb;
	void *arg = h->arg;

	if (!is_done(h))
		return;
	memset(&r, 0, sizeof(r));
	if (WIFEXITED(h->wstatus)) {
		r.exit_status = WEXITSTATUS(h->wstatus);
	} else {
		r.exit_status = -1;
		r.signal = WIFSIGNALED(h->wstatus) ? WTERMSIG(h->wstatus) : 0;
	}
	r.timed_out = h->timed_out;
	r.elapsed_ms = clock_mono_ms() - h->start_ms;
	if (h->dropped > 0)
		log_info(LOG_SRC_FENCE, "%s[%ld]: %zu bytes of output not "
		    "logged (limit %d)", h->tag, (long)h->pid, h->dropped,
		    HOOK_MAX_LOG);
	log_debug(LOG_SRC_FENCE, "%s[%ld]: exit %d signal %d%s after %llu ms",
	    h->tag, (long)h->pid, r.exit_status, r.signal,
	    r.timed_out ? " (timed out)" : "",
	    (unsigned long long)r.elapsed_ms);
	/* Free first: the callback may start or cancel other runs. */
	unlink_run(h);
	run_free(h);
	cb(&r, arg);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	struct hookrun *h = s->run;
	ssize_t n;

	(void)what;
	n = read(fd, s->buf + s->len, sizeof(s->buf) - s->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		flush_lines(h, s, true);
		stream_close(s);
		maybe_finish(h);
		return;
	}
	s->len += (size_t)n;
	flush_lines(h, s, false);
}

static void
arm_timer(struct hookrun *h, uint64_t ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000u),
		.tv_usec = (suseconds_t)(ms % 1000u) * 1000,
	};

	/* Timeouts count from now, not from the loop's cached time. */
	event_base_update_cache_time(h->base);
	evtimer_add(h->timer, &tv);
}

/*
 * One timer, three phases: the timeout (SIGTERM), the kill grace
 * (SIGKILL), and after SIGKILL (or after the child exited while something
 * it left behind keeps a pipe open) one more grace, after which the pipes
 * are closed regardless so that the callback still comes.
 */
static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hookrun *h = arg;

	(void)fd;
	(void)what;
	if (!h->reaped && !h->timed_out) {
		h->timed_out = true;
		log_warn(LOG_SRC_FENCE, "%s[%ld]: timed out, sending SIGTERM",
		    h->tag, (long)h->pid);
		signal_group(h, SIGTERM);
		arm_timer(h, HOOK_KILL_GRACE_MS);
		return;
	}
	if (!h->killed) {
		h->killed = true;
		if (!h->reaped) {
			h->timed_out = true;
			log_warn(LOG_SRC_FENCE, "%s[%ld]: still running, "
			    "sending SIGKILL", h->tag, (long)h->pid);
		} else {
			log_warn(LOG_SRC_FENCE, "%s[%ld]: exited but its output "
			    "is still open; killing its process group",
			    h->tag, (long)h->pid);
		}
		signal_group(h, SIGKILL);
		arm_timer(h, HOOK_KILL_GRACE_MS);
		return;
	}
	if (!h->reaped)		/* unkillable (D state): keep waiting */
		return;
	log_warn(LOG_SRC_FENCE, "%s[%ld]: closing its output unread",
	    h->tag, (long)h->pid);
	flush_lines(h, &h->out, true);
	flush_lines(h, &h->err, true);
	stream_close(&h->out);
	stream_close(&h->err);
	maybe_finish(h);
}

static void
sigchld_cb(evutil_socket_t sig, short what, void *arg)
{
	struct hookrun *h = arg;
	pid_t r;
	int st;

	(void)sig;
	(void)what;
	reap_orphans();
	do {
		r = waitpid(h->pid, &st, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	if (r < 0) {
		/* Someone else reaped it (waitpid(-1) elsewhere). */
		log_err(LOG_SRC_FENCE, "%s[%ld]: lost its exit status: %s",
		    h->tag, (long)h->pid, strerror(errno));
		st = 0xff00;	/* as if exit 255 */
	}
	h->reaped = true;
	h->wstatus = st;
	event_del(h->sigchld);
	/* Output still open after the exit: bound the wait for it. */
	event_del(h->timer);
	if (h->out.fd >= 0 || h->err.fd >= 0)
		arm_timer(h, HOOK_KILL_GRACE_MS);
	maybe_finish(h);
}

static int
make_pipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) {
		int e = errno;

		(void)close(p[0]);
		(void)close(p[1]);
		return -e;
	}
	return 0;
}

static int
spawn(pid_t *pid, char *const argv[], char *const env[], int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t all, none;
	int rc;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	/*
	 * stdin from /dev/null; stdout/stderr into our pipes (dup2 clears
	 * FD_CLOEXEC on 1 and 2); every other descriptor closed. Signals
	 * back to their defaults and unblocked (we ignore SIGPIPE, and
	 * ignored signals survive exec); a process group of its own.
	 */
	rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (rc == 0)
		rc = posix_spawn_file_actions_adddup2(&fa, err, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	if (rc == 0)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	if (rc == 0)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF |
		    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (rc == 0)
		rc = posix_spawn(pid, argv[0], &fa, &at, argv, env);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

static void
stream_init(struct hookrun *h, struct stream *s, const char *name, int fd)
{
	s->run = h;
	s->name = name;
	s->fd = fd;
	s->ev = event_new(h->base, fd, EV_READ | EV_PERSIST, read_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) != 0)
		abort();	/* out of memory in libevent */
}

struct hookrun *
hook_run(struct event_base *base, char *const argv[], char *const env[],
    uint32_t timeout_ms, const char *tag, hook_done_cb cb, void *arg,
    char **errmsg)
{
	static char *const noenv[] = {NULL};
	struct hookrun *h;
	int po[2], pe[2], rc;

	*errmsg = NULL;
	reap_orphans();
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
		*errmsg = xstrdup("hook argv[0] must be an absolute path");
		return NULL;
	}
	rc = make_pipe(po);
	if (rc != 0) {
		*errmsg = xstrfmt("pipe: %s", strerror(-rc));
		return NULL;
	}
	rc = make_pipe(pe);
	if (rc != 0) {
		(void)close(po[0]);
		(void)close(po[1]);
		*errmsg = xstrfmt("pipe: %s", strerror(-rc));
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->base = base;
	h->tag = xstrdup(tag != NULL ? tag : "hook");
	h->cb = cb;
	h->arg = arg;
	h->out.fd = h->err.fd = -1;
	/* SIGCHLD is watched before the child exists: no exit is missed. */
	h->sigchld = evsignal_new(base, SIGCHLD, sigchld_cb, h);
	h->timer = evtimer_new(base, timer_cb, h);
	if (h->sigchld == NULL || h->timer == NULL ||
	    event_add(h->sigchld, NULL) != 0)
		abort();
	h->start_ms = clock_mono_ms();
	/* posix_spawn copies argv and env into the child: nothing to keep. */
	rc = spawn(&h->pid, argv, env != NULL ? env : noenv, po[1], pe[1]);
	(void)close(po[1]);
	(void)close(pe[1]);
	if (rc != 0) {
		(void)close(po[0]);
		(void)close(pe[0]);
		*errmsg = xstrfmt("cannot run %s: %s", argv[0], strerror(-rc));
		run_free(h);
		return NULL;
	}
	stream_init(h, &h->out, "stdout", po[0]);
	stream_init(h, &h->err, "stderr", pe[0]);
	if (timeout_ms > 0)
		arm_timer(h, timeout_ms);
	h->next = runs;
	runs = h;
	nruns++;
	log_debug(LOG_SRC_FENCE, "%s[%ld]: started %s", h->tag, (long)h->pid,
	    argv[0]);
	return h;
}

void
hook_cancel(struct hookrun *h)
{
	if (h == NULL)
		return;
	if (!h->reaped) {
		signal_group(h, SIGKILL);
		if (waitpid(h->pid, NULL, WNOHANG) == 0) {
			if (norphans < ORPHANS_MAX)
				orphans[norphans++] = h->pid;
			else
				log_warn(LOG_SRC_FENCE, "%s[%ld]: cancelled; "
				    "too many unreaped children to track it",
				    h->tag, (long)h->pid);
		}
	} else {
		/* Exited; whatever it left behind must not outlive it. */
		(void)kill(-h->pid, SIGKILL);
	}
	log_info(LOG_SRC_FENCE, "%s[%ld]: cancelled", h->tag, (long)h->pid);
	unlink_run(h);
	run_free(h);
}

unsigned
hook_running(void)
{
	reap_orphans();
	return nruns;
}
