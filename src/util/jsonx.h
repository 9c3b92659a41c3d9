/*
 * jsonx.h -- jansson glue that treats out of memory as xalloc does.
 *
 * jansson's constructors return NULL when memory runs out (and
 * json_string() also for text that is not UTF-8): callers that build
 * documents from checked data wrap them in jsonx_check() instead of
 * writing untested NULL branches. Every function here aborts on such a
 * NULL, like xmalloc.
 */
#ifndef UTIL_JSONX_H
#define UTIL_JSONX_H

#include <jansson.h>

/* j itself; aborts when j is NULL. */
json_t	*jsonx_check(json_t *j);

/* A JSON string of s, or null when s is NULL. */
json_t	*jsonx_str_or_null(const char *s);

/* obj[key] = val, taking val (the reference is the object's). */
void	 jsonx_set(json_t *obj, const char *key, json_t *val);

/* Append val to arr, taking val. */
void	 jsonx_append(json_t *arr, json_t *val);

/*
 * doc as compact JSON with its keys in insertion order: a new string for
 * free() (not jansson's allocator).
 */
char	*jsonx_dump(const json_t *doc);

#endif
