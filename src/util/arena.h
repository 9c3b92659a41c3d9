/*
 * arena.h -- zeroed memory carved from large blocks, freed all at once.
 *
 * For the many small pieces of one structure that live and die together
 * (the nodes, names and record data of a zone; the nodes and templates of
 * an answer table): no malloc() header or rounding per piece, no pointer
 * kept per piece. Not thread-safe; reading what it gave out is.
 */
#ifndef UTIL_ARENA_H
#define UTIL_ARENA_H

#include <stddef.h>

struct arena {
	unsigned char	*cur;		/* what is left of the last block */
	size_t		 left;
	void		**blocks;
	size_t		 nblocks, cap;
};

#define ARENA_INIT	{NULL, 0, NULL, 0, 0}

/* size bytes, zeroed, aligned for any pointer or integer; never NULL. */
void	*arena_alloc(struct arena *a, size_t size);
/* A copy of the string s. */
char	*arena_strdup(struct arena *a, const char *s);
/* Free every block; the arena is empty and usable again. */
void	 arena_free(struct arena *a);

#endif
