#include "conf/yamltree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/err.h"
#include "util/xalloc.h"

#define YAML_TAG_PREFIX	"tag:yaml.org,2002:"

struct ytree {
	char		*name;
	struct ynode	*root;
};

/* A mapping or sequence being filled, with its growable array. */
struct frame {
	struct ynode	*node;
	struct ypair	*pairs;
	struct ynode	**items;
	size_t		n;
	size_t		cap;
	/* Mappings: open-addressing set of key indexes + 1 (0 = empty). */
	size_t		*slots;
	size_t		nslots;		/* a power of two, or 0 */
};

struct builder {
	const char	*name;
	const char	*text;
	size_t		len;
	struct ynode	*root;
	struct frame	stack[YTREE_MAX_DEPTH];
	int		depth;
	int		ndocs;
	char		*err;
};

static void
node_free(struct ynode *n)
{
	if (n == NULL)
		return;
	switch (n->type) {
	case YNODE_SCALAR:
		free((char *)n->str);
		break;
	case YNODE_MAPPING:
		for (size_t i = 0; i < n->npairs; i++) {
			node_free((struct ynode *)n->pairs[i].key);
			node_free((struct ynode *)n->pairs[i].value);
		}
		free((struct ypair *)n->pairs);
		break;
	case YNODE_SEQUENCE:
		for (size_t i = 0; i < n->nitems; i++)
			node_free((struct ynode *)n->items[i]);
		free((struct ynode **)n->items);
		break;
	}
	free(n);
}

/* Record the first error at a 0-based libyaml position. */
static int
failf(struct builder *b, size_t line0, size_t col0, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
failf(struct builder *b, size_t line0, size_t col0, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->err == NULL)
		b->err = xstrfmt("%s:%zu:%zu: %s", b->name, line0 + 1,
		    col0 + 1, msg);
	return ERR_PARSE;
}

char *
ytree_printable(const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char *out;

	if (n > max)
		n = max;
	out = xmalloc(n + 4);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (s[n] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* "tag:yaml.org,2002:int" reads better as "!!int" in a message. */
static const char *
short_tag(const char *tag)
{
	static const size_t plen = sizeof(YAML_TAG_PREFIX) - 1;

	if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0)
		return tag + plen;
	return NULL;
}

static int
check_props(struct builder *b, const yaml_event_t *ev, const char *anchor,
    const char *tag, const char *allowed)
{
	const yaml_mark_t *m = &ev->start_mark;
	char *p;

	if (anchor != NULL) {
		p = ytree_printable(anchor, 40);
		failf(b, m->line, m->column,
		    "anchors are not supported ('&%s')", p);
		free(p);
		return ERR_PARSE;
	}
	if (tag == NULL)
		return 0;
	if (short_tag(tag) != NULL && strcmp(short_tag(tag), allowed) == 0)
		return 0;
	if (short_tag(tag) != NULL) {
		p = ytree_printable(short_tag(tag), 40);
		failf(b, m->line, m->column, "unsupported tag '!!%s'", p);
	} else {
		p = ytree_printable(tag, 40);
		failf(b, m->line, m->column, "unsupported tag '%s'", p);
	}
	free(p);
	return ERR_PARSE;
}

static struct ynode *
node_new(enum ynode_type type, const yaml_event_t *ev)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = ev->start_mark.line + 1 > INT32_MAX ? INT32_MAX :
	    (int)ev->start_mark.line + 1;
	n->column = ev->start_mark.column + 1 > INT32_MAX ? INT32_MAX :
	    (int)ev->start_mark.column + 1;
	return n;
}

static size_t
key_hash(const struct ynode *k)
{
	size_t h = 2166136261u;		/* FNV-1a */

	for (size_t i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->str[i]) * 16777619u;
	return h;
}

/* Slot of key k in f's set: where it is, or the empty slot for it. */
static size_t *
key_slot(const struct frame *f, const struct ynode *k)
{
	size_t mask = f->nslots - 1, i = key_hash(k) & mask;

	for (;; i = (i + 1) & mask) {
		const struct ynode *o;

		if (f->slots[i] == 0)
			return &f->slots[i];
		o = f->pairs[f->slots[i] - 1].key;
		if (o->len == k->len && memcmp(o->str, k->str, k->len) == 0)
			return &f->slots[i];
	}
}

/*
 * Record key number idx of a mapping; a key seen before is an error at
 * the second one. A hash set keeps a huge mapping from taking quadratic
 * time.
 */
static int
add_key(struct builder *b, struct frame *f, size_t idx)
{
	const struct ynode *k = f->pairs[idx].key;
	size_t *slot;

	if (2 * (idx + 1) > f->nslots) {
		free(f->slots);
		f->nslots = f->nslots ? 2 * f->nslots : 16;
		f->slots = xcalloc(f->nslots, sizeof(*f->slots));
		for (size_t i = 0; i < idx; i++)
			*key_slot(f, f->pairs[i].key) = i + 1;
	}
	slot = key_slot(f, k);
	if (*slot != 0) {
		const struct ynode *first = f->pairs[*slot - 1].key;
		char *p = ytree_printable(k->str, 64);

		failf(b, (size_t)k->line - 1, (size_t)k->column - 1,
		    "duplicate key '%s' (first at line %d)", p, first->line);
		free(p);
		return ERR_PARSE;
	}
	*slot = idx + 1;
	return 0;
}

/* Hang n (new) under the innermost open collection, or make it the root. */
static int
attach(struct builder *b, struct ynode *n)
{
	struct frame *f;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	f = &b->stack[b->depth - 1];
	if (f->node->type == YNODE_SEQUENCE) {
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 4;
			f->items = xrealloc(f->items, f->cap, sizeof(*f->items));
		}
		f->items[f->n++] = n;
		f->node->items = (const struct ynode *const *)f->items;
		f->node->nitems = f->n;
		return 0;
	}
	/* A mapping: a key opens a new pair, a value completes the last. */
	if (f->n > 0 && f->pairs[f->n - 1].value == NULL) {
		f->pairs[f->n - 1].value = n;
		return 0;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4;
		f->pairs = xrealloc(f->pairs, f->cap, sizeof(*f->pairs));
	}
	f->pairs[f->n].key = n;
	f->pairs[f->n].value = NULL;
	f->n++;
	f->node->pairs = f->pairs;
	f->node->npairs = f->n;
	if (n->type != YNODE_SCALAR)
		return failf(b, (size_t)n->line - 1, (size_t)n->column - 1,
		    "mapping keys must be scalars, not a %s",
		    ynode_type_name(n->type));
	return add_key(b, f, f->n - 1);
}

static int
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	struct ynode *n;
	size_t len = ev->data.scalar.length;

	if (check_props(b, ev, (const char *)ev->data.scalar.anchor, tag,
	    "str") != 0)
		return ERR_PARSE;
	if (memchr(ev->data.scalar.value, '\0', len) != NULL)
		return failf(b, ev->start_mark.line, ev->start_mark.column,
		    "NUL character in a string");
	n = node_new(YNODE_SCALAR, ev);
	n->str = xstrndup((const char *)ev->data.scalar.value, len);
	n->len = len;
	n->plain = tag == NULL && ev->data.scalar.style ==
	    YAML_PLAIN_SCALAR_STYLE;
	return attach(b, n);
}

static int
on_start(struct builder *b, const yaml_event_t *ev, enum ynode_type type)
{
	const char *anchor, *tag;
	struct ynode *n;
	int ret;

	if (type == YNODE_MAPPING) {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
	} else {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
	}
	if (check_props(b, ev, anchor, tag, type == YNODE_MAPPING ? "map" :
	    "seq") != 0)
		return ERR_PARSE;
	if (b->depth == YTREE_MAX_DEPTH)
		return failf(b, ev->start_mark.line, ev->start_mark.column,
		    "nesting deeper than %d levels", YTREE_MAX_DEPTH);
	n = node_new(type, ev);
	ret = attach(b, n);
	if (ret != 0)
		return ret;
	memset(&b->stack[b->depth], 0, sizeof(b->stack[0]));
	b->stack[b->depth].node = n;
	b->depth++;
	return 0;
}

/* Position of a libyaml reader error, which only gives a byte offset. */
static void
offset_position(const struct builder *b, size_t off, size_t *line0,
    size_t *col0)
{
	*line0 = 0;
	*col0 = 0;
	if (off > b->len)
		off = b->len;
	for (size_t i = 0; i < off; i++) {
		unsigned char c = (unsigned char)b->text[i];

		if (c == '\n') {
			(*line0)++;
			*col0 = 0;
		} else if ((c & 0xc0) != 0x80)
			(*col0)++;
	}
}

static int
syntax_error(struct builder *b, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "malformed YAML";
	size_t line0, col0;

	if (p->error == YAML_READER_ERROR) {
		offset_position(b, p->problem_offset, &line0, &col0);
		if (p->problem_value != -1)
			return failf(b, line0, col0,
			    "invalid input: %s (byte 0x%02x)", problem,
			    (unsigned)p->problem_value & 0xffu);
		return failf(b, line0, col0, "invalid input: %s", problem);
	}
	if (p->context != NULL)
		return failf(b, p->problem_mark.line, p->problem_mark.column,
		    "syntax error: %s (%s at line %zu, column %zu)", problem,
		    p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	return failf(b, p->problem_mark.line, p->problem_mark.column,
	    "syntax error: %s", problem);
}

/* Handle one event; *done is set at the end of the stream. */
static int
on_event(struct builder *b, const yaml_event_t *ev, bool *done)
{
	const yaml_mark_t *m = &ev->start_mark;
	char *p;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = true;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (b->ndocs++ > 0)
			return failf(b, m->line, m->column,
			    "more than one YAML document in the file");
		return 0;
	case YAML_ALIAS_EVENT:
		p = ytree_printable((const char *)ev->data.alias.anchor, 40);
		failf(b, m->line, m->column,
		    "aliases are not supported ('*%s')", p);
		free(p);
		return ERR_PARSE;
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, YNODE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, YNODE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		/* libyaml pairs start and end events: depth > 0 here. */
		b->depth--;
		free(b->stack[b->depth].slots);
		b->stack[b->depth].slots = NULL;
		return 0;
	default:
		return 0;
	}
}

int
ytree_parse(const char *name, const char *text, size_t len,
    struct ytree **out, char **errmsg)
{
	struct builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int ret = 0;

	memset(&b, 0, sizeof(b));
	b.name = name;
	b.text = text;
	b.len = len;
	if (yaml_parser_initialize(&parser) == 0) {
		fprintf(stderr, "yaml_parser_initialize: out of memory\n");
		abort();
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
	    len);
	while (!done && ret == 0) {
		if (yaml_parser_parse(&parser, &ev) == 0) {
			if (parser.error == YAML_MEMORY_ERROR) {
				fprintf(stderr, "libyaml: out of memory\n");
				abort();
			}
			ret = syntax_error(&b, &parser);
			break;
		}
		ret = on_event(&b, &ev, &done);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	/* The arrays of open frames are reachable from root; the sets not. */
	while (b.depth > 0)
		free(b.stack[--b.depth].slots);
	if (ret != 0) {
		node_free(b.root);
		*errmsg = b.err;
		return ERR_PARSE;
	}
	*out = xmalloc(sizeof(**out));
	(*out)->name = xstrdup(name);
	(*out)->root = b.root;
	return 0;
}

int
ytree_load(const char *path, struct ytree **out, char **errmsg)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int ret;

	if (fp == NULL) {
		ret = -errno;
		*errmsg = xstrfmt("%s: %s", path, strerror(errno));
		return ret;
	}
	for (;;) {
		if (len == cap) {
			/* One byte past the limit tells "too large" apart. */
			if (cap > YTREE_MAX_SIZE)
				break;
			cap = cap ? cap * 2 : 8192;
			if (cap > YTREE_MAX_SIZE + 1)
				cap = YTREE_MAX_SIZE + 1;
			buf = xrealloc(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len, fp);
		if (n == 0)
			break;
		len += n;
	}
	if (len > YTREE_MAX_SIZE) {
		fclose(fp);
		free(buf);
		*errmsg = xstrfmt("%s: file larger than %u bytes", path,
		    YTREE_MAX_SIZE);
		return ERR_LIMIT;
	}
	if (ferror(fp)) {
		ret = errno != 0 ? -errno : ERR_IO;
		*errmsg = xstrfmt("%s: %s", path, err_str(ret));
		fclose(fp);
		free(buf);
		return ret;
	}
	fclose(fp);
	ret = ytree_parse(path, buf != NULL ? buf : "", len, out, errmsg);
	free(buf);
	return ret;
}

void
ytree_free(struct ytree *tree)
{
	if (tree == NULL)
		return;
	node_free(tree->root);
	free(tree->name);
	free(tree);
}

const struct ynode *
ytree_root(const struct ytree *tree)
{
	return tree->root;
}

const char *
ytree_name(const struct ytree *tree)
{
	return tree->name;
}

bool
ynode_is_null(const struct ynode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n == NULL || n->type != YNODE_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->str, nulls[i]) == 0)
			return true;
	return false;
}

const struct ynode *
ynode_get(const struct ynode *map, const char *key)
{
	if (map == NULL || map->type != YNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->npairs; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

const char *
ynode_type_name(enum ynode_type type)
{
	switch (type) {
	case YNODE_SCALAR:
		return "scalar";
	case YNODE_MAPPING:
		return "mapping";
	case YNODE_SEQUENCE:
		return "sequence";
	}
	return "node";
}
