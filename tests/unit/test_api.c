/*
 * test_api.c -- the four route53-recovery-cluster operations of arcsim:
 * targets, body parsing, every validation error with its status and
 * body, pagination (MaxResults=1 across all pages, the ControlPanelArn
 * filter, bad tokens), atomic batches, the 10-entry limit, safety-rule
 * conflicts and overrides, and the two status-code columns.
 *
 * Runs on tests/data/sim/full.yaml (6 controls in 2 panels) and
 * rules.yaml (safety-rule scenarios), plus generated clusters.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sim/api.h"
#include "sim/cluster.h"
#include "util/err.h"
#include "util/xalloc.h"

#include "sim_fixture.h"

#define RULES	SIMFX_RULES
#define FULL	SIMFX_FULL
#define NOW	1777636800000ull

static struct sim_cluster *
load_text(const char *yaml)
{
	struct simconf *conf = NULL;
	char *err = NULL;

	cr_assert_eq(simconf_load_string("t.yaml", yaml, strlen(yaml), &conf,
	    &err), 0, "%s", err);
	return sim_cluster_new(conf);
}

/* A cluster with one panel of n controls and no rules. */
static struct sim_cluster *
load_plain(size_t n)
{
	char *y = xstrdup("account: \"111122223333\"\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "control-panels:\n  - name: Big\n    routing-controls:\n"), *t;
	struct sim_cluster *c;

	for (size_t i = 0; i < n; i++) {
		t = xstrfmt("%s      - {name: c%02zu}\n", y, i);
		free(y);
		y = t;
	}
	c = load_text(y);
	free(y);
	return c;
}

static const char *
arn(const struct sim_cluster *c, const char *name)
{
	return sim_cluster_control(c, simfx_idx(c, name))->arn;
}

/*
 * Call op ("ListRoutingControls", or a full target when it has a dot; NULL
 * for no target) with body (NULL: empty). The reply is parsed into *doc
 * (new) when doc is not NULL.
 */
static void
call(struct sim_cluster *c, const char *op, const char *body,
    struct sim_reply *r, json_t **doc)
{
	char *target = op == NULL ? NULL : strchr(op, '.') != NULL ?
	    xstrdup(op) : xstrfmt("ToggleCustomerAPI.%s", op);
	json_error_t jerr;

	sim_api_call(c, target, (const uint8_t *)(body != NULL ? body : ""),
	    body != NULL ? strlen(body) : 0, NOW, r);
	free(target);
	cr_assert_not_null(r->body);
	cr_expect_eq(r->retry_after, -1);
	if (doc != NULL) {
		*doc = json_loads(r->body, 0, &jerr);
		cr_assert_not_null(*doc, "reply is not JSON: %s", r->body);
		cr_assert(json_is_object(*doc));
	}
}

static const char *
str(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

/*
 * The reply must be an error of this status and type, with __type and
 * message; returns the parsed body (new).
 */
static json_t *
expect_error(struct sim_cluster *c, const char *op, const char *body,
    int status, const char *type)
{
	struct sim_reply r;
	json_t *doc;

	call(c, op, body, &r, &doc);
	cr_expect_eq(r.status, status, "%s %s: status %d, body %s", op,
	    body != NULL ? body : "(empty)", r.status, r.body);
	cr_expect_str_eq(r.error_type, type, "body %s", r.body);
	cr_expect_str_eq(str(doc, "__type"), type);
	cr_expect_not_null(str(doc, "message"), "%s", r.body);
	cr_expect_eq(r.changed, 0);
	sim_reply_fini(&r);
	return doc;
}

/* A ValidationException with this reason; returns the body (new). */
static json_t *
expect_invalid(struct sim_cluster *c, const char *op, const char *body,
    const char *reason)
{
	json_t *doc = expect_error(c, op, body, 400, "ValidationException");

	cr_expect_str_eq(str(doc, "reason"), reason, "%s -> %s", body,
	    str(doc, "message"));
	return doc;
}

/* The fields of a fieldValidationFailed body, as "name: message|...". */
static char *
fields_text(json_t *doc)
{
	json_t *f = json_object_get(doc, "fields"), *e;
	char *out = xstrdup(""), *t;
	size_t i;

	cr_assert(json_is_array(f), "no fields");
	json_array_foreach(f, i, e) {
		cr_expect_eq(json_object_size(e), 2);
		t = xstrfmt("%s%s%s: %s", out, i > 0 ? "|" : "", str(e, "name"),
		    str(e, "message"));
		free(out);
		out = t;
	}
	return out;
}

/* --- targets and helpers ----------------------------------------------- */

Test(api_target, unknown_operations)
{
	static const char *const targets[] = {"ToggleCustomerAPI.Foo",
		"ToggleCustomerAPI.", "Other.ListRoutingControls",
		"togglecustomerapi.ListRoutingControls",
		"ToggleCustomerAPI.listRoutingControls",
		"ToggleCustomerAPI.ListRoutingControls ",
		"ListRoutingControls.x", "ToggleCustomerAPI.DescribeCluster"};
	struct sim_cluster *c = simfx_load(FULL);
	json_t *doc;
	char *want;

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		doc = expect_invalid(c, targets[i], "{}", "unknownOperation");
		want = xstrfmt("Unknown operation %s", targets[i]);
		cr_expect_str_eq(str(doc, "message"), want);
		cr_expect_null(json_object_get(doc, "fields"));
		free(want);
		json_decref(doc);
	}
	/* Targets without a dot, passed as they are. */
	for (size_t i = 0; i < 2; i++) {
		const char *t = i == 0 ? "ToggleCustomerAPI" :
		    "ListRoutingControls";
		struct sim_reply r;

		sim_api_call(c, t, (const uint8_t *)"{}", 2, NOW, &r);
		cr_expect_eq(r.status, 400);
		cr_expect_str_eq(r.error_type, "ValidationException");
		doc = json_loads(r.body, 0, NULL);
		cr_expect_str_eq(str(doc, "reason"), "unknownOperation");
		json_decref(doc);
		sim_reply_fini(&r);
	}
	doc = expect_invalid(c, NULL, "{}", "unknownOperation");
	cr_expect_str_eq(str(doc, "message"), "Missing X-Amz-Target header");
	json_decref(doc);
	/* A target that is not UTF-8 still gives a valid JSON body. */
	doc = expect_invalid(c, "ToggleCustomerAPI.\xff\x01", "{}",
	    "unknownOperation");
	cr_expect_str_eq(str(doc, "message"), "Unknown operation "
	    "ToggleCustomerAPI.??");
	json_decref(doc);
	sim_cluster_free(c);
}

Test(api_target, operation_names)
{
	cr_expect_str_eq(sim_api_operation("ToggleCustomerAPI."
	    "GetRoutingControlState"), "GetRoutingControlState");
	cr_expect_str_eq(sim_api_operation("ToggleCustomerAPI."
	    "ListRoutingControls"), "ListRoutingControls");
	cr_expect_str_eq(sim_api_operation("ToggleCustomerAPI."
	    "UpdateRoutingControlState"), "UpdateRoutingControlState");
	cr_expect_str_eq(sim_api_operation("ToggleCustomerAPI."
	    "UpdateRoutingControlStates"), "UpdateRoutingControlStates");
	cr_expect_null(sim_api_operation("ToggleCustomerAPI.Foo"));
	cr_expect_null(sim_api_operation("ListRoutingControls"));
	cr_expect_null(sim_api_operation(NULL));
	cr_expect(sim_api_is_update("ToggleCustomerAPI."
	    "UpdateRoutingControlState"));
	cr_expect(sim_api_is_update("ToggleCustomerAPI."
	    "UpdateRoutingControlStates"));
	cr_expect_not(sim_api_is_update("ToggleCustomerAPI."
	    "ListRoutingControls"));
	cr_expect_not(sim_api_is_update("ToggleCustomerAPI."
	    "GetRoutingControlState"));
	cr_expect_not(sim_api_is_update(NULL));
	cr_expect_not(sim_api_is_update("UpdateRoutingControlState"));
}

struct status_case {
	const char	*type;
	int		 smithy;
	int		 reference;
};

static const struct status_case status_cases[] = {
	{"AccessDeniedException", 403, 400},
	{"ConflictException", 409, 400},
	{"EndpointTemporarilyUnavailableException", 503, 400},
	{"InternalServerException", 500, 500},
	{"ResourceNotFoundException", 404, 400},
	{"ServiceLimitExceededException", 402, 400},
	{"ThrottlingException", 429, 400},
	{"ValidationException", 400, 400},
	{"MissingAuthenticationTokenException", 403, 403},
	{"InvalidSignatureException", 403, 403},
	{"UnrecognizedClientException", 403, 403},
	{"ExpiredTokenException", 403, 403},
	{"UnknownOperationException", 400, 400},
	{"SomethingElse", 400, 400},
};

Test(api_target, status_columns)
{
	struct sim_cluster *smithy = simfx_load(FULL);
	struct sim_cluster *ref = load_text("account: \"111122223333\"\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "error-status: api-reference\n"
	    "control-panels: [{name: P}]\n");

	for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]);
	    i++) {
		const struct status_case *sc = &status_cases[i];

		cr_expect_eq(sim_api_status(smithy, sc->type), sc->smithy,
		    "%s", sc->type);
		cr_expect_eq(sim_api_status(NULL, sc->type), sc->smithy,
		    "%s", sc->type);
		cr_expect_eq(sim_api_status(ref, sc->type), sc->reference,
		    "%s", sc->type);
	}
	cr_expect_eq(sim_api_status(NULL, NULL), 400);
	sim_cluster_free(smithy);
	sim_cluster_free(ref);
}

/* The API reference column applies to the API's own errors too. */
Test(api_target, reference_column_in_replies)
{
	struct sim_cluster *c = load_text("account: \"111122223333\"\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "error-status: api-reference\n"
	    "control-panels: [{name: P, routing-controls: [{name: a, state: "
	    "On}], safety-rules: [{name: r, type: assertion, controls: [a], "
	    "rule: {type: OR}}]}]\n");
	char *body;

	json_decref(expect_error(c, "GetRoutingControlState",
	    "{\"RoutingControlArn\": \"arn:x\"}", 400,
	    "ResourceNotFoundException"));
	body = xstrfmt("{\"RoutingControlArn\": \"%s\", "
	    "\"RoutingControlState\": \"Off\"}", arn(c, "a"));
	json_decref(expect_error(c, "UpdateRoutingControlState", body, 400,
	    "ConflictException"));
	free(body);
	sim_cluster_free(c);
}

Test(api_reply, reply_error)
{
	struct sim_reply r;
	char type[64] = "SomeCustomException";
	json_t *doc;

	sim_reply_error(&r, 429, "ThrottlingException", "Rate exceeded", 3);
	cr_expect_eq(r.status, 429);
	cr_expect_str_eq(r.body, "{\"__type\":\"ThrottlingException\","
	    "\"message\":\"Rate exceeded\",\"retryAfterSeconds\":3}");
	cr_expect_str_eq(r.error_type, "ThrottlingException");
	cr_expect_eq(r.retry_after, 3);
	cr_expect_eq(r.changed, 0);
	sim_reply_fini(&r);
	cr_expect_null(r.body);

	sim_reply_error(&r, 503, "EndpointTemporarilyUnavailableException",
	    "down", -1);
	cr_expect_str_eq(r.body, "{\"__type\":\"EndpointTemporarily"
	    "UnavailableException\",\"message\":\"down\"}");
	cr_expect_eq(r.retry_after, -1);
	sim_reply_fini(&r);

	sim_reply_error(&r, 500, "InternalServerException", "boom", 0);
	doc = json_loads(r.body, 0, NULL);
	cr_expect_eq(json_integer_value(json_object_get(doc,
	    "retryAfterSeconds")), 0);
	cr_expect_eq(r.retry_after, 0);
	json_decref(doc);
	sim_reply_fini(&r);

	/* A known type is interned; an unknown one is the caller's. */
	sim_reply_error(&r, 403, type, "no", -1);
	cr_expect_eq(r.error_type, type);
	sim_reply_fini(&r);
	strcpy(type, "InvalidSignatureException");
	sim_reply_error(&r, 403, type, "no", -1);
	cr_expect_neq(r.error_type, type);
	cr_expect_str_eq(r.error_type, "InvalidSignatureException");
	sim_reply_fini(&r);
	sim_reply_fini(NULL);
}

/* --- body parsing ------------------------------------------------------ */

struct parse_case {
	const char	*op;
	const char	*body;
	const char	*message;	/* NULL: not checked */
};

static const struct parse_case parse_cases[] = {
	{"ListRoutingControls", " ", NULL},
	{"ListRoutingControls", "[]", "Cannot parse the request: the body "
	    "must be a JSON object"},
	{"ListRoutingControls", "null", NULL},
	{"ListRoutingControls", "1", NULL},
	{"ListRoutingControls", "\"x\"", NULL},
	{"ListRoutingControls", "{", "Cannot parse the request body as JSON: "
	    "string or '}' expected near end of file (line 1, column 1)"},
	{"ListRoutingControls", "{} x", NULL},
	{"ListRoutingControls", "{\"MaxResults\": 1, \"MaxResults\": 2}",
	    NULL},
	{"ListRoutingControls", "{\"ControlPanelArn\": \"\xff\"}", NULL},
	{"ListRoutingControls", "{\"ControlPanelArn\": \"a\\u0000b\"}", NULL},
	{"ListRoutingControls", "{\"MaxResults\": \"5\"}", "Cannot parse the "
	    "request: 'MaxResults' must be an integer"},
	{"ListRoutingControls", "{\"MaxResults\": 1.5}", NULL},
	{"ListRoutingControls", "{\"MaxResults\": true}", NULL},
	{"ListRoutingControls", "{\"MaxResults\": 1e400}", NULL},
	{"ListRoutingControls", "{\"ControlPanelArn\": 5}", "Cannot parse "
	    "the request: 'ControlPanelArn' must be a string"},
	{"ListRoutingControls", "{\"NextToken\": {}}", NULL},
	{"GetRoutingControlState", "{\"RoutingControlArn\": [\"a\"]}",
	    "Cannot parse the request: 'RoutingControlArn' must be a string"},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": true}", "Cannot parse the request: "
	    "'RoutingControlState' must be a string"},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": \"On\", \"SafetyRulesToOverride\": "
	    "\"r\"}", "Cannot parse the request: 'SafetyRulesToOverride' must "
	    "be a list"},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": \"On\", \"SafetyRulesToOverride\": "
	    "[\"r\", 1]}", "Cannot parse the request: "
	    "'SafetyRulesToOverride[1]' must be a string"},
	{"UpdateRoutingControlStates", "{\"UpdateRoutingControlStateEntries\""
	    ": {}}", "Cannot parse the request: "
	    "'UpdateRoutingControlStateEntries' must be a list"},
	{"UpdateRoutingControlStates", "{\"UpdateRoutingControlStateEntries\""
	    ": [\"a\"]}", "Cannot parse the request: "
	    "'UpdateRoutingControlStateEntries[0]' must be an object"},
	{"UpdateRoutingControlStates", "{\"UpdateRoutingControlStateEntries\""
	    ": [{\"RoutingControlArn\": 1, \"RoutingControlState\": \"On\"}]}",
	    "Cannot parse the request: 'UpdateRoutingControlStateEntries[0]."
	    "RoutingControlArn' must be a string"},
	/* A type error wins over constraint violations elsewhere. */
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"\", "
	    "\"RoutingControlState\": 1}", "Cannot parse the request: "
	    "'RoutingControlState' must be a string"},
};
#define NPARSE (sizeof(parse_cases) / sizeof(parse_cases[0]))

ParameterizedTestParameters(api_parse, table)
{
	static size_t ix[NPARSE];

	for (size_t i = 0; i < NPARSE; i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, NPARSE);
}

ParameterizedTest(size_t *i, api_parse, table)
{
	const struct parse_case *pc = &parse_cases[*i];
	struct sim_cluster *c = simfx_load(FULL);
	json_t *doc = expect_invalid(c, pc->op, pc->body, "cannotParse");

	if (pc->message != NULL)
		cr_expect_str_eq(str(doc, "message"), pc->message);
	cr_expect_null(json_object_get(doc, "fields"));
	json_decref(doc);
	sim_cluster_free(c);
}

/* An empty body is {}; null members are absent; unknown ones ignored. */
Test(api_parse, empty_body_null_and_unknown_members)
{
	struct sim_cluster *c = simfx_load(FULL);
	struct sim_reply r;
	json_t *doc;
	char *body;

	call(c, "ListRoutingControls", NULL, &r, &doc);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_eq(json_array_size(json_object_get(doc, "RoutingControls")),
	    6);
	cr_expect_null(r.error_type);
	json_decref(doc);
	sim_reply_fini(&r);
	call(c, "ListRoutingControls", "{\"ControlPanelArn\": null, "
	    "\"NextToken\": null, \"MaxResults\": null, \"Bogus\": [1, {}], "
	    "\"maxResults\": 1}", &r, &doc);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_eq(json_array_size(json_object_get(doc, "RoutingControls")),
	    6);
	json_decref(doc);
	sim_reply_fini(&r);
	body = xstrfmt("{\"RoutingControlArn\": \"%s\", \"Extra\": 1}",
	    arn(c, "east"));
	call(c, "GetRoutingControlState", body, &r, NULL);
	cr_expect_eq(r.status, 200);
	free(body);
	sim_reply_fini(&r);
	/* Missing required member = null. */
	json_decref(expect_invalid(c, "GetRoutingControlState", NULL,
	    "fieldValidationFailed"));
	json_decref(expect_invalid(c, "GetRoutingControlState",
	    "{\"RoutingControlArn\": null}", "fieldValidationFailed"));
	sim_cluster_free(c);
}

/* --- field validation -------------------------------------------------- */

struct field_case {
	const char	*op;
	const char	*body;
	const char	*fields;	/* "name: message|..." */
	const char	*message;	/* NULL: not checked */
};

#define Z10	"0000000000"
#define Z50	Z10 Z10 Z10 Z10 Z10
/* 60 + 195 = 255 characters, and one more. */
#define ARN_255	"arn:aws:route53-recovery-control::111122223333:" \
	"controlpanel/" Z50 Z50 Z50 Z10 Z10 Z10 Z10 "00000"
#define LONG_ARN	ARN_255 "0"
#define PAT	"Member must satisfy regular expression pattern: " \
	"^[A-Za-z0-9:.\\/_-]*$"

static const struct field_case field_cases[] = {
	{"GetRoutingControlState", "{}", "RoutingControlArn: Member must not "
	    "be null", "1 validation error detected: Value null at "
	    "'RoutingControlArn' failed to satisfy constraint: Member must "
	    "not be null"},
	{"GetRoutingControlState", "{\"RoutingControlArn\": \"\"}",
	    "RoutingControlArn: Member must have length greater than or equal "
	    "to 1", "1 validation error detected: Value '' at "
	    "'RoutingControlArn' failed to satisfy constraint: Member must "
	    "have length greater than or equal to 1"},
	{"GetRoutingControlState", "{\"RoutingControlArn\": \"" LONG_ARN
	    "\"}", "RoutingControlArn: Member must have length less than or "
	    "equal to 255", NULL},
	{"GetRoutingControlState", "{\"RoutingControlArn\": \"arn:aws:x y\"}",
	    "RoutingControlArn: " PAT, "1 validation error detected: Value "
	    "'arn:aws:x y' at 'RoutingControlArn' failed to satisfy "
	    "constraint: " PAT},
	{"GetRoutingControlState", "{\"RoutingControlArn\": \"arn:\xc3\xa9\"}",
	    "RoutingControlArn: " PAT, NULL},
	{"GetRoutingControlState", "{\"RoutingControlArn\": \"" LONG_ARN
	    "#\"}", "RoutingControlArn: Member must have length less than or "
	    "equal to 255|RoutingControlArn: " PAT, NULL},
	{"ListRoutingControls", "{\"MaxResults\": 0}", "MaxResults: Member "
	    "must have value greater than or equal to 1", "1 validation error "
	    "detected: Value '0' at 'MaxResults' failed to satisfy "
	    "constraint: Member must have value greater than or equal to 1"},
	{"ListRoutingControls", "{\"MaxResults\": -5}", "MaxResults: Member "
	    "must have value greater than or equal to 1", NULL},
	{"ListRoutingControls", "{\"NextToken\": \"\"}", "NextToken: Member "
	    "must have length greater than or equal to 1", NULL},
	{"ListRoutingControls", "{\"NextToken\": \"a b\"}", "NextToken: "
	    "Member must satisfy regular expression pattern: ^[\\S]*$", NULL},
	{"ListRoutingControls", "{\"NextToken\": \"a\\tb\"}", "NextToken: "
	    "Member must satisfy regular expression pattern: ^[\\S]*$", NULL},
	{"ListRoutingControls", "{\"ControlPanelArn\": \"\", \"NextToken\": "
	    "\"\", \"MaxResults\": 0}", "MaxResults: Member must have value "
	    "greater than or equal to 1|ControlPanelArn: Member must have "
	    "length greater than or equal to 1|NextToken: Member must have "
	    "length greater than or equal to 1", "3 validation errors "
	    "detected: Value '0' at 'MaxResults' failed to satisfy "
	    "constraint: Member must have value greater than or equal to 1; "
	    "Value '' at 'ControlPanelArn' failed to satisfy constraint: "
	    "Member must have length greater than or equal to 1; Value '' at "
	    "'NextToken' failed to satisfy constraint: Member must have "
	    "length greater than or equal to 1"},
	{"ListRoutingControls", "{\"ControlPanelArn\": \"p p\"}",
	    "ControlPanelArn: " PAT, NULL},
	{"UpdateRoutingControlState", "{}", "RoutingControlArn: Member must "
	    "not be null|RoutingControlState: Member must not be null", NULL},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": \"on\"}", "RoutingControlState: Member "
	    "must satisfy enum value set: [On, Off]", "1 validation error "
	    "detected: Value 'on' at 'RoutingControlState' failed to satisfy "
	    "constraint: Member must satisfy enum value set: [On, Off]"},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": \"\"}", "RoutingControlState: Member "
	    "must satisfy enum value set: [On, Off]", NULL},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": \"ON\"}", "RoutingControlState: Member "
	    "must satisfy enum value set: [On, Off]", NULL},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": \"On \"}", "RoutingControlState: Member "
	    "must satisfy enum value set: [On, Off]", NULL},
	{"UpdateRoutingControlState", "{\"RoutingControlArn\": \"a\", "
	    "\"RoutingControlState\": \"Off\", \"SafetyRulesToOverride\": "
	    "[\"ok\", \"\", \"b a d\", null]}", "SafetyRulesToOverride[1]: "
	    "Member must have length greater than or equal to 1|"
	    "SafetyRulesToOverride[2]: " PAT "|SafetyRulesToOverride[3]: "
	    "Member must not be null", NULL},
	{"UpdateRoutingControlStates", "{}",
	    "UpdateRoutingControlStateEntries: Member must not be null", NULL},
	{"UpdateRoutingControlStates", "{\"UpdateRoutingControlStateEntries\""
	    ": []}", "UpdateRoutingControlStateEntries: Member must have "
	    "length greater than or equal to 1", "1 validation error "
	    "detected: Value '[]' at 'UpdateRoutingControlStateEntries' "
	    "failed to satisfy constraint: Member must have length greater "
	    "than or equal to 1"},
	{"UpdateRoutingControlStates", "{\"UpdateRoutingControlStateEntries\""
	    ": [{}, null, {\"RoutingControlArn\": \"x y\", "
	    "\"RoutingControlState\": \"off\"}]}",
	    "UpdateRoutingControlStateEntries[0].RoutingControlArn: Member "
	    "must not be null|UpdateRoutingControlStateEntries[0]."
	    "RoutingControlState: Member must not be null|"
	    "UpdateRoutingControlStateEntries[1]: Member must not be null|"
	    "UpdateRoutingControlStateEntries[2].RoutingControlArn: " PAT "|"
	    "UpdateRoutingControlStateEntries[2].RoutingControlState: Member "
	    "must satisfy enum value set: [On, Off]", NULL},
};
#define NFIELD (sizeof(field_cases) / sizeof(field_cases[0]))

ParameterizedTestParameters(api_fields, table)
{
	static size_t ix[NFIELD];

	for (size_t i = 0; i < NFIELD; i++)
		ix[i] = i;
	return cr_make_param_array(size_t, ix, NFIELD);
}

ParameterizedTest(size_t *i, api_fields, table)
{
	const struct field_case *fc = &field_cases[*i];
	struct sim_cluster *c = simfx_load(FULL);
	json_t *doc = expect_invalid(c, fc->op, fc->body,
	    "fieldValidationFailed");
	char *fields = fields_text(doc);

	cr_expect_str_eq(fields, fc->fields, "%s", fc->body);
	if (fc->message != NULL)
		cr_expect_str_eq(str(doc, "message"), fc->message);
	free(fields);
	json_decref(doc);
	sim_cluster_free(c);
}

/* 255 characters is a valid ARN (not found), 256 is not. */
Test(api_fields, arn_length_boundary)
{
	struct sim_cluster *c = simfx_load(FULL);

	cr_assert_eq(strlen(ARN_255), 255);
	cr_assert_eq(strlen(LONG_ARN), 256);
	json_decref(expect_error(c, "GetRoutingControlState",
	    "{\"RoutingControlArn\": \"" ARN_255 "\"}", 404,
	    "ResourceNotFoundException"));
	sim_cluster_free(c);
}

/* A value quoted in a message is cut at 300 bytes. */
Test(api_fields, long_values_are_cut)
{
	struct sim_cluster *c = simfx_load(FULL);
	char big[1001], *body, *want;
	json_t *doc;

	memset(big, 'a', 1000);
	big[1000] = '\0';
	big[500] = ' ';
	body = xstrfmt("{\"RoutingControlArn\": \"%s\"}", big);
	doc = expect_invalid(c, "GetRoutingControlState", body,
	    "fieldValidationFailed");
	want = xstrfmt("2 validation errors detected: Value '%.300s...' at "
	    "'RoutingControlArn' failed to satisfy constraint: Member must "
	    "have length less than or equal to 255; Value '%.300s...' at "
	    "'RoutingControlArn' failed to satisfy constraint: " PAT, big,
	    big);
	cr_expect_str_eq(str(doc, "message"), want);
	free(want);
	free(body);
	json_decref(doc);
	sim_cluster_free(c);
}

/* --- GetRoutingControlState -------------------------------------------- */

Test(api_get, found_and_not_found)
{
	struct sim_cluster *c = simfx_load(FULL);
	struct sim_reply r;
	char *body, *want;
	json_t *doc;

	body = xstrfmt("{\"RoutingControlArn\": \"%s\"}",
	    arn(c, "route-us-east-1"));
	call(c, "GetRoutingControlState", body, &r, NULL);
	cr_expect_eq(r.status, 200);
	want = xstrfmt("{\"RoutingControlArn\":\"%s\",\"RoutingControlName\":"
	    "\"route-us-east-1\",\"RoutingControlState\":\"On\"}",
	    arn(c, "route-us-east-1"));
	cr_expect_str_eq(r.body, want);
	cr_expect_null(r.error_type);
	cr_expect_eq(r.changed, 0);
	free(want);
	free(body);
	sim_reply_fini(&r);

	doc = expect_error(c, "GetRoutingControlState",
	    "{\"RoutingControlArn\": \"arn:aws:route53-recovery-control::"
	    "111122223333:controlpanel/abc/routingcontrol/def\"}", 404,
	    "ResourceNotFoundException");
	cr_expect_str_eq(str(doc, "message"), "No routing control with ARN "
	    "arn:aws:route53-recovery-control::111122223333:controlpanel/abc/"
	    "routingcontrol/def in this cluster");
	cr_expect_str_eq(str(doc, "resourceId"), "arn:aws:route53-recovery-"
	    "control::111122223333:controlpanel/abc/routingcontrol/def");
	cr_expect_str_eq(str(doc, "resourceType"), "RoutingControl");
	cr_expect_eq(json_object_size(doc), 4);
	json_decref(doc);
	/* A panel ARN is not a routing control. */
	body = xstrfmt("{\"RoutingControlArn\": \"%s\"}",
	    sim_cluster_panel(c, 0)->arn);
	json_decref(expect_error(c, "GetRoutingControlState", body, 404,
	    "ResourceNotFoundException"));
	free(body);
	sim_cluster_free(c);
}

/* --- ListRoutingControls ----------------------------------------------- */

Test(api_list, whole_cluster)
{
	struct sim_cluster *c = simfx_load(FULL);
	struct sim_reply r;
	json_t *doc, *list, *e;
	size_t i;
	char *want;

	call(c, "ListRoutingControls", "{}", &r, &doc);
	cr_expect_eq(r.status, 200);
	list = json_object_get(doc, "RoutingControls");
	cr_assert_eq(json_array_size(list), 6);
	cr_expect_null(json_object_get(doc, "NextToken"));
	cr_expect_eq(json_object_size(doc), 1);
	json_array_foreach(list, i, e) {
		const struct sim_control *sc = sim_cluster_control(c, i);

		cr_expect_eq(json_object_size(e), 6);
		cr_expect_str_eq(str(e, "ControlPanelArn"), sc->panel_arn);
		cr_expect_str_eq(str(e, "ControlPanelName"), sc->panel_name);
		cr_expect_str_eq(str(e, "RoutingControlArn"), sc->arn);
		cr_expect_str_eq(str(e, "RoutingControlName"), sc->name);
		cr_expect_str_eq(str(e, "RoutingControlState"),
		    sc->on ? "On" : "Off");
		cr_expect_str_eq(str(e, "Owner"), "111122223333");
	}
	/* The exact wire form of the first element. */
	want = xstrfmt("{\"RoutingControls\":[{\"ControlPanelArn\":\"%s\","
	    "\"ControlPanelName\":\"DefaultControlPanel\","
	    "\"RoutingControlArn\":\"%s\",\"RoutingControlName\":"
	    "\"route-eu-west-1\",\"RoutingControlState\":\"Off\",\"Owner\":"
	    "\"111122223333\"},", sim_cluster_panel(c, 0)->arn,
	    arn(c, "route-eu-west-1"));
	cr_expect(strncmp(r.body, want, strlen(want)) == 0, "%s", r.body);
	free(want);
	json_decref(doc);
	sim_reply_fini(&r);
	sim_cluster_free(c);
}

/*
 * Page through with MaxResults = max, with or without a panel filter; the
 * concatenated pages must be the list (or the panel's range) in order.
 */
static void
page_through(struct sim_cluster *c, const char *panel, long max,
    size_t first, size_t end)
{
	char *token = NULL;
	size_t seen = first, pages = 0;

	do {
		struct sim_reply r;
		json_t *doc, *list, *e;
		char *body = xstrfmt("{%s%s%s%s%s%s \"MaxResults\": %ld}",
		    panel != NULL ? "\"ControlPanelArn\": \"" : "",
		    panel != NULL ? panel : "", panel != NULL ? "\"," : "",
		    token != NULL ? "\"NextToken\": \"" : "",
		    token != NULL ? token : "", token != NULL ? "\"," : "",
		    max);
		size_t i;

		call(c, "ListRoutingControls", body, &r, &doc);
		cr_assert_eq(r.status, 200, "%s -> %s", body, r.body);
		list = json_object_get(doc, "RoutingControls");
		cr_expect_leq(json_array_size(list), (size_t)max);
		json_array_foreach(list, i, e) {
			cr_assert_lt(seen, end);
			cr_expect_str_eq(str(e, "RoutingControlArn"),
			    sim_cluster_control(c, seen)->arn);
			seen++;
		}
		free(token);
		token = NULL;
		if (json_object_get(doc, "NextToken") != NULL) {
			token = xstrdup(str(doc, "NextToken"));
			cr_assert_not_null(token, "NextToken not a string");
			cr_expect_gt(json_array_size(list), 0);
		}
		pages++;
		cr_assert_lt(pages, 1000);
		json_decref(doc);
		sim_reply_fini(&r);
		free(body);
	} while (token != NULL);
	cr_expect_eq(seen, end, "listed up to %zu of [%zu, %zu)", seen, first,
	    end);
	if (max > 0)
		cr_expect_eq(pages, end == first ? 1 :
		    (end - first + (size_t)max - 1) / (size_t)max);
}

Test(api_list, max_results_one_all_pages)
{
	struct sim_cluster *c = simfx_load(FULL);

	page_through(c, NULL, 1, 0, 6);
	page_through(c, NULL, 2, 0, 6);
	page_through(c, NULL, 4, 0, 6);
	page_through(c, NULL, 6, 0, 6);
	page_through(c, NULL, 7, 0, 6);
	page_through(c, NULL, 1000, 0, 6);
	sim_cluster_free(c);
}

Test(api_list, panel_filter)
{
	struct sim_cluster *c = simfx_load(FULL);

	page_through(c, sim_cluster_panel(c, 0)->arn, 1, 0, 3);
	page_through(c, sim_cluster_panel(c, 1)->arn, 1, 3, 6);
	page_through(c, sim_cluster_panel(c, 1)->arn, 2, 3, 6);
	page_through(c, sim_cluster_panel(c, 1)->arn, 500, 3, 6);
	sim_cluster_free(c);
}

Test(api_list, big_cluster_and_empty_panel)
{
	struct sim_cluster *c = load_plain(100);
	struct sim_cluster *e = load_text("account: \"111122223333\"\n"
	    "credentials: [{access-key-id: AK, secret-access-key: s}]\n"
	    "control-panels: [{name: Empty}, {name: P, routing-controls: "
	    "[{name: a}]}]\n");
	struct sim_reply r;
	json_t *doc;
	char *body;
	size_t pi;

	page_through(c, NULL, 7, 0, 100);
	page_through(c, NULL, 99, 0, 100);
	page_through(c, NULL, 100, 0, 100);
	page_through(c, sim_cluster_panel(c, 0)->arn, 33, 0, 100);
	/* An empty panel lists nothing, and says so without a token. */
	pi = strcmp(sim_cluster_panel(e, 0)->name, "Empty") == 0 ? 0 : 1;
	body = xstrfmt("{\"ControlPanelArn\": \"%s\", \"MaxResults\": 1}",
	    sim_cluster_panel(e, pi)->arn);
	call(e, "ListRoutingControls", body, &r, &doc);
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.body, "{\"RoutingControls\":[]}");
	json_decref(doc);
	sim_reply_fini(&r);
	free(body);
	sim_cluster_free(c);
	sim_cluster_free(e);
}

Test(api_list, unknown_panel)
{
	struct sim_cluster *c = simfx_load(FULL);
	json_t *doc;

	doc = expect_error(c, "ListRoutingControls", "{\"ControlPanelArn\": "
	    "\"arn:aws:route53-recovery-control::111122223333:controlpanel/"
	    "cp0001\"}", 404, "ResourceNotFoundException");
	cr_expect_str_eq(str(doc, "resourceType"), "ControlPanel");
	cr_expect_str_eq(str(doc, "resourceId"), "arn:aws:route53-recovery-"
	    "control::111122223333:controlpanel/cp0001");
	cr_expect_str_eq(str(doc, "message"), "No control panel with ARN "
	    "arn:aws:route53-recovery-control::111122223333:controlpanel/"
	    "cp0001 in this cluster");
	json_decref(doc);
	/* A routing control ARN is not a panel. */
	doc = expect_error(c, "ListRoutingControls", "{\"ControlPanelArn\": "
	    "\"arn:aws:route53-recovery-control::111122223333:controlpanel/"
	    "d6fac07a185cc66444454e17c95282ee/routingcontrol/"
	    "f4b984365f91ec73\"}", 404, "ResourceNotFoundException");
	json_decref(doc);
	sim_cluster_free(c);
}

/* The first page's token, for the filter panel (NULL: none). */
static char *
first_token(struct sim_cluster *c, const char *panel)
{
	struct sim_reply r;
	json_t *doc;
	char *body = panel != NULL ? xstrfmt("{\"ControlPanelArn\": \"%s\", "
	    "\"MaxResults\": 1}", panel) : xstrdup("{\"MaxResults\": 1}");
	char *t;

	call(c, "ListRoutingControls", body, &r, &doc);
	cr_assert_eq(r.status, 200);
	t = xstrdup(str(doc, "NextToken"));
	json_decref(doc);
	sim_reply_fini(&r);
	free(body);
	return t;
}

/* base64url without padding of s (new). */
static char *
b64url(const char *s)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(n * 2 + 4);

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
	return out;
}

static void
expect_bad_token(struct sim_cluster *c, const char *panel, const char *token,
    const char *message)
{
	char *body = xstrfmt("{%s%s%s\"NextToken\": \"%s\"}",
	    panel != NULL ? "\"ControlPanelArn\": \"" : "",
	    panel != NULL ? panel : "", panel != NULL ? "\", " : "", token);
	json_t *doc = expect_invalid(c, "ListRoutingControls", body,
	    "fieldValidationFailed");
	char *fields = fields_text(doc);

	cr_expect_str_eq(str(doc, "message"), message, "token %s", token);
	cr_expect(strncmp(fields, "NextToken: ", 11) == 0, "%s", fields);
	free(fields);
	json_decref(doc);
	free(body);
}

/* The page after token (no filter, MaxResults 10) starts at first. */
static void
page_from(struct sim_cluster *c, const char *token, size_t first)
{
	char *body = xstrfmt("{\"NextToken\": \"%s\"}", token);
	struct sim_reply r;
	json_t *doc, *list;

	call(c, "ListRoutingControls", body, &r, &doc);
	cr_assert_eq(r.status, 200, "%s", r.body);
	list = json_object_get(doc, "RoutingControls");
	cr_assert_eq(json_array_size(list), sim_cluster_ncontrols(c) - first);
	cr_expect_str_eq(str(json_array_get(list, 0), "RoutingControlArn"),
	    sim_cluster_control(c, first)->arn);
	cr_expect_null(json_object_get(doc, "NextToken"));
	json_decref(doc);
	sim_reply_fini(&r);
	free(body);
}

Test(api_list, bad_tokens)
{
	struct sim_cluster *c = simfx_load(FULL);
	const char *p0 = sim_cluster_panel(c, 0)->arn;
	const char *p1 = sim_cluster_panel(c, 1)->arn;
	char *all = first_token(c, NULL), *t0 = first_token(c, p0);
	static const char malformed[] = "Invalid NextToken: pass back the "
	    "NextToken of the previous page unchanged";
	static const char other[] = "Invalid NextToken: it was issued for a "
	    "different ControlPanelArn";
	char *raw, *tok;

	/* Tokens belong to their filter. */
	expect_bad_token(c, p0, all, other);
	expect_bad_token(c, NULL, t0, other);
	expect_bad_token(c, p1, t0, other);
	/* Garbage of every kind. */
	expect_bad_token(c, NULL, "page-2", malformed);
	expect_bad_token(c, NULL, "x", malformed);
	expect_bad_token(c, NULL, "!!!!", malformed);
	expect_bad_token(c, NULL, "YQ==", malformed);
	tok = xstrfmt("%sA", all);	/* one character more */
	expect_bad_token(c, NULL, tok, malformed);
	free(tok);
	tok = xstrdup(all);		/* one character changed */
	tok[3] = tok[3] == 'A' ? 'B' : 'A';
	expect_bad_token(c, NULL, tok, malformed);
	free(tok);
	/* Well-formed tokens with offsets that no page can start at. */
	raw = xstrdup("arcsim1.0.0000000000000000");
	tok = b64url(raw);
	expect_bad_token(c, NULL, tok, malformed);
	free(tok);
	free(raw);
	page_from(c, all, 1);
	/*
	 * Tokens made by hand in the documented format (api.c), the hash
	 * being that of the unfiltered list, computed with Python: offset
	 * 1 is the token the server gave; 5 is the last page; 6 and 99 are
	 * past the end; 01 is not how the server writes numbers.
	 */
	cr_expect_str_eq(all, "YXJjc2ltMS4xLjRhMmZmNTU3ZjA1Mjk4MjY");
	page_from(c, "YXJjc2ltMS41LjRhMmZmNTU3ZjA1Mjk4MjY", 5);
	expect_bad_token(c, NULL, "YXJjc2ltMS42LjRhMmZmNTU3ZjA1Mjk4MjY",
	    malformed);
	expect_bad_token(c, NULL, "YXJjc2ltMS45OS40YTJmZjU1N2YwNTI5ODI2",
	    malformed);
	expect_bad_token(c, NULL, "YXJjc2ltMS4wMS40YTJmZjU1N2YwNTI5ODI2",
	    malformed);
	free(all);
	free(t0);
	sim_cluster_free(c);
}

/* A token is the same for the same page, and differs between pages. */
Test(api_list, tokens_are_stable)
{
	struct sim_cluster *c = simfx_load(FULL);
	char *a = first_token(c, NULL), *b = first_token(c, NULL);
	char *p = first_token(c, sim_cluster_panel(c, 0)->arn);

	cr_expect_str_eq(a, b);
	cr_expect_str_neq(a, p);
	for (const char *s = a; *s != '\0'; s++)
		cr_expect(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
		    "tuvwxyz0123456789-_", *s) != NULL, "token %s", a);
	free(a);
	free(b);
	free(p);
	sim_cluster_free(c);
}

/* --- UpdateRoutingControlState ----------------------------------------- */

static void
expect_state(struct sim_cluster *c, const char *name, bool on)
{
	cr_expect_eq(sim_cluster_control(c, simfx_idx(c, name))->on, on,
	    "%s should be %s", name, on ? "On" : "Off");
}

static int
update_one(struct sim_cluster *c, const char *name, const char *state,
    const char *overrides, json_t **doc)
{
	struct sim_reply r;
	char *body = xstrfmt("{\"RoutingControlArn\": \"%s\", "
	    "\"RoutingControlState\": \"%s\"%s%s%s}", arn(c, name), state,
	    overrides != NULL ? ", \"SafetyRulesToOverride\": [" : "",
	    overrides != NULL ? overrides : "", overrides != NULL ? "]" : "");
	int status;

	call(c, "UpdateRoutingControlState", body, &r, doc);
	status = r.status;
	if (status == 200) {
		cr_expect_str_eq(r.body, "{}");
		cr_expect_null(r.error_type);
	}
	sim_reply_fini(&r);
	free(body);
	return status;
}

Test(api_update, single)
{
	struct sim_cluster *c = simfx_load(RULES);
	struct sim_reply r;
	char *body;

	body = xstrfmt("{\"RoutingControlArn\": \"%s\", "
	    "\"RoutingControlState\": \"On\"}", arn(c, "west"));
	call(c, "UpdateRoutingControlState", body, &r, NULL);
	cr_expect_eq(r.status, 200);
	cr_expect_str_eq(r.body, "{}");
	cr_expect_eq(r.changed, 1);
	cr_expect_eq(sim_cluster_control(c, simfx_idx(c, "west"))->changed_ms, NOW);
	sim_reply_fini(&r);
	/* Again: nothing changes, still 200. */
	call(c, "UpdateRoutingControlState", body, &r, NULL);
	cr_expect_eq(r.status, 200);
	cr_expect_eq(r.changed, 0);
	sim_reply_fini(&r);
	free(body);
	expect_state(c, "west", true);
	/* Unknown ARN. */
	json_decref(expect_error(c, "UpdateRoutingControlState",
	    "{\"RoutingControlArn\": \"arn:aws:nope\", \"RoutingControlState\""
	    ": \"On\"}", 404, "ResourceNotFoundException"));
	sim_cluster_free(c);
}

Test(api_update, conflict_then_override)
{
	struct sim_cluster *c = simfx_load(RULES);
	char *ov, *want;
	json_t *doc = NULL;

	cr_expect_eq(update_one(c, "east", "Off", NULL, &doc), 409);
	cr_expect_str_eq(str(doc, "__type"), "ConflictException");
	cr_expect_str_eq(str(doc, "resourceId"), simfx_rule_arn(c, "min-one"));
	cr_expect_str_eq(str(doc, "resourceType"), "SafetyRule");
	want = xstrfmt("Routing control state update blocked by safety rule "
	    "%s ('min-one': assertion rule ATLEAST 1 would not hold after "
	    "this update)", simfx_rule_arn(c, "min-one"));
	cr_expect_str_eq(str(doc, "message"), want);
	cr_expect_eq(json_object_size(doc), 4);
	free(want);
	json_decref(doc);
	expect_state(c, "east", true);
	/* Overriding another rule does not help. */
	ov = xstrfmt("\"%s\"", simfx_rule_arn(c, "max-two"));
	cr_expect_eq(update_one(c, "east", "Off", ov, NULL), 409);
	free(ov);
	/* An override ARN nobody has is ignored. */
	cr_expect_eq(update_one(c, "east", "Off", "\"arn:aws:route53-recovery-"
	    "control::111122223333:controlpanel/x/safetyrule/y\"", NULL), 409);
	ov = xstrfmt("\"%s\"", simfx_rule_arn(c, "min-one"));
	cr_expect_eq(update_one(c, "east", "Off", ov, NULL), 200);
	free(ov);
	expect_state(c, "east", false);
	/* Gating: blocked until the gate opens. */
	cr_expect_eq(update_one(c, "t1", "On", NULL, &doc), 409);
	cr_expect_str_eq(str(doc, "resourceId"), simfx_rule_arn(c, "gated"));
	json_decref(doc);
	cr_expect_eq(update_one(c, "gate", "On", NULL, NULL), 200);
	cr_expect_eq(update_one(c, "t1", "On", NULL, NULL), 200);
	sim_cluster_free(c);
}

/* --- UpdateRoutingControlStates ---------------------------------------- */

/* A batch body from "name=On,name=Off" and override rule names. */
static char *
batch_body(struct sim_cluster *c, const char *spec, const char *ov)
{
	char *s = xstrdup(spec), *save = NULL, *tok, *out, *t;
	bool first = true;

	out = xstrdup("{\"UpdateRoutingControlStateEntries\": [");
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		*eq = '\0';
		t = xstrfmt("%s%s{\"RoutingControlArn\": \"%s\", "
		    "\"RoutingControlState\": \"%s\"}", out, first ? "" : ", ",
		    arn(c, tok), eq + 1);
		free(out);
		out = t;
		first = false;
	}
	free(s);
	t = xstrfmt("%s]%s", out, ov != NULL ? ", \"SafetyRulesToOverride\": "
	    "[" : "}");
	free(out);
	out = t;
	if (ov == NULL)
		return out;
	s = xstrdup(ov);
	first = true;
	for (tok = strtok_r(s, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		t = xstrfmt("%s%s\"%s\"", out, first ? "" : ", ",
		    simfx_rule_arn(c, tok));
		free(out);
		out = t;
		first = false;
	}
	free(s);
	t = xstrfmt("%s]}", out);
	free(out);
	return t;
}

static int
batch(struct sim_cluster *c, const char *spec, const char *ov, int *changed,
    json_t **doc)
{
	char *body = batch_body(c, spec, ov);
	struct sim_reply r;
	int status;

	call(c, "UpdateRoutingControlStates", body, &r, doc);
	status = r.status;
	if (changed != NULL)
		*changed = r.changed;
	if (status == 200)
		cr_expect_str_eq(r.body, "{}");
	sim_reply_fini(&r);
	free(body);
	return status;
}

Test(api_batch, atomic_success_and_conflict)
{
	struct sim_cluster *c = simfx_load(RULES);
	json_t *doc = NULL;
	int changed = -1;

	/* Swap regions in one call: fine as a whole. */
	cr_expect_eq(batch(c, "east=Off,west=On", NULL, &changed, NULL), 200);
	cr_expect_eq(changed, 2);
	expect_state(c, "east", false);
	expect_state(c, "west", true);
	/* Rules evaluated on the combined result: nothing applied. */
	cr_expect_eq(batch(c, "free=On,west=Off,eu=Off", NULL, &changed,
	    &doc), 409);
	cr_expect_eq(changed, 0);
	cr_expect_str_eq(str(doc, "resourceId"), simfx_rule_arn(c, "min-one"));
	json_decref(doc);
	expect_state(c, "free", false);
	expect_state(c, "west", true);
	/* Two panels blocked: the first rule is the resource, both named. */
	cr_expect_eq(batch(c, "west=Off,t1=On", NULL, NULL, &doc), 409);
	cr_expect_str_eq(str(doc, "resourceId"), simfx_rule_arn(c, "min-one"));
	cr_expect_not_null(strstr(str(doc, "message"), simfx_rule_arn(c, "gated")));
	cr_expect_not_null(strstr(str(doc, "message"), "safety rules "));
	json_decref(doc);
	cr_expect_eq(batch(c, "west=Off,t1=On", "min-one", NULL, &doc), 409);
	cr_expect_str_eq(str(doc, "resourceId"), simfx_rule_arn(c, "gated"));
	json_decref(doc);
	cr_expect_eq(batch(c, "west=Off,t1=On", "gated,min-one", &changed,
	    NULL), 200);
	cr_expect_eq(changed, 2);
	expect_state(c, "west", false);
	expect_state(c, "t1", true);
	sim_cluster_free(c);
}

Test(api_batch, unknown_arn_applies_nothing)
{
	struct sim_cluster *c = simfx_load(RULES);
	char *body;
	json_t *doc;

	body = xstrfmt("{\"UpdateRoutingControlStateEntries\": [{"
	    "\"RoutingControlArn\": \"%s\", \"RoutingControlState\": \"On\"}, "
	    "{\"RoutingControlArn\": \"arn:aws:route53-recovery-control::1:"
	    "controlpanel/p/routingcontrol/gone\", \"RoutingControlState\": "
	    "\"On\"}]}", arn(c, "free"));
	doc = expect_error(c, "UpdateRoutingControlStates", body, 404,
	    "ResourceNotFoundException");
	cr_expect_str_eq(str(doc, "resourceId"), "arn:aws:route53-recovery-"
	    "control::1:controlpanel/p/routingcontrol/gone");
	cr_expect_str_eq(str(doc, "resourceType"), "RoutingControl");
	json_decref(doc);
	free(body);
	expect_state(c, "free", false);
	sim_cluster_free(c);
}

Test(api_batch, ten_entries_and_eleven)
{
	struct sim_cluster *c = load_plain(12);
	char *spec = xstrdup(""), *t, *body;
	int changed = -1;
	json_t *doc;

	for (int i = 0; i < 10; i++) {
		t = xstrfmt("%s%sc%02d=On", spec, i > 0 ? "," : "", i);
		free(spec);
		spec = t;
	}
	cr_expect_eq(batch(c, spec, NULL, &changed, NULL), 200);
	cr_expect_eq(changed, 10);
	t = xstrfmt("%s,c10=On", spec);
	free(spec);
	spec = t;
	body = batch_body(c, spec, NULL);
	doc = expect_error(c, "UpdateRoutingControlStates", body, 402,
	    "ServiceLimitExceededException");
	cr_expect_str_eq(str(doc, "message"), "UpdateRoutingControlStates "
	    "accepts at most 10 entries per call; this request has 11");
	cr_expect_str_eq(str(doc, "limitCode"),
	    "RoutingControlStateUpdatesPerCall");
	cr_expect_str_eq(str(doc, "serviceCode"), "route53-recovery-cluster");
	json_decref(doc);
	free(body);
	expect_state(c, "c10", false);
	/* 11 entries naming the same control: still the limit. */
	free(spec);
	spec = xstrdup("c00=On,c00=On,c00=On,c00=On,c00=On,c00=On,c00=On,"
	    "c00=On,c00=On,c00=On,c00=On");
	body = batch_body(c, spec, NULL);
	json_decref(expect_error(c, "UpdateRoutingControlStates", body, 402,
	    "ServiceLimitExceededException"));
	free(body);
	/* An invalid entry among 11: validation comes first. */
	body = xstrdup("{\"UpdateRoutingControlStateEntries\": [{}, {}, {}, "
	    "{}, {}, {}, {}, {}, {}, {}, {}]}");
	json_decref(expect_invalid(c, "UpdateRoutingControlStates", body,
	    "fieldValidationFailed"));
	free(body);
	free(spec);
	sim_cluster_free(c);
}

Test(api_batch, duplicate_entries)
{
	struct sim_cluster *c = simfx_load(RULES);
	char *body = batch_body(c, "free=On,west=On,free=Off", NULL), *want;
	json_t *doc;
	char *fields;

	doc = expect_invalid(c, "UpdateRoutingControlStates", body,
	    "fieldValidationFailed");
	want = xstrfmt("Routing control %s is listed more than once (entries "
	    "0 and 2)", arn(c, "free"));
	cr_expect_str_eq(str(doc, "message"), want);
	fields = fields_text(doc);
	cr_expect_str_eq(fields, "UpdateRoutingControlStateEntries[2]."
	    "RoutingControlArn: Duplicate RoutingControlArn in one request");
	free(fields);
	free(want);
	json_decref(doc);
	free(body);
	expect_state(c, "free", false);
	expect_state(c, "west", false);
	sim_cluster_free(c);
}

/* The wait period surfaces as a ConflictException naming the rule. */
Test(api_batch, wait_period_conflict)
{
	struct sim_cluster *c = simfx_load(RULES);
	json_t *doc = NULL;

	cr_expect_eq(batch(c, "w1=Off", NULL, NULL, NULL), 200);
	/* NOW is fixed in call(): the second update is within 5 s. */
	cr_expect_eq(batch(c, "w1=On", NULL, NULL, &doc), 409);
	cr_expect_str_eq(str(doc, "resourceId"), simfx_rule_arn(c, "slow"));
	cr_expect_not_null(strstr(str(doc, "message"), "wait period"));
	json_decref(doc);
	cr_expect_eq(batch(c, "w1=On", "slow", NULL, NULL), 200);
	sim_cluster_free(c);
}

/* Every reply of every operation is one JSON object with the members
 * its status requires (a smoke test over odd inputs). */
Test(api_reply, every_reply_is_well_formed)
{
	static const char *const bodies[] = {"", "{}", "[]", "{\"a\":1}",
		"{\"RoutingControlArn\": \"x\"}", "{\"MaxResults\": 3}",
		"{\"UpdateRoutingControlStateEntries\": [{\"RoutingControlArn\""
		": \"x\", \"RoutingControlState\": \"On\"}]}",
		"{\"RoutingControlArn\": \"x\", \"RoutingControlState\": "
		"\"On\"}", "\x80", "{\"NextToken\": \"abc\"}"};
	static const char *const ops[] = {"GetRoutingControlState",
		"ListRoutingControls", "UpdateRoutingControlState",
		"UpdateRoutingControlStates", "Nope"};
	struct sim_cluster *c = simfx_load(FULL);

	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]);
		    b++) {
			struct sim_reply r;
			json_t *doc;

			call(c, ops[o], bodies[b], &r, &doc);
			if (r.status == 200) {
				cr_expect_null(r.error_type);
				cr_expect_null(json_object_get(doc, "__type"));
			} else {
				cr_expect_str_eq(str(doc, "__type"),
				    r.error_type);
				cr_expect_not_null(str(doc, "message"));
				cr_expect_eq(r.status, sim_api_status(c,
				    r.error_type));
			}
			json_decref(doc);
			sim_reply_fini(&r);
		}
	}
	sim_cluster_free(c);
}
