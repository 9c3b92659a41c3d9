#include "mirror/mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "log/log.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

#define STATE_VERSION	1
/*
 * Changes waiting for mirror_log_changes(). Bounded so that an event log
 * that cannot be written for days does not grow the daemon without limit:
 * past the cap the oldest are dropped and counted.
 */
#define PENDING_MAX	4096

/*
 * One configured control. pub's strings point at the owned copies below;
 * sync_pub() keeps them in step.
 */
struct ctl {
	struct mirror_control	 pub;
	char			*name;
	char			*cfg_arn;	/* configured ARN, or NULL */
	char			*cfg_arc_name;	/* configured ARC name, or NULL */
	char			*arn;		/* configured or learnt */
	char			*arc_name;	/* configured or learnt */
	char			*endpoint;
};

struct change {
	size_t			 idx;
	char			*arn;
	enum mirror_state	 old, new;
	uint64_t		 ts_ms;
	char			*endpoint;
};

struct observer {
	mirror_observer_cb	 cb;
	void			*arg;
};

struct mirror {
	struct ctl		*ctls;
	size_t			 nctls;
	struct observer		*obs;
	size_t			 nobs;
	struct change		*pending;
	size_t			 npending;
	uint64_t		 dropped;	/* changes past PENDING_MAX */
	uint64_t		 last_success_ms;
};

static void
sync_pub(struct ctl *c)
{
	c->pub.name = c->name;
	c->pub.arn = c->arn;
	c->pub.arc_name = c->arc_name;
	c->pub.endpoint = c->endpoint;
}

static void
set_str(char **dst, const char *src)
{
	if (*dst != NULL && src != NULL && strcmp(*dst, src) == 0)
		return;
	free(*dst);
	*dst = src != NULL ? xstrdup(src) : NULL;
}

const char *
mirror_state_name(enum mirror_state s)
{
	switch (s) {
	case MIRROR_ON:
		return "On";
	case MIRROR_OFF:
		return "Off";
	default:
		return "unknown";
	}
}

struct mirror *
mirror_new(const struct conf *conf)
{
	struct mirror *m = xcalloc(1, sizeof(*m));

	m->nctls = conf->ncontrols;
	m->ctls = xcalloc(m->nctls > 0 ? m->nctls : 1, sizeof(*m->ctls));
	for (size_t i = 0; i < m->nctls; i++) {
		const struct conf_control *cc = &conf->controls[i];
		struct ctl *c = &m->ctls[i];

		c->name = xstrdup(cc->name);
		set_str(&c->cfg_arn, cc->arn);
		set_str(&c->cfg_arc_name, cc->arc_name);
		set_str(&c->arn, cc->arn);
		set_str(&c->arc_name, cc->arc_name);
		sync_pub(c);
	}
	return m;
}

static void
change_fini(struct change *ch)
{
	free(ch->arn);
	free(ch->endpoint);
}

void
mirror_free(struct mirror *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nctls; i++) {
		struct ctl *c = &m->ctls[i];

		free(c->name);
		free(c->cfg_arn);
		free(c->cfg_arc_name);
		free(c->arn);
		free(c->arc_name);
		free(c->endpoint);
	}
	for (size_t i = 0; i < m->npending; i++)
		change_fini(&m->pending[i]);
	free(m->pending);
	free(m->ctls);
	free(m->obs);
	free(m);
}

void
mirror_observe(struct mirror *m, mirror_observer_cb cb, void *arg)
{
	m->obs = xrealloc(m->obs, m->nobs + 1, sizeof(*m->obs));
	m->obs[m->nobs].cb = cb;
	m->obs[m->nobs].arg = arg;
	m->nobs++;
}

/* Every control back to "nothing known"; configured names stay. */
static void
reset(struct mirror *m)
{
	for (size_t i = 0; i < m->nctls; i++) {
		struct ctl *c = &m->ctls[i];

		c->pub.state = MIRROR_UNKNOWN;
		c->pub.changed_ms = 0;
		c->pub.missing = false;
		set_str(&c->arn, c->cfg_arn);
		set_str(&c->arc_name, c->cfg_arc_name);
		set_str(&c->endpoint, NULL);
		sync_pub(c);
	}
	m->last_success_ms = 0;
}

/* ---- applying a poll --------------------------------------------------- */

/*
 * The poll entry for a control configured by ARC name. Names are unique
 * per control panel only, so two panels may both list one. The control
 * keeps the ARN it was matched to before (the learnt one, also restored
 * from the state file) as long as that ARN is still listed under the
 * name; otherwise it takes the entry whose ARN sorts first (strcmp), so
 * the choice does not depend on the order in which ARC lists them.
 */
static const struct mirror_entry *
match_by_name(const struct ctl *c, const struct mirror_entry *e, size_t n)
{
	const struct mirror_entry *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (e[i].name == NULL || e[i].arn == NULL ||
		    strcmp(e[i].name, c->cfg_arc_name) != 0)
			continue;
		if (c->arn != NULL && strcmp(e[i].arn, c->arn) == 0)
			return &e[i];
		if (best == NULL || strcmp(e[i].arn, best->arn) < 0)
			best = &e[i];
	}
	return best;
}

static const struct mirror_entry *
match(const struct ctl *c, const struct mirror_entry *e, size_t n)
{
	if (c->cfg_arn == NULL)
		return match_by_name(c, e, n);
	for (size_t i = 0; i < n; i++)
		if (e[i].arn != NULL && strcmp(e[i].arn, c->cfg_arn) == 0)
			return &e[i];
	return NULL;
}

static void
queue_change(struct mirror *m, size_t idx, enum mirror_state old,
    const char *endpoint, uint64_t now_ms)
{
	struct change *ch;

	if (m->npending == PENDING_MAX) {
		change_fini(&m->pending[0]);
		memmove(&m->pending[0], &m->pending[1],
		    (m->npending - 1) * sizeof(*m->pending));
		m->npending--;
		m->dropped++;
	}
	m->pending = xrealloc(m->pending, m->npending + 1,
	    sizeof(*m->pending));
	ch = &m->pending[m->npending++];
	ch->idx = idx;
	ch->arn = m->ctls[idx].arn != NULL ? xstrdup(m->ctls[idx].arn) : NULL;
	ch->old = old;
	ch->new = m->ctls[idx].pub.state;
	ch->ts_ms = now_ms;
	ch->endpoint = endpoint != NULL ? xstrdup(endpoint) : NULL;
}

/* Missing: log the transition once, keep the state (static stability). */
static void
mark_missing(struct ctl *c, bool missing)
{
	if (missing && !c->pub.missing)
		log_warn(LOG_SRC_ARC, "control '%s' (%s) is not listed by "
		    "the ARC cluster; keeping its last state (%s)", c->name,
		    c->cfg_arn != NULL ? c->cfg_arn : c->cfg_arc_name,
		    mirror_state_name(c->pub.state));
	else if (!missing && c->pub.missing)
		log_notice(LOG_SRC_ARC, "control '%s' is listed again",
		    c->name);
	c->pub.missing = missing;
}

int
mirror_apply(struct mirror *m, const struct mirror_entry *entries,
    size_t n, const char *endpoint, uint64_t now_ms)
{
	int changes = 0;

	/*
	 * An empty list where states were known is suspicious (spec 8): a
	 * cluster does not lose every control at once. Keep everything,
	 * and do not count the poll as a success either, so the mirror
	 * goes stale instead of claiming to be current.
	 */
	if (n == 0 && mirror_has_state(m) && m->nctls > 0) {
		for (size_t i = 0; i < m->nctls; i++)
			mark_missing(&m->ctls[i], true);
		return 0;
	}
	for (size_t i = 0; i < m->nctls; i++) {
		struct ctl *c = &m->ctls[i];
		const struct mirror_entry *e = match(c, entries, n);
		enum mirror_state old = c->pub.state, new;

		mark_missing(c, e == NULL);
		if (e == NULL)
			continue;
		if (c->cfg_arn == NULL)
			set_str(&c->arn, e->arn);
		if (e->name != NULL)
			set_str(&c->arc_name, e->name);
		sync_pub(c);
		new = e->on ? MIRROR_ON : MIRROR_OFF;
		if (new == old)
			continue;
		c->pub.state = new;
		c->pub.changed_ms = now_ms;
		set_str(&c->endpoint, endpoint);
		sync_pub(c);
		queue_change(m, i, old, endpoint, now_ms);
		changes++;
	}
	m->last_success_ms = now_ms;
	if (changes > 0)
		for (size_t i = 0; i < m->nobs; i++)
			m->obs[i].cb(m, m->obs[i].arg);
	return changes;
}

/* ---- persistence ------------------------------------------------------- */

static json_t *
to_json(const struct mirror *m, uint64_t saved_ms)
{
	json_t *doc = jsonx_check(json_object());
	json_t *list = jsonx_check(json_array());

	jsonx_set(doc, "version", json_integer(STATE_VERSION));
	jsonx_set(doc, "saved_ms", json_integer((json_int_t)saved_ms));
	jsonx_set(doc, "last_success_ms",
	    json_integer((json_int_t)m->last_success_ms));
	for (size_t i = 0; i < m->nctls; i++) {
		const struct ctl *c = &m->ctls[i];
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "name", json_string(c->name));
		jsonx_set(o, "arn", jsonx_str_or_null(c->arn));
		jsonx_set(o, "arc_name", jsonx_str_or_null(c->arc_name));
		jsonx_set(o, "state", json_string(mirror_state_name(c->pub.state)));
		jsonx_set(o, "changed_ms",
		    json_integer((json_int_t)c->pub.changed_ms));
		jsonx_set(o, "endpoint", jsonx_str_or_null(c->endpoint));
		jsonx_append(list, o);
	}
	jsonx_set(doc, "controls", list);
	return doc;
}



int
mirror_save(const struct mirror *m, const char *path, char **errmsg)
{
	json_t *doc = to_json(m, clock_wall_ms());
	char *body = jsonx_dump(doc);
	char *text = xstrfmt("%s\n", body);
	int ret = fs_write_atomic(path, text, strlen(text), 0644, errmsg);

	json_decref(doc);
	free(body);
	free(text);
	return ret;
}

/* One control of the state file, checked but not applied yet. */
struct saved {
	const char		*name, *arn, *arc_name, *endpoint;
	enum mirror_state	 state;
	uint64_t		 changed_ms;
};

/* obj[key] as a string or null; false (with *why) for anything else. */
static bool
get_opt_str(json_t *obj, const char *key, const char **out, char **why)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*why = xstrfmt("'%s' is missing", key);
		return false;
	}
	if (json_is_null(v)) {
		*out = NULL;
		return true;
	}
	if (!json_is_string(v)) {
		*why = xstrfmt("'%s' must be a string or null", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

static bool
get_ms(json_t *obj, const char *key, uint64_t *out, char **why)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*why = xstrfmt("'%s' is missing", key);
		return false;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*why = xstrfmt("'%s' must be a non-negative integer", key);
		return false;
	}
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static bool
parse_saved(json_t *o, struct saved *s, char **why)
{
	const char *state;

	if (!json_is_object(o)) {
		*why = xstrfmt("not an object");
		return false;
	}
	if (!get_opt_str(o, "name", &s->name, why) ||
	    !get_opt_str(o, "arn", &s->arn, why) ||
	    !get_opt_str(o, "arc_name", &s->arc_name, why) ||
	    !get_opt_str(o, "state", &state, why) ||
	    !get_ms(o, "changed_ms", &s->changed_ms, why) ||
	    !get_opt_str(o, "endpoint", &s->endpoint, why))
		return false;
	if (s->name == NULL) {
		*why = xstrfmt("'name' must be a string");
		return false;
	}
	if (state != NULL && strcmp(state, "On") == 0)
		s->state = MIRROR_ON;
	else if (state != NULL && strcmp(state, "Off") == 0)
		s->state = MIRROR_OFF;
	else if (state != NULL && strcmp(state, "unknown") == 0)
		s->state = MIRROR_UNKNOWN;
	else {
		*why = xstrfmt("'state' must be \"On\", \"Off\" or "
		    "\"unknown\"");
		return false;
	}
	return true;
}

/* Entry i of the list into s[i]; NULL or a new message. */
static char *
check_entry(json_t *o, struct saved *s, size_t i)
{
	char *why = NULL;

	if (!parse_saved(o, &s[i], &why))
		return why;
	for (size_t j = 0; j < i; j++)
		if (strcmp(s[j].name, s[i].name) == 0)
			return xstrfmt("control '%s' appears twice",
			    s[i].name);
	return NULL;
}

/*
 * Check the whole document into saved[] (borrowing doc's strings).
 * Returns NULL or a new message saying what is wrong.
 */
static char *
check_doc(json_t *doc, struct saved **out, size_t *nout, uint64_t *last_ok)
{
	json_t *v, *list;
	uint64_t saved_ms;
	struct saved *s;
	size_t n;
	char *why = NULL, *msg;

	if (!json_is_object(doc))
		return xstrfmt("the top level must be an object");
	v = json_object_get(doc, "version");
	if (v == NULL)
		return xstrfmt("'version' is missing");
	if (!json_is_integer(v))
		return xstrfmt("'version' must be an integer");
	if (json_integer_value(v) != STATE_VERSION)
		return xstrfmt("unknown version %" JSON_INTEGER_FORMAT
		    " (this arcdns reads version %d)", json_integer_value(v),
		    STATE_VERSION);
	if (!get_ms(doc, "saved_ms", &saved_ms, &why))
		return why;
	/* Optional: files written before it existed load as "never". */
	*last_ok = 0;
	if (json_object_get(doc, "last_success_ms") != NULL &&
	    !get_ms(doc, "last_success_ms", last_ok, &why))
		return why;
	list = json_object_get(doc, "controls");
	if (list == NULL)
		return xstrfmt("'controls' is missing");
	if (!json_is_array(list))
		return xstrfmt("'controls' must be an array");
	n = json_array_size(list);
	s = xcalloc(n > 0 ? n : 1, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		why = check_entry(json_array_get(list, i), s, i);
		if (why != NULL) {
			msg = xstrfmt("controls[%zu]: %s", i, why);
			free(why);
			free(s);
			return msg;
		}
	}
	*out = s;
	*nout = n;
	return NULL;
}

/*
 * Whether saved entry s may stand for configured control c. A control
 * configured by ARN takes only an entry with that ARN: a different one
 * means the config now points at another control. One configured by
 * name takes an entry with that ARC name, and its learnt ARN with it.
 */
static bool
restorable(const struct ctl *c, const struct saved *s)
{
	if (c->cfg_arn != NULL)
		return s->arn != NULL && strcmp(s->arn, c->cfg_arn) == 0;
	return s->arc_name != NULL &&
	    strcmp(s->arc_name, c->cfg_arc_name) == 0;
}

static void
restore(struct mirror *m, const char *path, const struct saved *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ctl *c = NULL;

		for (size_t j = 0; j < m->nctls && c == NULL; j++)
			if (strcmp(m->ctls[j].name, s[i].name) == 0)
				c = &m->ctls[j];
		if (c == NULL) {
			log_info(LOG_SRC_ARC, "%s: control '%s' is no longer "
			    "configured; ignored", path, s[i].name);
			continue;
		}
		if (!restorable(c, &s[i])) {
			log_notice(LOG_SRC_ARC, "%s: control '%s' now refers "
			    "to another routing control; its saved state is "
			    "not used", path, s[i].name);
			continue;
		}
		c->pub.state = s[i].state;
		c->pub.changed_ms = s[i].changed_ms;
		if (c->cfg_arn == NULL)
			set_str(&c->arn, s[i].arn);
		if (s[i].arc_name != NULL)
			set_str(&c->arc_name, s[i].arc_name);
		set_str(&c->endpoint, s[i].endpoint);
		sync_pub(c);
	}
}

int
mirror_load(struct mirror *m, const char *path, char **errmsg)
{
	json_error_t jerr;
	json_t *doc;
	struct saved *s = NULL;
	size_t n = 0;
	uint64_t last_ok = 0;
	char *why;
	FILE *f;

	reset(m);
	f = fopen(path, "re");
	if (f == NULL) {
		int e = errno;

		if (e == ENOENT)
			return 0;
		*errmsg = xstrfmt("%s: %s", path, strerror(e));
		return -e;
	}
	doc = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (doc == NULL) {
		*errmsg = xstrfmt("%s: not valid JSON (truncated or corrupt "
		    "state file): line %d, column %d: %s", path, jerr.line,
		    jerr.column, jerr.text);
		return ERR_PARSE;
	}
	why = check_doc(doc, &s, &n, &last_ok);
	if (why != NULL) {
		*errmsg = xstrfmt("%s: bad state file: %s", path, why);
		free(why);
		json_decref(doc);
		return ERR_PARSE;
	}
	restore(m, path, s, n);
	m->last_success_ms = last_ok;
	free(s);
	json_decref(doc);
	return 0;
}

/* ---- event log --------------------------------------------------------- */

static char *
change_line(const struct mirror *m, const struct change *ch)
{
	json_t *o = jsonx_check(json_object());
	char ts[64], *body, *line;

	clock_iso8601(ch->ts_ms, ts, sizeof(ts));
	jsonx_set(o, "ts", json_string(ts));
	jsonx_set(o, "control", json_string(m->ctls[ch->idx].name));
	jsonx_set(o, "arn", jsonx_str_or_null(ch->arn));
	jsonx_set(o, "old", json_string(mirror_state_name(ch->old)));
	jsonx_set(o, "new", json_string(mirror_state_name(ch->new)));
	jsonx_set(o, "endpoint", jsonx_str_or_null(ch->endpoint));
	body = jsonx_dump(o);
	json_decref(o);
	line = xstrfmt("%s\n", body);
	free(body);
	return line;
}

int
mirror_log_changes(struct mirror *m, const char *path, char **errmsg)
{
	size_t done = 0;
	int fd, ret = 0;

	if (m->npending == 0)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		*errmsg = xstrfmt("%s: %s", path, strerror(-ret));
		return ret;
	}
	if (m->dropped > 0) {
		log_warn(LOG_SRC_ARC, "%s: %" PRIu64 " changes were not "
		    "logged (the event log could not be written)", path,
		    m->dropped);
		m->dropped = 0;
	}
	for (; done < m->npending; done++) {
		char *line = change_line(m, &m->pending[done]);
		size_t len = strlen(line);
		ssize_t w;

		/* One write per line: O_APPEND keeps lines whole. */
		do
			w = write(fd, line, len);
		while (w < 0 && errno == EINTR);
		free(line);
		if (w < 0) {
			ret = -errno;
			break;
		}
		if ((size_t)w != len) {
			ret = ERR_IO;
			break;
		}
	}
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret != 0)
		*errmsg = xstrfmt("%s: %s", path, ret == ERR_IO ?
		    "short write" : strerror(-ret));
	/* Written lines leave the queue; the others wait for the next call. */
	for (size_t i = 0; i < done; i++)
		change_fini(&m->pending[i]);
	memmove(&m->pending[0], &m->pending[done],
	    (m->npending - done) * sizeof(*m->pending));
	m->npending -= done;
	return ret;
}

/* ---- freshness and lookups --------------------------------------------- */

uint64_t
mirror_last_success(const struct mirror *m)
{
	return m->last_success_ms;
}

bool
mirror_is_stale(const struct mirror *m, uint64_t now_ms,
    uint64_t stale_after_ms)
{
	if (m->last_success_ms == 0)
		return true;
	/*
	 * A clock that stepped back a little counts as fresh; one that went
	 * back further than the window (or a last success from a file
	 * written by a clock far ahead) does not keep it fresh for long.
	 */
	if (now_ms < m->last_success_ms)
		return m->last_success_ms - now_ms > stale_after_ms;
	return now_ms - m->last_success_ms > stale_after_ms;
}

bool
mirror_has_state(const struct mirror *m)
{
	for (size_t i = 0; i < m->nctls; i++)
		if (m->ctls[i].pub.state != MIRROR_UNKNOWN)
			return true;
	return false;
}

size_t
mirror_count(const struct mirror *m)
{
	return m->nctls;
}

const struct mirror_control *
mirror_control(const struct mirror *m, size_t i)
{
	return i < m->nctls ? &m->ctls[i].pub : NULL;
}

const struct mirror_control *
mirror_find(const struct mirror *m, const char *name)
{
	for (size_t i = 0; i < m->nctls; i++)
		if (strcmp(m->ctls[i].name, name) == 0)
			return &m->ctls[i].pub;
	return NULL;
}
