/*
 * xalloc.h -- allocation that never returns NULL.
 *
 * Out of memory is not a condition arcdns recovers from: these functions
 * print a message and abort(), so that no caller writes an untested OOM
 * branch. Every pointer they return is new: the caller frees it with free().
 */
#ifndef UTIL_XALLOC_H
#define UTIL_XALLOC_H

#include <stddef.h>

void	*xmalloc(size_t size);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *ptr, size_t n, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
/* printf-style formatting into a new string. */
char	*xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
