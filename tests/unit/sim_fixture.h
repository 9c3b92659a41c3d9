/*
 * sim_fixture.h -- helpers shared by test_cluster.c and test_api.c:
 * loading a cluster that must load, and finding controls and rules by
 * name (the test clusters use names that are unique across panels).
 * Static inline so that a test may use any subset.
 */
#ifndef TESTS_SIM_FIXTURE_H
#define TESTS_SIM_FIXTURE_H

#include <criterion/criterion.h>

#include <string.h>

#include "sim/cluster.h"

#define SIMFX_RULES	TEST_DATA_DIR "/sim/rules.yaml"
#define SIMFX_FULL	TEST_DATA_DIR "/sim/full.yaml"

/* A new cluster from path; the test fails when it does not load. */
static inline struct sim_cluster *
simfx_load(const char *path)
{
	struct sim_cluster *c = NULL;
	char *err = NULL;
	int ret = sim_cluster_load(path, &c, &err);

	cr_assert_eq(ret, 0, "%s: %s", path, err != NULL ? err : "?");
	cr_assert_not_null(c);
	return c;
}

/* The list index of the control called name. */
static inline size_t
simfx_idx(const struct sim_cluster *c, const char *name)
{
	for (size_t i = 0; i < sim_cluster_ncontrols(c); i++)
		if (strcmp(sim_cluster_control(c, i)->name, name) == 0)
			return i;
	cr_assert_fail("no control %s", name);
	return 0;
}

/* The ARN of the safety rule called name, in any panel. */
static inline const char *
simfx_rule_arn(const struct sim_cluster *c, const char *name)
{
	const struct simconf *conf = sim_cluster_conf(c);

	for (size_t i = 0; i < conf->npanels; i++)
		for (size_t j = 0; j < conf->panels[i].nrules; j++)
			if (strcmp(conf->panels[i].rules[j].name, name) == 0)
				return conf->panels[i].rules[j].arn;
	cr_assert_fail("no rule %s", name);
	return NULL;
}

#endif
