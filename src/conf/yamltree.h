/*
 * yamltree.h -- one YAML document as a small immutable tree.
 *
 * libyaml's event parser feeds a tree of scalar, mapping and sequence
 * nodes. Every node (and so every mapping key, which is a scalar node)
 * keeps the 1-based line and column where it starts, so that the config
 * parser can report "file:line:column: message" for any value it rejects.
 *
 * The tree is deliberately a subset of YAML, the part a config file needs:
 *   - exactly one document (none at all is allowed: ytree_root() is NULL);
 *   - no anchors and no aliases;
 *   - mapping keys are scalars, and no key appears twice in one mapping
 *     (the error points at the second one);
 *   - the only tags understood are !!str on scalars (the scalar is then a
 *     string, never null/bool/int), !!map on mappings and !!seq on
 *     sequences; any other tag is an error;
 *   - scalars contain no NUL character;
 *   - nesting is at most YTREE_MAX_DEPTH levels deep.
 * Block and flow styles ({ a: b }, [x, y]) are both fine.
 *
 * Scalars are not typed here: a scalar keeps its text and whether it was
 * plain (unquoted, untagged). The consumer decides what it expects; only
 * a plain scalar can be null, an integer or a boolean.
 *
 * Pure: no I/O besides ytree_load() reading the file it is given.
 */
#ifndef CONF_YAMLTREE_H
#define CONF_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#define YTREE_MAX_DEPTH		64
#define YTREE_MAX_SIZE		(16u * 1024 * 1024)	/* bytes of input */

enum ynode_type {
	YNODE_SCALAR = 1,
	YNODE_MAPPING,
	YNODE_SEQUENCE
};

struct ynode;

/* One key: value entry of a mapping. key is always a YNODE_SCALAR. */
struct ypair {
	const struct ynode	*key;
	const struct ynode	*value;
};

struct ynode {
	enum ynode_type		type;
	int			line;	/* 1-based */
	int			column;	/* 1-based, in characters */

	/* YNODE_SCALAR */
	const char		*str;	/* NUL-terminated, no inner NUL */
	size_t			len;	/* strlen(str) */
	bool			plain;	/* unquoted and untagged */

	/* YNODE_MAPPING: entries in file order */
	const struct ypair	*pairs;
	size_t			npairs;

	/* YNODE_SEQUENCE: items in file order */
	const struct ynode	*const *items;
	size_t			nitems;
};

struct ytree;

/*
 * Parse len bytes of text (need not be NUL-terminated). name stands for
 * the file in messages. On success *out is a new tree (ytree_free) and 0
 * is returned. On failure *errmsg is a new string "name:line:column:
 * message" (the caller frees it), *out is untouched and ERR_PARSE is
 * returned.
 */
int	ytree_parse(const char *name, const char *text, size_t len,
	    struct ytree **out, char **errmsg)
	    __attribute__((warn_unused_result));

/*
 * Read path (at most YTREE_MAX_SIZE bytes) and parse it, with path as the
 * name in messages. Errors as ytree_parse; a file that cannot be read
 * gives "path: strerror" and -errno (ERR_LIMIT when it is too large).
 */
int	ytree_load(const char *path, struct ytree **out, char **errmsg)
	    __attribute__((warn_unused_result));

/* NULL-safe. Every node of the tree dies with it. */
void	ytree_free(struct ytree *tree);

/* Borrowed: the document's root node, or NULL when the stream is empty. */
const struct ynode	*ytree_root(const struct ytree *tree);

/* Borrowed: the name given to ytree_parse/ytree_load. */
const char		*ytree_name(const struct ytree *tree);

/* True for a plain scalar that YAML reads as null: "", "~", "null". */
bool	ynode_is_null(const struct ynode *n);

/*
 * Borrowed: the value stored under key in a mapping, or NULL when map is
 * not a mapping or has no such key.
 */
const struct ynode	*ynode_get(const struct ynode *map, const char *key);

/*
 * New string for quoting user text in a message: s cut to max bytes (with
 * "..." appended when cut) and control characters replaced by '?', so
 * that an error always stays on one line.
 */
char	*ytree_printable(const char *s, size_t max);

/* "scalar", "mapping" or "sequence", for messages. */
const char	*ynode_type_name(enum ynode_type type);

#endif
