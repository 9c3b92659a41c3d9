#include "fence/fence.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "fence/hook.h"
#include "log/log.h"
#include "util/clock.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

#define STATE_VERSION	1
#define MAX_BACKOFF_MS	60000
#define HOOK_PATH	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
			"/usr/bin:/sbin:/bin"

struct fence {
	struct fences			*fs;
	const struct conf_fence		*cf;
	const struct conf_record	*rec;	/* first record naming it */
	enum fence_phase		 phase, step;
	int				 cur, from, to, desired;
	unsigned			 attempt;
	uint64_t			 since_ms;
	char				 reason[256];
	struct hookrun			*run;
	struct event			*retry;
};

struct fences {
	struct event_base	*base;
	const struct conf	*conf;
	char			*state_path, *events_path;
	fence_change_cb		 cb;
	void			*cbarg;
	struct event		*changed;	/* cb, from the loop */
	struct fence		*f;
	size_t			 n;
	uint32_t		 test_backoff_ms;	/* 0: the config's */
	bool			 no_jitter;
};

static const char *const phase_names[] = {
	"idle", "serving", "fencing", "fenced", "promoting", "checking",
	"failed"
};

const char *
fence_phase_name(enum fence_phase p)
{
	return (size_t)p < sizeof(phase_names) / sizeof(phase_names[0]) ?
	    phase_names[p] : "?";
}

/* --- targets --------------------------------------------------------------- */

/* The local name of target t's control ("-" when there is none). */
static const char *
target_control(const struct fence *f, int t)
{
	const struct conf *c = f->fs->conf;

	if (f->rec == NULL || t < 0 || (size_t)t >= f->rec->ntargets)
		return "-";
	return c->controls[f->rec->targets[t].control].name;
}

static const char *
target_region(const struct fence *f, int t)
{
	if (f->rec == NULL || t < 0 || (size_t)t >= f->rec->ntargets ||
	    f->rec->targets[t].region == NULL)
		return "";
	return f->rec->targets[t].region;
}

/* Target t's values as text, comma-separated, into buf. */
static void
target_values(const struct fence *f, int t, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	if (f->rec == NULL || t < 0 || (size_t)t >= f->rec->ntargets)
		return;
	for (size_t i = 0; i < f->rec->targets[t].nvalues; i++) {
		const struct conf_rdata *v = &f->rec->targets[t].values[i];
		char one[DNAME_MAXLEN * 4 + 1];

		if (f->rec->type == 1 && v->len == 4)
			inet_ntop(AF_INET, v->data, one, sizeof(one));
		else if (f->rec->type == 28 && v->len == 16)
			inet_ntop(AF_INET6, v->data, one, sizeof(one));
		else
			dname_to_str(v->data, one, sizeof(one));
		off += (size_t)snprintf(buf + off, off < size ? size - off : 0,
		    "%s%s", i > 0 ? "," : "", one);
		if (off >= size)
			break;
	}
}

/* --- persistence and the event log ------------------------------------------ */

static json_t *
fence_to_json(const struct fence *f)
{
	json_t *o = jsonx_check(json_object());
	json_t *targets = jsonx_check(json_array());

	jsonx_set(o, "name", json_string(f->cf->name));
	jsonx_set(o, "phase", json_string(fence_phase_name(f->phase)));
	jsonx_set(o, "step", json_string(fence_phase_name(f->step)));
	jsonx_set(o, "cur", json_integer(f->cur));
	jsonx_set(o, "from", json_integer(f->from));
	jsonx_set(o, "to", json_integer(f->to));
	jsonx_set(o, "desired", json_integer(f->desired));
	jsonx_set(o, "attempt", json_integer(f->attempt));
	jsonx_set(o, "since_ms", json_integer((json_int_t)f->since_ms));
	jsonx_set(o, "reason", json_string(f->reason));
	for (size_t t = 0; f->rec != NULL && t < f->rec->ntargets; t++)
		jsonx_append(targets, json_string(target_control(f, (int)t)));
	jsonx_set(o, "targets", targets);
	return o;
}

static void
save(struct fences *fs)
{
	json_t *doc, *list;
	char *text, *err = NULL;

	if (fs->state_path == NULL)
		return;
	doc = jsonx_check(json_object());
	list = jsonx_check(json_array());
	jsonx_set(doc, "version", json_integer(STATE_VERSION));
	for (size_t i = 0; i < fs->n; i++)
		jsonx_append(list, fence_to_json(&fs->f[i]));
	jsonx_set(doc, "fences", list);
	text = jsonx_dump(doc);
	json_decref(doc);
	if (fs_write_atomic(fs->state_path, text, strlen(text), 0640,
	    &err) != 0) {
		log_err(LOG_SRC_FENCE, "cannot save the fence states: %s", err);
		free(err);
	}
	free(text);
}

/* One line in the event log, and one in the log. */
static void
event(struct fence *f, const char *what, const char *detail)
{
	struct fences *fs = f->fs;
	json_t *o;
	char ts[40], *line;
	int fd;

	if (f->phase == FENCE_SERVING)
		log_notice(LOG_SRC_FENCE, "%s: %s (serving %s)%s%s",
		    f->cf->name, what, target_control(f, f->cur),
		    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	else
		log_notice(LOG_SRC_FENCE, "%s: %s (%s -> %s)%s%s", f->cf->name,
		    what, target_control(f, f->from), target_control(f, f->to),
		    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	if (fs->events_path == NULL)
		return;
	clock_iso8601(clock_wall_ms(), ts, sizeof(ts));
	o = jsonx_check(json_object());
	jsonx_set(o, "ts", json_string(ts));
	jsonx_set(o, "fence", json_string(f->cf->name));
	jsonx_set(o, "event", json_string(what));
	jsonx_set(o, "phase", json_string(fence_phase_name(f->phase)));
	jsonx_set(o, "from", json_string(target_control(f, f->from)));
	jsonx_set(o, "to", json_string(target_control(f, f->to)));
	if (f->phase == FENCE_SERVING)
		jsonx_set(o, "serving", json_string(target_control(f, f->cur)));
	jsonx_set(o, "attempt", json_integer(f->attempt));
	if (detail != NULL)
		jsonx_set(o, "detail", json_string(detail));
	line = jsonx_dump(o);
	json_decref(o);
	fd = open(fs->events_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0640);
	if (fd < 0 || fs_write_all(fd, line, strlen(line)) != 0 ||
	    fs_write_all(fd, "\n", 1) != 0)
		log_neterr(LOG_SRC_FENCE, "cannot append to %s: %s",
		    fs->events_path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(line);
}

/* --- the state machine ------------------------------------------------------- */

static void start_step(struct fence *f);

static void
changed(struct fences *fs)
{
	if (fs->changed != NULL)
		event_active(fs->changed, EV_TIMEOUT, 0);
}

static void
changed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fences *fs = arg;

	(void)fd;
	(void)what;
	if (fs->cb != NULL)
		fs->cb(fs->cbarg);
}

/*
 * Move to phase: persist first, then log, then start the step's hook.
 * The phase's targets are set by the caller.
 */
static void
enter(struct fence *f, enum fence_phase phase, const char *what,
    const char *detail)
{
	f->phase = phase;
	f->attempt = 1;
	f->since_ms = clock_wall_ms();
	if (phase != FENCE_FAILED)
		f->reason[0] = '\0';
	save(f->fs);
	event(f, what, detail);
	changed(f->fs);
	if (phase == FENCE_FENCING || phase == FENCE_PROMOTING ||
	    phase == FENCE_CHECKING)
		start_step(f);
}

/* Begin fencing from, for to (-1: by hand, nothing to move to). */
static void
begin_fencing(struct fence *f, int from, int to, const char *what)
{
	f->from = from;
	f->to = to;
	f->cur = -1;
	enter(f, FENCE_FENCING, what, NULL);
}

/* The step that just ended went well (or was confirmed): go on. */
static void
step_done(struct fence *f, enum fence_phase step)
{
	switch (step) {
	case FENCE_FENCING:
		if (f->to < 0 && f->desired >= 0 && f->desired != f->from)
			f->to = f->desired;
		if (f->to >= 0 && f->to == f->from) {
			/* Selected again while it was being fenced: the old
			 * writer is read-only now, and no hook undoes a fence.
			 * Hold, withdrawn, until the selection moves or an
			 * operator confirms. */
			f->to = -1;
			enter(f, FENCE_FENCED, "the fenced target is selected "
			    "again: held, nothing published until the "
			    "selection moves or `arcdnsctl fence confirm`", NULL);
			return;
		}
		if (f->to < 0) {
			enter(f, FENCE_FENCED, "fenced by hand; nothing "
			    "published", NULL);
			return;
		}
		enter(f, FENCE_PROMOTING, "fence done", NULL);
		return;
	case FENCE_PROMOTING:
	case FENCE_CHECKING:
		if (f->desired >= 0 && f->desired != f->to) {
			/* The selection moved on meanwhile: to may be a
			 * writer now, so it is fenced in its turn. */
			begin_fencing(f, f->to, f->desired, "selection moved "
			    "during the sequence: fencing the new target "
			    "too");
			return;
		}
		if (step == FENCE_PROMOTING) {
			enter(f, FENCE_CHECKING, "promoted", NULL);
			return;
		}
		f->cur = f->to;
		f->from = -1;
		enter(f, FENCE_SERVING, "ready: published", NULL);
		return;
	default:
		return;
	}
}

static uint32_t
backoff_ms(const struct fence *f)
{
	uint64_t d = f->fs->test_backoff_ms != 0 ? f->fs->test_backoff_ms :
	    f->cf->backoff_ms;

	for (unsigned i = 1; i < f->attempt && d < MAX_BACKOFF_MS; i++)
		d *= 2;
	if (d > MAX_BACKOFF_MS)
		d = MAX_BACKOFF_MS;
	if (!f->fs->no_jitter && d > 1)
		d = d / 2 + (uint64_t)arc4random_uniform((uint32_t)(d / 2 + 1));
	return (uint32_t)d;
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fence *f = arg;

	(void)fd;
	(void)what;
	start_step(f);
}

/* A run of the current step failed: retry later, or fail closed. */
static void
step_failed(struct fence *f, const char *why)
{
	char detail[512];

	snprintf(f->reason, sizeof(f->reason), "%s %s for %s: %s",
	    fence_phase_name(f->phase), f->phase == FENCE_FENCING ?
	    "hook" : f->phase == FENCE_PROMOTING ? "hook" : "ready-check",
	    target_control(f, f->phase == FENCE_FENCING ? f->from : f->to),
	    why);
	if (f->attempt <= f->cf->retries) {
		uint32_t ms = backoff_ms(f);
		struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

		snprintf(detail, sizeof(detail), "attempt %u failed (%s); "
		    "again in %u ms", f->attempt, why, ms);
		event(f, "step failed", detail);
		f->attempt++;
		save(f->fs);
		evtimer_add(f->retry, &tv);
		return;
	}
	f->step = f->phase;
	snprintf(detail, sizeof(detail), "%s; the writer stays withdrawn "
	    "until `arcdnsctl fence confirm %s`", f->reason, f->cf->name);
	f->phase = FENCE_FAILED;
	f->since_ms = clock_wall_ms();
	save(f->fs);
	event(f, "failed closed", detail);
	log_err(LOG_SRC_FENCE, "%s: failed closed: %s", f->cf->name,
	    f->reason);
	changed(f->fs);
}

static void
hook_done(const struct hook_result *r, void *arg)
{
	struct fence *f = arg;
	char why[96];

	f->run = NULL;
	if (r->exit_status == 0 && !r->timed_out) {
		char detail[64];

		snprintf(detail, sizeof(detail), "exit 0 after %llu ms",
		    (unsigned long long)r->elapsed_ms);
		event(f, "hook succeeded", detail);
		step_done(f, f->phase);
		return;
	}
	if (r->timed_out)
		snprintf(why, sizeof(why), "timed out after %llu ms",
		    (unsigned long long)r->elapsed_ms);
	else if (r->signal != 0)
		snprintf(why, sizeof(why), "killed by signal %d", r->signal);
	else
		snprintf(why, sizeof(why), "exit status %d", r->exit_status);
	step_failed(f, why);
}

/* Run the hook of the current phase (or skip a step that has none). */
static void
start_step(struct fence *f)
{
	const struct conf_fence *cf = f->cf;
	char *const *argv;
	const char *action;
	int target;
	char *env[8 + 64 + 1], values[1024], tag[96], *err = NULL;
	size_t n = 0;

	switch (f->phase) {
	case FENCE_FENCING:
		argv = cf->hook;
		action = "fence";
		target = f->from;
		break;
	case FENCE_PROMOTING:
		argv = cf->promote;
		action = "promote";
		target = f->to;
		break;
	case FENCE_CHECKING:
		argv = cf->ready_check;
		action = "check";
		target = f->to;
		break;
	default:
		return;
	}
	if (argv == NULL) {
		step_done(f, f->phase);		/* no such hook configured */
		return;
	}
	if (target < 0) {
		/* Nothing to act on (a state restored without a target):
		 * the step is trivially done. */
		step_done(f, f->phase);
		return;
	}
	target_values(f, target, values, sizeof(values));
	env[n++] = xstrdup(HOOK_PATH);
	env[n++] = xstrfmt("ARCDNS_ACTION=%s", action);
	env[n++] = xstrfmt("ARCDNS_FENCE=%s", cf->name);
	env[n++] = xstrfmt("ARCDNS_TARGET=%s", values);
	env[n++] = xstrfmt("ARCDNS_REGION=%s", target_region(f, target));
	env[n++] = xstrfmt("ARCDNS_CONTROL=%s", target_control(f, target));
	for (size_t i = 0; cf->env != NULL && cf->env[i] != NULL && i < 64;
	    i++)
		env[n++] = xstrdup(cf->env[i]);
	env[n] = NULL;
	snprintf(tag, sizeof(tag), "%s %s %s", cf->name, action,
	    target_control(f, target));
	f->run = hook_run(f->fs->base, argv, env, cf->timeout_ms, tag,
	    hook_done, f, &err);
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	if (f->run == NULL) {
		step_failed(f, err != NULL ? err : "cannot start");
		free(err);
	}
}

/* --- the API ------------------------------------------------------------------- */

struct fences *
fences_new(struct event_base *base, const struct conf *conf,
    const char *state_path, const char *events_path, fence_change_cb cb,
    void *arg)
{
	struct fences *fs = xcalloc(1, sizeof(*fs));

	fs->base = base;
	fs->conf = conf;
	fs->state_path = state_path != NULL ? xstrdup(state_path) : NULL;
	fs->events_path = events_path != NULL ? xstrdup(events_path) : NULL;
	fs->cb = cb;
	fs->cbarg = arg;
	fs->changed = event_new(base, -1, 0, changed_cb, fs);
	fs->n = conf->nfences;
	fs->f = xcalloc(fs->n + 1, sizeof(*fs->f));
	for (size_t i = 0; i < fs->n; i++) {
		struct fence *f = &fs->f[i];

		f->fs = fs;
		f->cf = &conf->fences[i];
		f->cur = f->from = f->to = f->desired = -1;
		f->retry = evtimer_new(base, retry_cb, f);
		for (size_t z = 0; z < conf->nzones && f->rec == NULL; z++)
			for (size_t r = 0; r < conf->zones[z].nrecords; r++)
				if (conf->zones[z].records[r].fence_index ==
				    (int)i) {
					f->rec = &conf->zones[z].records[r];
					break;
				}
	}
	return fs;
}

void
fences_free(struct fences *fs)
{
	if (fs == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		hook_cancel(fs->f[i].run);
		if (fs->f[i].retry != NULL)
			event_free(fs->f[i].retry);
	}
	if (fs->changed != NULL)
		event_free(fs->changed);
	free(fs->f);
	free(fs->state_path);
	free(fs->events_path);
	free(fs);
}

size_t
fences_count(const struct fences *fs)
{
	return fs->n;
}

void
fences_set_test_timing(struct fences *fs, uint32_t backoff_ms_)
{
	fs->test_backoff_ms = backoff_ms_;
	fs->no_jitter = true;
}

void
fences_update(struct fences *fs, size_t i, int desired)
{
	struct fence *f = &fs->f[i];

	if (desired < 0)
		return;		/* nothing known: nothing moves */
	if (f->desired != desired) {
		f->desired = desired;
		save(fs);
	}
	switch (f->phase) {
	case FENCE_IDLE:
		f->cur = desired;
		enter(f, FENCE_SERVING, "first selection: published", NULL);
		break;
	case FENCE_SERVING:
		if (desired != f->cur)
			begin_fencing(f, f->cur, desired, "selection moved: "
			    "writer withdrawn");
		break;
	case FENCE_FENCING:
		if (f->to != desired) {
			f->to = desired;
			save(fs);
		}
		break;
	case FENCE_FAILED:
		/* A failed fence moves on (once confirmed) towards what is
		 * selected now; a failed promote or check keeps its target,
		 * which may be a writer already and is fenced in its turn. */
		if (f->step == FENCE_FENCING && f->to != desired) {
			f->to = desired;
			save(fs);
		}
		break;
	case FENCE_FENCED:
		if (desired != f->from) {
			f->to = desired;
			enter(f, FENCE_PROMOTING, "selection moved away from "
			    "the target fenced by hand", NULL);
		}
		break;
	default:
		break;	/* promoting, checking: looked at when they end */
	}
}

int
fences_publish(const struct fences *fs, size_t i, uint64_t stale_ms)
{
	const struct fence *f = &fs->f[i];

	if (f->phase != FENCE_SERVING)
		return -1;
	if (f->cf->stale == CONF_FENCE_STALE_WITHDRAW && stale_ms > 0 &&
	    stale_ms >= f->cf->stale_lease_ms)
		return -1;
	return f->cur;
}

static struct fence *
find(struct fences *fs, const char *name, char **errmsg)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->f[i].cf->name, name) == 0)
			return &fs->f[i];
	*errmsg = xstrfmt("no fence '%s'", name);
	return NULL;
}

int
fences_manual(struct fences *fs, const char *name, char **errmsg)
{
	struct fence *f = find(fs, name, errmsg);

	if (f == NULL)
		return ERR_NOTFOUND;
	if (f->phase != FENCE_SERVING) {
		*errmsg = xstrfmt("fence '%s' is %s: only a served writer can "
		    "be fenced by hand", name, fence_phase_name(f->phase));
		return ERR_INVAL;
	}
	begin_fencing(f, f->cur, -1, "fence by hand: writer withdrawn");
	return 0;
}

int
fences_confirm(struct fences *fs, const char *name, char **errmsg)
{
	struct fence *f = find(fs, name, errmsg);
	enum fence_phase step;

	if (f == NULL)
		return ERR_NOTFOUND;
	if (f->phase == FENCE_FENCED) {
		if (f->desired < 0) {
			*errmsg = xstrfmt("fence '%s': no target is selected "
			    "yet", name);
			return ERR_INVAL;
		}
		f->to = f->desired;
		enter(f, FENCE_PROMOTING, "confirmed by the operator", NULL);
		return 0;
	}
	if (f->phase != FENCE_FAILED) {
		*errmsg = xstrfmt("fence '%s' is %s: nothing to confirm", name,
		    fence_phase_name(f->phase));
		return ERR_INVAL;
	}
	step = f->step;
	event(f, "confirmed by the operator", fence_phase_name(step));
	f->phase = step;	/* step_done() looks at the step's targets */
	if (step == FENCE_FENCING && f->desired >= 0)
		f->to = f->desired;	/* what is selected now, not then */
	step_done(f, step);
	return 0;
}

void
fences_status(const struct fences *fs, size_t i, struct fence_status *out)
{
	const struct fence *f = &fs->f[i];

	*out = (struct fence_status){
		.name = f->cf->name, .phase = f->phase, .step = f->step,
		.cur = f->cur, .from = f->from, .to = f->to,
		.desired = f->desired, .attempt = f->attempt,
		.since_ms = f->since_ms,
		.reason = f->reason[0] != '\0' ? f->reason : NULL,
	};
}

json_t *
fences_json(const struct fences *fs)
{
	json_t *list = jsonx_check(json_array());

	for (size_t i = 0; fs != NULL && i < fs->n; i++) {
		const struct fence *f = &fs->f[i];
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "name", json_string(f->cf->name));
		jsonx_set(o, "phase", json_string(fence_phase_name(f->phase)));
		if (f->phase == FENCE_FAILED)
			jsonx_set(o, "failed_step",
			    json_string(fence_phase_name(f->step)));
		jsonx_set(o, "serving", f->phase == FENCE_SERVING ?
		    json_string(target_control(f, f->cur)) : json_null());
		jsonx_set(o, "from", f->from >= 0 ?
		    json_string(target_control(f, f->from)) : json_null());
		jsonx_set(o, "to", f->to >= 0 ?
		    json_string(target_control(f, f->to)) : json_null());
		jsonx_set(o, "selected", f->desired >= 0 ?
		    json_string(target_control(f, f->desired)) : json_null());
		jsonx_set(o, "attempt", json_integer(f->attempt));
		jsonx_set(o, "since_ms", json_integer((json_int_t)f->since_ms));
		jsonx_set(o, "reason", f->reason[0] != '\0' ?
		    json_string(f->reason) : json_null());
		jsonx_append(list, o);
	}
	return list;
}

/* --- loading the state file -------------------------------------------------- */

static int
phase_parse(const char *s, enum fence_phase *out)
{
	for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]);
	    i++)
		if (strcmp(s, phase_names[i]) == 0) {
			*out = (enum fence_phase)i;
			return 0;
		}
	return ERR_PARSE;
}

/* Fail closed: a state we cannot trust publishes nothing. */
static void
distrust(struct fence *f, const char *why)
{
	f->phase = FENCE_FAILED;
	f->step = FENCE_FENCING;
	f->cur = f->from = f->to = -1;
	snprintf(f->reason, sizeof(f->reason), "%s", why);
	f->since_ms = clock_wall_ms();
}

static const char *
restore(struct fence *f, json_t *o)
{
	const char *phase, *step, *reason = "";
	json_int_t cur, from, to, desired, attempt, since;
	json_t *targets, *t;
	size_t i;
	int n = f->rec != NULL ? (int)f->rec->ntargets : 0;

	if (json_unpack(o, "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s?s, "
	    "s:o}", "phase", &phase, "step", &step, "cur", &cur, "from", &from,
	    "to", &to, "desired", &desired, "attempt", &attempt, "since_ms",
	    &since, "reason", &reason, "targets", &targets) != 0 ||
	    !json_is_array(targets))
		return "an entry lacks a field";
	if (phase_parse(phase, &f->phase) != 0 ||
	    phase_parse(step, &f->step) != 0)
		return "unknown phase";
	if (cur < -1 || cur >= n || from < -1 || from >= n || to < -1 ||
	    to >= n || desired < -1 || desired >= n || attempt < 0)
		return "a target index out of range";
	if (json_array_size(targets) != (size_t)n)
		return "the fence's targets changed";
	json_array_foreach(targets, i, t)
		if (!json_is_string(t) || strcmp(json_string_value(t),
		    target_control(f, (int)i)) != 0)
			return "the fence's targets changed";
	f->cur = (int)cur;
	f->from = (int)from;
	f->to = (int)to;
	f->desired = (int)desired;
	f->attempt = (unsigned)attempt;
	f->since_ms = (uint64_t)since;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
	return NULL;
}

int
fences_load(struct fences *fs, char **errmsg)
{
	json_error_t jerr;
	json_t *doc, *list, *o;
	json_int_t version;
	const char *bad = NULL;
	char *first = NULL;
	size_t i;

	if (fs->state_path == NULL || access(fs->state_path, F_OK) != 0)
		return 0;
	doc = json_load_file(fs->state_path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL || json_unpack(doc, "{s:I, s:o}", "version", &version,
	    "fences", &list) != 0 || version != STATE_VERSION ||
	    !json_is_array(list)) {
		for (i = 0; i < fs->n; i++)
			distrust(&fs->f[i], "the fence state file is corrupt");
		*errmsg = xstrfmt("%s: not a fence state file (%s); every "
		    "fence starts failed closed", fs->state_path,
		    doc == NULL ? jerr.text : "bad structure");
		json_decref(doc);
		save(fs);
		return ERR_PARSE;
	}
	json_array_foreach(list, i, o) {
		const char *name = NULL;
		struct fence *f = NULL;

		if (json_unpack(o, "{s:s}", "name", &name) != 0)
			continue;
		for (size_t j = 0; j < fs->n; j++)
			if (strcmp(fs->f[j].cf->name, name) == 0)
				f = &fs->f[j];
		if (f == NULL)
			continue;	/* no longer configured */
		bad = restore(f, o);
		if (bad != NULL) {
			distrust(f, bad);
			if (first == NULL)
				first = xstrfmt("%s: fence '%s': %s; it starts "
				    "failed closed", fs->state_path, name, bad);
		}
	}
	json_decref(doc);
	/* Resume what was under way: hooks are safe to run again. */
	for (i = 0; i < fs->n; i++) {
		struct fence *f = &fs->f[i];

		if (f->phase == FENCE_FENCING || f->phase == FENCE_PROMOTING ||
		    f->phase == FENCE_CHECKING) {
			f->attempt = 1;
			event(f, "resumed after a restart",
			    fence_phase_name(f->phase));
			start_step(f);
		}
	}
	save(fs);
	if (first != NULL) {
		*errmsg = first;
		return ERR_PARSE;
	}
	return 0;
}
