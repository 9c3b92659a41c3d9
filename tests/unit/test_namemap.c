/*
 * test_namemap.c -- the name -> pointer hash map: insert, lookup, the
 * "first value wins" rule for duplicates, growth, misses and iteration.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dname.h"
#include "util/namemap.h"

#define K(s)	((const uint8_t *)(s)), sizeof(s)

static struct namemap *map;

static void
setup(void)
{
	map = namemap_new(0);
}

static void
teardown(void)
{
	namemap_free(map);
}

TestSuite(namemap, .init = setup, .fini = teardown);

Test(namemap, empty_map_misses)
{
	cr_expect_eq(namemap_count(map), 0);
	cr_expect_null(namemap_get(map, K("\3www\7example")));
	cr_expect_null(namemap_get(map, K("")));
}

Test(namemap, put_then_get)
{
	int a, b, c;

	cr_expect_eq(namemap_put(map, K("\3www\7example"), &a), &a);
	cr_expect_eq(namemap_put(map, K("\7example"), &b), &b);
	cr_expect_eq(namemap_put(map, K(""), &c), &c);
	cr_expect_eq(namemap_count(map), 3);
	cr_expect_eq(namemap_get(map, K("\3www\7example")), &a);
	cr_expect_eq(namemap_get(map, K("\7example")), &b);
	cr_expect_eq(namemap_get(map, K("")), &c);
}

Test(namemap, lookup_uses_bytes_not_pointers)
{
	int a;
	uint8_t copy[] = "\3www\7example";

	namemap_put(map, K("\3www\7example"), &a);
	cr_expect_eq(namemap_get(map, copy, sizeof(copy)), &a);
}

Test(namemap, duplicate_returns_existing_and_keeps_it)
{
	int a, b;

	cr_expect_eq(namemap_put(map, K("\3dup"), &a), &a);
	cr_expect_eq(namemap_put(map, K("\3dup"), &b), &a);
	cr_expect_eq(namemap_count(map), 1);
	cr_expect_eq(namemap_get(map, K("\3dup")), &a);
}

Test(namemap, near_misses)
{
	int a;

	namemap_put(map, K("\3www\7example"), &a);
	/* Case matters: keys are lower case by contract. */
	cr_expect_null(namemap_get(map, K("\3WWW\7example")));
	/* A prefix or an extension of the key. */
	cr_expect_null(namemap_get(map, (const uint8_t *)"\3www\7example",
	    12));
	cr_expect_null(namemap_get(map, K("\3www\7example\3com")));
	cr_expect_null(namemap_get(map, K("\7example")));
	/* Same length, one byte off. */
	cr_expect_null(namemap_get(map, K("\3wwx\7example")));
}

Test(namemap, null_values_are_stored)
{
	/* A NULL value is indistinguishable from a miss on get, but it
	 * still takes the key: a second put returns the first (NULL). */
	int b;

	cr_expect_null(namemap_put(map, K("\1n"), NULL));
	cr_expect_eq(namemap_count(map), 1);
	cr_expect_null(namemap_put(map, K("\1n"), &b));
	cr_expect_eq(namemap_count(map), 1);
}

Test(namemap, free_null_is_harmless)
{
	namemap_free(NULL);
}

Test(namemap, hash_is_deterministic_and_spreads)
{
	cr_expect_eq(namemap_hash(K("\3www\7example")),
	    namemap_hash(K("\3www\7example")));
	cr_expect_neq(namemap_hash(K("\3www\7example")),
	    namemap_hash(K("\3wwx\7example")));
	/* Length is part of the hash: trailing zero bytes differ. */
	cr_expect_neq(namemap_hash((const uint8_t *)"\0\0\0\0\0\0\0\0", 8),
	    namemap_hash((const uint8_t *)"\0\0\0\0\0\0\0\0", 7));
	cr_expect_neq(namemap_hash((const uint8_t *)"", 0),
	    namemap_hash((const uint8_t *)"\0", 1));
}

/* Many distinct keys, kept alive in one block. */
#define NKEYS	20000

struct keys {
	uint8_t	name[NKEYS][24];
	size_t	len[NKEYS];
	int	val[NKEYS];
};

static void
make_keys(struct keys *k)
{
	for (size_t i = 0; i < NKEYS; i++) {
		int n = snprintf((char *)k->name[i] + 1, 20, "h%zu", i);

		k->name[i][0] = (uint8_t)n;
		memcpy(k->name[i] + 1 + n, "\4test", 6);
		k->len[i] = (size_t)n + 1 + 6;
		k->val[i] = (int)i;
	}
}

static void
count_cb(void *value, void *arg)
{
	int *seen = arg;
	int v = *(int *)value;

	cr_assert(v >= 0 && v < NKEYS, "bad value %d", v);
	seen[v]++;
}

Test(namemap, growth_past_many_entries)
{
	struct keys *k = malloc(sizeof(*k));
	int *seen = calloc(NKEYS, sizeof(*seen));

	cr_assert_not_null(k);
	cr_assert_not_null(seen);
	make_keys(k);
	for (size_t i = 0; i < NKEYS; i++) {
		cr_assert_eq(namemap_put(map, k->name[i], k->len[i], &k->val[i]),
		    &k->val[i], "key %zu", i);
		/* Everything put so far is still there after each growth. */
		if ((i & (i + 1)) == 0)
			for (size_t j = 0; j <= i; j++)
				cr_assert_eq(namemap_get(map, k->name[j],
				    k->len[j]), &k->val[j], "key %zu after %zu",
				    j, i);
	}
	cr_expect_eq(namemap_count(map), NKEYS);
	for (size_t i = 0; i < NKEYS; i++)
		cr_assert_eq(namemap_get(map, k->name[i], k->len[i]),
		    &k->val[i], "key %zu", i);
	/* Duplicates after growth still find the first value. */
	for (size_t i = 0; i < NKEYS; i += 97) {
		int other;

		cr_assert_eq(namemap_put(map, k->name[i], k->len[i], &other),
		    &k->val[i]);
	}
	cr_expect_eq(namemap_count(map), NKEYS);
	/* Misses: names that were never put. */
	for (size_t i = 0; i < 1000; i++) {
		uint8_t miss[32];
		int n = snprintf((char *)miss + 1, 20, "m%zu", i);

		miss[0] = (uint8_t)n;
		memcpy(miss + 1 + n, "\4test", 6);
		cr_assert_null(namemap_get(map, miss, (size_t)n + 7));
	}
	namemap_foreach(map, count_cb, seen);
	for (size_t i = 0; i < NKEYS; i++)
		cr_assert_eq(seen[i], 1, "value %zu seen %d times", i, seen[i]);
	free(seen);
	free(k);
}

Test(namemap, presized_map_holds_what_it_was_sized_for)
{
	struct namemap *m = namemap_new(1000);
	struct keys *k = malloc(sizeof(*k));

	cr_assert_not_null(k);
	make_keys(k);
	for (size_t i = 0; i < 1000; i++)
		namemap_put(m, k->name[i], k->len[i], &k->val[i]);
	for (size_t i = 0; i < 1000; i++)
		cr_assert_eq(namemap_get(m, k->name[i], k->len[i]), &k->val[i]);
	cr_expect_eq(namemap_count(m), 1000);
	namemap_free(m);
	free(k);
}

static void
tally_cb(void *value, void *arg)
{
	(void)value;
	(*(size_t *)arg)++;
}

Test(namemap, foreach_visits_each_value_once)
{
	int v[5];
	size_t n = 0;

	namemap_foreach(map, tally_cb, &n);
	cr_expect_eq(n, 0);
	namemap_put(map, K("\1a"), &v[0]);
	namemap_put(map, K("\1b"), &v[1]);
	namemap_put(map, K("\1c"), &v[2]);
	namemap_put(map, K("\1a"), &v[3]);	/* duplicate: not added */
	namemap_put(map, K(""), &v[4]);
	namemap_foreach(map, tally_cb, &n);
	cr_expect_eq(n, 4);
	cr_expect_eq(n, namemap_count(map));
}

Test(namemap, long_keys)
{
	/* Keys longer than one 8-byte word, up to a full name. */
	uint8_t keys[4][DNAME_MAXLEN];
	int v[4];

	for (int i = 0; i < 4; i++) {
		memset(keys[i], 'k', sizeof(keys[i]));
		keys[i][DNAME_MAXLEN - 1] = (uint8_t)('0' + i);
		namemap_put(map, keys[i], DNAME_MAXLEN, &v[i]);
	}
	for (int i = 0; i < 4; i++)
		cr_expect_eq(namemap_get(map, keys[i], DNAME_MAXLEN), &v[i]);
	cr_expect_null(namemap_get(map, keys[0], DNAME_MAXLEN - 1));
}
