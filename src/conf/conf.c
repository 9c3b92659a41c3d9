#include "conf/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/yamltree.h"
#include "conf/yschema.h"
#include "util/err.h"
#include "util/xalloc.h"

/*
 * Loading runs in three steps, as STYLE.md asks: conf_new() fills in the
 * defaults, parse_*() walk the YAML tree and check each value on its own
 * (type, range, syntax), and validate() checks what needs the whole file
 * (references between views and zones, duplicate origins, required
 * sections). The first error wins: -t prints one line, at the place an
 * operator has to edit.
 */

#define MAX_NAME	64	/* zone ids and view names */
#define MAX_TXT		255	/* identity and version: one TXT string */
#define MIN_TCP_IDLE_MS	100
#define MAX_TCP_IDLE_MS	3600000
#define MAX_TCP_CONN	1000000

/* Where the parts of the tree that validate() needs came from. */
struct zone_src {
	const struct ynode	*id;
	const struct ynode	*origin;
};

struct view_src {
	const struct ynode	*name;
	const struct ynode	*zones;		/* a sequence of ids */
};

struct parser {
	struct yschema		ys;		/* the file and first error */
	struct conf		*conf;
	const struct ynode	*root;
	const struct ynode	*zones_node;	/* the value of 'zones' */
	const struct ynode	*views_node;	/* the value of 'views' */
	bool			listen_set;
	struct zone_src		*zsrc;		/* parallel to conf->zones */
	struct view_src		*vsrc;		/* parallel to conf->views */
};

/* A key this version rejects because a later issue defines it. */
static const char *const later_top[] = {"arc", "controls", "fences", NULL};
static const char *const later_server[] = {"http", "control",
	"chaos-clients", NULL};
static const char *const later_zone[] = {"records", "notify",
	"allow-transfer", NULL};

static struct parser *
parser_of(struct yschema *ys)
{
	return (struct parser *)(void *)((char *)ys -
	    offsetof(struct parser, ys));
}

/* Zone ids and view names: short, and safe in logs and ctl replies. */
static int
check_name(struct parser *p, const struct ynode *v, const char *what)
{
	char buf[80];

	for (size_t i = 0; i < v->len; i++) {
		char ch = v->str[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.'))
			return ys_fail(&p->ys, v, "%s '%s' may only contain "
			    "letters, digits, '-', '_' and '.'", what,
			    ys_shown(v, buf, sizeof(buf)));
	}
	return 0;
}

/* Absolute paths stay; relative ones hang off the config file's folder. */
static char *
resolve_path(const struct conf *conf, const char *s)
{
	size_t dl = strlen(conf->dir);

	if (s[0] == '/')
		return xstrdup(s);
	if (dl > 0 && conf->dir[dl - 1] == '/')
		return xstrfmt("%s%s", conf->dir, s);
	return xstrfmt("%s/%s", conf->dir, s);
}

/*
 * The origin of a zone block: an absolute domain name. A missing final
 * dot is added (zone names in BIND, NSD and Knot configs do without), and
 * the result is lower case. Returns NULL and sets *why on error.
 */
static char *
normalise_origin(const char *in, const char **why)
{
	size_t len = strlen(in), label = 0, wire = 1;
	char *out;

	if (strcmp(in, ".") == 0)
		return xstrdup(".");
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty name";
		return NULL;
	}
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? in[i] : '.';

		if (ch == '.') {
			if (label == 0) {
				*why = "empty label";
				return NULL;
			}
			wire += label + 1;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
			*why = "only letters, digits, '-' and '_' are allowed "
			    "in labels";
			return NULL;
		}
		if (++label > 63) {
			*why = "label longer than 63 characters";
			return NULL;
		}
	}
	if (wire > 255) {
		*why = "name longer than 255 bytes";
		return NULL;
	}
	out = xmalloc(len + 2);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 :
		    in[i]);
	out[len] = '.';
	out[len + 1] = '\0';
	return out;
}

/* --- sections ----------------------------------------------------------- */

/* A section that is a mapping; a null value stands for an empty one. */
static int
check_section(struct parser *p, const struct ynode *key,
    const struct ynode *v, bool *empty)
{
	*empty = ynode_is_null(v);
	if (!*empty && v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, v, "'%s' must be a mapping", key->str);
	return 0;
}

static int
srv_listen(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct conf_server *s = obj;
	const struct ynode *const *items;
	char buf[80], fmt[64];
	size_t n;

	if (ys_get_list(ys, k, v, true, &items, &n) != 0)
		return ERR_INVAL;
	free(s->listen);
	s->listen = xcalloc(n, sizeof(*s->listen));
	s->nlisten = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = ys_list_item(v, items, i);
		struct netaddr a;
		const struct sockaddr_in *sin = (const void *)&a.ss;

		if (netaddr_parse(it->str, CONF_DEFAULT_PORT, &a) != 0)
			return ys_fail(ys, it, "invalid listen address '%s' "
			    "(expected an IP address with an optional port: "
			    "127.0.0.1, 127.0.0.1:5300 or [::1]:5300)",
			    ys_shown(it, buf, sizeof(buf)));
		/* sin_port and sin6_port sit at the same offset. */
		if (sin->sin_port == 0)
			return ys_fail(ys, it, "listen address '%s' has port 0",
			    ys_shown(it, buf, sizeof(buf)));
		for (size_t j = 0; j < s->nlisten; j++) {
			if (s->listen[j].len == a.len &&
			    memcmp(&s->listen[j].ss, &a.ss, a.len) == 0) {
				netaddr_format(&a, fmt, sizeof(fmt));
				return ys_fail(ys, it,
				    "duplicate listen address '%s'", fmt);
			}
		}
		s->listen[s->nlisten++] = a;
	}
	p->listen_set = true;
	return 0;
}

static int
srv_workers(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_server *s = obj;
	long long n;

	if (ys_get_int(ys, k, v, 0, CONF_MAX_WORKERS, &n) != 0)
		return ERR_INVAL;
	s->workers = (unsigned)n;
	return 0;
}

static int
set_string(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    size_t maxlen, char **field)
{
	const char *str;

	if (ys_get_string(ys, k, v, maxlen, &str) != 0)
		return ERR_INVAL;
	free(*field);
	*field = xstrdup(str);
	return 0;
}

static int
set_path(struct parser *p, const struct ynode *k, const struct ynode *v,
    char **field)
{
	const char *str;

	if (ys_get_string(&p->ys, k, v, PATH_MAX - 1, &str) != 0)
		return ERR_INVAL;
	free(*field);
	*field = resolve_path(p->conf, str);
	return 0;
}

static int
srv_identity(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	return set_string(ys, k, v, MAX_TXT,
	    &((struct conf_server *)obj)->identity);
}

static int
srv_version(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	return set_string(ys, k, v, MAX_TXT,
	    &((struct conf_server *)obj)->version);
}

static int
srv_user(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	return set_string(ys, k, v, 255, &((struct conf_server *)obj)->user);
}

static int
srv_state_dir(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);

	return set_path(p, k, v, &((struct conf_server *)obj)->state_dir);
}

static int
srv_pid_file(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);

	return set_path(p, k, v, &((struct conf_server *)obj)->pid_file);
}

static int
srv_hide_version(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	return ys_get_bool(ys, k, v,
	    &((struct conf_server *)obj)->hide_version);
}

static int
srv_edns(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	long long n;

	if (ys_get_int(ys, k, v, 512, 4096, &n) != 0)
		return ERR_INVAL;
	((struct conf_server *)obj)->edns_size = (uint16_t)n;
	return 0;
}

static int
srv_tcp_idle(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	uint64_t ms;

	if (ys_get_duration(ys, k, v, MIN_TCP_IDLE_MS, MAX_TCP_IDLE_MS,
	    &ms) != 0)
		return ERR_INVAL;
	((struct conf_server *)obj)->tcp_idle_ms = (uint32_t)ms;
	return 0;
}

static int
srv_tcp_max(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	long long n;

	if (ys_get_int(ys, k, v, 1, MAX_TCP_CONN, &n) != 0)
		return ERR_INVAL;
	((struct conf_server *)obj)->tcp_max_conn = (uint32_t)n;
	return 0;
}

static int
log_level(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	const char *s;

	if (ys_get_string(ys, k, v, 32, &s) != 0)
		return ERR_INVAL;
	if (log_level_parse(s, &((struct conf_server *)obj)->log_level) != 0)
		return ys_fail(ys, v, "'level' must be one of error, warning, "
		    "notice, info, debug");
	return 0;
}

static int
log_format(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_server *s = obj;
	const char *str;

	if (ys_get_string(ys, k, v, 32, &str) != 0)
		return ERR_INVAL;
	if (strcmp(str, "text") == 0)
		s->log_format = LOG_FORMAT_TEXT;
	else if (strcmp(str, "json") == 0)
		s->log_format = LOG_FORMAT_JSON;
	else
		return ys_fail(ys, v, "'format' must be text or json");
	return 0;
}

static int
log_target(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_server *s = obj;
	const char *str;

	if (ys_get_string(ys, k, v, 32, &str) != 0)
		return ERR_INVAL;
	if (strcmp(str, "stderr") == 0)
		s->log_target = LOG_TARGET_STDERR;
	else if (strcmp(str, "syslog") == 0)
		s->log_target = LOG_TARGET_SYSLOG;
	else
		return ys_fail(ys, v, "'target' must be stderr or syslog");
	return 0;
}

static const struct ys_key log_keys[] = {
	{"level", log_level},
	{"format", log_format},
	{"target", log_target},
	{NULL, NULL}
};

static int
srv_log(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	bool empty;

	if (check_section(p, k, v, &empty) != 0)
		return ERR_INVAL;
	return empty ? 0 : ys_walk(ys, v, "server.log", log_keys, NULL, obj);
}

static const struct ys_key server_keys[] = {
	{"listen", srv_listen},
	{"workers", srv_workers},
	{"identity", srv_identity},
	{"hide-version", srv_hide_version},
	{"version", srv_version},
	{"state-dir", srv_state_dir},
	{"user", srv_user},
	{"pid-file", srv_pid_file},
	{"edns-buffer-size", srv_edns},
	{"tcp-idle-timeout", srv_tcp_idle},
	{"tcp-max-connections", srv_tcp_max},
	{"log", srv_log},
	{NULL, NULL}
};

static int
top_server(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	bool empty;

	if (check_section(p, k, v, &empty) != 0)
		return ERR_INVAL;
	return empty ? 0 : ys_walk(ys, v, "server", server_keys, later_server,
	    &p->conf->server);
}

/* One zone block being parsed, with where its parts came from. */
struct zone_ctx {
	struct conf_zone	*z;
	struct zone_src		*src;
	const struct ynode	*file;
	bool			ttl_set;
};

static int
zone_id(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct zone_ctx *zc = obj;
	const char *s;
	char buf[80];

	if (ys_get_string(ys, k, v, MAX_NAME, &s) != 0 ||
	    check_name(p, v, "zone id") != 0)
		return ERR_INVAL;
	/* Zones before this one are complete: their ids are set. */
	for (size_t i = 0; &p->conf->zones[i] != zc->z; i++)
		if (strcmp(p->conf->zones[i].id, s) == 0)
			return ys_fail(ys, v, "duplicate zone id '%s' (first "
			    "at line %d)", ys_shown(v, buf, sizeof(buf)),
			    p->zsrc[i].id->line);
	zc->z->id = xstrdup(s);
	zc->src->id = v;
	return 0;
}

static int
zone_origin(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct zone_ctx *zc = obj;
	const char *s, *why = NULL;
	char buf[80];

	if (ys_get_string(ys, k, v, 300, &s) != 0)
		return ERR_INVAL;
	zc->z->origin = normalise_origin(s, &why);
	if (zc->z->origin == NULL)
		return ys_fail(ys, v, "invalid origin '%s': %s",
		    ys_shown(v, buf, sizeof(buf)), why);
	zc->src->origin = v;
	return 0;
}

static int
zone_file(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct zone_ctx *zc = obj;

	zc->file = v;
	return set_path(p, k, v, &zc->z->file);
}

static int
zone_ttl(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct zone_ctx *zc = obj;
	long long n;

	if (ys_get_int(ys, k, v, 0, CONF_MAX_TTL, &n) != 0)
		return ERR_INVAL;
	zc->z->ttl = (uint32_t)n;
	return 0;
}

static const struct ys_key zone_keys[] = {
	{"id", zone_id},
	{"origin", zone_origin},
	{"file", zone_file},
	{"ttl", zone_ttl},
	{NULL, NULL}
};

static int
parse_zone(struct parser *p, const struct ynode *v)
{
	struct conf *c = p->conf;
	struct zone_ctx zc;
	char buf[80];

	if (v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, v, "each entry of 'zones' must be a "
		    "mapping with 'id', 'origin' and 'file'");
	zc.z = &c->zones[c->nzones];
	zc.src = &p->zsrc[c->nzones];
	zc.file = NULL;
	memset(zc.z, 0, sizeof(*zc.z));
	memset(zc.src, 0, sizeof(*zc.src));
	zc.z->ttl = CONF_DEFAULT_ZONE_TTL;
	zc.z->line = v->line;
	zc.z->column = v->column;
	/* Count the block now so that conf_free() sees what it holds. */
	c->nzones++;
	if (ys_walk(&p->ys, v, "zones", zone_keys, later_zone, &zc) != 0)
		return ERR_INVAL;
	if (zc.z->id == NULL)
		return ys_fail(&p->ys, v, "zone block has no 'id'");
	if (zc.z->origin == NULL)
		return ys_fail(&p->ys, v, "zone '%s' has no 'origin'",
		    ys_shown(zc.src->id, buf, sizeof(buf)));
	if (zc.z->file == NULL)
		return ys_fail(&p->ys, v, "zone '%s' has no 'file'",
		    ys_shown(zc.src->id, buf, sizeof(buf)));
	return 0;
}

static int
top_zones(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct conf *c = p->conf;

	p->zones_node = ynode_is_null(v) ? k : v;
	if (ynode_is_null(v))
		return 0;	/* "no zones configured" in validate() */
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'zones' must be a list of zone blocks");
	c->zones = xcalloc(v->nitems ? v->nitems : 1, sizeof(*c->zones));
	p->zsrc = xcalloc(v->nitems ? v->nitems : 1, sizeof(*p->zsrc));
	for (size_t i = 0; i < v->nitems; i++)
		if (parse_zone(p, v->items[i]) != 0)
			return ERR_INVAL;
	return 0;
}

struct view_ctx {
	struct conf_view	*v;
	struct view_src		*src;
};

static int
view_name(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct view_ctx *vc = obj;
	const char *s;
	char buf[80];

	if (ys_get_string(ys, k, v, MAX_NAME, &s) != 0 ||
	    check_name(p, v, "view name") != 0)
		return ERR_INVAL;
	for (size_t i = 0; &p->conf->views[i] != vc->v; i++)
		if (strcmp(p->conf->views[i].name, s) == 0)
			return ys_fail(ys, v, "duplicate view name '%s' (first "
			    "at line %d)", ys_shown(v, buf, sizeof(buf)),
			    p->vsrc[i].name->line);
	vc->v->name = xstrdup(s);
	vc->src->name = v;
	return 0;
}

/* The network part of a prefix with host bits set, for the message. */
static void
suggest_network(const char *s, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN + 1], out[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	uint8_t addr[16];
	int af;
	long bits;

	buf[0] = '\0';
	if (slash == NULL || (size_t)(slash - s) >= sizeof(host))
		return;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	af = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(af, host, addr) != 1)
		return;
	bits = strtol(slash + 1, NULL, 10);
	for (long i = bits; i < (af == AF_INET ? 32 : 128); i++)
		addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	if (inet_ntop(af, addr, out, sizeof(out)) != NULL)
		snprintf(buf, size, " (the network is %s/%ld)", out, bits);
}

static int
view_match(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_view *view = ((struct view_ctx *)obj)->v;
	const struct ynode *const *items;
	char buf[80], hint[80];
	size_t n;
	int ret;

	if (ys_get_list(ys, k, v, true, &items, &n) != 0)
		return ERR_INVAL;
	free(view->match);
	view->match = xcalloc(n, sizeof(*view->match));
	view->nmatch = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = ys_list_item(v, items, i);

		ret = netprefix_parse(it->str, &view->match[i]);
		if (ret == ERR_INVAL) {
			suggest_network(it->str, hint, sizeof(hint));
			return ys_fail(ys, it, "host bits set in '%s'%s",
			    ys_shown(it, buf, sizeof(buf)), hint);
		}
		if (ret != 0)
			return ys_fail(ys, it, "invalid address or prefix '%s' "
			    "in 'match-clients' (expected 10.0.0.0/16, ::1, "
			    "2001:db8::/32 or any)",
			    ys_shown(it, buf, sizeof(buf)));
		view->nmatch++;
	}
	return 0;
}

static int
view_zones(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct view_ctx *vc = obj;

	if (ynode_is_null(v))
		return ys_fail(ys, k, "'zones' has no value (write [] for a "
		    "view that refuses every query)");
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'zones' must be a list of zone ids");
	for (size_t i = 0; i < v->nitems; i++)
		if (v->items[i]->type != YNODE_SCALAR ||
		    ynode_is_null(v->items[i]))
			return ys_fail(ys, v->items[i],
			    "each entry of 'zones' must be a zone id");
	vc->src->zones = v;	/* resolved in validate() */
	return 0;
}

static const struct ys_key view_keys[] = {
	{"name", view_name},
	{"match-clients", view_match},
	{"zones", view_zones},
	{NULL, NULL}
};

static int
parse_view(struct parser *p, const struct ynode *v)
{
	struct conf *c = p->conf;
	struct view_ctx vc;
	char buf[80];

	if (v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, v, "each entry of 'views' must be a "
		    "mapping with 'name', 'match-clients' and 'zones'");
	vc.v = &c->views[c->nviews];
	vc.src = &p->vsrc[c->nviews];
	memset(vc.v, 0, sizeof(*vc.v));
	memset(vc.src, 0, sizeof(*vc.src));
	vc.v->line = v->line;
	vc.v->column = v->column;
	c->nviews++;
	if (ys_walk(&p->ys, v, "views", view_keys, NULL, &vc) != 0)
		return ERR_INVAL;
	if (vc.v->name == NULL)
		return ys_fail(&p->ys, v, "view has no 'name'");
	if (vc.v->nmatch == 0)
		return ys_fail(&p->ys, v, "view '%s' has no 'match-clients'",
		    ys_shown(vc.src->name, buf, sizeof(buf)));
	if (vc.src->zones == NULL)
		return ys_fail(&p->ys, v, "view '%s' has no 'zones'",
		    ys_shown(vc.src->name, buf, sizeof(buf)));
	return 0;
}

static int
top_views(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct conf *c = p->conf;

	if (ynode_is_null(v))
		return 0;	/* as if left out */
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'views' must be a list of views");
	if (v->nitems == 0)
		return ys_fail(ys, v, "'views' must not be empty (leave it out "
		    "to serve every zone to every client)");
	p->views_node = v;
	c->views = xcalloc(v->nitems, sizeof(*c->views));
	p->vsrc = xcalloc(v->nitems, sizeof(*p->vsrc));
	for (size_t i = 0; i < v->nitems; i++)
		if (parse_view(p, v->items[i]) != 0)
			return ERR_INVAL;
	return 0;
}

static const struct ys_key top_keys[] = {
	{"server", top_server},
	{"zones", top_zones},
	{"views", top_views},
	{NULL, NULL}
};

/* --- whole-file checks ------------------------------------------------- */

static int
zone_index(const struct conf *c, const char *id, size_t *out)
{
	for (size_t i = 0; i < c->nzones; i++) {
		if (strcmp(c->zones[i].id, id) == 0) {
			*out = i;
			return 0;
		}
	}
	return ERR_NOTFOUND;
}

static int
resolve_view(struct parser *p, struct conf_view *view,
    const struct view_src *src)
{
	const struct conf *c = p->conf;
	const struct ynode *refs = src->zones;
	char buf[80];

	view->zones = xcalloc(refs->nitems ? refs->nitems : 1,
	    sizeof(*view->zones));
	for (size_t i = 0; i < refs->nitems; i++) {
		const struct ynode *r = refs->items[i];
		size_t z;

		if (zone_index(c, r->str, &z) != 0)
			return ys_fail(&p->ys, r, "unknown zone '%s' in view "
			    "'%s'", ys_shown(r, buf, sizeof(buf)), view->name);
		for (size_t j = 0; j < view->nzones; j++) {
			const struct conf_zone *o = &c->zones[view->zones[j]];

			if (view->zones[j] == z)
				return ys_fail(&p->ys, r, "zone '%s' is listed "
				    "twice in view '%s'", o->id, view->name);
			if (strcmp(o->origin, c->zones[z].origin) == 0)
				return ys_fail(&p->ys, r, "duplicate origin "
				    "'%s' in view '%s'", o->origin, view->name);
		}
		view->zones[view->nzones++] = z;
	}
	return 0;
}

/* No views: one view "default" for any client, with every zone. */
static int
implicit_view(struct parser *p)
{
	struct conf *c = p->conf;
	struct conf_view *v;

	for (size_t i = 1; i < c->nzones; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->zones[i].origin, c->zones[j].origin) == 0)
				return ys_fail(&p->ys, p->zsrc[i].origin,
				    "duplicate origin '%s' in zones '%s' and "
				    "'%s' (without 'views' every zone is "
				    "served to every client)",
				    c->zones[i].origin, c->zones[j].id,
				    c->zones[i].id);
	c->views = xcalloc(1, sizeof(*c->views));
	c->nviews = 1;
	v = &c->views[0];
	v->name = xstrdup("default");
	v->implicit = true;
	v->match = xcalloc(1, sizeof(*v->match));
	if (netprefix_parse("any", &v->match[0]) != 0)
		abort();	/* cannot happen: "any" always parses */
	v->nmatch = 1;
	v->zones = xcalloc(c->nzones, sizeof(*v->zones));
	for (size_t i = 0; i < c->nzones; i++)
		v->zones[i] = i;
	v->nzones = c->nzones;
	return 0;
}

static unsigned
cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > CONF_MAX_WORKERS ? CONF_MAX_WORKERS : (unsigned)n;
}

static int
validate(struct parser *p)
{
	struct conf *c = p->conf;

	if (c->nzones == 0)
		return ys_fail(&p->ys, p->zones_node != NULL ?
		    p->zones_node : p->root, "no zones configured");
	if (c->nviews == 0)
		return implicit_view(p);
	for (size_t i = 0; i < c->nviews; i++)
		if (resolve_view(p, &c->views[i], &p->vsrc[i]) != 0)
			return ERR_INVAL;
	return 0;
}

/* --- defaults and entry points ----------------------------------------- */

/* The folder of path, absolute when it can be made so. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX], *dir, *abs;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	abs = realpath(dir, NULL);
	if (abs != NULL) {
		free(dir);
		return abs;
	}
	if (dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return dir;
	abs = strcmp(dir, ".") == 0 ? xstrdup(cwd) :
	    xstrfmt("%s/%s", cwd, dir);
	free(dir);
	return abs;
}

static struct conf *
conf_new(const char *path)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	struct conf_server *s = &c->server;
	char host[256];

	c->path = xstrdup(path);
	c->dir = dir_of(path);
	s->workers = 1;
	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "arcdns");
	host[sizeof(host) - 1] = '\0';
	s->identity = xstrdup(host);
	s->version = xstrdup(PACKAGE_NAME " " PACKAGE_VERSION);
	s->state_dir = xstrdup(CONF_DEFAULT_STATE_DIR);
	s->edns_size = CONF_DEFAULT_EDNS_SIZE;
	s->tcp_idle_ms = CONF_DEFAULT_TCP_IDLE_MS;
	s->tcp_max_conn = CONF_DEFAULT_TCP_MAX_CONN;
	s->log_level = LOG_LEVEL_INFO;
	s->log_format = LOG_FORMAT_TEXT;
	s->log_target = LOG_TARGET_STDERR;
	return c;
}

static void
default_listen(struct conf_server *s)
{
	static const char *const addrs[] = {"0.0.0.0", "::"};

	s->listen = xcalloc(2, sizeof(*s->listen));
	for (size_t i = 0; i < 2; i++)
		if (netaddr_parse(addrs[i], CONF_DEFAULT_PORT,
		    &s->listen[i]) != 0)
			abort();	/* constant input */
	s->nlisten = 2;
}

static int
from_tree(const struct ytree *t, void *out, char **errmsg)
{
	struct parser p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.ys.name = ytree_name(t);
	p.conf = conf_new(p.ys.name);
	ret = ys_root(&p.ys, t, "a mapping with at least a 'zones' section",
	    &p.root);
	if (ret == 0)
		ret = ys_walk(&p.ys, p.root, NULL, top_keys, later_top, NULL);
	if (ret == 0)
		ret = validate(&p);
	if (ret == 0) {
		if (!p.listen_set)
			default_listen(&p.conf->server);
		if (p.conf->server.workers == 0)
			p.conf->server.workers = cpu_count();
	}
	free(p.zsrc);
	free(p.vsrc);
	if (ret != 0) {
		conf_free(p.conf);
		*errmsg = p.ys.err;
		return ret;
	}
	*(struct conf **)out = p.conf;
	return 0;
}

int
conf_load(const char *path, struct conf **out, char **errmsg)
{
	return ys_load(path, from_tree, out, errmsg);
}

int
conf_load_string(const char *name, const char *text, size_t len,
    struct conf **out, char **errmsg)
{
	return ys_load_string(name, text, len, from_tree, out, errmsg);
}

void
conf_free(struct conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->server.listen);
	free(conf->server.identity);
	free(conf->server.version);
	free(conf->server.state_dir);
	free(conf->server.user);
	free(conf->server.pid_file);
	for (size_t i = 0; i < conf->nzones; i++) {
		free(conf->zones[i].id);
		free(conf->zones[i].origin);
		free(conf->zones[i].file);
	}
	free(conf->zones);
	for (size_t i = 0; i < conf->nviews; i++) {
		free(conf->views[i].name);
		free(conf->views[i].match);
		free(conf->views[i].zones);
	}
	free(conf->views);
	free(conf->path);
	free(conf->dir);
	free(conf);
}

int
conf_parse_duration(const char *s, uint64_t *ms)
{
	return ys_parse_duration(s, ms);
}

static bool
same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

const char *
conf_restart_diff(const struct conf *old, const struct conf *new)
{
	const struct conf_server *a = &old->server, *b = &new->server;

	if (a->nlisten != b->nlisten)
		return "server.listen";
	for (size_t i = 0; i < a->nlisten; i++)
		if (a->listen[i].len != b->listen[i].len ||
		    memcmp(&a->listen[i].ss, &b->listen[i].ss,
		    a->listen[i].len) != 0)
			return "server.listen";
	if (a->workers != b->workers)
		return "server.workers";
	if (!same_string(a->user, b->user))
		return "server.user";
	if (a->tcp_idle_ms != b->tcp_idle_ms)
		return "server.tcp-idle-timeout";
	if (a->tcp_max_conn != b->tcp_max_conn)
		return "server.tcp-max-connections";
	return NULL;
}
