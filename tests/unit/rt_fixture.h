/*
 * rt_fixture.h -- helpers shared by test_report.c and test_metrics.c: a
 * runtime loaded from a config text (runtime_load, no sockets) in a
 * temporary folder, and polls fed to its mirror by hand. Static inline
 * so that a test may use any subset.
 */
#ifndef TESTS_RT_FIXTURE_H
#define TESTS_RT_FIXTURE_H

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirror/mirror.h"
#include "runtime.h"

#define NOW	1714566896000ull	/* 2024-05-01T12:34:56Z */
#define PANEL	"arn:aws:route53-recovery-control::111122223333:controlpanel/p"
#define ARN(n)	PANEL "/routingcontrol/" n

struct rtfx {
	char	dir[64];
	char	path[128];		/* dir/arcdns.yaml */
};

/* A new temporary folder named after the test. */
static inline void
rtfx_init(struct rtfx *fx, const char *test)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/%s.XXXXXX", test);
	cr_assert_not_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/arcdns.yaml", fx->dir);
}

/*
 * Write text as fx's config ("%s" in it becomes the folder) and load it:
 * a runtime, with an empty mirror when mirror is true. The test fails
 * when it does not load.
 */
static inline struct runtime *
rtfx_runtime(struct rtfx *fx, const char *text, bool mirror)
{
	struct loaded l;
	struct runtime *rt;
	char *err = NULL;
	const char *p;
	FILE *f = fopen(fx->path, "w");

	cr_assert_not_null(f);
	while ((p = strstr(text, "%s")) != NULL) {
		fwrite(text, 1, (size_t)(p - text), f);
		fputs(fx->dir, f);
		text = p + 2;
	}
	fputs(text, f);
	fclose(f);
	cr_assert_eq(runtime_load(fx->path, &l, &err), 0, "%s", err);
	rt = runtime_new(fx->path, &l);
	if (mirror)
		rt->mirror = mirror_new(rt->cur.conf);
	return rt;
}

/* Remove what rtfx_init() and rtfx_runtime() made (not the state-dir). */
static inline void
rtfx_cleanup(struct rtfx *fx)
{
	unlink(fx->path);
	rmdir(fx->dir);
}

/* One poll from us-east-1 at t: ARN("e") and ARN("w") On or Off. */
static inline void
rtfx_poll(struct mirror *m, bool east, bool west, uint64_t t)
{
	struct mirror_entry e[2] = {
		{ ARN("e"), "route-e", PANEL, east },
		{ ARN("w"), "route-w", PANEL, west },
	};

	(void)mirror_apply(m, e, 2, "us-east-1", t);
}

#endif
