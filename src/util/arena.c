#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define BLOCK	65536		/* one block */
#define ALIGN	8
#define BIG	(BLOCK / 8)	/* larger pieces get a block of their own */

static void *
keep(struct arena *a, void *p)
{
	if (a->nblocks == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->blocks = xrealloc(a->blocks, a->cap, sizeof(*a->blocks));
	}
	a->blocks[a->nblocks++] = p;
	return p;
}

void *
arena_alloc(struct arena *a, size_t size)
{
	void *p;

	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (size > BIG)
		return keep(a, xcalloc(1, size));
	if (size > a->left) {
		a->cur = keep(a, xcalloc(1, BLOCK));
		a->left = BLOCK;
	}
	p = a->cur;
	a->cur += size;
	a->left -= size;
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(arena_alloc(a, n), s, n);
}

void
arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->nblocks; i++)
		free(a->blocks[i]);
	free(a->blocks);
	memset(a, 0, sizeof(*a));
}
