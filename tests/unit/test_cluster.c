/*
 * test_cluster.c -- cluster state: list order, lookups, safety-rule
 * evaluation, updates (assertion vs gating, override, wait period with a
 * fake clock), the admin JSON dump, and persistence (round trip, atomic
 * write, corrupt files).
 *
 * Scenarios run on tests/data/sim/rules.yaml (panels Regions, Gates and
 * Waits; control names unique across panels) and full.yaml.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "arc/sigv4.h"
#include "sim/cluster.h"
#include "util/err.h"
#include "util/xalloc.h"

#include "sim_fixture.h"

#define RULES	SIMFX_RULES
#define FULL	SIMFX_FULL

static bool
is_on(const struct sim_cluster *c, const char *name)
{
	return sim_cluster_control(c, simfx_idx(c, name))->on;
}

static uint64_t
changed_at(const struct sim_cluster *c, const char *name)
{
	return sim_cluster_control(c, simfx_idx(c, name))->changed_ms;
}

/*
 * Run an update written as "east=Off,west=On" with overrides "r1,r2"
 * (rule names) at now_ms. Returns the sim_cluster_update() result.
 */
static int
update(struct sim_cluster *c, const char *spec, const char *ov,
    uint64_t now_ms, int *changed, struct sim_block *b)
{
	struct sim_change ch[16];
	const char *ovs[8];
	size_t n = 0, nov = 0;
	char *s = xstrdup(spec), *save = NULL, *tok;
	int ret;

	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		cr_assert_not_null(eq, "bad spec %s", spec);
		*eq = '\0';
		ch[n].index = simfx_idx(c, tok);
		ch[n].on = strcmp(eq + 1, "On") == 0;
		n++;
	}
	free(s);
	s = xstrdup(ov != NULL ? ov : "");
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		ovs[nov++] = strcmp(tok, "unknown") == 0 ? "arn:aws:route53-"
		    "recovery-control::111122223333:controlpanel/x/"
		    "safetyrule/y" : simfx_rule_arn(c, tok);
	ret = sim_cluster_update(c, ch, n, ovs, nov, now_ms, changed, b);
	free(s);
	return ret;
}

/* --- structure and lookups --------------------------------------------- */

Test(cluster, list_order_and_panels)
{
	struct sim_cluster *c = simfx_load(FULL);
	static const char *const order[] = {"route-eu-west-1",
		"route-us-west-2", "route-us-east-1", "east", "west",
		"master"};
	size_t first, end, pi;

	cr_assert_eq(sim_cluster_ncontrols(c), 6);
	for (size_t i = 0; i < 6; i++) {
		const struct sim_control *sc = sim_cluster_control(c, i);

		cr_expect_str_eq(sc->name, order[i], "position %zu", i);
		if (i > 0)
			cr_expect(strcmp(sim_cluster_control(c, i - 1)->arn,
			    sc->arn) < 0, "ARN order at %zu", i);
		cr_expect_str_eq(sc->panel_arn,
		    sim_cluster_panel(c, sc->panel)->arn);
		cr_expect_str_eq(sc->panel_name,
		    sim_cluster_panel(c, sc->panel)->name);
		cr_expect_eq(sc->changed_ms, 0);
	}
	cr_expect_null(sim_cluster_control(c, 6));
	cr_expect_not(sim_cluster_control(c, simfx_idx(c, "route-eu-west-1"))->on);
	cr_expect(sim_cluster_control(c, simfx_idx(c, "route-us-east-1"))->on);
	cr_assert_eq(sim_cluster_npanels(c), 2);
	cr_expect_str_eq(sim_cluster_panel(c, 0)->name, "DefaultControlPanel");
	cr_expect_str_eq(sim_cluster_panel(c, 1)->name, "Gated");
	cr_expect_null(sim_cluster_panel(c, 2));
	cr_assert_eq(sim_cluster_find_panel(c, sim_cluster_panel(c, 1)->arn,
	    &pi, &first, &end), 0);
	cr_expect_eq(pi, 1);
	cr_expect_eq(first, 3);
	cr_expect_eq(end, 6);
	cr_assert_eq(sim_cluster_find_panel(c, sim_cluster_panel(c, 0)->arn,
	    NULL, &first, &end), 0);
	cr_expect_eq(first, 0);
	cr_expect_eq(end, 3);
	cr_expect_eq(sim_cluster_find_panel(c, "arn:aws:route53-recovery-"
	    "control::111122223333:controlpanel/00", NULL, &first, &end),
	    ERR_NOTFOUND);
	cr_expect_str_eq(sim_cluster_account(c), "111122223333");
	sim_cluster_free(c);
}

Test(cluster, panels_without_controls)
{
	static const char yaml[] = "account: \"111122223333\"\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "control-panels: [{name: A}, {name: B, routing-controls: "
	    "[{name: x}, {name: y}]}, {name: C}, {name: D}]\n";
	struct simconf *conf = NULL;
	char *err = NULL;
	struct sim_cluster *c;
	size_t total = 0;

	cr_assert_eq(simconf_load_string("t.yaml", yaml, sizeof(yaml) - 1,
	    &conf, &err), 0, "%s", err);
	c = sim_cluster_new(conf);
	cr_assert_eq(sim_cluster_ncontrols(c), 2);
	for (size_t i = 0; i < sim_cluster_npanels(c); i++) {
		size_t first, end;

		cr_assert_eq(sim_cluster_find_panel(c,
		    sim_cluster_panel(c, i)->arn, NULL, &first, &end), 0);
		cr_expect_leq(first, end);
		cr_expect_leq(end, 2);
		for (size_t k = first; k < end; k++)
			cr_expect_eq(sim_cluster_control(c, k)->panel, i);
		total += end - first;
		if (strcmp(sim_cluster_panel(c, i)->name, "B") != 0)
			cr_expect_eq(first, end, "panel %s",
			    sim_cluster_panel(c, i)->name);
	}
	cr_expect_eq(total, 2);
	sim_cluster_free(c);
}

Test(cluster, find_by_arn)
{
	struct sim_cluster *c = simfx_load(FULL);
	size_t i = 99;

	for (size_t k = 0; k < sim_cluster_ncontrols(c); k++) {
		cr_assert_eq(sim_cluster_find(c, sim_cluster_control(c, k)->arn,
		    &i), 0);
		cr_expect_eq(i, k);
	}
	cr_expect_eq(sim_cluster_find(c, "", &i), ERR_NOTFOUND);
	cr_expect_eq(sim_cluster_find(c, sim_cluster_panel(c, 0)->arn, &i),
	    ERR_NOTFOUND);
	cr_expect_eq(sim_cluster_find(c, "arn:aws:route53-recovery-control::"
	    "111122223333:controlpanel/d6fac07a185cc66444454e17c95282ee/"
	    "routingcontrol/0000000000000000", &i), ERR_NOTFOUND);
	sim_cluster_free(c);
}

Test(cluster, credential_lookup)
{
	struct sim_cluster *c = simfx_load(FULL);
	struct sigv4_creds cr = {0};
	sigv4_lookup_fn fn = sim_cluster_lookup_cb;

	cr_assert(fn("AKIDEXAMPLE", &cr, c));
	cr_expect_str_eq(cr.access_key_id, "AKIDEXAMPLE");
	cr_expect_str_eq(cr.secret_access_key,
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	cr_expect_null(cr.session_token);
	cr_assert(fn("ASIATEMPEXAMPLE", &cr, c));
	cr_expect_str_eq(cr.secret_access_key, "temp-secret");
	cr_expect_str_eq(cr.session_token, "EXAMPLE-SESSION-TOKEN");
	cr_expect_not(fn("AKIDEXAMPL", &cr, c));
	cr_expect_not(fn("akidexample", &cr, c));
	cr_expect_not(fn("", &cr, c));
	sim_cluster_free(c);
}

/* --- rule evaluation tables -------------------------------------------- */

struct eval_case {
	const char		*states;	/* "1" On, "0" Off */
	enum simconf_rule_type	 type;
	unsigned		 threshold;
	bool			 inverted;
	bool			 want;
};

#define AL	SIMCONF_ATLEAST
static const struct eval_case eval_cases[] = {
	/* ATLEAST over three controls, every count of On, thresholds 1-3 */
	{"000", AL, 1, false, false}, {"000", AL, 1, true, true},
	{"100", AL, 1, false, true}, {"100", AL, 1, true, false},
	{"010", AL, 1, false, true}, {"001", AL, 1, false, true},
	{"110", AL, 1, false, true}, {"111", AL, 1, false, true},
	{"000", AL, 2, false, false}, {"100", AL, 2, false, false},
	{"001", AL, 2, false, false}, {"101", AL, 2, false, true},
	{"011", AL, 2, false, true}, {"111", AL, 2, false, true},
	{"101", AL, 2, true, false}, {"100", AL, 2, true, true},
	{"110", AL, 3, false, false}, {"111", AL, 3, false, true},
	{"111", AL, 3, true, false}, {"011", AL, 3, true, true},
	/* thresholds outside 1..n (not reachable from sim.yaml) */
	{"111", AL, 4, false, false}, {"000", AL, 0, false, true},
	{"000", AL, 0, true, false},
	/* AND: all On; the threshold is not used */
	{"111", SIMCONF_AND, 1, false, true},
	{"110", SIMCONF_AND, 1, false, false},
	{"000", SIMCONF_AND, 0, false, false},
	{"110", SIMCONF_AND, 2, true, true},
	{"111", SIMCONF_AND, 3, true, false},
	{"1", SIMCONF_AND, 1, false, true}, {"0", SIMCONF_AND, 1, false, false},
	/* OR: any On */
	{"000", SIMCONF_OR, 1, false, false},
	{"001", SIMCONF_OR, 3, false, true},
	{"100", SIMCONF_OR, 1, true, false}, {"000", SIMCONF_OR, 1, true, true},
	{"1", SIMCONF_OR, 1, false, true}, {"0", SIMCONF_OR, 1, false, false},
	/* no controls: nothing On */
	{"", AL, 1, false, false}, {"", SIMCONF_OR, 1, false, false},
	{"", SIMCONF_AND, 0, false, true}, {"", SIMCONF_AND, 0, true, false},
};
#define NEVAL (sizeof(eval_cases) / sizeof(eval_cases[0]))

ParameterizedTestParameters(rule_eval, table)
{
	static size_t ix[NEVAL];

	for (size_t i = 0; i < NEVAL; i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, NEVAL);
}

ParameterizedTest(size_t *i, rule_eval, table)
{
	const struct eval_case *ec = &eval_cases[*i];
	bool on[8];
	size_t n = strlen(ec->states);

	for (size_t k = 0; k < n; k++)
		on[k] = ec->states[k] == '1';
	cr_expect_eq(sim_rule_eval(ec->type, ec->threshold, ec->inverted, on,
	    n), ec->want, "%s %s %u%s", ec->states,
	    simconf_type_str(ec->type), ec->threshold,
	    ec->inverted ? " inverted" : "");
}

/* Every state vector up to 5 controls, every threshold, both senses. */
Test(rule_eval, exhaustive_properties)
{
	for (size_t n = 0; n <= 5; n++) {
		for (unsigned mask = 0; mask < (1u << n); mask++) {
			bool on[5];
			unsigned count = 0;

			for (size_t k = 0; k < n; k++) {
				on[k] = (mask >> k) & 1;
				count += on[k];
			}
			for (unsigned t = 0; t <= n + 1; t++) {
				bool a = sim_rule_eval(AL, t, false, on, n);

				cr_expect_eq(a, count >= t);
				cr_expect_eq(sim_rule_eval(AL, t, true, on, n),
				    !a);
				cr_expect_eq(sim_rule_eval(SIMCONF_AND, t,
				    false, on, n), count == n);
				cr_expect_eq(sim_rule_eval(SIMCONF_OR, t,
				    false, on, n), count >= 1);
			}
		}
	}
}

/* --- update scenarios -------------------------------------------------- */

struct upd_case {
	const char	*name;
	const char	*changes;
	const char	*overrides;	/* rule names, "unknown" */
	const char	*blocked_by;	/* rule names, in order; NULL: ok */
	int		 changed;
	const char	*after;		/* expected states, "name=On,..." */
};

static const struct upd_case upd_cases[] = {
	/* assertion rules, evaluated on the states after the update */
	{"last region off", "east=Off", NULL, "min-one", 0,
	    "east=On,west=Off,eu=Off"},
	{"swap regions (batch)", "east=Off,west=On", NULL, NULL, 2,
	    "east=Off,west=On,eu=Off"},
	{"second region on", "west=On", NULL, NULL, 1,
	    "east=On,west=On,eu=Off"},
	{"all three on (inverted rule)", "west=On,eu=On", NULL, "max-two", 0,
	    "east=On,west=Off,eu=Off"},
	{"all three on, overridden", "west=On,eu=On", "max-two", NULL, 2,
	    "east=On,west=On,eu=On"},
	{"all off, overridden", "east=Off", "min-one", NULL, 1,
	    "east=Off,west=Off,eu=Off"},
	{"same state again", "east=On", NULL, NULL, 0, "east=On"},
	{"unknown override ARN is ignored", "east=Off", "unknown", "min-one",
	    0, "east=On"},
	{"override of the other rule does not help", "east=Off", "max-two",
	    "min-one", 0, "east=On"},
	/* gating rules, evaluated on the current gating controls */
	{"target while the gate is Off", "t1=On", NULL, "gated", 0,
	    "t1=Off,gate=Off"},
	{"gate and target in one batch", "gate=On,t1=On", NULL, "gated", 0,
	    "gate=Off,t1=Off"},
	{"opening the gate", "gate=On", NULL, NULL, 1, "gate=On"},
	{"target to its own state", "t2=On,t1=Off", NULL, NULL, 0,
	    "t1=Off,t2=On"},
	{"target off while the gate is Off", "t2=Off", NULL, "gated", 0,
	    "t2=On"},
	{"target with the gating rule overridden", "t1=On", "gated", NULL, 1,
	    "t1=On,gate=Off"},
	{"a control no rule governs", "free=On", NULL, NULL, 1, "free=On"},
	/* several panels, several blocking rules */
	{"two rules block", "east=Off,t1=On", NULL, "min-one,gated", 0,
	    "east=On,t1=Off"},
	{"one of two overridden", "east=Off,t1=On", "min-one", "gated", 0,
	    "east=On,t1=Off"},
	{"both overridden", "east=Off,t1=On", "gated,min-one", NULL, 2,
	    "east=Off,t1=On"},
	{"mixed panels, allowed", "west=On,free=On,w1=Off", NULL, NULL, 3,
	    "west=On,free=On,w1=Off,w2=On"},
	{"wait rule: first change is free", "w1=Off", NULL, NULL, 1,
	    "w1=Off"},
	{"wait rule still asserts", "w1=Off,w2=Off", NULL, "slow", 0,
	    "w1=On,w2=On"},
};
#define NUPD (sizeof(upd_cases) / sizeof(upd_cases[0]))

ParameterizedTestParameters(cluster_update, table)
{
	static size_t ix[NUPD];

	for (size_t i = 0; i < NUPD; i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, NUPD);
}

static void
expect_states(const struct sim_cluster *c, const char *spec, const char *why)
{
	char *s = xstrdup(spec), *save = NULL, *tok;

	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		*eq = '\0';
		cr_expect_eq(is_on(c, tok), strcmp(eq + 1, "On") == 0,
		    "%s: %s should be %s", why, tok, eq + 1);
	}
	free(s);
}

ParameterizedTest(size_t *i, cluster_update, table)
{
	const struct upd_case *uc = &upd_cases[*i];
	struct sim_cluster *c = simfx_load(RULES), *orig;
	struct sim_block b;
	int changed = -1;
	int ret = update(c, uc->changes, uc->overrides, 1000, &changed, &b);

	if (uc->blocked_by == NULL) {
		cr_expect_eq(ret, 0, "%s: blocked: %s", uc->name,
		    b.message != NULL ? b.message : "?");
		cr_expect_null(b.message);
		cr_expect_eq(changed, uc->changed, "%s: changed %d",
		    uc->name, changed);
	} else {
		char *names = xstrdup(uc->blocked_by), *save = NULL, *tok;
		size_t n = 0;

		cr_expect_eq(ret, ERR_INVAL, "%s: not blocked", uc->name);
		cr_expect_eq(changed, 0);
		cr_assert_not_null(b.message, "%s", uc->name);
		for (tok = strtok_r(names, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save), n++) {
			if (n == 0) {
				cr_expect_str_eq(b.rule_arn, simfx_rule_arn(c, tok),
				    "%s", uc->name);
				cr_expect_str_eq(b.rule_name, tok);
			}
			cr_expect_not_null(strstr(b.message, simfx_rule_arn(c, tok)),
			    "%s: message lacks %s: %s", uc->name, tok,
			    b.message);
		}
		cr_expect_eq(b.nrules, n, "%s: %zu blocking rules", uc->name,
		    b.nrules);
		free(names);
	}
	expect_states(c, uc->after, uc->name);
	/* Changed controls carry the time; the others keep none. */
	orig = simfx_load(RULES);
	for (size_t k = 0; k < sim_cluster_ncontrols(c); k++) {
		const struct sim_control *sc = sim_cluster_control(c, k);

		cr_expect_eq(sc->changed_ms, sc->on != is_on(orig, sc->name) ?
		    1000 : 0, "%s: %s changed_ms %llu", uc->name, sc->name,
		    (unsigned long long)sc->changed_ms);
	}
	sim_cluster_free(orig);
	sim_block_fini(&b);
	sim_cluster_free(c);
}

Test(cluster_update, message_wording)
{
	struct sim_cluster *c = simfx_load(RULES);
	struct sim_block b;
	char *want;

	cr_assert_eq(update(c, "east=Off", NULL, 1000, NULL, &b), ERR_INVAL);
	want = xstrfmt("Routing control state update blocked by safety rule "
	    "%s ('min-one': assertion rule ATLEAST 1 would not hold after "
	    "this update)", simfx_rule_arn(c, "min-one"));
	cr_expect_str_eq(b.message, want);
	free(want);
	sim_block_fini(&b);
	cr_expect_null(b.message, "fini clears");

	cr_assert_eq(update(c, "east=Off,t1=On", NULL, 1000, NULL, &b),
	    ERR_INVAL);
	want = xstrfmt("Routing control state update blocked by safety rules "
	    "%s ('min-one': assertion rule ATLEAST 1 would not hold after "
	    "this update); %s ('gated': gating rule OR does not hold for the "
	    "current states of its gating controls)", simfx_rule_arn(c, "min-one"),
	    simfx_rule_arn(c, "gated"));
	cr_expect_str_eq(b.message, want);
	free(want);
	sim_block_fini(&b);

	cr_assert_eq(update(c, "west=On,eu=On", NULL, 1000, NULL, &b),
	    ERR_INVAL);
	cr_expect_not_null(strstr(b.message, "('max-two': assertion rule "
	    "ATLEAST 3 inverted would not hold"), "%s", b.message);
	sim_block_fini(&b);
	sim_cluster_free(c);
}

/* An assertion rule already false is checked on any update naming its
 * controls, even one that changes nothing; updates elsewhere pass. */
Test(cluster_update, violated_rule_blocks_touching_updates_only)
{
	struct sim_cluster *c = simfx_load(RULES);
	struct sim_block b;
	int changed;

	cr_assert_eq(update(c, "east=Off", "min-one", 1000, &changed, &b), 0);
	cr_expect_eq(update(c, "west=Off", NULL, 2000, &changed, &b),
	    ERR_INVAL);
	cr_expect_str_eq(b.rule_name, "min-one");
	sim_block_fini(&b);
	cr_expect_eq(update(c, "free=On", NULL, 2000, &changed, &b), 0);
	cr_expect_eq(update(c, "eu=On", NULL, 3000, &changed, &b), 0);
	cr_expect_eq(changed, 1);
	cr_expect_eq(changed_at(c, "eu"), 3000);
	cr_expect_eq(changed_at(c, "east"), 1000);
	sim_cluster_free(c);
}

/* The gate, once open, lets targets change; closing it stops them. */
Test(cluster_update, gate_sequence)
{
	struct sim_cluster *c = simfx_load(RULES);
	struct sim_block b;

	cr_expect_eq(update(c, "gate=On", NULL, 1000, NULL, &b), 0);
	cr_expect_eq(update(c, "t1=On,t2=Off", NULL, 2000, NULL, &b), 0);
	cr_expect_eq(update(c, "gate=Off", NULL, 3000, NULL, &b), 0);
	cr_expect_eq(update(c, "t1=Off", NULL, 4000, NULL, &b), ERR_INVAL);
	sim_block_fini(&b);
	expect_states(c, "gate=Off,t1=On,t2=Off", "gate sequence");
	sim_cluster_free(c);
}

/* Wait period, assertion rule "slow" (5 s) on w1, w2, fake clock. */
Test(cluster_update, wait_period_assertion)
{
	struct sim_cluster *c = simfx_load(RULES);
	struct sim_block b;
	int changed;

	cr_assert_eq(update(c, "w1=Off", NULL, 1000, &changed, &b), 0);
	cr_expect_eq(changed_at(c, "w1"), 1000);
	/* Any update naming a governed control waits, even a no-op. */
	cr_expect_eq(update(c, "w1=On", NULL, 5999, &changed, &b), ERR_INVAL);
	cr_expect_str_eq(b.rule_name, "slow");
	cr_expect_not_null(strstr(b.message, "('slow': its wait period of "
	    "5000 ms since the last change of 'w1' has not elapsed)"), "%s",
	    b.message);
	sim_block_fini(&b);
	cr_expect_eq(update(c, "w2=On", NULL, 2000, &changed, &b), ERR_INVAL);
	sim_block_fini(&b);
	/* Other panels are not held up. */
	cr_expect_eq(update(c, "west=On", NULL, 2000, &changed, &b), 0);
	/* Exactly wait_ms later it passes. */
	cr_expect_eq(update(c, "w1=On", NULL, 6000, &changed, &b), 0);
	cr_expect_eq(changed_at(c, "w1"), 6000);
	/* Overriding the rule skips its wait too. */
	cr_expect_eq(update(c, "w2=Off", "slow", 6001, &changed, &b), 0);
	cr_expect_eq(changed_at(c, "w2"), 6001);
	/* A clock that went back does not lock the controls. */
	cr_expect_eq(update(c, "w2=On", NULL, 10, &changed, &b), 0);
	sim_cluster_free(c);
}

/* Wait period of a gating rule (full.yaml "master-gate", 5 s) governs
 * the target controls, together with the inverted AND "not-both". */
Test(cluster_update, wait_period_gating)
{
	struct sim_cluster *c = simfx_load(FULL);
	struct sim_block b;

	cr_expect_eq(update(c, "west=On", NULL, 500, NULL, &b), ERR_INVAL,
	    "gate closed");
	cr_expect_str_eq(b.rule_name, "master-gate");
	sim_block_fini(&b);
	cr_assert_eq(update(c, "master=On", NULL, 1000, NULL, &b), 0);
	/* Gate open, but both On breaks not-both (AND inverted). */
	cr_expect_eq(update(c, "west=On", NULL, 2000, NULL, &b), ERR_INVAL);
	cr_expect_str_eq(b.rule_name, "not-both");
	sim_block_fini(&b);
	cr_assert_eq(update(c, "east=Off,west=On", NULL, 2000, NULL, &b), 0);
	cr_expect_eq(update(c, "east=On,west=Off", NULL, 6999, NULL, &b),
	    ERR_INVAL);
	cr_expect_str_eq(b.rule_name, "master-gate");
	cr_expect_not_null(strstr(b.message, "wait period of 5000 ms"));
	sim_block_fini(&b);
	/* The gate itself is not a target: no wait on it. */
	cr_expect_eq(update(c, "master=On", NULL, 6999, NULL, &b), 0);
	cr_expect_eq(update(c, "east=On,west=Off", NULL, 7000, NULL, &b), 0);
	expect_states(c, "master=On,east=On,west=Off", "after the wait");
	sim_cluster_free(c);
}

Test(cluster_update, block_may_be_null)
{
	struct sim_cluster *c = simfx_load(RULES);
	int changed = 7;

	cr_expect_eq(update(c, "east=Off", NULL, 1000, &changed, NULL),
	    ERR_INVAL);
	cr_expect_eq(changed, 0);
	sim_cluster_free(c);
}

/* --- admin JSON dump --------------------------------------------------- */

Test(cluster_json, state_dump)
{
	struct sim_cluster *c = simfx_load(RULES);
	json_error_t jerr;
	json_t *doc, *list, *e;
	char *s;
	size_t k;

	cr_assert_eq(update(c, "west=On", NULL, 1777636800123ull, NULL,
	    NULL), 0);
	s = sim_cluster_state_json(c);
	doc = json_loads(s, 0, &jerr);
	cr_assert_not_null(doc, "%s: %s", s, jerr.text);
	cr_expect_str_eq(json_string_value(json_object_get(doc, "account")),
	    "111122223333");
	list = json_object_get(doc, "controls");
	cr_assert_eq(json_array_size(list), sim_cluster_ncontrols(c));
	json_array_foreach(list, k, e) {
		const struct sim_control *sc = sim_cluster_control(c, k);

		cr_expect_str_eq(json_string_value(json_object_get(e, "name")),
		    sc->name);
		cr_expect_str_eq(json_string_value(json_object_get(e, "arn")),
		    sc->arn);
		cr_expect_str_eq(json_string_value(json_object_get(e,
		    "panel")), sc->panel_name);
		cr_expect_str_eq(json_string_value(json_object_get(e,
		    "panel_arn")), sc->panel_arn);
		cr_expect_str_eq(json_string_value(json_object_get(e,
		    "state")), sc->on ? "On" : "Off");
		if (strcmp(sc->name, "west") == 0) {
			cr_expect_str_eq(json_string_value(json_object_get(e,
			    "last_change")), "2026-05-01T12:00:00.123Z");
			cr_expect_eq(json_integer_value(json_object_get(e,
			    "last_change_ms")), 1777636800123ll);
		} else {
			cr_expect(json_is_null(json_object_get(e,
			    "last_change")), "%s", sc->name);
			cr_expect_eq(json_integer_value(json_object_get(e,
			    "last_change_ms")), 0);
		}
	}
	/* Key order is fixed, for people reading it with curl. */
	cr_expect(strncmp(s, "{\"account\":\"111122223333\",\"controls\":"
	    "[{\"name\":", 46) == 0, "%s", s);
	json_decref(doc);
	free(s);
	sim_cluster_free(c);
}

/* --- persistence ------------------------------------------------------- */

static char *
tmpdir(void)
{
	char tmpl[] = "/tmp/test_cluster.XXXXXX";
	char *d = mkdtemp(tmpl);

	cr_assert_not_null(d);
	return xstrdup(d);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
}

static void
rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = xstrfmt("%s/%s", dir, de->d_name);
		if (unlink(p) != 0)
			rm_rf(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	(void)rmdir(dir);
}

/* How many entries dir holds, besides . and .. */
static size_t
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

Test(cluster_state, round_trip_across_restart)
{
	char *dir = tmpdir(), *path = xstrfmt("%s/state.json", dir);
	struct sim_cluster *c = simfx_load(RULES), *d;
	size_t restored = 99, unknown = 99;
	char *err = NULL;

	cr_assert_eq(update(c, "east=Off,west=On", NULL, 1000, NULL, NULL),
	    0);
	cr_assert_eq(update(c, "gate=On", NULL, 2000, NULL, NULL), 0);
	cr_assert_eq(sim_cluster_save(c, path, &err), 0, "%s", err);
	cr_expect_eq(count_files(dir), 1, "no temp file left behind");

	d = simfx_load(RULES);
	cr_assert_eq(sim_cluster_restore(d, path, &restored, &unknown, &err),
	    0, "%s", err);
	cr_expect_eq(restored, sim_cluster_ncontrols(c));
	cr_expect_eq(unknown, 0);
	for (size_t k = 0; k < sim_cluster_ncontrols(c); k++) {
		cr_expect_eq(sim_cluster_control(d, k)->on,
		    sim_cluster_control(c, k)->on);
		cr_expect_eq(sim_cluster_control(d, k)->changed_ms,
		    sim_cluster_control(c, k)->changed_ms);
	}
	expect_states(d, "east=Off,west=On,gate=On", "restored");
	cr_expect_eq(changed_at(d, "west"), 1000);
	cr_expect_eq(changed_at(d, "gate"), 2000);
	/* Saving again replaces the file. */
	cr_assert_eq(update(d, "gate=Off", NULL, 3000, NULL, NULL), 0);
	cr_assert_eq(sim_cluster_save(d, path, &err), 0, "%s", err);
	cr_assert_eq(sim_cluster_restore(c, path, NULL, NULL, &err), 0);
	cr_expect_not(is_on(c, "gate"));
	cr_expect_eq(count_files(dir), 1);
	sim_cluster_free(c);
	sim_cluster_free(d);
	rm_rf(dir);
	free(path);
	free(dir);
}

Test(cluster_state, file_format)
{
	char *dir = tmpdir(), *path = xstrfmt("%s/s.json", dir);
	struct sim_cluster *c = simfx_load(FULL);
	json_error_t jerr;
	json_t *doc, *e;
	char *err = NULL;

	cr_assert_eq(sim_cluster_save(c, path, &err), 0);
	doc = json_load_file(path, 0, &jerr);
	cr_assert_not_null(doc, "%s", jerr.text);
	cr_expect_eq(json_integer_value(json_object_get(doc, "arcsim-state")),
	    1);
	cr_expect_str_eq(json_string_value(json_object_get(doc, "account")),
	    "111122223333");
	cr_assert_eq(json_array_size(json_object_get(doc, "controls")), 6);
	e = json_array_get(json_object_get(doc, "controls"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(e, "arn")),
	    sim_cluster_control(c, 0)->arn);
	cr_expect_str_eq(json_string_value(json_object_get(e, "name")),
	    "route-eu-west-1");
	cr_expect_str_eq(json_string_value(json_object_get(e, "panel")),
	    "DefaultControlPanel");
	cr_expect_str_eq(json_string_value(json_object_get(e, "state")),
	    "Off");
	cr_expect_eq(json_integer_value(json_object_get(e, "last_change_ms")),
	    0);
	json_decref(doc);
	sim_cluster_free(c);
	rm_rf(dir);
	free(path);
	free(dir);
}

Test(cluster_state, missing_file_is_a_first_start)
{
	struct sim_cluster *c = simfx_load(RULES);
	size_t restored = 9, unknown = 9;
	char *err = NULL;

	cr_expect_eq(sim_cluster_restore(c, "/nonexistent/arcsim/state.json",
	    &restored, &unknown, &err), 0);
	cr_expect_eq(restored, 0);
	cr_expect_eq(unknown, 0);
	cr_expect_null(err);
	expect_states(c, "east=On,west=Off,t2=On", "untouched");
	sim_cluster_free(c);
}

/* Unknown controls are skipped and counted; unlisted ones keep state. */
Test(cluster_state, unknown_and_missing_controls)
{
	char *dir = tmpdir(), *path = xstrfmt("%s/s.json", dir);
	struct sim_cluster *c = simfx_load(RULES);
	size_t restored, unknown;
	char *err = NULL, *text;

	text = xstrfmt("{\"arcsim-state\": 1, \"account\": \"111122223333\", "
	    "\"controls\": [{\"arn\": \"arn:aws:route53-recovery-control::"
	    "111122223333:controlpanel/gone/routingcontrol/gone\", \"state\": "
	    "\"On\"}, {\"arn\": \"%s\", \"state\": \"On\", \"last_change_ms\": "
	    "42, \"name\": \"renamed?\", \"extra\": [1]}, {\"arn\": \"x\", "
	    "\"state\": \"Off\"}]}\n", sim_cluster_control(c, simfx_idx(c,
	    "eu"))->arn);
	write_file(path, text);
	cr_assert_eq(sim_cluster_restore(c, path, &restored, &unknown, &err),
	    0, "%s", err);
	cr_expect_eq(restored, 1);
	cr_expect_eq(unknown, 2);
	expect_states(c, "east=On,west=Off,eu=On,t2=On", "partial");
	cr_expect_eq(changed_at(c, "eu"), 42);
	free(text);
	sim_cluster_free(c);
	rm_rf(dir);
	free(path);
	free(dir);
}

struct corrupt_case {
	const char	*text;
	const char	*why;	/* after "PATH: corrupt state file: " */
};

#define EU_ARN	"arn:aws:route53-recovery-control::111122223333:" \
	"controlpanel/1571f99866fe9b224f0eba349c009332/routingcontrol/"
/* A valid first entry: the corrupt second one must not let it apply. */
#define GOOD_ENTRY "{\"arn\": \"@EU@\", \"state\": \"On\"}"

static const struct corrupt_case corrupt_cases[] = {
	{"", "line 1 column 0: '[' or '{' expected near end of file"},
	{"not json\n", "line 1 column 3: '[' or '{' expected near 'not'"},
	{"{\"arcsim-state\": 1, \"controls\": [}\n", "line 1 column 34: "
	    "unexpected token near '}'"},
	{"[]\n", "not an arcsim state file (no \"arcsim-state\" version)"},
	{"{}\n", "not an arcsim state file (no \"arcsim-state\" version)"},
	{"{\"arcsim-state\": \"1\", \"controls\": []}\n", "not an arcsim "
	    "state file (no \"arcsim-state\" version)"},
	{"{\"arcsim-state\": 2, \"controls\": []}\n", "unsupported version 2"},
	{"{\"arcsim-state\": 1}\n", "'controls' is not a list"},
	{"{\"arcsim-state\": 1, \"controls\": {}}\n", "'controls' is not a "
	    "list"},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", 5]}\n",
	    "entry 2 of 'controls' is not an object"},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", {\"state\": "
	    "\"On\"}]}\n", "entry 2 has no 'arn' string"},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", {\"arn\": 7, "
	    "\"state\": \"On\"}]}\n", "entry 2 has no 'arn' string"},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", {\"arn\": "
	    "\"x\", \"state\": \"on\"}]}\n", "entry 2: 'state' must be \"On\" "
	    "or \"Off\""},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", {\"arn\": "
	    "\"x\"}]}\n", "entry 2: 'state' must be \"On\" or \"Off\""},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", {\"arn\": "
	    "\"x\", \"state\": \"Off\", \"last_change_ms\": -1}]}\n",
	    "entry 2: 'last_change_ms' must be an integer >= 0"},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", {\"arn\": "
	    "\"x\", \"state\": \"Off\", \"last_change_ms\": \"5\"}]}\n",
	    "entry 2: 'last_change_ms' must be an integer >= 0"},
	{"{\"arcsim-state\": 1, \"controls\": [" GOOD_ENTRY ", "
	    GOOD_ENTRY "]}\n", "entry 2: routing control @EU@ is listed twice"},
	{"{\"arcsim-state\": 1, \"arcsim-state\": 1, \"controls\": []}\n",
	    "line 1 column 34: duplicate object key near '\"arcsim-state\"'"},
	{"{\"arcsim-state\": 1, \"controls\": []} {}\n", "line 1 column 37: "
	    "end of file expected near '{'"},
};
#define NCORRUPT (sizeof(corrupt_cases) / sizeof(corrupt_cases[0]))

/* s with every "@EU@" replaced by the ARN of control eu (new). */
static char *
with_eu(const struct sim_cluster *c, const char *s)
{
	const char *arn = sim_cluster_control(c, simfx_idx(c, "eu"))->arn;
	char *out = xstrdup(""), *t;
	const char *p;

	cr_assert(strncmp(arn, EU_ARN, strlen(EU_ARN)) == 0);
	while ((p = strstr(s, "@EU@")) != NULL) {
		t = xstrfmt("%s%.*s%s", out, (int)(p - s), s, arn);
		free(out);
		out = t;
		s = p + 4;
	}
	t = xstrfmt("%s%s", out, s);
	free(out);
	return t;
}

ParameterizedTestParameters(cluster_state, corrupt)
{
	static size_t ix[NCORRUPT];

	for (size_t i = 0; i < NCORRUPT; i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, NCORRUPT);
}

ParameterizedTest(size_t *i, cluster_state, corrupt)
{
	const struct corrupt_case *cc = &corrupt_cases[*i];
	char *dir = tmpdir(), *path = xstrfmt("%s/s.json", dir);
	struct sim_cluster *c = simfx_load(RULES);
	char *text = with_eu(c, cc->text), *why = with_eu(c, cc->why);
	char *want = xstrfmt("%s: corrupt state file: %s", path, why);
	size_t restored = 9;
	char *err = NULL;

	write_file(path, text);
	cr_expect_eq(sim_cluster_restore(c, path, &restored, NULL, &err),
	    ERR_PARSE, "%s", text);
	cr_assert_not_null(err, "%s", text);
	cr_expect_str_eq(err, want, "input: %s\ngot:  %s\nwant: %s", text, err,
	    want);
	cr_expect_eq(restored, 0);
	expect_states(c, "east=On,west=Off,eu=Off", "nothing applied");
	free(err);
	free(want);
	free(why);
	free(text);
	sim_cluster_free(c);
	rm_rf(dir);
	free(path);
	free(dir);
}

Test(cluster_state, unreadable_file)
{
	char *dir = tmpdir(), *err = NULL, *want;
	struct sim_cluster *c = simfx_load(RULES);

	/* A folder opens, but reading it fails with EISDIR. */
	cr_expect_eq(sim_cluster_restore(c, dir, NULL, NULL, &err), -EISDIR);
	want = xstrfmt("%s: Is a directory", dir);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, want);
	free(err);
	free(want);
	sim_cluster_free(c);
	rm_rf(dir);
	free(dir);
}

Test(cluster_state, save_errors)
{
	struct sim_cluster *c = simfx_load(RULES);
	char *dir = tmpdir(), *path, *err = NULL, *want;

	path = xstrfmt("%s/missing/s.json", dir);
	cr_expect_eq(sim_cluster_save(c, path, &err), -ENOENT);
	want = xstrfmt("%s.%ld.tmp: No such file or directory", path,
	    (long)getpid());
	cr_assert_not_null(err);
	cr_expect_str_eq(err, want);
	free(err);
	free(want);
	free(path);
	/* rename() over a non-empty folder fails; the temp file goes. */
	path = xstrfmt("%s/sub", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	want = xstrfmt("%s/x", path);
	write_file(want, "x");
	free(want);
	err = NULL;
	cr_expect_lt(sim_cluster_save(c, path, &err), 0);
	cr_expect_not_null(err);
	cr_expect_eq(count_files(dir), 1, "temp file removed");
	free(err);
	free(path);
	sim_cluster_free(c);
	rm_rf(dir);
	free(dir);
}
