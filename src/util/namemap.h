/*
 * namemap.h -- hash map from byte strings to pointers: lower-case wire
 * names, and (dns/table.c) whole answer templates.
 *
 * Built once (namemap_put), then read by any number of threads at once
 * (namemap_get does no allocation and writes nothing). Keys are borrowed:
 * they must stay valid and unchanged for the life of the map. Open
 * addressing with linear probing, load factor at most 1/2.
 */
#ifndef UTIL_NAMEMAP_H
#define UTIL_NAMEMAP_H

#include <stddef.h>
#include <stdint.h>

struct namemap;

/* New empty map sized for about expected entries. */
struct namemap	*namemap_new(size_t expected);
/* NULL-safe. Frees the map, not the keys or values. */
void		 namemap_free(struct namemap *m);

/*
 * Insert key -> value (key borrowed, len bytes, lower case). If the key is
 * present, nothing changes and the existing value is returned; otherwise
 * value is returned.
 */
void	*namemap_put(struct namemap *m, const uint8_t *key, size_t len,
	    void *value);
/* The value for key, or NULL. */
void	*namemap_get(const struct namemap *m, const uint8_t *key, size_t len);
size_t	 namemap_count(const struct namemap *m);

/* Call fn on every value, in no particular order. */
void	 namemap_foreach(const struct namemap *m, void (*fn)(void *value,
	    void *arg), void *arg);

/* The hash used for keys (exposed for tests). */
uint64_t	namemap_hash(const uint8_t *key, size_t len);

#endif
