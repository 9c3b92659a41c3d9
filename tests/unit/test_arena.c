#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "util/arena.h"

Test(arena, pieces_are_zeroed_aligned_and_apart)
{
	struct arena a = ARENA_INIT;
	unsigned char *prev = NULL;
	size_t prevsize = 0;

	for (size_t i = 1; i <= 5000; i++) {
		size_t size = i % 97 + 1;
		unsigned char *p = arena_alloc(&a, size);

		cr_assert_not_null(p);
		cr_assert_eq((uintptr_t)p % 8, 0, "piece %zu misaligned", i);
		for (size_t j = 0; j < size; j++)
			cr_assert_eq(p[j], 0, "piece %zu not zeroed", i);
		memset(p, 0xab, size);
		/* Within a block, after the previous piece's end. */
		if (prev != NULL && p > prev && p < prev + 65536)
			cr_assert_geq(p, prev + prevsize);
		prev = p;
		prevsize = size;
	}
	cr_expect_gt(a.nblocks, 1, "several blocks for about 250 KB");
	cr_expect_lt(a.nblocks, 10, "not a block per piece");
	arena_free(&a);
	cr_expect_eq(a.nblocks, 0);
	cr_expect_null(a.blocks);
}

Test(arena, large_pieces_get_their_own_block)
{
	struct arena a = ARENA_INIT;
	unsigned char *small = arena_alloc(&a, 16);
	unsigned char *big = arena_alloc(&a, 100000);
	unsigned char *next = arena_alloc(&a, 16);

	memset(big, 1, 100000);
	cr_expect_eq(a.nblocks, 2);
	cr_expect_eq(next, small + 16, "the small block goes on");
	cr_expect_str_eq(arena_strdup(&a, "us-east-1"), "us-east-1");
	arena_free(&a);
	/* Usable again after a free. */
	cr_expect_not_null(arena_alloc(&a, 8));
	arena_free(&a);
}
