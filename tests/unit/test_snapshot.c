/*
 * test_snapshot.c -- publish/enter/leave/reclaim: an object is not freed
 * while a reader that entered before the swap is inside, is freed once it
 * leaves, idle readers and readers that entered after the swap do not
 * block reclaim, and snapshot_free frees everything exactly once.
 *
 * Objects are small structs with an id; the test free_fn records which
 * ids were freed (and poisons them), so every assertion names the object.
 * A last test runs real reader threads against a writer (no sleeps: fixed
 * iteration counts) so that the sanitizer build can catch a use after free.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dns/snapshot.h"

#define MAGIC	0x5ca1ab1eu
#define DEAD	0xdeadbeefu
#define MAXOBJ	64

struct obj {
	_Atomic unsigned	magic;
	int			id;
};

static int freed[MAXOBJ];	/* times each id was freed */
static int nfreed;

static void
obj_free(void *p)
{
	struct obj *o = p;

	cr_assert_not_null(o, "free_fn called with NULL");
	cr_assert_eq(atomic_load(&o->magic), MAGIC, "object %d freed twice",
	    o->id);
	cr_assert(o->id >= 0 && o->id < MAXOBJ);
	freed[o->id]++;
	nfreed++;
	atomic_store(&o->magic, DEAD);
	free(o);
}

static struct obj *
obj_new(int id)
{
	struct obj *o = malloc(sizeof(*o));

	cr_assert_not_null(o);
	atomic_init(&o->magic, MAGIC);
	o->id = id;
	return o;
}

static void
reset(void)
{
	memset(freed, 0, sizeof(freed));
	nfreed = 0;
}

TestSuite(snapshot, .init = reset);

Test(snapshot, empty_until_published)
{
	struct snapshot *s = snapshot_new(2, obj_free);

	cr_expect_null(snapshot_current(s));
	cr_expect_null(snapshot_enter(s, 0));
	snapshot_leave(s, 0);
	cr_expect_eq(snapshot_reclaim(s), 0);
	snapshot_free(s);
	cr_expect_eq(nfreed, 0);
	snapshot_free(NULL);
}

Test(snapshot, first_publish_retires_nothing)
{
	struct snapshot *s = snapshot_new(1, obj_free);
	struct obj *a = obj_new(0);

	snapshot_publish(s, a);
	cr_expect_eq(snapshot_current(s), a);
	cr_expect_eq(snapshot_reclaim(s), 0);
	cr_expect_eq(snapshot_enter(s, 0), a);
	snapshot_leave(s, 0);
	cr_expect_eq(nfreed, 0);
	snapshot_free(s);
	cr_expect_eq(freed[0], 1);
	cr_expect_eq(nfreed, 1);
}

Test(snapshot, reader_inside_before_the_swap_blocks_reclaim)
{
	struct snapshot *s = snapshot_new(2, obj_free);
	struct obj *a = obj_new(0), *b = obj_new(1);

	snapshot_publish(s, a);
	cr_assert_eq(snapshot_enter(s, 0), a);
	snapshot_publish(s, b);
	cr_expect_eq(snapshot_current(s), b);
	/* Reader 0 may still be using a. */
	cr_expect_eq(snapshot_reclaim(s), 1);
	cr_expect_eq(freed[0], 0, "a freed under a reader");
	cr_expect_eq(atomic_load(&a->magic), MAGIC);
	/* Asking again changes nothing while it stays inside. */
	cr_expect_eq(snapshot_reclaim(s), 1);
	cr_expect_eq(nfreed, 0);
	snapshot_leave(s, 0);
	cr_expect_eq(snapshot_reclaim(s), 0);
	cr_expect_eq(freed[0], 1);
	cr_expect_eq(freed[1], 0, "the current object was freed");
	snapshot_free(s);
	cr_expect_eq(freed[1], 1);
	cr_expect_eq(nfreed, 2);
}

Test(snapshot, idle_readers_do_not_block)
{
	struct snapshot *s = snapshot_new(8, obj_free);

	snapshot_publish(s, obj_new(0));
	/* Readers that came and went, and readers that never came. */
	for (size_t r = 0; r < 4; r++) {
		cr_expect_not_null(snapshot_enter(s, r));
		snapshot_leave(s, r);
	}
	snapshot_publish(s, obj_new(1));
	cr_expect_eq(snapshot_reclaim(s), 0);
	cr_expect_eq(freed[0], 1);
	snapshot_free(s);
	cr_expect_eq(freed[1], 1);
}

Test(snapshot, reader_entering_after_the_swap_does_not_block)
{
	struct snapshot *s = snapshot_new(2, obj_free);
	struct obj *a = obj_new(0), *b = obj_new(1);

	snapshot_publish(s, a);
	snapshot_publish(s, b);
	cr_expect_eq(snapshot_enter(s, 1), b);
	cr_expect_eq(snapshot_reclaim(s), 0, "a reader of b blocks a");
	cr_expect_eq(freed[0], 1);
	snapshot_leave(s, 1);
	snapshot_free(s);
	cr_expect_eq(freed[1], 1);
}

Test(snapshot, several_generations)
{
	struct snapshot *s = snapshot_new(3, obj_free);
	struct obj *a = obj_new(0), *b = obj_new(1), *c = obj_new(2);

	snapshot_publish(s, a);
	cr_assert_eq(snapshot_enter(s, 0), a);	/* reader 0 holds a */
	snapshot_publish(s, b);
	cr_assert_eq(snapshot_enter(s, 1), b);	/* reader 1 holds b */
	snapshot_publish(s, c);
	/* a and b both wait: reader 0 entered before either swap. */
	cr_expect_eq(snapshot_reclaim(s), 2);
	cr_expect_eq(nfreed, 0);
	snapshot_leave(s, 0);
	/* a goes; b waits for reader 1. */
	cr_expect_eq(snapshot_reclaim(s), 1);
	cr_expect_eq(freed[0], 1);
	cr_expect_eq(freed[1], 0);
	/* Reader 1 leaves and comes back: now it sees c. */
	snapshot_leave(s, 1);
	cr_expect_eq(snapshot_enter(s, 1), c);
	cr_expect_eq(snapshot_reclaim(s), 0);
	cr_expect_eq(freed[1], 1);
	cr_expect_eq(freed[2], 0);
	snapshot_leave(s, 1);
	snapshot_free(s);
	cr_expect_eq(freed[2], 1);
	cr_expect_eq(nfreed, 3);
}

Test(snapshot, free_takes_current_and_retired)
{
	struct snapshot *s = snapshot_new(1, obj_free);

	snapshot_publish(s, obj_new(0));
	cr_assert_not_null(snapshot_enter(s, 0));
	snapshot_publish(s, obj_new(1));
	snapshot_publish(s, obj_new(2));
	snapshot_publish(s, obj_new(3));
	cr_expect_eq(snapshot_reclaim(s), 3);
	snapshot_leave(s, 0);
	/* No reclaim: snapshot_free must free the 3 retired and the current. */
	snapshot_free(s);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(freed[i], 1, "object %d freed %d times", i,
		    freed[i]);
	cr_expect_eq(nfreed, 4);
}

Test(snapshot, many_publishes_without_readers)
{
	struct snapshot *s = snapshot_new(4, obj_free);

	for (int i = 0; i < MAXOBJ; i++) {
		snapshot_publish(s, obj_new(i));
		if (i % 3 == 0)
			cr_expect_eq(snapshot_reclaim(s), 0);
	}
	cr_expect_eq(snapshot_reclaim(s), 0);
	cr_expect_eq(nfreed, MAXOBJ - 1);
	snapshot_free(s);
	for (int i = 0; i < MAXOBJ; i++)
		cr_expect_eq(freed[i], 1, "object %d", i);
}

Test(snapshot, publishing_null_retires_the_old_object)
{
	struct snapshot *s = snapshot_new(1, obj_free);

	snapshot_publish(s, obj_new(0));
	snapshot_publish(s, NULL);
	cr_expect_null(snapshot_current(s));
	cr_expect_null(snapshot_enter(s, 0));
	snapshot_leave(s, 0);
	cr_expect_eq(snapshot_reclaim(s), 0);
	cr_expect_eq(freed[0], 1);
	snapshot_free(s);
	cr_expect_eq(nfreed, 1);
}

/* --- threads -------------------------------------------------------------- */

#define READERS		3
#define PUBLISHES	20000

/* Objects for the threaded test: freed for real, poisoned first. */
static _Atomic long tfreed;

static void
tobj_free(void *p)
{
	struct obj *o = p;

	atomic_store(&o->magic, DEAD);
	atomic_fetch_add(&tfreed, 1);
	free(o);
}

struct reader_arg {
	struct snapshot	*s;
	size_t		 slot;
	_Atomic bool	*done;
	long		 reads;
	long		 bad;
};

static void *
reader_main(void *p)
{
	struct reader_arg *a = p;

	do {
		struct obj *o = snapshot_enter(a->s, a->slot);

		/* Look at it a few times while inside. */
		for (int i = 0; i < 4 && o != NULL; i++)
			if (atomic_load(&o->magic) != MAGIC)
				a->bad++;
		snapshot_leave(a->s, a->slot);
		a->reads++;
	} while (!atomic_load(a->done));
	return NULL;
}

Test(snapshot_threads, readers_never_see_a_freed_object, .timeout = 120)
{
	struct snapshot *s = snapshot_new(READERS, tobj_free);
	pthread_t th[READERS];
	struct reader_arg args[READERS];
	_Atomic bool done = false;
	long published = 0;

	atomic_store(&tfreed, 0);
	snapshot_publish(s, obj_new(0));
	published++;
	for (size_t i = 0; i < READERS; i++) {
		args[i] = (struct reader_arg){s, i, &done, 0, 0};
		cr_assert_eq(pthread_create(&th[i], NULL, reader_main, &args[i]),
		    0);
	}
	for (int i = 1; i <= PUBLISHES; i++) {
		snapshot_publish(s, obj_new(i % MAXOBJ));
		published++;
		(void)snapshot_reclaim(s);
	}
	atomic_store(&done, true);
	for (size_t i = 0; i < READERS; i++)
		cr_assert_eq(pthread_join(th[i], NULL), 0);
	for (size_t i = 0; i < READERS; i++) {
		cr_expect_eq(args[i].bad, 0, "reader %zu saw %ld freed objects "
		    "in %ld reads", i, args[i].bad, args[i].reads);
	}
	/* With every reader gone, everything but the current one goes. */
	cr_expect_eq(snapshot_reclaim(s), 0);
	cr_expect_eq(atomic_load(&tfreed), published - 1);
	snapshot_free(s);
	cr_expect_eq(atomic_load(&tfreed), published);
}
