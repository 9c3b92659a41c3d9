#include "report/whatif.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "policy/policy.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/jsonx.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define T_A	1
#define T_CNAME	5
#define T_TXT	16
#define T_AAAA	28

int
whatif_states(const struct conf *conf, const struct mirror *m,
    const json_t *over, enum mirror_state *st, char **errmsg)
{
	const char *key;
	json_t *val;

	for (size_t i = 0; i < conf->ncontrols; i++) {
		const struct mirror_control *c =
		    m != NULL ? mirror_control(m, i) : NULL;

		st[i] = c != NULL ? c->state : MIRROR_UNKNOWN;
	}
	if (over == NULL)
		return 0;
	if (!json_is_object(over)) {
		*errmsg = xstrdup("states must be an object of control "
		    "name: \"on\" or \"off\"");
		return ERR_INVAL;
	}
	json_object_foreach((json_t *)over, key, val) {
		const char *s = json_string_value(val);
		size_t i;

		for (i = 0; i < conf->ncontrols; i++)
			if (strcmp(conf->controls[i].name, key) == 0)
				break;
		if (i == conf->ncontrols) {
			*errmsg = xstrfmt("unknown control '%s'", key);
			return ERR_INVAL;
		}
		if (s != NULL && strcasecmp(s, "on") == 0)
			st[i] = MIRROR_ON;
		else if (s != NULL && strcasecmp(s, "off") == 0)
			st[i] = MIRROR_OFF;
		else {
			*errmsg = xstrfmt("'%s' must be on or off", key);
			return ERR_INVAL;
		}
	}
	return 0;
}

static const char *
type_str(uint16_t type)
{
	switch (type) {
	case T_A:
		return "A";
	case T_AAAA:
		return "AAAA";
	case T_CNAME:
		return "CNAME";
	case T_TXT:
		return "TXT";
	default:
		return "?";
	}
}

/* One rdata of type as text; NULL when it does not parse. */
static json_t *
value_json(uint16_t type, const struct zone_rdata *rd)
{
	char buf[1024];
	size_t off = 0;

	switch (type) {
	case T_A:
		if (rd->len != 4 ||
		    inet_ntop(AF_INET, rd->data, buf, sizeof(buf)) == NULL)
			return NULL;
		break;
	case T_AAAA:
		if (rd->len != 16 ||
		    inet_ntop(AF_INET6, rd->data, buf, sizeof(buf)) == NULL)
			return NULL;
		break;
	case T_CNAME:
		dname_to_str(rd->data, buf, sizeof(buf));
		break;
	case T_TXT:
		/* character-strings, joined by a space */
		for (size_t i = 0; i < rd->len; i += 1u + rd->data[i]) {
			size_t n = rd->data[i];

			if (i + 1 + n > rd->len || off + n + 2 > sizeof(buf))
				return NULL;
			if (off > 0)
				buf[off++] = ' ';
			memcpy(buf + off, rd->data + i + 1, n);
			off += n;
		}
		buf[off] = '\0';
		return json_stringn(buf, off);	/* NULL if not UTF-8 */
	default:
		return NULL;
	}
	return jsonx_check(json_string(buf));
}

static json_t *
answer_obj(const char *what)
{
	json_t *o = jsonx_check(json_object());

	jsonx_set(o, "answer", jsonx_check(json_string(what)));
	jsonx_set(o, "values", jsonx_check(json_array()));
	return o;
}

json_t *
whatif_answer(const struct zone *z, const uint8_t *owner, uint16_t type)
{
	const struct zone_node *n = zone_get(z, owner, dname_len(owner));
	const struct zone_rrset *s;
	json_t *o, *vals;

	if (n == NULL)
		return answer_obj("NXDOMAIN");
	s = zone_node_rrset(n, type);
	/* a CNAME placeholder answers SERVFAIL for every type */
	if (s == NULL && type != T_CNAME) {
		const struct zone_rrset *c = zone_node_rrset(n, T_CNAME);

		if (c != NULL && c->servfail)
			return answer_obj("SERVFAIL");
	}
	if (s == NULL || s->withdrawn)	/* withdrawn: NODATA, TTL 0 */
		return answer_obj("NODATA");
	if (s->servfail)
		return answer_obj("SERVFAIL");
	o = answer_obj("values");
	vals = json_object_get(o, "values");
	for (size_t i = 0; i < s->count; i++) {
		json_t *v = value_json(type, &s->rd[i]);

		jsonx_append(vals, v != NULL ? v :
		    jsonx_check(json_string("(unprintable)")));
	}
	return o;
}

static void
add_name(json_t *arr, const struct conf_view *v, const struct conf_zone *cz,
    const struct zone *z, const uint8_t *owner, uint16_t type)
{
	json_t *o = jsonx_check(json_object()), *a = whatif_answer(z, owner,
	    type);
	char name[DNAME_MAXLEN * 4 + 1];

	dname_to_str(owner, name, sizeof(name));
	jsonx_set(o, "view", jsonx_check(json_string(v->name)));
	jsonx_set(o, "zone", jsonx_check(json_string(cz->id)));
	jsonx_set(o, "name", jsonx_check(json_string(name)));
	jsonx_set(o, "type", jsonx_check(json_string(type_str(type))));
	jsonx_check(json_object_update(o, a) == 0 ? o : NULL);
	json_decref(a);
	jsonx_append(arr, o);
}

json_t *
whatif_answers(const struct conf *conf, struct zone *const *zones)
{
	json_t *arr = jsonx_check(json_array());

	for (size_t vi = 0; vi < conf->nviews; vi++) {
		const struct conf_view *v = &conf->views[vi];

		for (size_t k = 0; k < v->nzones; k++) {
			const struct conf_zone *cz = &conf->zones[v->zones[k]];
			const struct zone *z = zones[v->zones[k]];

			for (size_t ri = 0; ri < cz->nrecords; ri++) {
				const struct conf_record *r = &cz->records[ri];
				uint8_t owner[DNAME_MAXLEN];

				if (r->policy != CONF_POLICY_ROLE) {
					add_name(arr, v, cz, z, r->owner,
					    r->type);
					continue;
				}
				for (size_t ti = 0; ti < r->ntargets; ti++)
					if (conf_role_owner(r, ti, owner))
						add_name(arr, v, cz, z, owner,
						    T_TXT);
			}
		}
	}
	return arr;
}

/* policy_eval() for st, answers read back, zones freed. */
static int
eval_answers(struct policy *p, const struct conf *conf,
    const enum mirror_state *st, json_t **out, char **errmsg)
{
	struct zone **zones;
	int ret;

	ret = policy_eval(p, st, &zones, errmsg);
	if (ret != 0)
		return ret;
	*out = whatif_answers(conf, zones);
	policy_zones_free(p, zones);
	return 0;
}

int
whatif_run(struct policy *p, const struct conf *conf, const struct mirror *m,
    const json_t *over, json_t **out, char **errmsg)
{
	size_t n = conf->ncontrols;
	enum mirror_state *cur = xcalloc(n + 1, sizeof(*cur));
	enum mirror_state *wi = xcalloc(n + 1, sizeof(*wi));
	json_t *now = NULL, *then = NULL, *doc, *states, *list;
	int ret;

	ret = whatif_states(conf, m, NULL, cur, errmsg);
	if (ret == 0)
		ret = whatif_states(conf, m, over, wi, errmsg);
	if (ret != 0)
		goto out;
	/*
	 * The what-if first, the current states last: the proposal the
	 * policy keeps is then the served one again (the same states give
	 * the committed content, hence the committed serial, unchanged).
	 * With no mirror the served answers were built with NULL (all
	 * unknown), which cur is too.
	 */
	ret = eval_answers(p, conf, wi, &then, errmsg);
	if (ret == 0)
		ret = eval_answers(p, conf, m != NULL && n > 0 ? cur : NULL,
		    &now, errmsg);
	if (ret != 0)
		goto out;
	doc = jsonx_check(json_object());
	states = jsonx_check(json_object());
	for (size_t i = 0; i < n; i++)
		jsonx_set(states, conf->controls[i].name,
		    jsonx_check(json_string(mirror_state_name(wi[i]))));
	jsonx_set(doc, "states", states);
	list = jsonx_check(json_array());
	for (size_t i = 0; i < json_array_size(then); i++) {
		json_t *t = json_array_get(then, i);
		json_t *c = json_array_get(now, i);
		json_t *o = jsonx_check(json_object()), *a, *b;

		for (const char *const *k = (const char *const[]){"view",
		    "zone", "name", "type", NULL}; *k != NULL; k++)
			jsonx_set(o, *k, json_incref(json_object_get(t, *k)));
		a = jsonx_check(json_pack("{s:O,s:O}", "answer",
		    json_object_get(c, "answer"), "values",
		    json_object_get(c, "values")));
		b = jsonx_check(json_pack("{s:O,s:O}", "answer",
		    json_object_get(t, "answer"), "values",
		    json_object_get(t, "values")));
		jsonx_set(o, "changed", json_boolean(!json_equal(a, b)));
		jsonx_set(o, "now", a);
		jsonx_set(o, "what-if", b);
		jsonx_append(list, o);
	}
	jsonx_set(doc, "answers", list);
	*out = doc;
out:
	json_decref(now);
	json_decref(then);
	free(cur);
	free(wi);
	return ret;
}
