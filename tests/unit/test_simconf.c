/*
 * test_simconf.c -- sim.yaml parsing, validation and stable ARNs.
 *
 * The good file (tests/data/sim/full.yaml) is checked field by field; the
 * expected ARNs were computed with Python's hashlib from the derivation
 * documented in simconf.h, not with the code under test. Bad files form a
 * table of (text, exact message) parsed from memory as "t.yaml"; the
 * quota limits are generated.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/simconf.h"
#include "util/err.h"
#include "util/xalloc.h"

#define ARN_BASE	"arn:aws:route53-recovery-control::111122223333:"
#define P_DEFAULT	ARN_BASE "controlpanel/d6fac07a185cc66444454e17c95282ee"
#define P_GATED		ARN_BASE "controlpanel/e9a961a044c75e2347204403de8be211"

static struct simconf *
load_ok(const char *yaml)
{
	struct simconf *c = NULL;
	char *err = NULL;
	int ret;

	ret = simconf_load_string("t.yaml", yaml, strlen(yaml), &c, &err);
	cr_assert_eq(ret, 0, "unexpected error %d: %s\n--- input:\n%s", ret,
	    err != NULL ? err : "(none)", yaml);
	cr_assert_null(err);
	cr_assert_not_null(c);
	return c;
}

static struct simconf *
load_file_ok(const char *path)
{
	struct simconf *c = NULL;
	char *err = NULL;
	int ret;

	ret = simconf_load(path, &c, &err);
	cr_assert_eq(ret, 0, "%s: error %d: %s", path, ret,
	    err != NULL ? err : "(none)");
	return c;
}

/* Returns the message (new); the load must fail with code want. */
static char *
load_bad(const char *yaml, int want)
{
	struct simconf *c = NULL;
	char *err = NULL;
	int ret;

	ret = simconf_load_string("t.yaml", yaml, strlen(yaml), &c, &err);
	cr_assert_eq(ret, want, "got %d, want %d (%s) for:\n%s", ret, want,
	    err != NULL ? err : "no message", yaml);
	cr_assert_null(c);
	cr_assert_not_null(err);
	return err;
}

static size_t
control_index(const struct simconf_panel *p, const char *name)
{
	for (size_t i = 0; i < p->ncontrols; i++)
		if (strcmp(p->controls[i].name, name) == 0)
			return i;
	cr_assert_fail("no control %s in %s", name, p->name);
	return 0;
}

/* --- good files -------------------------------------------------------- */

Test(simconf_good, full_file_values)
{
	struct simconf *c = load_file_ok(TEST_DATA_DIR "/sim/full.yaml");
	const struct simconf_panel *p;
	const struct simconf_rule *r;

	cr_expect_str_eq(c->account, "111122223333");
	cr_expect_eq(c->status, SIMCONF_STATUS_SMITHY);
	cr_assert_eq(c->ncreds, 2);
	cr_expect_str_eq(c->creds[0].access_key_id, "AKIDEXAMPLE");
	cr_expect_str_eq(c->creds[0].secret_access_key,
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	cr_expect_null(c->creds[0].session_token);
	cr_expect_str_eq(c->creds[1].access_key_id, "ASIATEMPEXAMPLE");
	cr_expect_str_eq(c->creds[1].session_token, "EXAMPLE-SESSION-TOKEN");
	cr_assert_eq(c->npanels, 2);
	cr_expect_eq(c->ncontrols, 6);

	p = &c->panels[0];
	cr_expect_str_eq(p->name, "DefaultControlPanel");
	cr_expect_str_eq(p->arn, P_DEFAULT);
	cr_assert_eq(p->ncontrols, 3);
	cr_expect_str_eq(p->controls[0].name, "route-us-east-1");
	cr_expect_str_eq(p->controls[0].arn,
	    P_DEFAULT "/routingcontrol/f4b984365f91ec73");
	cr_expect(p->controls[0].on);
	cr_expect_str_eq(p->controls[1].arn,
	    P_DEFAULT "/routingcontrol/d7cfa8dd96e1ea61");
	cr_expect_not(p->controls[1].on);
	cr_expect_str_eq(p->controls[2].name, "route-eu-west-1");
	cr_expect_str_eq(p->controls[2].arn,
	    P_DEFAULT "/routingcontrol/93cd97ea15c86693");
	cr_expect_not(p->controls[2].on, "state defaults to Off");
	cr_expect_eq(p->controls[2].line, 16);
	cr_expect_eq(p->controls[2].column, 9);
	cr_assert_eq(p->nrules, 1);
	r = &p->rules[0];
	cr_expect_str_eq(r->name, "at-least-one-region");
	cr_expect_str_eq(r->arn, P_DEFAULT "/safetyrule/b2a747009b1d3ca7");
	cr_expect_eq(r->kind, SIMCONF_ASSERTION);
	cr_expect_eq(r->type, SIMCONF_ATLEAST);
	cr_expect_eq(r->threshold, 1);
	cr_expect_not(r->inverted);
	cr_expect_eq(r->wait_ms, 0);
	cr_assert_eq(r->ncontrols, 3);
	cr_expect_eq(r->controls[0], 0);
	cr_expect_eq(r->controls[1], 1);
	cr_expect_eq(r->controls[2], 2);
	cr_expect_eq(r->ntargets, 0);
	cr_expect_null(r->targets);

	/* Rules before controls in the file: references still resolve. */
	p = &c->panels[1];
	cr_expect_str_eq(p->name, "Gated");
	cr_expect_str_eq(p->arn, P_GATED);
	cr_assert_eq(p->ncontrols, 3);
	cr_expect_str_eq(p->controls[control_index(p, "master")].arn,
	    P_GATED "/routingcontrol/a579e657d0c906af");
	cr_expect_str_eq(p->controls[control_index(p, "east")].arn,
	    P_GATED "/routingcontrol/1ca78cf00e4371fc");
	cr_expect_str_eq(p->controls[control_index(p, "west")].arn,
	    P_GATED "/routingcontrol/30841dd501641e51");
	cr_assert_eq(p->nrules, 2);
	r = &p->rules[0];
	cr_expect_str_eq(r->name, "master-gate");
	cr_expect_str_eq(r->arn, P_GATED "/safetyrule/f13486b996aa9631");
	cr_expect_eq(r->kind, SIMCONF_GATING);
	cr_expect_eq(r->type, SIMCONF_OR);
	cr_expect_eq(r->threshold, 1, "OR is normalised to threshold 1");
	cr_expect_eq(r->wait_ms, 5000);
	cr_assert_eq(r->ncontrols, 1);
	cr_expect_eq(r->controls[0], control_index(p, "master"));
	cr_assert_eq(r->ntargets, 2);
	cr_expect_eq(r->targets[0], control_index(p, "east"));
	cr_expect_eq(r->targets[1], control_index(p, "west"));
	r = &p->rules[1];
	cr_expect_str_eq(r->arn, P_GATED "/safetyrule/6b419ec03f88b614");
	cr_expect_eq(r->type, SIMCONF_AND);
	cr_expect_eq(r->threshold, 2, "AND is normalised to all controls");
	cr_expect(r->inverted);
	simconf_free(c);
}

Test(simconf_good, shipped_example)
{
	struct simconf *c = load_file_ok(TEST_DATA_DIR "/../../conf/sim.yaml");
	const struct simconf_panel *p;

	cr_expect_str_eq(c->account, "111122223333");
	cr_expect_str_eq(c->creds[0].access_key_id, "AKIDEXAMPLE");
	cr_assert_eq(c->npanels, 1);
	p = &c->panels[0];
	cr_expect_str_eq(p->arn, P_DEFAULT);
	cr_assert_eq(p->ncontrols, 2);
	cr_expect_str_eq(p->controls[0].name, "route-us-east-1");
	cr_expect_str_eq(p->controls[1].name, "route-us-west-2");
	cr_expect(p->controls[0].on);
	cr_expect(p->controls[1].on);
	cr_assert_eq(p->nrules, 1);
	cr_expect_eq(p->rules[0].kind, SIMCONF_ASSERTION);
	cr_expect_eq(p->rules[0].threshold, 1);
	simconf_free(c);
}

#define MINIMAL \
	"account: \"111122223333\"\n" \
	"credentials: [{access-key-id: AK, secret-access-key: s}]\n" \
	"control-panels: [{name: P, routing-controls: [{name: a}]}]\n"

/* Access key ids: what sigv4 accepts, up to 128 of [A-Za-z0-9_]. */
Test(simconf_good, access_key_ids)
{
	char key[129], *yaml;
	struct simconf *c;

	memset(key, 'K', 128);
	key[128] = '\0';
	key[5] = '_';
	yaml = xstrfmt("account: \"111122223333\"\n"
	    "credentials: [{access-key-id: %s, secret-access-key: s}, "
	    "{access-key-id: A_1, secret-access-key: t}]\n"
	    "control-panels: [{name: P}]\n", key);
	c = load_ok(yaml);
	cr_expect_str_eq(c->creds[0].access_key_id, key);
	cr_expect_str_eq(c->creds[1].access_key_id, "A_1");
	simconf_free(c);
	free(yaml);
}

Test(simconf_good, defaults)
{
	struct simconf *c = load_ok(MINIMAL);

	cr_expect_eq(c->status, SIMCONF_STATUS_SMITHY);
	cr_expect_null(c->creds[0].session_token);
	cr_expect_eq(c->panels[0].nrules, 0);
	cr_expect_not(c->panels[0].controls[0].on);
	simconf_free(c);
}

Test(simconf_good, panel_without_controls_and_account_last)
{
	struct simconf *c = load_ok(
	    "control-panels: [{name: Empty}, {name: E2, "
	    "routing-controls: []}]\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "error-status: api-reference\n"
	    "account: 000000000000\n");

	cr_expect_str_eq(c->account, "000000000000");
	cr_expect_eq(c->status, SIMCONF_STATUS_API_REFERENCE);
	cr_expect_eq(c->panels[0].ncontrols, 0);
	cr_expect_eq(c->panels[1].ncontrols, 0);
	cr_expect_eq(c->ncontrols, 0);
	cr_expect(strncmp(c->panels[0].arn, "arn:aws:route53-recovery-"
	    "control::000000000000:controlpanel/", 60) == 0, "%s",
	    c->panels[0].arn);
	simconf_free(c);
}

/* ARNs depend on the account and names only: not on order or states. */
Test(simconf_good, arns_are_stable)
{
	struct simconf *a = load_ok(MINIMAL);
	struct simconf *b = load_ok(
	    "control-panels:\n"
	    "  - name: Other\n"
	    "    routing-controls: [{name: z, state: On}]\n"
	    "  - name: P\n"
	    "    routing-controls: [{name: x}, {name: a, state: On}]\n"
	    "credentials: [{access-key-id: BK, secret-access-key: t}]\n"
	    "account: \"111122223333\"\n");
	struct simconf *d = load_ok(
	    "account: \"999988887777\"\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "control-panels: [{name: P, routing-controls: [{name: a}]}]\n");

	cr_expect_str_eq(a->panels[0].arn, b->panels[1].arn);
	cr_expect_str_eq(a->panels[0].controls[0].arn,
	    b->panels[1].controls[1].arn);
	cr_expect_str_neq(a->panels[0].arn, b->panels[0].arn);
	cr_expect_str_neq(b->panels[1].controls[0].arn,
	    b->panels[1].controls[1].arn);
	/* Another account: another prefix and other ids. */
	cr_expect_str_neq(a->panels[0].arn + strlen(ARN_BASE),
	    d->panels[0].arn + strlen(ARN_BASE));
	cr_expect(strncmp(d->panels[0].arn,
	    "arn:aws:route53-recovery-control::999988887777:controlpanel/",
	    60) == 0, "%s", d->panels[0].arn);
	simconf_free(a);
	simconf_free(b);
	simconf_free(d);
}

Test(simconf_good, arn_shapes)
{
	struct simconf *c = load_file_ok(TEST_DATA_DIR "/sim/full.yaml");
	regex_t pre, cre, rre;

	cr_assert_eq(regcomp(&pre, "^arn:aws:route53-recovery-control::"
	    "[0-9]{12}:controlpanel/[0-9a-f]{32}$", REG_EXTENDED), 0);
	cr_assert_eq(regcomp(&cre, "^arn:aws:route53-recovery-control::"
	    "[0-9]{12}:controlpanel/[0-9a-f]{32}/routingcontrol/[0-9a-f]{16}$",
	    REG_EXTENDED), 0);
	cr_assert_eq(regcomp(&rre, "^arn:aws:route53-recovery-control::"
	    "[0-9]{12}:controlpanel/[0-9a-f]{32}/safetyrule/[0-9a-f]{16}$",
	    REG_EXTENDED), 0);
	for (size_t i = 0; i < c->npanels; i++) {
		const struct simconf_panel *p = &c->panels[i];

		cr_expect_eq(regexec(&pre, p->arn, 0, NULL, 0), 0, "%s",
		    p->arn);
		for (size_t j = 0; j < p->ncontrols; j++) {
			cr_expect_eq(regexec(&cre, p->controls[j].arn, 0, NULL,
			    0), 0, "%s", p->controls[j].arn);
			cr_expect(strncmp(p->controls[j].arn, p->arn,
			    strlen(p->arn)) == 0);
		}
		for (size_t j = 0; j < p->nrules; j++)
			cr_expect_eq(regexec(&rre, p->rules[j].arn, 0, NULL,
			    0), 0, "%s", p->rules[j].arn);
	}
	regfree(&pre);
	regfree(&cre);
	regfree(&rre);
	simconf_free(c);
}

Test(simconf_good, arn_functions)
{
	char *p = simconf_panel_arn("111122223333", "DefaultControlPanel");
	char *c = simconf_control_arn("111122223333", "DefaultControlPanel",
	    "route-us-west-2");
	char *r = simconf_rule_arn("111122223333", "Gated", "not-both");

	cr_expect_str_eq(p, P_DEFAULT);
	cr_expect_str_eq(c, P_DEFAULT "/routingcontrol/d7cfa8dd96e1ea61");
	cr_expect_str_eq(r, P_GATED "/safetyrule/6b419ec03f88b614");
	free(p);
	free(c);
	free(r);
}

/* Names: 64 characters (not bytes) is the limit; \S+ allows UTF-8. */
Test(simconf_good, names_up_to_64_characters)
{
	char name[64 * 2 + 1], *yaml;
	struct simconf *c;

	for (size_t i = 0; i < 64; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);	/* é */
	name[128] = '\0';
	yaml = xstrfmt("account: \"111122223333\"\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "control-panels: [{name: %.64s, routing-controls: "
	    "[{name: %s}], safety-rules: [{name: %s, type: assertion, "
	    "controls: [%s], rule: {type: OR}}]}]\n",
	    "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP"
	    "PPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP",
	    name, name, name);
	c = load_ok(yaml);
	cr_expect_eq(strlen(c->panels[0].name), 64);
	cr_expect_str_eq(c->panels[0].controls[0].name, name);
	cr_expect_str_eq(c->panels[0].rules[0].name, name);
	simconf_free(c);
	free(yaml);
}

Test(simconf_good, kind_and_type_strings)
{
	cr_expect_str_eq(simconf_kind_str(SIMCONF_ASSERTION), "assertion");
	cr_expect_str_eq(simconf_kind_str(SIMCONF_GATING), "gating");
	cr_expect_str_eq(simconf_type_str(SIMCONF_ATLEAST), "ATLEAST");
	cr_expect_str_eq(simconf_type_str(SIMCONF_AND), "AND");
	cr_expect_str_eq(simconf_type_str(SIMCONF_OR), "OR");
}

Test(simconf_bad, missing_file)
{
	struct simconf *c = NULL;
	char *err = NULL;

	cr_expect_eq(simconf_load(TEST_DATA_DIR "/sim/no-such.yaml", &c,
	    &err), -ENOENT);
	cr_expect_null(c);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, TEST_DATA_DIR "/sim/no-such.yaml: No such file "
	    "or directory");
	free(err);
}

/* --- bad files --------------------------------------------------------- */

#define ACCT	"account: \"111122223333\"\n"
#define CRED	"credentials: [{access-key-id: AK, secret-access-key: s}]\n"
#define PANELS	"control-panels:\n  - name: P\n"
/* Panel P, line 4 "- name: P"; controls a (On) and b (Off) on line 5. */
#define CTLS	"    routing-controls: [{name: a, state: On}, {name: b}]\n"
#define HEAD	ACCT CRED PANELS CTLS
/* Rules start on line 6 ("    safety-rules:"), the first item on 7. */
#define RULES	"    safety-rules:\n"

struct bad_case {
	const char	*yaml;
	const char	*msg;
	int		 code;	/* 0: ERR_INVAL */
};

static const struct bad_case bad_cases[] = {
	/* top level */
	{"", "t.yaml:1:1: empty configuration (expected a mapping with "
	    "'account', 'credentials' and 'control-panels')", 0},
	{"[]\n", "t.yaml:1:1: the top level must be a mapping, not a "
	    "sequence", 0},
	{HEAD "foo: 1\n", "t.yaml:6:1: unknown top-level key 'foo'", 0},
	{CRED PANELS CTLS, "t.yaml:1:1: missing 'account' (the AWS account "
	    "id, 12 digits)", 0},
	{"account: 1234\n" CRED PANELS CTLS, "t.yaml:1:10: 'account' must be "
	    "12 digits (an AWS account id)", 0},
	{"account: \"11112222333a\"\n" CRED PANELS CTLS, "t.yaml:1:10: "
	    "'account' must be 12 digits (an AWS account id)", 0},
	{"account:\n" CRED PANELS CTLS, "t.yaml:1:1: 'account' has no value",
	    0},
	{"account: [1]\n" CRED PANELS CTLS, "t.yaml:1:10: 'account' must be "
	    "a string", 0},
	{ACCT PANELS CTLS, "t.yaml:1:1: missing 'credentials' (at least one "
	    "access key)", 0},
	{ACCT CRED, "t.yaml:1:1: missing 'control-panels' (at least one "
	    "control panel)", 0},
	{HEAD "error-status: 400\n", "t.yaml:6:15: 'error-status' must be "
	    "smithy or api-reference", 0},
	/* credentials */
	{ACCT "credentials: []\n" PANELS CTLS, "t.yaml:2:14: 'credentials' "
	    "must not be empty", 0},
	{ACCT "credentials: AK\n" PANELS CTLS, "t.yaml:2:14: 'credentials' "
	    "must be a list of credentials", 0},
	{ACCT "credentials:\n" PANELS CTLS, "t.yaml:2:1: 'credentials' has "
	    "no value", 0},
	{ACCT "credentials: [AK]\n" PANELS CTLS, "t.yaml:2:15: each entry of "
	    "'credentials' must be a mapping with 'access-key-id' and "
	    "'secret-access-key'", 0},
	{ACCT "credentials: [{access-key-id: AK}]\n" PANELS CTLS,
	    "t.yaml:2:15: credential 'AK' has no 'secret-access-key'", 0},
	{ACCT "credentials: [{secret-access-key: s}]\n" PANELS CTLS,
	    "t.yaml:2:15: credential has no 'access-key-id'", 0},
	{ACCT "credentials: [{access-key-id: AK, secret-access-key: s, "
	    "token: t}]\n" PANELS CTLS, "t.yaml:2:57: unknown key 'token' in "
	    "'credentials'", 0},
	{ACCT "credentials:\n  - {access-key-id: AK, secret-access-key: s}\n"
	    "  - {access-key-id: AK, secret-access-key: t}\n" PANELS CTLS,
	    "t.yaml:4:21: duplicate access key id 'AK' (first at line 3)", 0},
	{ACCT "credentials: [{access-key-id: AK-1, secret-access-key: s}]\n"
	    PANELS CTLS, "t.yaml:2:31: 'access-key-id' must be 1 to 128 "
	    "letters, digits or '_'", 0},
	{ACCT "credentials: [{access-key-id: "
	    "K0123456789012345678901234567890123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789012345678901234567, "
	    "secret-access-key: s}]\n" PANELS CTLS, "t.yaml:2:31: "
	    "'access-key-id' must be 1 to 128 letters, digits or '_'", 0},
	{ACCT "credentials: [{access-key-id: AK, secret-access-key: "
	    "\"a b\"}]\n" PANELS CTLS, "t.yaml:2:54: 'secret-access-key' may "
	    "only contain printable ASCII characters other than space", 0},
	{ACCT "credentials: [{access-key-id: AK, secret-access-key: s, "
	    "session-token: \"\"}]\n" PANELS CTLS, "t.yaml:2:72: "
	    "'session-token' must not be empty", 0},
	/* control panels */
	{ACCT CRED "control-panels: []\n", "t.yaml:3:17: 'control-panels' "
	    "must not be empty", 0},
	{ACCT CRED "control-panels: {name: P}\n", "t.yaml:3:17: "
	    "'control-panels' must be a list of control panels", 0},
	{ACCT CRED "control-panels: [P]\n", "t.yaml:3:18: each entry of "
	    "'control-panels' must be a mapping with 'name' and "
	    "'routing-controls'", 0},
	{ACCT CRED "control-panels: [{routing-controls: []}]\n",
	    "t.yaml:3:18: control panel has no 'name'", 0},
	{ACCT CRED "control-panels: [{name: P}, {name: Q}, {name: P}]\n",
	    "t.yaml:3:47: duplicate control panel name 'P' (first at line 3)",
	    0},
	{ACCT CRED "control-panels: [{name: \"my panel\"}]\n", "t.yaml:3:25: "
	    "control panel name 'my panel' must not contain whitespace", 0},
	{ACCT CRED "control-panels: [{name: \"P\\tQ\"}]\n", "t.yaml:3:25: "
	    "control panel name 'P?Q' must not contain whitespace", 0},
	{ACCT CRED "control-panels: [{name: \"P\\x01\"}]\n", "t.yaml:3:25: "
	    "control panel name 'P?' must not contain control characters", 0},
	{ACCT CRED "control-panels: [{name: P\xc3\xa9}]\n", "t.yaml:3:25: "
	    "control panel name 'P\xc3\xa9' may only contain ASCII characters",
	    0},
	{ACCT CRED "control-panels: [{name: \"\"}]\n", "t.yaml:3:25: 'name' "
	    "must not be empty", 0},
	{ACCT CRED "control-panels: [{name: "
	    "P0123456789012345678901234567890123456789012345678901234567890123"
	    "}]\n", "t.yaml:3:25: control panel name "
	    "'P012345678901234567890123456789012345678901234567890123456789012"
	    "...' is longer than 64 characters", 0},
	{ACCT CRED "control-panels: [{name: P, rules: []}]\n", "t.yaml:3:28: "
	    "unknown key 'rules' in 'control-panels'", 0},
	/* routing controls */
	{ACCT CRED PANELS "    routing-controls: 5\n", "t.yaml:5:23: "
	    "'routing-controls' must be a list of routing controls", 0},
	{ACCT CRED PANELS "    routing-controls: [a]\n", "t.yaml:5:24: each "
	    "entry of 'routing-controls' must be a mapping with 'name' and "
	    "'state'", 0},
	{ACCT CRED PANELS "    routing-controls: [{state: On}]\n",
	    "t.yaml:5:24: routing control has no 'name'", 0},
	{ACCT CRED PANELS "    routing-controls: [{name: a}, {name: a}]\n",
	    "t.yaml:5:42: duplicate routing control name 'a' in control panel "
	    "'P' (first at line 5)", 0},
	{ACCT CRED PANELS "    routing-controls: [{name: a, state: on}]\n",
	    "t.yaml:5:41: 'state' must be On or Off", 0},
	{ACCT CRED PANELS "    routing-controls: [{name: a, state: true}]\n",
	    "t.yaml:5:41: 'state' must be On or Off", 0},
	{ACCT CRED PANELS "    routing-controls: [{name: a, state: [On]}]\n",
	    "t.yaml:5:41: 'state' must be a string", 0},
	{ACCT CRED PANELS "    routing-controls: [{name: a, status: On}]\n",
	    "t.yaml:5:34: unknown key 'status' in 'routing-controls'", 0},
	{ACCT CRED PANELS "    routing-controls: [{name: \"a b\"}]\n",
	    "t.yaml:5:31: routing control name 'a b' must not contain "
	    "whitespace", 0},
	/* safety rules: structure */
	{HEAD RULES "      - {type: assertion, controls: [a], rule: "
	    "{type: OR}}\n", "t.yaml:7:9: safety rule has no 'name'", 0},
	{HEAD "    safety-rules: {name: r}\n", "t.yaml:6:19: 'safety-rules' "
	    "must be a list of safety rules", 0},
	{HEAD RULES "      - r\n", "t.yaml:7:9: each entry of 'safety-rules' "
	    "must be a mapping with 'name', 'type' and 'rule'", 0},
	{HEAD RULES "      - {name: r, controls: [a], rule: {type: OR}}\n",
	    "t.yaml:7:9: safety rule 'r' has no 'type' (assertion or gating)",
	    0},
	{HEAD RULES "      - {name: r, type: assert, controls: [a], rule: "
	    "{type: OR}}\n", "t.yaml:7:25: 'type' of a safety rule must be "
	    "assertion or gating", 0},
	{HEAD RULES "      - {name: r, type: assertion, rule: {type: OR}}\n",
	    "t.yaml:7:9: assertion rule 'r' has no 'controls'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], "
	    "target-controls: [b], rule: {type: OR}}\n", "t.yaml:7:51: "
	    "'target-controls' only applies to gating rules", 0},
	{HEAD RULES "      - {name: r, type: gating, controls: [a], rule: "
	    "{type: OR}}\n", "t.yaml:7:33: 'controls' only applies to "
	    "assertion rules (a gating rule has 'gating-controls' and "
	    "'target-controls')", 0},
	{HEAD RULES "      - {name: r, type: gating, gating-controls: [a], "
	    "rule: {type: OR}}\n", "t.yaml:7:9: gating rule 'r' has no "
	    "'target-controls'", 0},
	{HEAD RULES "      - {name: r, type: gating, target-controls: [a], "
	    "rule: {type: OR}}\n", "t.yaml:7:9: gating rule 'r' has no "
	    "'gating-controls'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a]}\n",
	    "t.yaml:7:9: safety rule 'r' has no 'rule'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{inverted: true}}\n", "t.yaml:7:57: 'rule' of safety rule 'r' "
	    "has no 'type' (ATLEAST, AND or OR)", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], "
	    "rule: OR}\n", "t.yaml:7:57: 'rule' must be a mapping with 'type' "
	    "and, for ATLEAST, 'threshold'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: OR}, priority: 1}\n", "t.yaml:7:69: unknown key "
	    "'priority' in 'safety-rules'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: OR, thresh: 1}}\n", "t.yaml:7:68: unknown key 'thresh' "
	    "in 'rule'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: OR}}\n      - {name: r, type: assertion, controls: [b], "
	    "rule: {type: OR}}\n", "t.yaml:8:16: duplicate safety rule name "
	    "'r' in control panel 'P' (first at line 7)", 0},
	/* safety rules: control references */
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, c], "
	    "rule: {type: OR}}\n", "t.yaml:7:50: unknown routing control 'c' "
	    "in safety rule 'r' (control panel 'P' has none by that name)",
	    0},
	{HEAD RULES "      - {name: r, type: gating, gating-controls: [a], "
	    "target-controls: [zz], rule: {type: OR}}\n", "t.yaml:7:73: "
	    "unknown routing control 'zz' in safety rule 'r' (control panel "
	    "'P' has none by that name)", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b, a], "
	    "rule: {type: OR}}\n", "t.yaml:7:53: routing control 'a' is "
	    "listed twice in 'controls' of safety rule 'r'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [], rule: "
	    "{type: OR}}\n", "t.yaml:7:46: 'controls' must not be empty", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: a, rule: "
	    "{type: OR}}\n", "t.yaml:7:46: 'controls' must be a list of "
	    "routing control names", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [[a]], "
	    "rule: {type: OR}}\n", "t.yaml:7:47: each entry of 'controls' "
	    "must be a routing control name", 0},
	/* A control of another panel is unknown in this one. */
	{ACCT CRED "control-panels:\n"
	    "  - {name: P, routing-controls: [{name: a}]}\n"
	    "  - name: Q\n"
	    "    routing-controls: [{name: b}]\n"
	    "    safety-rules: [{name: r, type: assertion, controls: [a], "
	    "rule: {type: OR}}]\n", "t.yaml:7:58: unknown routing control 'a' "
	    "in safety rule 'r' (control panel 'Q' has none by that name)", 0},
	/* safety rules: rule configuration */
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: atleast, threshold: 1}}\n", "t.yaml:7:64: 'type' of a "
	    "rule must be ATLEAST, AND or OR", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: ATLEAST}}\n", "t.yaml:7:57: ATLEAST rule of safety rule "
	    "'r' has no 'threshold'", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b], "
	    "rule: {type: ATLEAST, threshold: 0}}\n", "t.yaml:7:87: "
	    "'threshold' must be between 1 and 2 (the number of asserted "
	    "controls)", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b], "
	    "rule: {type: ATLEAST, threshold: 3}}\n", "t.yaml:7:87: "
	    "'threshold' must be between 1 and 2 (the number of asserted "
	    "controls)", 0},
	{HEAD RULES "      - {name: r, type: gating, gating-controls: [a], "
	    "target-controls: [b], rule: {type: ATLEAST, threshold: 2}}\n",
	    "t.yaml:7:110: 'threshold' must be between 1 and 1 (the number of "
	    "gating controls)", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b], "
	    "rule: {type: ATLEAST, threshold: -1}}\n", "t.yaml:7:87: "
	    "'threshold' must be between 1 and 2 (the number of asserted "
	    "controls)", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b], "
	    "rule: {type: ATLEAST, threshold: \"1\"}}\n", "t.yaml:7:87: "
	    "'threshold' must be an integer, not a string", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b], "
	    "rule: {type: ATLEAST, threshold: one}}\n", "t.yaml:7:87: "
	    "'threshold' must be an integer", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b], "
	    "rule: {type: ATLEAST, threshold: }}\n", "t.yaml:7:76: "
	    "'threshold' has no value", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a, b], "
	    "rule: {type: AND, threshold: 2}}\n", "t.yaml:7:83: 'threshold' "
	    "only applies to ATLEAST rules", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: OR, inverted: maybe}}\n", "t.yaml:7:78: 'inverted' must be "
	    "true or false", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: OR}, wait-period: 5d}\n", "t.yaml:7:82: 'wait-period' "
	    "must be a duration such as 500ms, 10s, 2m or 1h", 0},
	{HEAD RULES "      - {name: r, type: assertion, controls: [a], rule: "
	    "{type: OR}, wait-period: 61m}\n", "t.yaml:7:82: 'wait-period' "
	    "must be between 0s and 1h", 0},
	/* YAML errors come through with their own position and code. */
	{HEAD "control-panels: []\n", "t.yaml:6:1: duplicate key "
	    "'control-panels' (first at line 3)", ERR_PARSE},
	{"account: [1\n", "t.yaml:2:1: syntax error: did not find expected "
	    "',' or ']' (while parsing a flow sequence at line 1, column 10)",
	    ERR_PARSE},
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

ParameterizedTestParameters(simconf_bad, table)
{
	static size_t idx[NBAD];

	for (size_t i = 0; i < NBAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NBAD);
}

ParameterizedTest(size_t *i, simconf_bad, table)
{
	const struct bad_case *bc = &bad_cases[*i];
	char *err = load_bad(bc->yaml, bc->code != 0 ? bc->code : ERR_INVAL);

	cr_expect_str_eq(err, bc->msg, "input:\n%s\ngot:  %s\nwant: %s",
	    bc->yaml, err, bc->msg);
	free(err);
}

/* --- quotas (generated files) ------------------------------------------ */

/* A file with npanels panels of ncontrols controls and nrules rules. */
static char *
generated(size_t npanels, size_t ncontrols, size_t nrules)
{
	char *y = xstrdup(ACCT CRED "control-panels:\n"), *t;

	for (size_t p = 0; p < npanels; p++) {
		t = xstrfmt("%s  - name: p%zu\n    routing-controls:\n", y, p);
		free(y);
		y = t;
		for (size_t c = 0; c < ncontrols; c++) {
			t = xstrfmt("%s      - {name: c%zu}\n", y, c);
			free(y);
			y = t;
		}
		t = xstrfmt("%s    safety-rules:\n", y);
		free(y);
		y = t;
		for (size_t r = 0; r < nrules; r++) {
			t = xstrfmt("%s      - {name: r%zu, type: assertion, "
			    "controls: [c0], rule: {type: OR}}\n", y, r);
			free(y);
			y = t;
		}
	}
	return y;
}

Test(simconf_quota, limits_are_accepted)
{
	char *y = generated(3, 100, 20);
	struct simconf *c = load_ok(y);

	cr_expect_eq(c->ncontrols, 300);
	simconf_free(c);
	free(y);
	y = generated(50, 1, 0);
	c = load_ok(y);
	cr_expect_eq(c->npanels, 50);
	simconf_free(c);
	free(y);
}

Test(simconf_quota, too_many_controls_in_a_panel)
{
	char *y = generated(1, 101, 0);
	char *err = load_bad(y, ERR_INVAL);

	/* Line 4 "- name: p0", 5 "routing-controls:", items from 6. */
	cr_expect_str_eq(err, "t.yaml:106:9: control panel 'p0' has more "
	    "than 100 routing controls");
	free(err);
	free(y);
}

Test(simconf_quota, too_many_controls_in_the_cluster)
{
	char *y = generated(4, 76, 0);
	char *err = load_bad(y, ERR_INVAL);

	/* Panel p3 starts on line 4 + 3 * 79; its 73rd control is #301. */
	cr_expect_str_eq(err, "t.yaml:315:9: more than 300 routing controls "
	    "in the cluster");
	free(err);
	free(y);
}

Test(simconf_quota, too_many_rules)
{
	char *y = generated(1, 1, 21);
	char *err = load_bad(y, ERR_INVAL);

	cr_expect_str_eq(err, "t.yaml:28:9: control panel 'p0' has more than "
	    "20 safety rules");
	free(err);
	free(y);
}

Test(simconf_quota, too_many_panels)
{
	char *y = generated(51, 0, 0);
	char *err = load_bad(y, ERR_INVAL);

	cr_expect_str_eq(err, "t.yaml:154:5: more than 50 control panels");
	free(err);
	free(y);
}
