#include "sim/api.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sim/cluster.h"
#include "util/err.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

/*
 * Request handling follows what an AWS JSON 1.0 service does, in this
 * order: the target must name an operation; the body must be one JSON
 * object whose members have the modelled JSON types (else cannotParse);
 * every constraint of the model is checked and all violations are
 * reported at once (fieldValidationFailed, in the classic AWS wording
 * "N validation error(s) detected: Value 'x' at 'Member' failed to satisfy
 * constraint: ..."); then the business checks: batch size (402), unknown
 * resources (404), safety rules (409). Members the model does not have
 * are ignored, as AWS services do for forward compatibility, and a JSON
 * null counts as an absent member.
 */

#define ARN_MAX		255
#define TOKEN_MAX	8096
#define SHOWN_MAX	300	/* characters of a value quoted in a message */

#define T_ACCESS	"AccessDeniedException"
#define T_CONFLICT	"ConflictException"
#define T_UNAVAILABLE	"EndpointTemporarilyUnavailableException"
#define T_INTERNAL	"InternalServerException"
#define T_NOTFOUND	"ResourceNotFoundException"
#define T_LIMIT		"ServiceLimitExceededException"
#define T_THROTTLING	"ThrottlingException"
#define T_VALIDATION	"ValidationException"

/* Every modelled error, with its status in each column of spec 5.1. */
static const struct {
	const char	*type;
	int		 smithy;
	int		 reference;
} modelled[] = {
	{T_ACCESS, 403, 400},
	{T_CONFLICT, 409, 400},
	{T_UNAVAILABLE, 503, 400},
	{T_INTERNAL, 500, 500},
	{T_NOTFOUND, 404, 400},
	{T_LIMIT, 402, 400},
	{T_THROTTLING, 429, 400},
	{T_VALIDATION, 400, 400},
};

/* Generic AWS errors of the authentication layer (spec 5.4). */
static const char *const auth_errors[] = {
	"MissingAuthenticationTokenException",
	"InvalidSignatureException",
	"IncompleteSignatureException",
	"UnrecognizedClientException",
	"ExpiredTokenException",
	"InvalidClientTokenId",
	"SignatureDoesNotMatch",
};

enum op {
	OP_GET = 0,
	OP_LIST,
	OP_UPDATE,
	OP_UPDATES,
	OP_NONE
};

static const char *const op_names[] = {
	"GetRoutingControlState",
	"ListRoutingControls",
	"UpdateRoutingControlState",
	"UpdateRoutingControlStates",
};

static enum op
find_op(const char *target)
{
	size_t plen = strlen(SIM_API_TARGET_PREFIX);

	if (target == NULL || strncmp(target, SIM_API_TARGET_PREFIX,
	    plen) != 0)
		return OP_NONE;
	for (int i = OP_GET; i < OP_NONE; i++)
		if (strcmp(target + plen, op_names[i]) == 0)
			return (enum op)i;
	return OP_NONE;
}

const char *
sim_api_operation(const char *target)
{
	enum op op = find_op(target);

	return op == OP_NONE ? NULL : op_names[op];
}

bool
sim_api_is_update(const char *target)
{
	enum op op = find_op(target);

	return op == OP_UPDATE || op == OP_UPDATES;
}

int
sim_api_status(const struct sim_cluster *c, const char *type)
{
	bool ref = c != NULL &&
	    sim_cluster_conf(c)->status == SIMCONF_STATUS_API_REFERENCE;

	if (type == NULL)
		return 400;
	for (size_t i = 0; i < sizeof(modelled) / sizeof(modelled[0]); i++)
		if (strcmp(modelled[i].type, type) == 0)
			return ref ? modelled[i].reference :
			    modelled[i].smithy;
	for (size_t i = 0; i < sizeof(auth_errors) / sizeof(auth_errors[0]);
	    i++)
		if (strcmp(auth_errors[i], type) == 0)
			return 403;
	return 400;
}

/* A static copy of type when it is a known name, else type itself. */
static const char *
intern(const char *type)
{
	for (size_t i = 0; i < sizeof(modelled) / sizeof(modelled[0]); i++)
		if (strcmp(modelled[i].type, type) == 0)
			return modelled[i].type;
	for (size_t i = 0; i < sizeof(auth_errors) / sizeof(auth_errors[0]);
	    i++)
		if (strcmp(auth_errors[i], type) == 0)
			return auth_errors[i];
	return type;
}

/* --- JSON helpers ------------------------------------------------------ */

/* Takes doc. */
static void
reply_json(struct sim_reply *r, int status, json_t *doc)
{
	r->status = status;
	r->body = jsonx_dump(doc);
	json_decref(doc);
}

/* An error body with __type and message; the caller adds members. */
static json_t *
error_doc(struct sim_reply *r, const char *type, const char *message)
{
	json_t *doc = jsonx_check(json_object());

	json_t *m = json_string(message);

	/*
	 * Messages may quote text that is not UTF-8 (an X-Amz-Target
	 * header): then every byte outside printable ASCII becomes '?'.
	 */
	if (m == NULL) {
		char *clean = xstrdup(message);

		for (char *p = clean; *p != '\0'; p++) {
			unsigned char ch = (unsigned char)*p;

			if (ch < 0x20 || ch > 0x7e)
				*p = '?';
		}
		m = json_string(clean);
		free(clean);
	}
	jsonx_set(doc, "__type", json_string(type));
	jsonx_set(doc, "message", m);
	r->error_type = intern(type);
	return doc;
}

static void
reply_error_doc(const struct sim_cluster *c, struct sim_reply *r,
    json_t *doc)
{
	reply_json(r, sim_api_status(c, r->error_type), doc);
}

void
sim_reply_error(struct sim_reply *r, int status, const char *type,
    const char *message, int retry_after)
{
	json_t *doc;

	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	doc = error_doc(r, type, message);
	if (retry_after >= 0) {
		jsonx_set(doc, "retryAfterSeconds", json_integer(retry_after));
		r->retry_after = retry_after;
	}
	reply_json(r, status, doc);
}

void
sim_reply_fini(struct sim_reply *r)
{
	if (r == NULL)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

/* --- request decoding and validation ----------------------------------- */

/*
 * The state of one request's validation: a type error stops at once
 * (cannotParse); constraint violations are collected.
 */
struct req {
	const struct sim_cluster	*c;
	struct sim_reply		*r;
	json_t				*fields;	/* [{name, message}] */
	char				*text;		/* "Value ... ; ..." */
	size_t				 nerr;
	char				*parse_err;	/* first type error */
};

static void
violation(struct req *q, const char *path, const char *value,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * One constraint violation of the member at path; value is the quoted
 * rendering of the value ("'abc'", "'0'" or "null").
 */
static void
violation(struct req *q, const char *path, const char *value,
    const char *fmt, ...)
{
	char constraint[200], *line, *t;
	json_t *f = jsonx_check(json_object());
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(constraint, sizeof(constraint), fmt, ap);
	va_end(ap);
	jsonx_set(f, "name", json_string(path));
	jsonx_set(f, "message", json_string(constraint));
	if (q->fields == NULL)
		q->fields = jsonx_check(json_array());
	jsonx_append(q->fields, f);
	line = xstrfmt("Value %s at '%s' failed to satisfy constraint: %s",
	    value, path, constraint);
	t = q->text == NULL ? line : xstrfmt("%s; %s", q->text, line);
	if (t != line)
		free(line);
	free(q->text);
	q->text = t;
	q->nerr++;
}

static void
type_error(struct req *q, const char *path, const char *want)
{
	if (q->parse_err == NULL)
		q->parse_err = xstrfmt("Cannot parse the request: '%s' must "
		    "be %s", path, want);
}

/* "'value'" cut to SHOWN_MAX bytes (at a UTF-8 boundary). */
static char *
quote(const char *s)
{
	size_t n = strlen(s);

	if (n <= SHOWN_MAX)
		return xstrfmt("'%s'", s);
	n = SHOWN_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return xstrfmt("'%.*s...'", (int)n, s);
}

/* Java's \s: the ASCII whitespace the model's \S patterns exclude. */
static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' ||
	    ch == '\f' || ch == '\r';
}

static bool
is_arn_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == ':' || ch == '.' || ch == '/' ||
	    ch == '_' || ch == '-';
}

static void
check_length(struct req *q, const char *path, const char *s, size_t min,
    size_t max)
{
	size_t n = simconf_char_count(s);
	char *v;

	if (n >= min && n <= max)
		return;
	v = quote(s);
	if (n < min)
		violation(q, path, v, "Member must have length greater than "
		    "or equal to %zu", min);
	else
		violation(q, path, v, "Member must have length less than or "
		    "equal to %zu", max);
	free(v);
}

/* Shape Arn: length 1-255, ^[A-Za-z0-9:.\/_-]*$ */
static void
check_arn(struct req *q, const char *path, const char *s)
{
	char *v;

	check_length(q, path, s, 1, ARN_MAX);
	for (const char *p = s; *p != '\0'; p++) {
		if (is_arn_char(*p))
			continue;
		v = quote(s);
		violation(q, path, v, "Member must satisfy regular expression "
		    "pattern: ^[A-Za-z0-9:.\\/_-]*$");
		free(v);
		return;
	}
}

/* Shape RoutingControlState: enum On | Off. */
static bool
check_state(struct req *q, const char *path, const char *s, bool *on)
{
	char *v;

	if (strcmp(s, "On") == 0 || strcmp(s, "Off") == 0) {
		*on = s[1] == 'n';
		return true;
	}
	v = quote(s);
	violation(q, path, v, "Member must satisfy enum value set: [On, "
	    "Off]");
	free(v);
	return false;
}

/* Shape PageToken: length 1-8096, ^[\S]*$ */
static void
check_token(struct req *q, const char *path, const char *s)
{
	char *v;

	check_length(q, path, s, 1, TOKEN_MAX);
	for (const char *p = s; *p != '\0'; p++) {
		if (!is_space(*p))
			continue;
		v = quote(s);
		violation(q, path, v, "Member must satisfy regular expression "
		    "pattern: ^[\\S]*$");
		free(v);
		return;
	}
}

static void
missing(struct req *q, const char *path)
{
	violation(q, path, "null", "Member must not be null");
}

/*
 * A string member: NULL when absent (or null), after a type error when
 * not a string.
 */
static const char *
get_string(struct req *q, json_t *obj, const char *key, const char *path)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		type_error(q, path, "a string");
		return NULL;
	}
	return json_string_value(v);
}

/* An array member: NULL when absent (or null) or not an array. */
static json_t *
get_array(struct req *q, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		type_error(q, key, "a list");
		return NULL;
	}
	return v;
}

/* SafetyRulesToOverride: a list of Arn. */
static void
get_overrides(struct req *q, json_t *body, const char ***out, size_t *n)
{
	json_t *list = get_array(q, body, "SafetyRulesToOverride");

	*out = NULL;
	*n = 0;
	if (list == NULL)
		return;
	*out = xcalloc(json_array_size(list) + 1, sizeof(**out));
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *it = json_array_get(list, i);
		char path[64];

		snprintf(path, sizeof(path), "SafetyRulesToOverride[%zu]", i);
		if (json_is_null(it)) {
			missing(q, path);
			continue;
		}
		if (!json_is_string(it)) {
			type_error(q, path, "a string");
			continue;
		}
		check_arn(q, path, json_string_value(it));
		(*out)[(*n)++] = json_string_value(it);
	}
}

/*
 * After decoding: a ValidationException for the first type error or the
 * collected violations. Returns true when a reply was made.
 */
static bool
reply_invalid(struct req *q)
{
	json_t *doc;
	char *msg;

	if (q->parse_err != NULL) {
		doc = error_doc(q->r, T_VALIDATION, q->parse_err);
		jsonx_set(doc, "reason", json_string("cannotParse"));
		reply_error_doc(q->c, q->r, doc);
		return true;
	}
	if (q->nerr == 0)
		return false;
	msg = xstrfmt("%zu validation error%s detected: %s", q->nerr,
	    q->nerr > 1 ? "s" : "", q->text);
	doc = error_doc(q->r, T_VALIDATION, msg);
	jsonx_set(doc, "reason", json_string("fieldValidationFailed"));
	jsonx_set(doc, "fields", json_incref(q->fields));
	reply_error_doc(q->c, q->r, doc);
	free(msg);
	return true;
}

/* A ValidationException with one field, for the business checks. */
static void
reply_field_error(struct req *q, const char *field, const char *fmsg,
    const char *message)
{
	json_t *doc = error_doc(q->r, T_VALIDATION, message);
	json_t *fields = jsonx_check(json_array());
	json_t *f = jsonx_check(json_object());

	jsonx_set(f, "name", json_string(field));
	jsonx_set(f, "message", json_string(fmsg));
	jsonx_append(fields, f);
	jsonx_set(doc, "reason", json_string("fieldValidationFailed"));
	jsonx_set(doc, "fields", fields);
	reply_error_doc(q->c, q->r, doc);
}

static void
reply_not_found(struct req *q, const char *arn, const char *rtype,
    const char *what)
{
	char *msg = xstrfmt("No %s with ARN %s in this cluster", what, arn);
	json_t *doc = error_doc(q->r, T_NOTFOUND, msg);

	jsonx_set(doc, "resourceId", json_string(arn));
	jsonx_set(doc, "resourceType", json_string(rtype));
	reply_error_doc(q->c, q->r, doc);
	free(msg);
}

static void
reply_ok(struct req *q, json_t *doc)
{
	reply_json(q->r, 200, doc);
}

/* --- pagination tokens ------------------------------------------------- */

/*
 * NextToken = base64url (no padding) of "arcsim1.<offset>.<16 hex>", the
 * hex being a hash of the ControlPanelArn filter ("" for none): opaque to
 * clients, and refused with another filter.
 */
#define TOKEN_TAG	"arcsim1."

static void
filter_hash(const char *panel_arn, char out[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *s = panel_arn != NULL ? panel_arn : "";
	static const char tag[] = "arcsim-token";

	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, tag, sizeof(tag)) != 1 ||
	    EVP_DigestUpdate(ctx, s, strlen(s)) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 8)
		abort();	/* no SHA-256 in OpenSSL: nothing to do */
	EVP_MD_CTX_free(ctx);
	for (size_t i = 0; i < 8; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[16] = '\0';
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
token_encode(size_t offset, const char *panel_arn)
{
	char hash[17], *raw, *out;
	size_t len, o = 0;

	filter_hash(panel_arn, hash);
	raw = xstrfmt(TOKEN_TAG "%zu.%s", offset, hash);
	len = strlen(raw);
	out = xmalloc(len * 4 / 3 + 4);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)(unsigned char)raw[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)raw[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (left > 1)
			out[o++] = b64url[(v >> 6) & 63];
		if (left > 2)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	free(raw);
	return out;
}

/* Strict base64url without padding; NULL when malformed. */
static char *
b64url_decode(const char *s)
{
	size_t len = strlen(s), o = 0;
	uint32_t acc = 0;
	int bits = 0;
	char *out;

	if (len % 4 == 1 || len > 200)
		return NULL;
	out = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		const char *p = strchr(b64url, s[i]);

		if (s[i] == '\0' || p == NULL) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* The unused low bits of the last character must be zero. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
		free(out);
		return NULL;
	}
	out[o] = '\0';
	if (strlen(out) != o) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The offset a token stands for: 0, or ERR_PARSE (malformed) or
 * ERR_INVAL (made for another filter).
 */
static int
token_decode(const char *token, const char *panel_arn, size_t *offset)
{
	char *raw = b64url_decode(token), hash[17], *p, *end;
	unsigned long long v;
	int ret = ERR_PARSE;

	if (raw == NULL)
		return ERR_PARSE;
	if (strncmp(raw, TOKEN_TAG, strlen(TOKEN_TAG)) != 0)
		goto out;
	p = raw + strlen(TOKEN_TAG);
	if (*p < '1' || *p > '9')
		goto out;
	v = strtoull(p, &end, 10);
	if (*end != '.' || v > SIZE_MAX || strlen(end + 1) != 16)
		goto out;
	for (const char *h = end + 1; *h != '\0'; h++)
		if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f')))
			goto out;
	filter_hash(panel_arn, hash);
	if (strcmp(end + 1, hash) != 0) {
		ret = ERR_INVAL;
		goto out;
	}
	*offset = (size_t)v;
	ret = 0;
out:
	free(raw);
	return ret;
}

/* --- the operations ---------------------------------------------------- */

static void
op_get(struct req *q, json_t *body)
{
	const char *arn = get_string(q, body, "RoutingControlArn",
	    "RoutingControlArn");
	const struct sim_control *sc;
	size_t idx;
	json_t *doc;

	if (arn == NULL && q->parse_err == NULL)
		missing(q, "RoutingControlArn");
	else if (arn != NULL)
		check_arn(q, "RoutingControlArn", arn);
	if (reply_invalid(q))
		return;
	if (sim_cluster_find(q->c, arn, &idx) != 0) {
		reply_not_found(q, arn, "RoutingControl", "routing control");
		return;
	}
	sc = sim_cluster_control(q->c, idx);
	doc = jsonx_check(json_object());
	jsonx_set(doc, "RoutingControlArn", json_string(sc->arn));
	jsonx_set(doc, "RoutingControlName", json_string(sc->name));
	jsonx_set(doc, "RoutingControlState", json_string(sc->on ? "On" :
	    "Off"));
	reply_ok(q, doc);
}

static void
op_list(struct req *q, json_t *body)
{
	const char *panel = get_string(q, body, "ControlPanelArn",
	    "ControlPanelArn");
	const char *token = get_string(q, body, "NextToken", "NextToken");
	json_t *jmax = json_object_get(body, "MaxResults"), *doc, *list;
	size_t first = 0, end = sim_cluster_ncontrols(q->c), offset = 0;
	long long max = SIM_API_MAX_RESULTS;
	char *v;
	int ret;

	if (jmax != NULL && !json_is_null(jmax)) {
		if (!json_is_integer(jmax)) {
			type_error(q, "MaxResults", "an integer");
		} else {
			max = json_integer_value(jmax);
			if (max < 1) {
				v = xstrfmt("'%lld'", max);
				violation(q, "MaxResults", v, "Member must "
				    "have value greater than or equal to 1");
				free(v);
			}
		}
	}
	if (panel != NULL)
		check_arn(q, "ControlPanelArn", panel);
	if (token != NULL)
		check_token(q, "NextToken", token);
	if (reply_invalid(q))
		return;
	if (max > SIM_API_MAX_RESULTS)
		max = SIM_API_MAX_RESULTS;
	if (panel != NULL && sim_cluster_find_panel(q->c, panel, NULL, &first,
	    &end) != 0) {
		reply_not_found(q, panel, "ControlPanel", "control panel");
		return;
	}
	if (token != NULL) {
		ret = token_decode(token, panel, &offset);
		if (ret == 0 && offset >= end - first)
			ret = ERR_PARSE;
		if (ret != 0) {
			reply_field_error(q, "NextToken", ret == ERR_INVAL ?
			    "The token was issued for another "
			    "ControlPanelArn" : "Invalid pagination token",
			    ret == ERR_INVAL ? "Invalid NextToken: it was "
			    "issued for a different ControlPanelArn" :
			    "Invalid NextToken: pass back the NextToken of "
			    "the previous page unchanged");
			return;
		}
	}
	doc = jsonx_check(json_object());
	list = jsonx_check(json_array());
	for (size_t i = first + offset; i < end &&
	    i < first + offset + (size_t)max; i++) {
		const struct sim_control *sc = sim_cluster_control(q->c, i);
		json_t *o = jsonx_check(json_object());

		jsonx_set(o, "ControlPanelArn", json_string(sc->panel_arn));
		jsonx_set(o, "ControlPanelName", json_string(sc->panel_name));
		jsonx_set(o, "RoutingControlArn", json_string(sc->arn));
		jsonx_set(o, "RoutingControlName", json_string(sc->name));
		jsonx_set(o, "RoutingControlState", json_string(sc->on ? "On" :
		    "Off"));
		jsonx_set(o, "Owner", json_string(sim_cluster_account(q->c)));
		jsonx_append(list, o);
	}
	jsonx_set(doc, "RoutingControls", list);
	if (first + offset + (size_t)max < end) {
		char *next = token_encode(offset + (size_t)max, panel);

		jsonx_set(doc, "NextToken", json_string(next));
		free(next);
	}
	reply_ok(q, doc);
}

/* One entry to apply, as read from the request. */
struct entry {
	const char	*arn;
	bool		 on;
	bool		 valid;
};

/*
 * Shared by both updates: entries are decoded and validated; this does
 * the business checks and applies them.
 */
static void
apply_update(struct req *q, struct sim_cluster *c, const struct entry *e,
    size_t n, const char **overrides, size_t noverrides, uint64_t now_ms)
{
	struct sim_change *ch = xcalloc(n ? n : 1, sizeof(*ch));
	struct sim_block block;
	int changed = 0;
	json_t *doc;

	for (size_t i = 0; i < n; i++) {
		if (sim_cluster_find(c, e[i].arn, &ch[i].index) != 0) {
			reply_not_found(q, e[i].arn, "RoutingControl",
			    "routing control");
			goto out;
		}
		ch[i].on = e[i].on;
	}
	if (sim_cluster_update(c, ch, n, overrides, noverrides, now_ms,
	    &changed, &block) != 0) {
		doc = error_doc(q->r, T_CONFLICT, block.message);
		jsonx_set(doc, "resourceId", json_string(block.rule_arn));
		jsonx_set(doc, "resourceType", json_string("SafetyRule"));
		reply_error_doc(c, q->r, doc);
		sim_block_fini(&block);
		goto out;
	}
	q->r->changed = changed;
	reply_ok(q, jsonx_check(json_object()));
out:
	free(ch);
}

static void
op_update(struct req *q, struct sim_cluster *c, json_t *body,
    uint64_t now_ms)
{
	struct entry e = {0};
	const char *state, **ov;
	size_t nov;

	e.arn = get_string(q, body, "RoutingControlArn", "RoutingControlArn");
	state = get_string(q, body, "RoutingControlState",
	    "RoutingControlState");
	get_overrides(q, body, &ov, &nov);
	if (q->parse_err == NULL) {
		if (e.arn == NULL)
			missing(q, "RoutingControlArn");
		else
			check_arn(q, "RoutingControlArn", e.arn);
		if (state == NULL)
			missing(q, "RoutingControlState");
		else
			(void)check_state(q, "RoutingControlState", state,
			    &e.on);
	}
	if (!reply_invalid(q))
		apply_update(q, c, &e, 1, ov, nov, now_ms);
	free(ov);
}

static void
decode_entry(struct req *q, json_t *it, size_t i, struct entry *e)
{
	char path[96];
	const char *state;

	if (json_is_null(it)) {
		snprintf(path, sizeof(path),
		    "UpdateRoutingControlStateEntries[%zu]", i);
		missing(q, path);
		return;
	}
	if (!json_is_object(it)) {
		snprintf(path, sizeof(path),
		    "UpdateRoutingControlStateEntries[%zu]", i);
		type_error(q, path, "an object");
		return;
	}
	snprintf(path, sizeof(path),
	    "UpdateRoutingControlStateEntries[%zu].RoutingControlArn", i);
	e->arn = get_string(q, it, "RoutingControlArn", path);
	if (e->arn == NULL)
		missing(q, path);
	else
		check_arn(q, path, e->arn);
	snprintf(path, sizeof(path),
	    "UpdateRoutingControlStateEntries[%zu].RoutingControlState", i);
	state = get_string(q, it, "RoutingControlState", path);
	if (state == NULL)
		missing(q, path);
	else
		(void)check_state(q, path, state, &e->on);
}

static void
op_updates(struct req *q, struct sim_cluster *c, json_t *body,
    uint64_t now_ms)
{
	json_t *list = get_array(q, body, "UpdateRoutingControlStateEntries");
	struct entry *e = NULL;
	const char **ov;
	size_t n = 0, nov;
	char *msg;

	if (list == NULL && q->parse_err == NULL)
		missing(q, "UpdateRoutingControlStateEntries");
	if (list != NULL) {
		n = json_array_size(list);
		e = xcalloc(n ? n : 1, sizeof(*e));
		if (n == 0)
			violation(q, "UpdateRoutingControlStateEntries", "'[]'",
			    "Member must have length greater than or equal "
			    "to 1");
		for (size_t i = 0; i < n; i++)
			decode_entry(q, json_array_get(list, i), i, &e[i]);
	}
	get_overrides(q, body, &ov, &nov);
	if (reply_invalid(q))
		goto out;
	if (n > SIM_API_MAX_ENTRIES) {
		json_t *doc;

		msg = xstrfmt("UpdateRoutingControlStates accepts at most %d "
		    "entries per call; this request has %zu",
		    SIM_API_MAX_ENTRIES, n);
		doc = error_doc(q->r, T_LIMIT, msg);
		jsonx_set(doc, "limitCode", json_string(
		    "RoutingControlStateUpdatesPerCall"));
		jsonx_set(doc, "serviceCode", json_string(
		    "route53-recovery-cluster"));
		reply_error_doc(c, q->r, doc);
		free(msg);
		goto out;
	}
	for (size_t i = 1; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			char path[96];

			if (strcmp(e[i].arn, e[j].arn) != 0)
				continue;
			snprintf(path, sizeof(path), "UpdateRoutingControl"
			    "StateEntries[%zu].RoutingControlArn", i);
			msg = xstrfmt("Routing control %s is listed more than "
			    "once (entries %zu and %zu)", e[i].arn, j, i);
			reply_field_error(q, path, "Duplicate "
			    "RoutingControlArn in one request", msg);
			free(msg);
			goto out;
		}
	}
	apply_update(q, c, e, n, ov, nov, now_ms);
out:
	free(ov);
	free(e);
}

void
sim_api_call(struct sim_cluster *c, const char *target, const uint8_t *body,
    size_t len, uint64_t now_ms, struct sim_reply *out)
{
	struct req q;
	json_t *doc = NULL, *err;
	json_error_t jerr;
	enum op op = find_op(target);
	char *msg;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	memset(&q, 0, sizeof(q));
	q.c = c;
	q.r = out;
	if (op == OP_NONE) {
		msg = target == NULL ? xstrdup("Missing X-Amz-Target header") :
		    xstrfmt("Unknown operation %s", target);
		err = error_doc(out, T_VALIDATION, msg);
		jsonx_set(err, "reason", json_string("unknownOperation"));
		reply_error_doc(c, out, err);
		free(msg);
		return;
	}
	if (len == 0)
		doc = jsonx_check(json_object());
	else
		doc = json_loadb((const char *)body, len,
		    JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL || !json_is_object(doc)) {
		q.parse_err = doc == NULL ?
		    xstrfmt("Cannot parse the request body as JSON: %s "
		    "(line %d, column %d)", jerr.text, jerr.line,
		    jerr.column) :
		    xstrdup("Cannot parse the request: the body must be a "
		    "JSON object");
		(void)reply_invalid(&q);
		goto out;
	}
	switch (op) {
	case OP_GET:
		op_get(&q, doc);
		break;
	case OP_LIST:
		op_list(&q, doc);
		break;
	case OP_UPDATE:
		op_update(&q, c, doc, now_ms);
		break;
	default:
		op_updates(&q, c, doc, now_ms);
		break;
	}
out:
	json_decref(doc);
	json_decref(q.fields);
	free(q.text);
	free(q.parse_err);
}
