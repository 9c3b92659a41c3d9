/*
 * yschema.h -- checking a YAML tree (yamltree.h) against a config schema.
 *
 * The config parsers (conf.c for arcdns.yaml, sim/simconf.c for arcsim's
 * sim.yaml) share this: a walk over a mapping that hands every key to its
 * handler from a table and refuses unknown keys, typed getters (string,
 * integer, boolean, duration, list of strings) that check one value and
 * word their refusal the same way everywhere ("'KEY' must be ..."), and
 * the "first error wins" record of "file:line:column: message".
 *
 * A parser embeds a struct yschema in its own state and passes it to the
 * functions here; key handlers receive it back (parsers find their state
 * from it with offsetof). The first error is kept; later ones are dropped,
 * so that a check mode prints one line, at the place to edit.
 *
 * Pure: no I/O besides ys_load() reading its file through yamltree.
 */
#ifndef CONF_YSCHEMA_H
#define CONF_YSCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/yamltree.h"

struct yschema {
	const char	*name;	/* borrowed: the file, for messages */
	char		*err;	/* new: the first error, NULL while none */
};

/*
 * One key of a mapping and its handler: key is the key node (a scalar),
 * val its value; obj is what ys_walk() was given. A handler returns 0 or,
 * having recorded the error (ys_fail or a getter), a negative code.
 */
struct ys_key {
	const char	*name;
	int		(*fn)(struct yschema *s, const struct ynode *key,
			    const struct ynode *val, void *obj);
};

/*
 * Record "name:line:column: message" at node at (line 1, column 1 when
 * at is NULL), unless an error is already recorded. Returns ERR_INVAL.
 */
int	ys_fail(struct yschema *s, const struct ynode *at, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * A scalar's text for a message, in buf: at most 64 bytes (then "...")
 * and control characters as '?' (ytree_printable). Returns buf.
 */
const char	*ys_shown(const struct ynode *n, char *buf, size_t size);

/*
 * Start on tree t: s->name becomes the tree's name, and *root its root
 * mapping. An empty document fails with "empty configuration (expected
 * <expect>)", any other root with "the top level must be a mapping, not
 * a <type>".
 */
int	ys_root(struct yschema *s, const struct ytree *t, const char *expect,
	    const struct ynode **root) __attribute__((warn_unused_result));

/*
 * Hand every key of map to its handler in keys (ending with a NULL name),
 * in file order, stopping at the first error. A key listed in later (a
 * NULL-terminated list, may be NULL) fails with "'KEY' is not supported
 * by this version of arcdns yet"; any other unknown key with "unknown
 * top-level key 'KEY'" (section NULL) or "unknown key 'KEY' in
 * 'SECTION'".
 */
int	ys_walk(struct yschema *s, const struct ynode *map, const char *section,
	    const struct ys_key *keys, const char *const *later, void *obj)
	    __attribute__((warn_unused_result));

/* The key node under which map holds key, or NULL. */
const struct ynode	*ys_key_node(const struct ynode *map, const char *key);

/*
 * Typed getters: v is the value of key; on success the result is stored
 * and 0 returned, else the error is recorded at v (at key for a missing
 * value) and ERR_INVAL returned.
 */

/* A non-empty scalar: "'KEY' has no value", "must be a string", "must not
 * be empty". */
int	ys_get_scalar(struct yschema *s, const struct ynode *key,
	    const struct ynode *v) __attribute__((warn_unused_result));

/* A scalar of 1..maxlen bytes without control characters (borrowed). */
int	ys_get_string(struct yschema *s, const struct ynode *key,
	    const struct ynode *v, size_t maxlen, const char **out)
	    __attribute__((warn_unused_result));

/* A plain decimal integer without leading zeros (no message). */
bool	ys_parse_integer(const struct ynode *v, long long *out);

/* An integer in [min, max]; a quoted number is "an integer, not a
 * string". */
int	ys_get_int(struct yschema *s, const struct ynode *key,
	    const struct ynode *v, long long min, long long max,
	    long long *out) __attribute__((warn_unused_result));

/* true/True/TRUE/yes/Yes/YES or false/.../NO, plain. */
int	ys_get_bool(struct yschema *s, const struct ynode *key,
	    const struct ynode *v, bool *out)
	    __attribute__((warn_unused_result));

/*
 * Parse a duration: "500ms", "1s", "2m", "1h", or a bare number of
 * seconds. Returns 0 and the value in milliseconds, or ERR_PARSE.
 */
int	ys_parse_duration(const char *text, uint64_t *ms)
	    __attribute__((warn_unused_result));

/* A duration in [min, max] ms; out of range names the bounds as "0s",
 * "100ms", "1h"... */
int	ys_get_duration(struct yschema *s, const struct ynode *key,
	    const struct ynode *v, uint64_t min, uint64_t max, uint64_t *out)
	    __attribute__((warn_unused_result));

/*
 * A non-empty list of strings; where one_ok, a single string stands for a
 * list of one. *items and *n describe the strings (borrowed from the
 * tree; *items is NULL for a single string: use ys_list_item()).
 */
int	ys_get_list(struct yschema *s, const struct ynode *key,
	    const struct ynode *v, bool one_ok,
	    const struct ynode *const **items, size_t *n)
	    __attribute__((warn_unused_result));

/* The i-th string of a ys_get_list() result. */
const struct ynode	*ys_list_item(const struct ynode *v,
			    const struct ynode *const *items, size_t i);

/*
 * Build something from a parsed tree: on success store it through out and
 * return 0; on failure set *errmsg (new) and return a negative code.
 */
typedef int (*ys_build_fn)(const struct ytree *t, void *out, char **errmsg);

/*
 * Load path (ytree_load) or len bytes of text named name (ytree_parse) and
 * run build on the tree. YAML errors come back as ytree reports them.
 */
int	ys_load(const char *path, ys_build_fn build, void *out, char **errmsg)
	    __attribute__((warn_unused_result));
int	ys_load_string(const char *name, const char *text, size_t len,
	    ys_build_fn build, void *out, char **errmsg)
	    __attribute__((warn_unused_result));

#endif
