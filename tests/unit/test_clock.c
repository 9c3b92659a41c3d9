/*
 * test_clock.c -- util/clock: the two clocks and the ISO 8601 format.
 */
#include <criterion/criterion.h>

#include <string.h>
#include <time.h>

#include "util/clock.h"

Test(clock, wall_is_the_system_time_in_ms)
{
	time_t before = time(NULL);
	uint64_t ms = clock_wall_ms();
	time_t after = time(NULL);

	cr_expect_geq(ms / 1000, (uint64_t)before);
	cr_expect_leq(ms / 1000, (uint64_t)after);
}

Test(clock, monotonic_does_not_go_back)
{
	uint64_t a = clock_mono_ms(), b;

	for (int i = 0; i < 1000; i++) {
		b = clock_mono_ms();
		cr_assert_geq(b, a);
		a = b;
	}
}

Test(clock, iso8601)
{
	char buf[CLOCK_ISO_LEN];

	clock_iso8601(1795683217028ull, buf, sizeof(buf));
	cr_expect_str_eq(buf, "2026-11-26T08:53:37.028Z");
	clock_iso8601(0, buf, sizeof(buf));
	cr_expect_str_eq(buf, "1970-01-01T00:00:00.000Z");
	clock_iso8601(1795683217028ull, buf, 11);
	cr_expect_str_eq(buf, "2026-11-26", "cut short, terminated");
}
