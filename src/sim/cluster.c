#include "sim/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arc/sigv4.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

#define STATE_VERSION	1
#define STATE_MAX_SIZE	(16u * 1024 * 1024)

/* A panel in ARN order, with where its controls sit in list order. */
struct panel_state {
	const struct simconf_panel	*def;
	size_t				 first, end;	/* list range */
	size_t				*pos;	/* def->controls[j] -> list */
};

struct sim_cluster {
	struct simconf		*conf;
	struct sim_control	*ctls;		/* list order */
	size_t			 nctls;
	struct panel_state	*panels;	/* ARN order */
	size_t			 npanels;
};

/* --- construction ------------------------------------------------------ */

struct sort_item {
	const struct simconf_panel	*panel;
	size_t				 control;	/* index in panel */
};

static int
cmp_panel(const void *a, const void *b)
{
	const struct panel_state *x = a, *y = b;

	return strcmp(x->def->arn, y->def->arn);
}

static int
cmp_item(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int d = strcmp(x->panel->arn, y->panel->arn);

	if (d != 0)
		return d;
	return strcmp(x->panel->controls[x->control].arn,
	    y->panel->controls[y->control].arn);
}

struct sim_cluster *
sim_cluster_new(struct simconf *conf)
{
	struct sim_cluster *c = xcalloc(1, sizeof(*c));
	struct sort_item *items;
	size_t n = 0;

	c->conf = conf;
	c->npanels = conf->npanels;
	c->panels = xcalloc(c->npanels ? c->npanels : 1, sizeof(*c->panels));
	for (size_t i = 0; i < conf->npanels; i++) {
		c->panels[i].def = &conf->panels[i];
		n += conf->panels[i].ncontrols;
	}
	qsort(c->panels, c->npanels, sizeof(*c->panels), cmp_panel);

	items = xcalloc(n ? n : 1, sizeof(*items));
	c->nctls = 0;
	for (size_t i = 0; i < c->npanels; i++)
		for (size_t j = 0; j < c->panels[i].def->ncontrols; j++)
			items[c->nctls++] = (struct sort_item){
			    c->panels[i].def, j};
	qsort(items, n, sizeof(*items), cmp_item);

	c->ctls = xcalloc(n ? n : 1, sizeof(*c->ctls));
	for (size_t i = 0; i < c->npanels; i++)
		c->panels[i].pos = xcalloc(c->panels[i].def->ncontrols + 1,
		    sizeof(size_t));
	/* Panels are contiguous in list order, and in the same order. */
	for (size_t k = 0, pi = 0; k < n; k++) {
		const struct simconf_control *def =
		    &items[k].panel->controls[items[k].control];
		struct sim_control *sc = &c->ctls[k];

		while (c->panels[pi].def != items[k].panel)
			c->panels[++pi].first = k;
		c->panels[pi].pos[items[k].control] = k;
		c->panels[pi].end = k + 1;
		sc->name = def->name;
		sc->arn = def->arn;
		sc->panel_name = items[k].panel->name;
		sc->panel_arn = items[k].panel->arn;
		sc->panel = pi;
		sc->on = def->on;
	}
	/* Panels without controls (and those after the last control). */
	for (size_t i = 0; i < c->npanels; i++)
		if (c->panels[i].def->ncontrols == 0)
			c->panels[i].first = c->panels[i].end =
			    i > 0 ? c->panels[i - 1].end : 0;
	free(items);
	return c;
}

int
sim_cluster_load(const char *path, struct sim_cluster **out, char **errmsg)
{
	struct simconf *conf;
	int ret;

	ret = simconf_load(path, &conf, errmsg);
	if (ret != 0)
		return ret;
	*out = sim_cluster_new(conf);
	return 0;
}

void
sim_cluster_free(struct sim_cluster *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->npanels; i++)
		free(c->panels[i].pos);
	free(c->panels);
	free(c->ctls);
	simconf_free(c->conf);
	free(c);
}

/* --- accessors --------------------------------------------------------- */

const struct simconf *
sim_cluster_conf(const struct sim_cluster *c)
{
	return c->conf;
}

const char *
sim_cluster_account(const struct sim_cluster *c)
{
	return c->conf->account;
}

bool
sim_cluster_lookup_cb(const char *access_key_id, struct sigv4_creds *out,
    void *arg)
{
	const struct sim_cluster *c = arg;

	for (size_t i = 0; i < c->conf->ncreds; i++) {
		const struct simconf_cred *cr = &c->conf->creds[i];

		if (strcmp(cr->access_key_id, access_key_id) != 0)
			continue;
		out->access_key_id = cr->access_key_id;
		out->secret_access_key = cr->secret_access_key;
		out->session_token = cr->session_token;
		return true;
	}
	return false;
}

size_t
sim_cluster_ncontrols(const struct sim_cluster *c)
{
	return c->nctls;
}

const struct sim_control *
sim_cluster_control(const struct sim_cluster *c, size_t i)
{
	return i < c->nctls ? &c->ctls[i] : NULL;
}

int
sim_cluster_find(const struct sim_cluster *c, const char *arn, size_t *index)
{
	size_t lo = 0, hi = c->nctls;

	/* List order is control ARN order: panel ARNs have one length. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(arn, c->ctls[mid].arn);

		if (d == 0) {
			*index = mid;
			return 0;
		}
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return ERR_NOTFOUND;
}

size_t
sim_cluster_npanels(const struct sim_cluster *c)
{
	return c->npanels;
}

const struct simconf_panel *
sim_cluster_panel(const struct sim_cluster *c, size_t i)
{
	return i < c->npanels ? c->panels[i].def : NULL;
}

int
sim_cluster_find_panel(const struct sim_cluster *c, const char *arn,
    size_t *index, size_t *first, size_t *end)
{
	for (size_t i = 0; i < c->npanels; i++) {
		if (strcmp(c->panels[i].def->arn, arn) != 0)
			continue;
		if (index != NULL)
			*index = i;
		*first = c->panels[i].first;
		*end = c->panels[i].end;
		return 0;
	}
	return ERR_NOTFOUND;
}

/* --- safety rules ------------------------------------------------------ */

bool
sim_rule_eval(enum simconf_rule_type type, unsigned threshold, bool inverted,
    const bool *on, size_t n)
{
	size_t count = 0, need;
	bool ok;

	for (size_t i = 0; i < n; i++)
		if (on[i])
			count++;
	switch (type) {
	case SIMCONF_AND:
		need = n;
		break;
	case SIMCONF_OR:
		need = 1;
		break;
	default:
		need = threshold;
		break;
	}
	/* AND over no control is vacuously true; OR over none is false. */
	ok = count >= need;
	return inverted ? !ok : ok;
}

enum block_why {
	BLOCK_RULE = 1,
	BLOCK_WAIT
};

struct blocker {
	const struct simconf_rule	*rule;
	enum block_why			 why;
	const char			*control;	/* BLOCK_WAIT */
};

static bool
is_overridden(const struct simconf_rule *r, const char *const *ov, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ov[i] != NULL && strcmp(ov[i], r->arn) == 0)
			return true;
	return false;
}

/*
 * Whether r blocks an update: next/touched/changed are indexed by list
 * position, ps maps the panel's controls to it.
 */
static bool
rule_blocks(const struct sim_cluster *c, const struct panel_state *ps,
    const struct simconf_rule *r, const bool *next, const bool *touched,
    const bool *changed, uint64_t now_ms, struct blocker *b)
{
	bool states[SIMCONF_MAX_PANEL_CONTROLS];
	const size_t *gov = r->kind == SIMCONF_ASSERTION ? r->controls :
	    r->targets;
	size_t ngov = r->kind == SIMCONF_ASSERTION ? r->ncontrols :
	    r->ntargets;
	bool applies = false;

	for (size_t i = 0; i < ngov && !applies; i++) {
		size_t k = ps->pos[gov[i]];

		applies = r->kind == SIMCONF_ASSERTION ? touched[k] :
		    changed[k];
	}
	if (!applies)
		return false;
	for (size_t i = 0; i < r->ncontrols; i++) {
		size_t k = ps->pos[r->controls[i]];

		states[i] = r->kind == SIMCONF_ASSERTION ? next[k] :
		    c->ctls[k].on;
	}
	b->rule = r;
	b->control = NULL;
	if (!sim_rule_eval(r->type, r->threshold, r->inverted, states,
	    r->ncontrols)) {
		b->why = BLOCK_RULE;
		return true;
	}
	for (size_t i = 0; r->wait_ms > 0 && i < ngov; i++) {
		const struct sim_control *sc = &c->ctls[ps->pos[gov[i]]];

		if (sc->changed_ms != 0 && now_ms >= sc->changed_ms &&
		    now_ms - sc->changed_ms < r->wait_ms) {
			b->why = BLOCK_WAIT;
			b->control = sc->name;
			return true;
		}
	}
	return false;
}

static char *
describe(const struct blocker *b)
{
	const struct simconf_rule *r = b->rule;
	char cfg[64];

	if (r->type == SIMCONF_ATLEAST)
		snprintf(cfg, sizeof(cfg), "ATLEAST %u%s", r->threshold,
		    r->inverted ? " inverted" : "");
	else
		snprintf(cfg, sizeof(cfg), "%s%s", simconf_type_str(r->type),
		    r->inverted ? " inverted" : "");
	if (b->why == BLOCK_WAIT)
		return xstrfmt("%s ('%s': its wait period of %llu ms since "
		    "the last change of '%s' has not elapsed)", r->arn,
		    r->name, (unsigned long long)r->wait_ms, b->control);
	if (r->kind == SIMCONF_ASSERTION)
		return xstrfmt("%s ('%s': assertion rule %s would not hold "
		    "after this update)", r->arn, r->name, cfg);
	return xstrfmt("%s ('%s': gating rule %s does not hold for the "
	    "current states of its gating controls)", r->arn, r->name, cfg);
}

static char *
block_message(const struct blocker *bl, size_t n)
{
	char *msg = xstrfmt("Routing control state update blocked by safety "
	    "rule%s ", n > 1 ? "s" : "");

	for (size_t i = 0; i < n; i++) {
		char *d = describe(&bl[i]), *m;

		m = xstrfmt("%s%s%s", msg, i > 0 ? "; " : "", d);
		free(d);
		free(msg);
		msg = m;
	}
	return msg;
}

int
sim_cluster_update(struct sim_cluster *c, const struct sim_change *changes,
    size_t n, const char *const *overrides, size_t noverrides,
    uint64_t now_ms, int *changed, struct sim_block *block)
{
	size_t nc = c->nctls ? c->nctls : 1;
	bool *next = xcalloc(nc, sizeof(bool));
	bool *touched = xcalloc(nc, sizeof(bool));
	bool *diff = xcalloc(nc, sizeof(bool));
	struct blocker *bl = NULL;
	size_t nbl = 0, nrules = 0;
	int count = 0, ret = 0;

	if (block != NULL)
		memset(block, 0, sizeof(*block));
	for (size_t i = 0; i < c->nctls; i++)
		next[i] = c->ctls[i].on;
	for (size_t i = 0; i < n; i++) {
		size_t k = changes[i].index;

		next[k] = changes[i].on;
		touched[k] = true;
		diff[k] = next[k] != c->ctls[k].on;
	}
	for (size_t i = 0; i < c->npanels; i++)
		nrules += c->panels[i].def->nrules;
	bl = xcalloc(nrules ? nrules : 1, sizeof(*bl));
	for (size_t i = 0; i < c->npanels; i++) {
		const struct panel_state *ps = &c->panels[i];

		for (size_t j = 0; j < ps->def->nrules; j++) {
			const struct simconf_rule *r = &ps->def->rules[j];

			if (is_overridden(r, overrides, noverrides))
				continue;
			if (rule_blocks(c, ps, r, next, touched, diff, now_ms,
			    &bl[nbl]))
				nbl++;
		}
	}
	if (nbl > 0 && block != NULL) {
		block->rule_arn = bl[0].rule->arn;
		block->rule_name = bl[0].rule->name;
		block->nrules = nbl;
		block->message = block_message(bl, nbl);
	}
	if (nbl > 0) {
		ret = ERR_INVAL;
	} else {
		for (size_t k = 0; k < c->nctls; k++) {
			if (!diff[k])
				continue;
			c->ctls[k].on = next[k];
			c->ctls[k].changed_ms = now_ms;
			count++;
		}
	}
	if (changed != NULL)
		*changed = count;
	free(bl);
	free(next);
	free(touched);
	free(diff);
	return ret;
}

void
sim_block_fini(struct sim_block *b)
{
	if (b == NULL)
		return;
	free(b->message);
	memset(b, 0, sizeof(*b));
}

/* --- the admin dump ---------------------------------------------------- */

static json_t *
iso_time(uint64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char buf[40];

	if (ms == 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return json_null();
	return json_sprintf("%s.%03uZ", buf, (unsigned)(ms % 1000));
}

char *
sim_cluster_state_json(const struct sim_cluster *c)
{
	json_t *doc = jsonx_check(json_object());
	json_t *list = jsonx_check(json_array());
	char *out;

	jsonx_set(doc, "account", json_string(c->conf->account));
	for (size_t i = 0; i < c->nctls; i++) {
		const struct sim_control *sc = &c->ctls[i];
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "name", json_string(sc->name));
		jsonx_set(o, "arn", json_string(sc->arn));
		jsonx_set(o, "panel", json_string(sc->panel_name));
		jsonx_set(o, "panel_arn", json_string(sc->panel_arn));
		jsonx_set(o, "state", json_string(sc->on ? "On" : "Off"));
		jsonx_set(o, "last_change", iso_time(sc->changed_ms));
		jsonx_set(o, "last_change_ms",
		    json_integer((json_int_t)sc->changed_ms));
		jsonx_append(list, o);
	}
	jsonx_set(doc, "controls", list);
	out = jsonx_dump(doc);
	json_decref(doc);
	return out;
}

/* --- persistence ------------------------------------------------------- */



static char *
state_text(const struct sim_cluster *c)
{
	json_t *doc = jsonx_check(json_object());
	json_t *list = jsonx_check(json_array());
	char *out, *nl;

	jsonx_set(doc, "arcsim-state", json_integer(STATE_VERSION));
	jsonx_set(doc, "account", json_string(c->conf->account));
	for (size_t i = 0; i < c->nctls; i++) {
		const struct sim_control *sc = &c->ctls[i];
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "arn", json_string(sc->arn));
		jsonx_set(o, "name", json_string(sc->name));
		jsonx_set(o, "panel", json_string(sc->panel_name));
		jsonx_set(o, "state", json_string(sc->on ? "On" : "Off"));
		jsonx_set(o, "last_change_ms",
		    json_integer((json_int_t)sc->changed_ms));
		jsonx_append(list, o);
	}
	jsonx_set(doc, "controls", list);
	out = jsonx_dump(doc);
	json_decref(doc);
	nl = xstrfmt("%s\n", out);
	free(out);
	return nl;
}

int
sim_cluster_save(const struct sim_cluster *c, const char *path,
    char **errmsg)
{
	char *text = state_text(c);
	int ret = fs_write_atomic(path, text, strlen(text), 0644, errmsg);

	free(text);
	return ret;
}

static int
corrupt(const char *path, char **errmsg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
corrupt(const char *path, char **errmsg, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	*errmsg = xstrfmt("%s: corrupt state file: %s", path, why);
	return ERR_PARSE;
}

static int
read_file(const char *path, char **text, size_t *len, char **errmsg)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf;
	int ret = 0;

	if (fp == NULL) {
		ret = -errno;
		if (ret != -ENOENT)
			*errmsg = xstrfmt("%s: %s", path, strerror(errno));
		return ret;
	}
	buf = xmalloc(cap);
	for (;;) {
		size_t got;

		if (n == cap) {
			if (cap >= STATE_MAX_SIZE) {
				ret = corrupt(path, errmsg, "larger than "
				    "%u bytes", STATE_MAX_SIZE);
				break;
			}
			cap *= 2;
			buf = xrealloc(buf, cap, 1);
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0) {
			if (ferror(fp)) {
				ret = -(errno != 0 ? errno : EIO);
				*errmsg = xstrfmt("%s: %s", path,
				    strerror(-ret));
			}
			break;
		}
	}
	fclose(fp);
	if (ret != 0) {
		free(buf);
		return ret;
	}
	*text = buf;
	*len = n;
	return 0;
}

/* One restored entry, applied once the whole file has been checked. */
struct restore_item {
	size_t		index;
	bool		on;
	uint64_t	changed_ms;
};

static int
parse_entry(const struct sim_cluster *c, const char *path, json_t *e,
    size_t i, struct restore_item *it, bool *known, bool *seen,
    char **errmsg)
{
	json_t *arn = json_object_get(e, "arn");
	json_t *st = json_object_get(e, "state");
	json_t *ms = json_object_get(e, "last_change_ms");
	const char *s;

	if (!json_is_object(e))
		return corrupt(path, errmsg, "entry %zu of 'controls' is not "
		    "an object", i + 1);
	if (!json_is_string(arn))
		return corrupt(path, errmsg, "entry %zu has no 'arn' string",
		    i + 1);
	s = json_string_value(st);
	if (s == NULL || (strcmp(s, "On") != 0 && strcmp(s, "Off") != 0))
		return corrupt(path, errmsg, "entry %zu: 'state' must be "
		    "\"On\" or \"Off\"", i + 1);
	if (ms != NULL && (!json_is_integer(ms) ||
	    json_integer_value(ms) < 0))
		return corrupt(path, errmsg, "entry %zu: 'last_change_ms' "
		    "must be an integer >= 0", i + 1);
	it->on = strcmp(s, "On") == 0;
	it->changed_ms = ms != NULL ? (uint64_t)json_integer_value(ms) : 0;
	*known = sim_cluster_find(c, json_string_value(arn), &it->index) == 0;
	if (*known) {
		if (seen[it->index])
			return corrupt(path, errmsg, "entry %zu: routing "
			    "control %s is listed twice", i + 1,
			    json_string_value(arn));
		seen[it->index] = true;
	}
	return 0;
}

int
sim_cluster_restore(struct sim_cluster *c, const char *path,
    size_t *restored, size_t *unknown, char **errmsg)
{
	struct restore_item *items = NULL;
	json_t *doc = NULL, *ver, *list;
	json_error_t jerr;
	bool *seen = NULL;
	size_t len = 0, nitems = 0, nunknown = 0;
	char *text = NULL;
	int ret;

	if (restored != NULL)
		*restored = 0;
	if (unknown != NULL)
		*unknown = 0;
	ret = read_file(path, &text, &len, errmsg);
	if (ret == -ENOENT)
		return 0;
	if (ret != 0)
		return ret;
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		ret = corrupt(path, errmsg, "line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		goto out;
	}
	ver = json_object_get(doc, "arcsim-state");
	list = json_object_get(doc, "controls");
	if (!json_is_object(doc) || !json_is_integer(ver)) {
		ret = corrupt(path, errmsg, "not an arcsim state file (no "
		    "\"arcsim-state\" version)");
		goto out;
	}
	if (json_integer_value(ver) != STATE_VERSION) {
		ret = corrupt(path, errmsg, "unsupported version %lld",
		    (long long)json_integer_value(ver));
		goto out;
	}
	if (!json_is_array(list)) {
		ret = corrupt(path, errmsg, "'controls' is not a list");
		goto out;
	}
	items = xcalloc(json_array_size(list) + 1, sizeof(*items));
	seen = xcalloc(c->nctls + 1, sizeof(*seen));
	for (size_t i = 0; i < json_array_size(list); i++) {
		bool known;

		ret = parse_entry(c, path, json_array_get(list, i), i,
		    &items[nitems], &known, seen, errmsg);
		if (ret != 0)
			goto out;
		if (known)
			nitems++;
		else
			nunknown++;
	}
	for (size_t i = 0; i < nitems; i++) {
		c->ctls[items[i].index].on = items[i].on;
		c->ctls[items[i].index].changed_ms = items[i].changed_ms;
	}
	if (restored != NULL)
		*restored = nitems;
	if (unknown != NULL)
		*unknown = nunknown;
out:
	json_decref(doc);
	free(items);
	free(seen);
	free(text);
	return ret;
}
