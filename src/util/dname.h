/*
 * dname.h -- domain names in uncompressed wire format.
 *
 * A name is a sequence of length-prefixed labels ending in the root label
 * (a zero byte); at most DNAME_MAXLEN bytes. These helpers are pure, do not
 * allocate, and are safe on the query path. Names given to them must be
 * well formed (checked by whoever parsed them).
 */
#ifndef UTIL_DNAME_H
#define UTIL_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNAME_MAXLEN	255
#define DNAME_MAXLABEL	63

/* Length in bytes of the well-formed name at n, root label included. */
size_t	dname_len(const uint8_t *n);

/* Number of labels, not counting the root: "a.b." has 2. */
unsigned	dname_labels(const uint8_t *n);

/* ASCII lower-case copy of the len bytes of src into dst (may be equal). */
void	dname_lower(uint8_t *dst, const uint8_t *src, size_t len);

/* Case-insensitive equality of two well-formed names. */
bool	dname_equal(const uint8_t *a, const uint8_t *b);

/*
 * True when child equals parent or lies below it. Both lower case.
 */
bool	dname_is_subdomain(const uint8_t *child, const uint8_t *parent);

/* The name with its first label removed; the root stays the root. */
const uint8_t	*dname_parent(const uint8_t *n);

/* Text form, "www.example.com." ("." for the root), escaping as RFC 1035. */
void	dname_to_str(const uint8_t *n, char *buf, size_t size);

/*
 * Parse text ("www.example.com." or relative "www" joined to origin when
 * origin is not NULL; a name without a trailing dot and without origin is
 * taken as absolute). Writes at most DNAME_MAXLEN bytes to out. Returns 0
 * or ERR_PARSE. Handles \DDD and \X escapes.
 */
int	dname_from_str(const char *s, const uint8_t *origin, uint8_t *out,
	    size_t *outlen) __attribute__((warn_unused_result));

#endif
