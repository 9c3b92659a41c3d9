/*
 * test_mirror.c -- the routing-control mirror: applying polls (changes,
 * observers, missing controls, the suspicious empty poll, matching by ARN
 * and by ARC name), the state file (round trip, every truncation, corrupt
 * and mistyped files, unknown versions, controls no longer configured or
 * pointing elsewhere), the event log and the staleness boundaries. Times
 * are fake; files live in a fresh mkdtemp folder per test.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "mirror/mirror.h"
#include "util/err.h"
#include "util/xalloc.h"

#define ARN_PANEL	"arn:aws:route53-recovery-control::111122223333:" \
			"controlpanel/abc"
#define ARN_E		ARN_PANEL "/routingcontrol/e1"
#define ARN_W		ARN_PANEL "/routingcontrol/w1"
#define ARN_C1		"arn:aws:route53-recovery-control::111122223333:" \
			"controlpanel/aaa/routingcontrol/c1"
#define ARN_C2		"arn:aws:route53-recovery-control::111122223333:" \
			"controlpanel/zzz/routingcontrol/c2"
#define T0		1795000000000ull	/* 2026-11-18T11:06:40Z */

static char dir[64];
static char *state_path, *log_path;

/* controls: east by ARN, west by ARN, central by ARC name. */
static struct conf_control ctl_table[] = {
	{ .name = "east", .arn = ARN_E },
	{ .name = "west", .arn = ARN_W },
	{ .name = "central", .arc_name = "route-central" },
};
static struct conf conf3 = { .controls = ctl_table, .ncontrols = 3 };

static void
setup(void)
{
	strcpy(dir, "/tmp/test_mirror.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	state_path = xstrfmt("%s/mirror.json", dir);
	log_path = xstrfmt("%s/events.jsonl", dir);
}

static void
teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xstrfmt("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	free(state_path);
	free(log_path);
}

TestSuite(mirror, .init = setup, .fini = teardown);

struct seen {
	int		 calls;
	int		 order[8];
	const struct mirror *m;
};

static struct seen seen;

static void
obs1_cb(const struct mirror *m, void *arg)
{
	struct seen *s = arg;

	s->m = m;
	if (s->calls < 8)
		s->order[s->calls] = 1;
	s->calls++;
}

static void
obs2_cb(const struct mirror *m, void *arg)
{
	struct seen *s = arg;

	s->m = m;
	if (s->calls < 8)
		s->order[s->calls] = 2;
	s->calls++;
}

static struct mirror_entry
entry(const char *arn, const char *name, bool on)
{
	struct mirror_entry e = { .arn = arn, .name = name,
	    .panel_arn = ARN_PANEL, .on = on };

	return e;
}

/* A mirror of conf3 that has seen east On, west Off, central On at T0. */
static struct mirror *
known_mirror(void)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e[] = {
		entry(ARN_E, "route-east", true),
		entry(ARN_W, "route-west", false),
		entry(ARN_C1, "route-central", true),
	};

	cr_assert_eq(mirror_apply(m, e, 3, "us-east-1", T0), 3);
	return m;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = xmalloc(65536);

	cr_assert_not_null(f, "%s", path);
	*len = fread(buf, 1, 65535, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void
spit(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* ---- apply ------------------------------------------------------------- */

Test(mirror, state_names)
{
	cr_expect_str_eq(mirror_state_name(MIRROR_ON), "On");
	cr_expect_str_eq(mirror_state_name(MIRROR_OFF), "Off");
	cr_expect_str_eq(mirror_state_name(MIRROR_UNKNOWN), "unknown");
}

Test(mirror, new_mirror_knows_nothing)
{
	struct mirror *m = mirror_new(&conf3);

	cr_expect_eq(mirror_count(m), 3);
	cr_expect_str_eq(mirror_control(m, 0)->name, "east");
	cr_expect_str_eq(mirror_control(m, 1)->name, "west");
	cr_expect_str_eq(mirror_control(m, 2)->name, "central");
	cr_expect_null(mirror_control(m, 3));
	cr_expect_str_eq(mirror_control(m, 0)->arn, ARN_E);
	cr_expect_null(mirror_control(m, 2)->arn);
	cr_expect_str_eq(mirror_control(m, 2)->arc_name, "route-central");
	for (size_t i = 0; i < 3; i++) {
		cr_expect_eq(mirror_control(m, i)->state, MIRROR_UNKNOWN);
		cr_expect_null(mirror_control(m, i)->endpoint);
	}
	cr_expect_not(mirror_has_state(m));
	cr_expect_eq(mirror_last_success(m), 0);
	cr_expect(mirror_is_stale(m, T0, 5000));
	cr_expect_eq(mirror_find(m, "west"), mirror_control(m, 1));
	cr_expect_null(mirror_find(m, "north"));
	mirror_free(m);
	mirror_free(NULL);
}

Test(mirror, first_poll_learns_every_state)
{
	struct mirror *m = mirror_new(&conf3);
	const struct mirror_control *c;
	struct mirror_entry e[] = {
		entry(ARN_C1, "route-central", true),
		entry(ARN_W, "route-west", false),
		entry(ARN_E, "route-east", true),
	};

	memset(&seen, 0, sizeof(seen));
	mirror_observe(m, obs1_cb, &seen);
	cr_expect_eq(mirror_apply(m, e, 3, "eu-west-1", T0 + 5), 3);
	cr_expect_eq(seen.calls, 1);
	cr_expect_eq(seen.m, m);
	c = mirror_find(m, "east");
	cr_expect_eq(c->state, MIRROR_ON);
	cr_expect_eq(c->changed_ms, T0 + 5);
	cr_expect_str_eq(c->endpoint, "eu-west-1");
	cr_expect_str_eq(c->arc_name, "route-east");
	cr_expect_not(c->missing);
	cr_expect_eq(mirror_find(m, "west")->state, MIRROR_OFF);
	c = mirror_find(m, "central");
	cr_expect_eq(c->state, MIRROR_ON);
	cr_expect_str_eq(c->arn, ARN_C1);
	cr_expect(mirror_has_state(m));
	cr_expect_eq(mirror_last_success(m), T0 + 5);
	mirror_free(m);
}

Test(mirror, same_poll_again_changes_nothing)
{
	struct mirror *m = known_mirror();
	struct mirror_entry e[] = {
		entry(ARN_E, "route-east", true),
		entry(ARN_W, "route-west", false),
		entry(ARN_C1, "route-central", true),
	};

	memset(&seen, 0, sizeof(seen));
	mirror_observe(m, obs1_cb, &seen);
	cr_expect_eq(mirror_apply(m, e, 3, "ap-southeast-2", T0 + 1000), 0);
	cr_expect_eq(seen.calls, 0);
	/* changed_ms and endpoint say where the last change came from. */
	cr_expect_eq(mirror_find(m, "east")->changed_ms, T0);
	cr_expect_str_eq(mirror_find(m, "east")->endpoint, "us-east-1");
	cr_expect_eq(mirror_last_success(m), T0 + 1000);
	mirror_free(m);
}

struct flip {
	bool	east, west, central;
	int	changes;
};

Test(mirror, changes_are_counted_per_control)
{
	static const struct flip table[] = {
		{ true, false, true, 0 },
		{ false, false, true, 1 },
		{ false, true, true, 1 },
		{ true, false, false, 3 },
		{ true, false, false, 0 },
		{ false, true, true, 3 },
	};
	struct mirror *m = known_mirror();
	uint64_t now = T0;

	memset(&seen, 0, sizeof(seen));
	mirror_observe(m, obs1_cb, &seen);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct flip *f = &table[i];
		struct mirror_entry e[] = {
			entry(ARN_E, "route-east", f->east),
			entry(ARN_W, "route-west", f->west),
			entry(ARN_C1, "route-central", f->central),
		};
		int calls = seen.calls;

		now += 1000;
		cr_expect_eq(mirror_apply(m, e, 3, "us-west-2", now),
		    f->changes, "row %zu", i);
		cr_expect_eq(seen.calls, calls + (f->changes > 0), "row %zu",
		    i);
		cr_expect_eq(mirror_find(m, "east")->state,
		    f->east ? MIRROR_ON : MIRROR_OFF, "row %zu", i);
		cr_expect_eq(mirror_find(m, "west")->state,
		    f->west ? MIRROR_ON : MIRROR_OFF, "row %zu", i);
		cr_expect_eq(mirror_find(m, "central")->state,
		    f->central ? MIRROR_ON : MIRROR_OFF, "row %zu", i);
	}
	/* east last flipped in row 5 (index 5, at T0 + 6000). */
	cr_expect_eq(mirror_find(m, "east")->changed_ms, T0 + 6000);
	cr_expect_str_eq(mirror_find(m, "east")->endpoint, "us-west-2");
	mirror_free(m);
}

Test(mirror, observers_run_in_registration_order)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e[] = { entry(ARN_E, "route-east", true) };

	memset(&seen, 0, sizeof(seen));
	mirror_observe(m, obs2_cb, &seen);
	mirror_observe(m, obs1_cb, &seen);
	cr_expect_eq(mirror_apply(m, e, 1, "us-east-1", T0), 1);
	cr_expect_eq(seen.calls, 2);
	cr_expect_eq(seen.order[0], 2);
	cr_expect_eq(seen.order[1], 1);
	mirror_free(m);
}

Test(mirror, unlisted_controls_keep_their_state)
{
	struct mirror *m = known_mirror();
	struct mirror_entry only_east[] = { entry(ARN_E, "route-east", false) };
	struct mirror_entry all[] = {
		entry(ARN_E, "route-east", false),
		entry(ARN_W, "route-west", false),
		entry(ARN_C1, "route-central", true),
	};

	cr_expect_eq(mirror_apply(m, only_east, 1, "us-east-1", T0 + 1000),
	    1);
	cr_expect_eq(mirror_find(m, "east")->state, MIRROR_OFF);
	cr_expect_not(mirror_find(m, "east")->missing);
	cr_expect(mirror_find(m, "west")->missing);
	cr_expect_eq(mirror_find(m, "west")->state, MIRROR_OFF);
	cr_expect(mirror_find(m, "central")->missing);
	cr_expect_eq(mirror_find(m, "central")->state, MIRROR_ON);
	cr_expect_eq(mirror_find(m, "central")->changed_ms, T0);
	cr_expect_eq(mirror_last_success(m), T0 + 1000);
	cr_expect_eq(mirror_apply(m, all, 3, "us-east-1", T0 + 2000), 0);
	for (size_t i = 0; i < 3; i++)
		cr_expect_not(mirror_control(m, i)->missing);
	mirror_free(m);
}

Test(mirror, control_never_listed_stays_unknown)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e[] = { entry(ARN_E, "route-east", true) };

	cr_expect_eq(mirror_apply(m, e, 1, "us-east-1", T0), 1);
	cr_expect_eq(mirror_find(m, "west")->state, MIRROR_UNKNOWN);
	cr_expect(mirror_find(m, "west")->missing);
	mirror_free(m);
}

Test(mirror, empty_poll_keeps_known_state)
{
	struct mirror *m = known_mirror();

	memset(&seen, 0, sizeof(seen));
	mirror_observe(m, obs1_cb, &seen);
	cr_expect_eq(mirror_apply(m, NULL, 0, "us-east-1", T0 + 1000), 0);
	cr_expect_eq(seen.calls, 0);
	cr_expect_eq(mirror_find(m, "east")->state, MIRROR_ON);
	cr_expect_eq(mirror_find(m, "west")->state, MIRROR_OFF);
	cr_expect_eq(mirror_find(m, "central")->state, MIRROR_ON);
	for (size_t i = 0; i < 3; i++)
		cr_expect(mirror_control(m, i)->missing);
	/* Suspicious: not a success, the mirror goes stale. */
	cr_expect_eq(mirror_last_success(m), T0);
	cr_expect(mirror_is_stale(m, T0 + 5001, 5000));
	mirror_free(m);
}

Test(mirror, empty_poll_with_nothing_known_is_a_success)
{
	struct mirror *m = mirror_new(&conf3);

	cr_expect_eq(mirror_apply(m, NULL, 0, "us-east-1", T0), 0);
	cr_expect_eq(mirror_last_success(m), T0);
	cr_expect(mirror_find(m, "east")->missing);
	cr_expect_not(mirror_has_state(m));
	mirror_free(m);
}

Test(mirror, no_controls_configured)
{
	struct conf none = { 0 };
	struct mirror *m = mirror_new(&none);
	struct mirror_entry e[] = { entry(ARN_E, "route-east", true) };

	cr_expect_eq(mirror_count(m), 0);
	cr_expect_eq(mirror_apply(m, e, 1, "us-east-1", T0), 0);
	cr_expect_eq(mirror_apply(m, NULL, 0, "us-east-1", T0 + 1), 0);
	cr_expect_eq(mirror_last_success(m), T0 + 1);
	mirror_free(m);
}

Test(mirror, arn_match_ignores_names)
{
	struct mirror *m = mirror_new(&conf3);
	/* Another control called like central, and east under a new name. */
	struct mirror_entry e[] = {
		entry(ARN_W "x", "route-west", true),
		entry(ARN_E, "renamed-east", true),
	};

	cr_expect_eq(mirror_apply(m, e, 2, "us-east-1", T0), 1);
	cr_expect_eq(mirror_find(m, "east")->state, MIRROR_ON);
	cr_expect_str_eq(mirror_find(m, "east")->arc_name, "renamed-east");
	cr_expect_eq(mirror_find(m, "west")->state, MIRROR_UNKNOWN);
	mirror_free(m);
}

Test(mirror, name_shared_across_panels_takes_first_arn)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e[] = {
		entry(ARN_C2, "route-central", false),
		entry(ARN_C1, "route-central", true),
		entry(NULL, "route-central", false),	/* skipped */
	};

	cr_expect_eq(mirror_apply(m, e, 3, "us-east-1", T0), 1);
	cr_expect_str_eq(mirror_find(m, "central")->arn, ARN_C1);
	cr_expect_eq(mirror_find(m, "central")->state, MIRROR_ON);
	mirror_free(m);
}

Test(mirror, name_match_keeps_the_learnt_arn)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry first[] = { entry(ARN_C2, "route-central", true) };
	struct mirror_entry both[] = {
		entry(ARN_C1, "route-central", false),
		entry(ARN_C2, "route-central", true),
	};
	struct mirror_entry only_c1[] = {
		entry(ARN_C1, "route-central", false),
	};

	cr_expect_eq(mirror_apply(m, first, 1, "us-east-1", T0), 1);
	cr_expect_str_eq(mirror_find(m, "central")->arn, ARN_C2);
	/* A lower ARN appearing later does not take the name over. */
	cr_expect_eq(mirror_apply(m, both, 2, "us-east-1", T0 + 1), 0);
	cr_expect_str_eq(mirror_find(m, "central")->arn, ARN_C2);
	cr_expect_eq(mirror_find(m, "central")->state, MIRROR_ON);
	/* Once the learnt one is gone, the name goes to the other. */
	cr_expect_eq(mirror_apply(m, only_c1, 1, "us-east-1", T0 + 2), 1);
	cr_expect_str_eq(mirror_find(m, "central")->arn, ARN_C1);
	cr_expect_eq(mirror_find(m, "central")->state, MIRROR_OFF);
	mirror_free(m);
}

/* ---- staleness --------------------------------------------------------- */

struct stale_row {
	uint64_t	last;	/* 0: never polled */
	uint64_t	now;
	uint64_t	after;
	bool		stale;
};

ParameterizedTestParameters(mirror, staleness)
{
	static struct stale_row rows[] = {
		{ 0, T0, 5000, true },
		{ 0, 0, 5000, true },
		{ T0, T0, 5000, false },
		{ T0, T0 + 4999, 5000, false },
		{ T0, T0 + 5000, 5000, false },
		{ T0, T0 + 5001, 5000, true },
		{ T0, T0 + 86400000, 5000, true },
		{ T0, T0 - 1000, 5000, false },	/* clock stepped back */
		{ T0, T0 - 5000, 5000, false },
		{ T0, T0 - 5001, 5000, true },
		{ T0, T0 + 1, 0, true },
		{ T0, T0, 0, false },
	};

	return cr_make_param_array(struct stale_row, rows,
	    sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct stale_row *r, mirror, staleness)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e[] = { entry(ARN_E, "route-east", true) };

	if (r->last != 0)
		cr_assert_eq(mirror_apply(m, e, 1, "us-east-1", r->last), 1);
	cr_expect_eq(mirror_is_stale(m, r->now, r->after), r->stale,
	    "last %llu now %llu after %llu", (unsigned long long)r->last,
	    (unsigned long long)r->now, (unsigned long long)r->after);
	mirror_free(m);
}

/* ---- persistence ------------------------------------------------------- */

Test(mirror, save_load_round_trip)
{
	struct mirror *m = known_mirror(), *m2;
	struct mirror_entry e[] = {
		entry(ARN_E, "route-east", false),
		entry(ARN_W, "route-west", false),
		entry(ARN_C1, "route-central", true),
	};
	char *err = NULL;
	DIR *d;
	struct dirent *de;
	int files = 0;

	cr_assert_eq(mirror_apply(m, e, 3, "ap-northeast-1", T0 + 7), 1);
	cr_assert_eq(mirror_save(m, state_path, &err), 0, "%s", err);
	m2 = mirror_new(&conf3);
	cr_assert_eq(mirror_load(m2, state_path, &err), 0, "%s", err);
	for (size_t i = 0; i < 3; i++) {
		const struct mirror_control *a = mirror_control(m, i);
		const struct mirror_control *b = mirror_control(m2, i);

		cr_expect_str_eq(b->name, a->name);
		cr_expect_str_eq(b->arn, a->arn);
		cr_expect_str_eq(b->arc_name, a->arc_name);
		cr_expect_eq(b->state, a->state);
		cr_expect_eq(b->changed_ms, a->changed_ms);
		cr_expect_str_eq(b->endpoint, a->endpoint);
		cr_expect_not(b->missing);
	}
	cr_expect_str_eq(mirror_find(m2, "east")->endpoint, "ap-northeast-1");
	/* Loaded state is known, with the time of the last success. */
	cr_expect(mirror_has_state(m2));
	cr_expect_eq(mirror_last_success(m2), T0 + 7);
	cr_expect_not(mirror_is_stale(m2, T0 + 5007, 5000));
	cr_expect(mirror_is_stale(m2, T0 + 5008, 5000));
	/* The first poll agreeing with the file changes nothing. */
	cr_expect_eq(mirror_apply(m2, e, 3, "us-east-1", T0 + 9), 0);
	/* Only the state file is left in the folder: no temp file. */
	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			cr_expect_str_eq(de->d_name, "mirror.json");
			files++;
		}
	closedir(d);
	cr_expect_eq(files, 1);
	mirror_free(m);
	mirror_free(m2);
}

Test(mirror, saved_file_has_the_documented_fields)
{
	struct mirror *m = known_mirror();
	char *err = NULL, *text;
	size_t len;
	json_t *doc, *c;
	json_error_t jerr;

	cr_assert_eq(mirror_save(m, state_path, &err), 0, "%s", err);
	text = slurp(state_path, &len);
	doc = json_loads(text, 0, &jerr);
	cr_assert_not_null(doc, "%s", jerr.text);
	cr_expect_eq(json_integer_value(json_object_get(doc, "version")), 1);
	cr_expect(json_is_integer(json_object_get(doc, "saved_ms")));
	cr_expect_eq(json_integer_value(json_object_get(doc,
	    "last_success_ms")), (json_int_t)T0);
	cr_assert_eq(json_array_size(json_object_get(doc, "controls")), 3);
	c = json_array_get(json_object_get(doc, "controls"), 2);
	cr_expect_str_eq(json_string_value(json_object_get(c, "name")),
	    "central");
	cr_expect_str_eq(json_string_value(json_object_get(c, "arn")), ARN_C1);
	cr_expect_str_eq(json_string_value(json_object_get(c, "arc_name")),
	    "route-central");
	cr_expect_str_eq(json_string_value(json_object_get(c, "state")), "On");
	cr_expect_eq(json_integer_value(json_object_get(c, "changed_ms")),
	    (json_int_t)T0);
	cr_expect_str_eq(json_string_value(json_object_get(c, "endpoint")),
	    "us-east-1");
	json_decref(doc);
	free(text);
	mirror_free(m);
}

Test(mirror, unknown_state_round_trips)
{
	struct mirror *m = mirror_new(&conf3), *m2 = mirror_new(&conf3);
	char *err = NULL;

	cr_assert_eq(mirror_save(m, state_path, &err), 0, "%s", err);
	cr_assert_eq(mirror_load(m2, state_path, &err), 0, "%s", err);
	cr_expect_not(mirror_has_state(m2));
	cr_expect_null(mirror_find(m2, "central")->arn);
	cr_expect_null(mirror_find(m2, "east")->endpoint);
	mirror_free(m);
	mirror_free(m2);
}

Test(mirror, missing_file_means_nothing_known)
{
	struct mirror *m = mirror_new(&conf3);
	char *err = NULL;

	cr_expect_eq(mirror_load(m, state_path, &err), 0);
	cr_expect_null(err);
	cr_expect_not(mirror_has_state(m));
	mirror_free(m);
}

Test(mirror, save_into_missing_folder_fails_cleanly)
{
	struct mirror *m = known_mirror();
	char *err = NULL, *path = xstrfmt("%s/nope/mirror.json", dir);

	cr_expect_lt(mirror_save(m, path, &err), 0);
	cr_assert_not_null(err);
	cr_expect_not_null(strstr(err, "/nope/"), "%s", err);
	free(err);
	free(path);
	mirror_free(m);
}

Test(mirror, every_truncation_is_rejected)
{
	struct mirror *m = known_mirror(), *m2 = mirror_new(&conf3);
	char *err = NULL, *text, *cut = xstrfmt("%s/cut.json", dir);
	size_t len;

	cr_assert_eq(mirror_save(m, state_path, &err), 0, "%s", err);
	text = slurp(state_path, &len);
	cr_assert_gt(len, 2);
	cr_assert_eq(text[len - 1], '\n');
	/* Every prefix short of the closing brace. */
	for (size_t n = 0; n + 1 < len; n++) {
		int ret;

		spit(cut, text, n);
		err = NULL;
		ret = mirror_load(m2, cut, &err);
		cr_expect_eq(ret, ERR_PARSE, "prefix %zu: %d", n, ret);
		cr_assert_not_null(err, "prefix %zu", n);
		cr_expect_not_null(strstr(err, cut), "%s", err);
		cr_expect_not(mirror_has_state(m2), "prefix %zu", n);
		free(err);
	}
	/* The whole object, with or without its newline, loads. */
	spit(cut, text, len - 1);
	cr_expect_eq(mirror_load(m2, cut, &err), 0);
	cr_expect(mirror_has_state(m2));
	free(cut);
	free(text);
	mirror_free(m);
	mirror_free(m2);
}

struct bad_file {
	const char	*text;
	const char	*why;	/* expected in the message */
};

#define GOOD_CTL	"{\"name\":\"east\",\"arn\":\"" ARN_E "\"," \
			"\"arc_name\":null,\"state\":\"On\"," \
			"\"changed_ms\":5,\"endpoint\":\"us-east-1\"}"
#define DOC(ctls)	"{\"version\":1,\"saved_ms\":9,\"controls\":[" ctls "]}"

Test(mirror, corrupt_or_mistyped_files_are_rejected)
{
	static const struct bad_file table[] = {
		{ "", "not valid JSON" },
		{ "\n\n", "not valid JSON" },
		{ "garbage", "not valid JSON" },
		{ "{\"version\":1,", "not valid JSON" },
		{ "\x01\x02\xff\xfe", "not valid JSON" },
		{ "{\"version\":1,\"version\":1,\"saved_ms\":1,\"controls\":[]}",
		  "duplicate" },
		{ "[]", "top level must be an object" },
		{ "null", "not valid JSON" },	/* jansson wants a container */
		{ "{}", "'version' is missing" },
		{ "{\"version\":\"1\",\"saved_ms\":1,\"controls\":[]}",
		  "'version' must be an integer" },
		{ "{\"version\":2,\"saved_ms\":1,\"controls\":[]}",
		  "unknown version 2" },
		{ "{\"version\":0,\"saved_ms\":1,\"controls\":[]}",
		  "unknown version 0" },
		{ "{\"version\":1,\"controls\":[]}", "'saved_ms' is missing" },
		{ "{\"version\":1,\"saved_ms\":-1,\"controls\":[]}",
		  "'saved_ms' must be a non-negative integer" },
		{ "{\"version\":1,\"saved_ms\":1.5,\"controls\":[]}",
		  "'saved_ms' must be a non-negative integer" },
		{ "{\"version\":1,\"saved_ms\":1}", "'controls' is missing" },
		{ "{\"version\":1,\"saved_ms\":1,\"last_success_ms\":null,"
		  "\"controls\":[]}",
		  "'last_success_ms' must be a non-negative integer" },
		{ "{\"version\":1,\"saved_ms\":1,\"controls\":{}}",
		  "'controls' must be an array" },
		{ DOC("5"), "controls[0]: not an object" },
		{ DOC(GOOD_CTL ",[]"), "controls[1]: not an object" },
		{ DOC("{\"arn\":null,\"arc_name\":null,\"state\":\"On\","
		      "\"changed_ms\":1,\"endpoint\":null}"),
		  "controls[0]: 'name' is missing" },
		{ DOC("{\"name\":null,\"arn\":null,\"arc_name\":null,"
		      "\"state\":\"On\",\"changed_ms\":1,\"endpoint\":null}"),
		  "controls[0]: 'name' must be a string" },
		{ DOC("{\"name\":7,\"arn\":null,\"arc_name\":null,"
		      "\"state\":\"On\",\"changed_ms\":1,\"endpoint\":null}"),
		  "controls[0]: 'name' must be a string or null" },
		{ DOC("{\"name\":\"east\",\"arn\":true,\"arc_name\":null,"
		      "\"state\":\"On\",\"changed_ms\":1,\"endpoint\":null}"),
		  "controls[0]: 'arn' must be a string or null" },
		{ DOC("{\"name\":\"east\",\"arn\":null,\"arc_name\":null,"
		      "\"state\":\"on\",\"changed_ms\":1,\"endpoint\":null}"),
		  "controls[0]: 'state' must be \"On\", \"Off\" or \"unknown\"" },
		{ DOC("{\"name\":\"east\",\"arn\":null,\"arc_name\":null,"
		      "\"state\":1,\"changed_ms\":1,\"endpoint\":null}"),
		  "controls[0]: 'state' must be a string or null" },
		{ DOC("{\"name\":\"east\",\"arn\":null,\"arc_name\":null,"
		      "\"state\":null,\"changed_ms\":1,\"endpoint\":null}"),
		  "controls[0]: 'state' must be \"On\"" },
		{ DOC("{\"name\":\"east\",\"arn\":null,\"arc_name\":null,"
		      "\"state\":\"Off\",\"changed_ms\":\"1\","
		      "\"endpoint\":null}"),
		  "controls[0]: 'changed_ms' must be a non-negative integer" },
		{ DOC("{\"name\":\"east\",\"arn\":null,\"arc_name\":null,"
		      "\"state\":\"Off\",\"changed_ms\":1}"),
		  "controls[0]: 'endpoint' is missing" },
		{ DOC("{\"name\":\"east\",\"arn\":null,\"arc_name\":null,"
		      "\"state\":\"Off\",\"changed_ms\":1,\"endpoint\":[]}"),
		  "controls[0]: 'endpoint' must be a string or null" },
		{ DOC(GOOD_CTL "," GOOD_CTL),
		  "controls[1]: control 'east' appears twice" },
	};
	struct mirror *m = mirror_new(&conf3);

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		char *err = NULL;
		int ret;

		spit(state_path, table[i].text, strlen(table[i].text));
		ret = mirror_load(m, state_path, &err);
		cr_expect_eq(ret, ERR_PARSE, "row %zu: %d", i, ret);
		if (err == NULL) {
			cr_expect_not_null(err, "row %zu", i);
			continue;
		}
		cr_expect_not_null(strstr(err, state_path), "row %zu: %s", i,
		    err);
		cr_expect_not_null(strstr(err, table[i].why),
		    "row %zu: '%s' not in '%s'", i, table[i].why, err);
		cr_expect_not(mirror_has_state(m), "row %zu", i);
		free(err);
	}
	mirror_free(m);
}

Test(mirror, failed_load_leaves_the_mirror_empty)
{
	struct mirror *m = known_mirror();
	char *err = NULL;

	spit(state_path, DOC("5"), strlen(DOC("5")));
	cr_expect_eq(mirror_load(m, state_path, &err), ERR_PARSE);
	free(err);
	cr_expect_not(mirror_has_state(m));
	cr_expect_eq(mirror_last_success(m), 0);
	cr_expect_null(mirror_find(m, "central")->arn);
	cr_expect_null(mirror_find(m, "east")->endpoint);
	mirror_free(m);
}

Test(mirror, unreadable_state_path_is_an_error)
{
	struct mirror *m = mirror_new(&conf3);
	char *err = NULL;

	/* A folder where the file should be. */
	cr_expect_lt(mirror_load(m, dir, &err), 0);
	cr_assert_not_null(err);
	cr_expect_not_null(strstr(err, dir), "%s", err);
	free(err);
	mirror_free(m);
}

Test(mirror, controls_no_longer_configured_are_ignored)
{
	static const char text[] = DOC(
	    "{\"name\":\"ghost\",\"arn\":\"arn:x\",\"arc_name\":null,"
	    "\"state\":\"On\",\"changed_ms\":1,\"endpoint\":null},"
	    GOOD_CTL);
	struct mirror *m = mirror_new(&conf3);
	char *err = NULL;

	spit(state_path, text, sizeof(text) - 1);
	cr_expect_eq(mirror_load(m, state_path, &err), 0, "%s", err);
	cr_expect_eq(mirror_count(m), 3);
	cr_expect_null(mirror_find(m, "ghost"));
	cr_expect_eq(mirror_find(m, "east")->state, MIRROR_ON);
	cr_expect_eq(mirror_find(m, "east")->changed_ms, 5);
	cr_expect_eq(mirror_find(m, "west")->state, MIRROR_UNKNOWN);
	/* No last_success_ms in this file: never. */
	cr_expect_eq(mirror_last_success(m), 0);
	mirror_free(m);
}

Test(mirror, changed_arn_is_not_restored)
{
	static struct conf_control moved[] = {
		{ .name = "east", .arn = ARN_E "-new" },
		{ .name = "west", .arn = ARN_W },
		{ .name = "central", .arc_name = "route-central-2" },
	};
	struct conf conf_moved = { .controls = moved, .ncontrols = 3 };
	struct mirror *m = known_mirror(), *m2 = mirror_new(&conf_moved);
	char *err = NULL;

	cr_assert_eq(mirror_save(m, state_path, &err), 0, "%s", err);
	cr_expect_eq(mirror_load(m2, state_path, &err), 0, "%s", err);
	cr_expect_eq(mirror_find(m2, "east")->state, MIRROR_UNKNOWN);
	cr_expect_str_eq(mirror_find(m2, "east")->arn, ARN_E "-new");
	cr_expect_eq(mirror_find(m2, "west")->state, MIRROR_OFF);
	cr_expect_eq(mirror_find(m2, "central")->state, MIRROR_UNKNOWN);
	cr_expect_null(mirror_find(m2, "central")->arn);
	mirror_free(m);
	mirror_free(m2);
}

Test(mirror, name_control_restores_its_learnt_arn)
{
	struct mirror *m = mirror_new(&conf3), *m2 = mirror_new(&conf3);
	struct mirror_entry e[] = { entry(ARN_C2, "route-central", false) };
	struct mirror_entry both[] = {
		entry(ARN_C1, "route-central", true),
		entry(ARN_C2, "route-central", false),
	};
	char *err = NULL;

	cr_assert_eq(mirror_apply(m, e, 1, "us-east-1", T0), 1);
	cr_assert_eq(mirror_save(m, state_path, &err), 0, "%s", err);
	cr_assert_eq(mirror_load(m2, state_path, &err), 0, "%s", err);
	cr_expect_str_eq(mirror_find(m2, "central")->arn, ARN_C2);
	/* After a restart the name still follows the ARN it had. */
	cr_expect_eq(mirror_apply(m2, both, 2, "us-east-1", T0 + 1), 0);
	cr_expect_str_eq(mirror_find(m2, "central")->arn, ARN_C2);
	mirror_free(m);
	mirror_free(m2);
}

/* ---- event log --------------------------------------------------------- */

static json_t **
log_lines(size_t *n)
{
	size_t len;
	char *text = slurp(log_path, &len), *p = text, *nl;
	json_t **lines = xcalloc(64, sizeof(*lines));

	*n = 0;
	while ((nl = strchr(p, '\n')) != NULL && *n < 64) {
		json_error_t jerr;

		*nl = '\0';
		lines[*n] = json_loads(p, 0, &jerr);
		cr_assert_not_null(lines[*n], "line %zu: %s: %s", *n, p,
		    jerr.text);
		(*n)++;
		p = nl + 1;
	}
	cr_expect_eq(*p, '\0', "the log ends with a newline");
	free(text);
	return lines;
}

static void
free_lines(json_t **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
	free(lines);
}

#define FIELD(o, k)	json_string_value(json_object_get((o), (k)))

Test(mirror, event_log_lines_are_json)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e1[] = {
		entry(ARN_E, "route-east", true),
		entry(ARN_C1, "route-central", false),
	};
	struct mirror_entry e2[] = {
		entry(ARN_E, "route-east", false),
		entry(ARN_C1, "route-central", false),
	};
	char *err = NULL;
	json_t **l;
	size_t n;

	/* T0 is 2026-11-18T11:06:40.000Z. */
	cr_assert_eq(mirror_apply(m, e1, 2, "us-east-1", T0 + 42), 2);
	cr_assert_eq(mirror_log_changes(m, log_path, &err), 0, "%s", err);
	/* Nothing new: nothing written. */
	cr_assert_eq(mirror_log_changes(m, log_path, &err), 0, "%s", err);
	cr_assert_eq(mirror_apply(m, e2, 2, "eu-west-1", T0 + 1042), 1);
	cr_assert_eq(mirror_log_changes(m, log_path, &err), 0, "%s", err);
	l = log_lines(&n);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(FIELD(l[0], "ts"), "2026-11-18T11:06:40.042Z");
	cr_expect_str_eq(FIELD(l[0], "control"), "east");
	cr_expect_str_eq(FIELD(l[0], "arn"), ARN_E);
	cr_expect_str_eq(FIELD(l[0], "old"), "unknown");
	cr_expect_str_eq(FIELD(l[0], "new"), "On");
	cr_expect_str_eq(FIELD(l[0], "endpoint"), "us-east-1");
	cr_expect_str_eq(FIELD(l[1], "control"), "central");
	cr_expect_str_eq(FIELD(l[1], "arn"), ARN_C1);
	cr_expect_str_eq(FIELD(l[1], "new"), "Off");
	cr_expect_str_eq(FIELD(l[2], "ts"), "2026-11-18T11:06:41.042Z");
	cr_expect_str_eq(FIELD(l[2], "control"), "east");
	cr_expect_str_eq(FIELD(l[2], "old"), "On");
	cr_expect_str_eq(FIELD(l[2], "new"), "Off");
	cr_expect_str_eq(FIELD(l[2], "endpoint"), "eu-west-1");
	free_lines(l, n);
	mirror_free(m);
}

Test(mirror, event_log_appends_to_an_existing_file)
{
	static const char old[] = "{\"earlier\":true}\n";
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e[] = { entry(ARN_W, "route-west", true) };
	char *err = NULL;
	json_t **l;
	size_t n;

	spit(log_path, old, sizeof(old) - 1);
	cr_assert_eq(mirror_apply(m, e, 1, "us-west-2", T0), 1);
	cr_assert_eq(mirror_log_changes(m, log_path, &err), 0, "%s", err);
	l = log_lines(&n);
	cr_assert_eq(n, 2);
	cr_expect(json_is_true(json_object_get(l[0], "earlier")));
	cr_expect_str_eq(FIELD(l[1], "control"), "west");
	free_lines(l, n);
	mirror_free(m);
}

Test(mirror, event_log_failure_keeps_the_changes)
{
	struct mirror *m = mirror_new(&conf3);
	struct mirror_entry e[] = { entry(ARN_W, "route-west", true) };
	char *err = NULL, *bad = xstrfmt("%s/nope/events.jsonl", dir);
	json_t **l;
	size_t n;

	cr_assert_eq(mirror_apply(m, e, 1, "us-west-2", T0), 1);
	cr_expect_lt(mirror_log_changes(m, bad, &err), 0);
	cr_assert_not_null(err);
	cr_expect_not_null(strstr(err, bad), "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(mirror_log_changes(m, log_path, &err), 0, "%s", err);
	l = log_lines(&n);
	cr_expect_eq(n, 1);
	free_lines(l, n);
	free(bad);
	mirror_free(m);
}
