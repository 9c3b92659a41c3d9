#include "util/jsonx.h"

#include <stdlib.h>

#include "util/xalloc.h"

json_t *
jsonx_check(json_t *j)
{
	if (j == NULL)
		abort();
	return j;
}

void
jsonx_set(json_t *obj, const char *key, json_t *val)
{
	if (json_object_set_new(obj, key, jsonx_check(val)) != 0)
		abort();
}

void
jsonx_append(json_t *arr, json_t *val)
{
	if (json_array_append_new(arr, jsonx_check(val)) != 0)
		abort();
}

char *
jsonx_dump(const json_t *doc)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *out;

	if (s == NULL)
		abort();
	/* jansson allocates with malloc by default, but may be told not to. */
	out = xstrdup(s);
	free(s);
	return out;
}

json_t *
jsonx_str_or_null(const char *s)
{
	return s != NULL ? jsonx_check(json_string(s)) : json_null();
}
