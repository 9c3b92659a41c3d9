#include "conf/yschema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/xalloc.h"

/*
 * Moved here from conf.c when sim.yaml got a parser of its own: the
 * messages are those arcdns.yaml has always printed (the conf corpus and
 * test_conf check them byte for byte), now shared with sim.yaml.
 */

int
ys_fail(struct yschema *s, const struct ynode *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->err == NULL)
		s->err = xstrfmt("%s:%d:%d: %s", s->name, at ? at->line : 1,
		    at ? at->column : 1, msg);
	return ERR_INVAL;
}

const char *
ys_shown(const struct ynode *n, char *buf, size_t size)
{
	char *p = ytree_printable(n->str, 64);

	snprintf(buf, size, "%s", p);
	free(p);
	return buf;
}

int
ys_root(struct yschema *s, const struct ytree *t, const char *expect,
    const struct ynode **root)
{
	const struct ynode *r = ytree_root(t);

	s->name = ytree_name(t);
	if (r == NULL || ynode_is_null(r))
		return ys_fail(s, NULL, "empty configuration (expected %s)",
		    expect);
	if (r->type != YNODE_MAPPING)
		return ys_fail(s, r, "the top level must be a mapping, not a "
		    "%s", ynode_type_name(r->type));
	*root = r;
	return 0;
}

int
ys_walk(struct yschema *s, const struct ynode *map, const char *section,
    const struct ys_key *keys, const char *const *later, void *obj)
{
	char buf[80];

	for (size_t i = 0; i < map->npairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		const struct ys_key *d;
		int ret;

		for (d = keys; d->name != NULL; d++)
			if (strcmp(d->name, k->str) == 0)
				break;
		if (d->name != NULL) {
			ret = d->fn(s, k, map->pairs[i].value, obj);
			if (ret != 0)
				return ret;
			continue;
		}
		for (size_t j = 0; later != NULL && later[j] != NULL; j++)
			if (strcmp(later[j], k->str) == 0)
				return ys_fail(s, k, "'%s' is not supported by "
				    "this version of arcdns yet", k->str);
		if (section == NULL)
			return ys_fail(s, k, "unknown top-level key '%s'",
			    ys_shown(k, buf, sizeof(buf)));
		return ys_fail(s, k, "unknown key '%s' in '%s'",
		    ys_shown(k, buf, sizeof(buf)), section);
	}
	return 0;
}

const struct ynode *
ys_key_node(const struct ynode *map, const char *key)
{
	if (map == NULL || map->type != YNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->npairs; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return map->pairs[i].key;
	return NULL;
}

/* --- typed values ------------------------------------------------------- */

int
ys_get_scalar(struct yschema *s, const struct ynode *key,
    const struct ynode *v)
{
	if (ynode_is_null(v))
		return ys_fail(s, key, "'%s' has no value", key->str);
	if (v->type != YNODE_SCALAR)
		return ys_fail(s, v, "'%s' must be a string", key->str);
	if (v->len == 0)
		return ys_fail(s, v, "'%s' must not be empty", key->str);
	return 0;
}

int
ys_get_string(struct yschema *s, const struct ynode *key,
    const struct ynode *v, size_t maxlen, const char **out)
{
	if (ys_get_scalar(s, key, v) != 0)
		return ERR_INVAL;
	if (v->len > maxlen)
		return ys_fail(s, v, "'%s' must be at most %zu characters",
		    key->str, maxlen);
	for (size_t i = 0; i < v->len; i++)
		if ((unsigned char)v->str[i] < 0x20 || v->str[i] == 0x7f)
			return ys_fail(s, v,
			    "'%s' must not contain control characters",
			    key->str);
	*out = v->str;
	return 0;
}

bool
ys_parse_integer(const struct ynode *v, long long *out)
{
	const char *p = v->str;
	char *end;

	if (v->type != YNODE_SCALAR || !v->plain)
		return false;
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0'))
		return false;
	errno = 0;
	*out = strtoll(v->str, &end, 10);
	return errno == 0 && *end == '\0';
}

int
ys_get_int(struct yschema *s, const struct ynode *key, const struct ynode *v,
    long long min, long long max, long long *out)
{
	if (ynode_is_null(v))
		return ys_fail(s, key, "'%s' has no value", key->str);
	if (!ys_parse_integer(v, out)) {
		if (v->type == YNODE_SCALAR && !v->plain &&
		    ys_parse_integer(&(struct ynode){.type = YNODE_SCALAR,
		    .str = v->str, .plain = true}, out))
			return ys_fail(s, v, "'%s' must be an integer, "
			    "not a string", key->str);
		return ys_fail(s, v, "'%s' must be an integer", key->str);
	}
	if (*out < min || *out > max)
		return ys_fail(s, v, "'%s' must be between %lld and %lld",
		    key->str, min, max);
	return 0;
}

int
ys_get_bool(struct yschema *s, const struct ynode *key, const struct ynode *v,
    bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes",
		"Yes", "YES"};
	static const char *const no[] = {"false", "False", "FALSE", "no",
		"No", "NO"};

	if (ynode_is_null(v))
		return ys_fail(s, key, "'%s' has no value", key->str);
	if (v->type == YNODE_SCALAR && v->plain) {
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(v->str, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcmp(v->str, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	return ys_fail(s, v, "'%s' must be true or false", key->str);
}

int
ys_parse_duration(const char *text, uint64_t *ms)
{
	static const struct {
		const char	*suffix;
		uint64_t	mult;
	} units[] = {
		{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000},
		{"h", 3600000},
	};
	uint64_t v = 0;
	size_t i = 0;

	if (text[0] < '0' || text[0] > '9')
		return ERR_PARSE;
	for (; text[i] >= '0' && text[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(text[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return ERR_PARSE;
		v = v * 10 + d;
	}
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strcmp(text + i, units[u].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[u].mult)
			return ERR_PARSE;
		*ms = v * units[u].mult;
		return 0;
	}
	return ERR_PARSE;
}

static void
format_duration(uint64_t ms, char *buf, size_t size)
{
	if (ms % 3600000 == 0 && ms > 0)
		snprintf(buf, size, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms > 0)
		snprintf(buf, size, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, size, "%llums", (unsigned long long)ms);
}

int
ys_get_duration(struct yschema *s, const struct ynode *key,
    const struct ynode *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char lo[32], hi[32];

	if (ynode_is_null(v))
		return ys_fail(s, key, "'%s' has no value", key->str);
	if (v->type != YNODE_SCALAR || ys_parse_duration(v->str, out) != 0)
		return ys_fail(s, v, "'%s' must be a duration such as 500ms, "
		    "10s, 2m or 1h", key->str);
	if (*out < min || *out > max) {
		format_duration(min, lo, sizeof(lo));
		format_duration(max, hi, sizeof(hi));
		return ys_fail(s, v, "'%s' must be between %s and %s",
		    key->str, lo, hi);
	}
	return 0;
}

int
ys_get_list(struct yschema *s, const struct ynode *key, const struct ynode *v,
    bool one_ok, const struct ynode *const **items, size_t *n)
{
	if (ynode_is_null(v))
		return ys_fail(s, key, "'%s' has no value", key->str);
	if (v->type == YNODE_SCALAR && one_ok) {
		*items = NULL;
		*n = 1;
		return 0;
	}
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(s, v, "'%s' must be a list%s", key->str,
		    one_ok ? " or a string" : "");
	if (v->nitems == 0)
		return ys_fail(s, v, "'%s' must not be empty", key->str);
	for (size_t i = 0; i < v->nitems; i++)
		if (v->items[i]->type != YNODE_SCALAR ||
		    ynode_is_null(v->items[i]))
			return ys_fail(s, v->items[i],
			    "each entry of '%s' must be a string", key->str);
	*items = v->items;
	*n = v->nitems;
	return 0;
}

const struct ynode *
ys_list_item(const struct ynode *v, const struct ynode *const *items,
    size_t i)
{
	return items != NULL ? items[i] : v;
}

/* --- loading ------------------------------------------------------------ */

int
ys_load(const char *path, ys_build_fn build, void *out, char **errmsg)
{
	struct ytree *t;
	int ret;

	ret = ytree_load(path, &t, errmsg);
	if (ret != 0)
		return ret;
	ret = build(t, out, errmsg);
	ytree_free(t);
	return ret;
}

int
ys_load_string(const char *name, const char *text, size_t len,
    ys_build_fn build, void *out, char **errmsg)
{
	struct ytree *t;
	int ret;

	ret = ytree_parse(name, text, len, &t, errmsg);
	if (ret != 0)
		return ret;
	ret = build(t, out, errmsg);
	ytree_free(t);
	return ret;
}
