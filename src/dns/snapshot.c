#include "dns/snapshot.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/xalloc.h"

#define IDLE	0

/* One cache line per reader: each writes its own slot on every event. */
struct slot {
	_Atomic uint64_t	gen;
	char			pad[64 - sizeof(uint64_t)];
};

struct retired {
	void		*obj;
	uint64_t	 gen;	/* readers at or after this cannot see obj */
};

struct snapshot {
	_Atomic(void *)		 cur;
	_Atomic uint64_t	 gen;
	struct slot		*slots;
	size_t			 nslots;
	void			(*free_fn)(void *);
	struct retired		*retired;	/* writer only */
	size_t			 nretired;
};

struct snapshot *
snapshot_new(size_t nreaders, void (*free_fn)(void *))
{
	struct snapshot *s = xcalloc(1, sizeof(*s));

	atomic_init(&s->cur, NULL);
	atomic_init(&s->gen, 1);
	s->slots = xcalloc(nreaders, sizeof(*s->slots));
	s->nslots = nreaders;
	s->free_fn = free_fn;
	return s;
}

void
snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nretired; i++)
		s->free_fn(s->retired[i].obj);
	if (atomic_load(&s->cur) != NULL)
		s->free_fn(atomic_load(&s->cur));
	free(s->retired);
	free(s->slots);
	free(s);
}

void *
snapshot_enter(struct snapshot *s, size_t r)
{
	/*
	 * Announce the generation before reading the pointer (both seq_cst):
	 * a writer that does not yet see the announcement published its
	 * pointer first, so this load returns the new object.
	 */
	atomic_store(&s->slots[r].gen, atomic_load(&s->gen));
	return atomic_load(&s->cur);
}

void
snapshot_leave(struct snapshot *s, size_t r)
{
	atomic_store_explicit(&s->slots[r].gen, IDLE, memory_order_release);
}

void
snapshot_publish(struct snapshot *s, void *obj)
{
	void *old = atomic_exchange(&s->cur, obj);
	uint64_t g = atomic_fetch_add(&s->gen, 1) + 1;

	if (old == NULL)
		return;
	s->retired = xrealloc(s->retired, s->nretired + 1, sizeof(*s->retired));
	s->retired[s->nretired++] = (struct retired){old, g};
}

void *
snapshot_current(struct snapshot *s)
{
	return atomic_load(&s->cur);
}

size_t
snapshot_reclaim(struct snapshot *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nretired; i++) {
		bool seen = true;

		for (size_t r = 0; r < s->nslots && seen; r++) {
			uint64_t g = atomic_load(&s->slots[r].gen);

			seen = g == IDLE || g >= s->retired[i].gen;
		}
		if (seen)
			s->free_fn(s->retired[i].obj);
		else
			s->retired[kept++] = s->retired[i];
	}
	s->nretired = kept;
	return kept;
}
