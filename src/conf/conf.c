#include "conf/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/yamltree.h"
#include "conf/yschema.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/fs.h"
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
	const struct ynode	*key;		/* the value of 'tsig-key' */
};

/* A target's control, named before controls: may have been read. */
struct control_ref {
	struct conf_target	*target;
	const struct ynode	*name;
};

struct view_src {
	const struct ynode	*name;
	const struct ynode	*zones;		/* a sequence of ids */
};

/* A record's fence, named before fences: may have been read. */
struct fence_ref {
	struct conf_record	*record;
	const struct ynode	*name;
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
	const struct ynode	*controls_key;	/* 'controls', if present */
	struct control_ref	*refs;		/* resolved in validate() */
	size_t			nrefs;
	size_t			refs_cap;
	struct fence_ref	*frefs;		/* resolved in validate() */
	size_t			nfrefs;
};

/* A key this version rejects because a later issue defines it. */
static const char *const later_top[] = {NULL};
static const char *const later_server[] = {NULL};
static const char *const later_record[] = {NULL};

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

/*
 * An AWS region name: lower-case letter groups joined by '-', ending in
 * a number ("us-east-1", "us-gov-west-1", "ap-southeast-2").
 */
static bool
region_ok(const char *s)
{
	size_t groups = 0, len = strlen(s);
	const char *g = s;

	if (len == 0 || len > CONF_MAX_REGION)
		return false;
	for (;;) {
		const char *end = strchr(g, '-');
		size_t n = end != NULL ? (size_t)(end - g) : strlen(g);
		bool last = end == NULL;

		if (n == 0)
			return false;
		for (size_t i = 0; i < n; i++) {
			char ch = g[i];

			if (last ? !(ch >= '0' && ch <= '9') :
			    !(ch >= 'a' && ch <= 'z'))
				return false;
		}
		groups++;
		if (last)
			break;
		g = end + 1;
	}
	return groups >= 3;
}

/* An AWS region name (region_ok) into *field (new). */
static int
get_region(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    char **field)
{
	const char *s;
	char buf[80];

	if (ys_get_string(ys, k, v, CONF_MAX_REGION, &s) != 0)
		return ERR_INVAL;
	if (!region_ok(s))
		return ys_fail(ys, v, "invalid region '%s' (expected a "
		    "region name such as us-east-1)",
		    ys_shown(v, buf, sizeof(buf)));
	free(*field);
	*field = xstrdup(s);
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
 * A domain name in text to uncompressed wire in out (DNAME_MAXLEN bytes),
 * letter case kept. Labels hold letters, digits, '-' and '_' (no escapes:
 * nothing a config needs). With origin (wire), names are read as in a zone
 * file: "@" is the origin, a name ending in '.' is absolute, any other is
 * relative to the origin; without, every name is absolute. Returns the
 * length, or 0 with *why set.
 */
static size_t
name_wire(const char *in, const uint8_t *origin, uint8_t *out,
    const char **why)
{
	size_t len = strlen(in), off = 1, lstart = 0, olen;
	bool absolute = origin == NULL;

	if (origin != NULL && strcmp(in, "@") == 0) {
		olen = dname_len(origin);
		memcpy(out, origin, olen);
		return olen;
	}
	if (strcmp(in, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	if (len > 0 && in[len - 1] == '.') {
		len--;
		absolute = true;
	}
	if (len == 0) {
		*why = "empty name";
		return 0;
	}
	out[0] = 0;
	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? in[i] : '.';

		if (ch == '.') {
			if (off - lstart - 1 == 0) {
				*why = "empty label";
				return 0;
			}
			out[lstart] = (uint8_t)(off - lstart - 1);
			lstart = off;
			out[off++] = 0;		/* the next label or the root */
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
			*why = "only letters, digits, '-' and '_' are allowed "
			    "in labels";
			return 0;
		}
		if (off - lstart - 1 >= DNAME_MAXLABEL) {
			*why = "label longer than 63 characters";
			return 0;
		}
		if (off >= DNAME_MAXLEN - 1)
			goto toolong;
		out[off++] = (uint8_t)ch;
	}
	if (!absolute) {
		olen = dname_len(origin);
		if (off - 1 + olen > DNAME_MAXLEN)
			goto toolong;
		memcpy(out + off - 1, origin, olen);
		off += olen - 1;
	}
	return off;
toolong:
	*why = "name longer than 255 bytes";
	return 0;
}

/*
 * The origin of a zone block: an absolute domain name. A missing final
 * dot is added (zone names in BIND, NSD and Knot configs do without), and
 * the result is lower case. Returns NULL and sets *why on error.
 */
static char *
normalise_origin(const char *in, const char **why)
{
	uint8_t wire[DNAME_MAXLEN];
	size_t len = strlen(in);
	char *out;

	if (name_wire(in, NULL, wire, why) == 0)
		return NULL;
	if (strcmp(in, ".") == 0)
		return xstrdup(".");
	if (in[len - 1] == '.')
		len--;
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

/*
 * A list of addresses with optional ports (listen, notify): one string
 * stands for a list of one; port 0 and the same address twice are errors.
 * *out is replaced by a new array.
 */
static int
get_addrs(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    struct netaddr **out, size_t *nout)
{
	const struct ynode *const *items;
	char buf[80], fmt[64];
	size_t n;

	if (ys_get_list(ys, k, v, true, &items, &n) != 0)
		return ERR_INVAL;
	free(*out);
	*out = xcalloc(n, sizeof(**out));
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = ys_list_item(v, items, i);
		struct netaddr a;
		const struct sockaddr_in *sin = (const void *)&a.ss;

		if (netaddr_parse(it->str, CONF_DEFAULT_PORT, &a) != 0)
			return ys_fail(ys, it, "invalid %s address '%s' "
			    "(expected an IP address with an optional port: "
			    "127.0.0.1, 127.0.0.1:5300 or [::1]:5300)",
			    k->str, ys_shown(it, buf, sizeof(buf)));
		/* sin_port and sin6_port sit at the same offset. */
		if (sin->sin_port == 0)
			return ys_fail(ys, it, "%s address '%s' has port 0",
			    k->str, ys_shown(it, buf, sizeof(buf)));
		for (size_t j = 0; j < *nout; j++) {
			if ((*out)[j].len == a.len &&
			    memcmp(&(*out)[j].ss, &a.ss, a.len) == 0) {
				netaddr_format(&a, fmt, sizeof(fmt));
				return ys_fail(ys, it,
				    "duplicate %s address '%s'", k->str, fmt);
			}
		}
		(*out)[(*nout)++] = a;
	}
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

/*
 * A list of client prefixes (match-clients, allow-transfer,
 * chaos-clients): CIDRs, bare addresses or "any"; one string stands for a
 * list of one. *out is replaced by a new array.
 */
static int
get_prefixes(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    struct netprefix **out, size_t *nout)
{
	const struct ynode *const *items;
	char buf[80], hint[80];
	size_t n;
	int ret;

	if (ys_get_list(ys, k, v, true, &items, &n) != 0)
		return ERR_INVAL;
	free(*out);
	*out = xcalloc(n, sizeof(**out));
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = ys_list_item(v, items, i);

		ret = netprefix_parse(it->str, &(*out)[i]);
		if (ret == ERR_INVAL) {
			suggest_network(it->str, hint, sizeof(hint));
			return ys_fail(ys, it, "host bits set in '%s'%s",
			    ys_shown(it, buf, sizeof(buf)), hint);
		}
		if (ret != 0)
			return ys_fail(ys, it, "invalid address or prefix '%s' "
			    "in '%s' (expected 10.0.0.0/16, ::1, "
			    "2001:db8::/32 or any)",
			    ys_shown(it, buf, sizeof(buf)), k->str);
		(*nout)++;
	}
	return 0;
}

static int
srv_listen(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_server *s = obj;

	if (get_addrs(ys, k, v, &s->listen, &s->nlisten) != 0)
		return ERR_INVAL;
	parser_of(ys)->listen_set = true;
	return 0;
}

static int
srv_chaos_clients(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct conf_server *s = obj;

	return get_prefixes(ys, k, v, &s->chaos_clients, &s->nchaos_clients);
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

static int
srv_http(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_server *s = obj;
	const char *str;
	char buf[64];

	if (ys_get_string(ys, k, v, 255, &str) != 0)
		return ERR_INVAL;
	if (netaddr_parse(str, CONF_DEFAULT_HTTP_PORT, &s->http) != 0)
		return ys_fail(ys, v, "invalid address '%s' in 'http' "
		    "(expected 127.0.0.1:8053 or [::1]:8053)",
		    ys_shown(v, buf, sizeof(buf)));
	s->has_http = true;
	return 0;
}

static int
srv_control(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_server *s = obj;
	struct parser *p = parser_of(ys);

	if (set_path(p, k, v, &s->control) != 0)
		return ERR_INVAL;
	if (strlen(s->control) > CONF_MAX_CONTROL_PATH)
		return ys_fail(ys, v, "'control': the socket path %s is longer "
		    "than %d bytes", s->control, CONF_MAX_CONTROL_PATH);
	return 0;
}

static int
srv_control_group(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	return set_string(ys, k, v, 255,
	    &((struct conf_server *)obj)->control_group);
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
	{"chaos-clients", srv_chaos_clients},
	{"http", srv_http},
	{"control", srv_control},
	{"control-group", srv_control_group},
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
	const struct ynode	*records;	/* read once origin is known */
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

static int
zone_notify(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_zone *z = ((struct zone_ctx *)obj)->z;

	return get_addrs(ys, k, v, &z->notify, &z->nnotify);
}

static int
zone_allow_transfer(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct conf_zone *z = ((struct zone_ctx *)obj)->z;

	return get_prefixes(ys, k, v, &z->allow_transfer,
	    &z->nallow_transfer);
}

static int
zone_tsig_key(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct zone_ctx *zc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, DNAME_MAXLEN, &s) != 0)
		return ERR_INVAL;
	zc->src->key = v;	/* resolved in validate() */
	return 0;
}

static int
zone_records(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct zone_ctx *zc = obj;

	if (ynode_is_null(v))
		return ys_fail(ys, k, "'records' has no value");
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'records' must be a list of records");
	zc->records = v;	/* the origin may come later in the block */
	return 0;
}

static const struct ys_key zone_keys[] = {
	{"id", zone_id},
	{"origin", zone_origin},
	{"file", zone_file},
	{"ttl", zone_ttl},
	{"notify", zone_notify},
	{"allow-transfer", zone_allow_transfer},
	{"tsig-key", zone_tsig_key},
	{"records", zone_records},
	{NULL, NULL}
};

/* --- records: ARC-driven names ----------------------------------------- */

#define MAX_TARGETS	16
#define MAX_VALUES	64

/* One record being read: its parts may come in any order. */
struct record_ctx {
	struct conf_record	*r;
	const struct ynode	*name;
	const struct ynode	*type;
	const struct ynode	*policy;
	const struct ynode	*targets;
	const struct ynode	*fence;
};

static const struct {
	const char	*name;
	uint16_t	type;
} rr_types[] = {
	{"A", 1}, {"AAAA", 28}, {"CNAME", 5}, {"TXT", 16},
};

static const char *
type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(rr_types) / sizeof(rr_types[0]); i++)
		if (rr_types[i].type == type)
			return rr_types[i].name;
	return "?";
}

static int
rec_name(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct record_ctx *rc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, 2 * DNAME_MAXLEN, &s) != 0)
		return ERR_INVAL;
	rc->r->name = xstrdup(s);
	rc->name = v;
	return 0;
}

static int
rec_type(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct record_ctx *rc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, 16, &s) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < sizeof(rr_types) / sizeof(rr_types[0]); i++) {
		if (strcasecmp(s, rr_types[i].name) == 0) {
			rc->r->type = rr_types[i].type;
			rc->type = v;
			return 0;
		}
	}
	return ys_fail(ys, v, "'type' must be A, AAAA, CNAME or TXT");
}

static int
rec_policy(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	static const char *const names[] = {"failover", "multivalue", "role"};
	struct record_ctx *rc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, 32, &s) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			rc->r->policy = (enum conf_policy)i;
			rc->policy = v;
			return 0;
		}
	}
	return ys_fail(ys, v, "'policy' must be failover, multivalue or role");
}

static int
rec_none_on(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	static const char *const names[] = {"first", "servfail", "nodata"};
	struct record_ctx *rc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, 32, &s) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			rc->r->none_on = (enum conf_none_on)i;
			return 0;
		}
	}
	return ys_fail(ys, v, "'when-none-on' must be first, servfail or "
	    "nodata");
}

static int
rec_targets(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct record_ctx *rc = obj;

	if (ynode_is_null(v))
		return ys_fail(ys, k, "'targets' has no value");
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'targets' must be a list of "
		    "{ control, region, values } mappings");
	if (v->nitems == 0 || v->nitems > MAX_TARGETS)
		return ys_fail(ys, v, "'targets' must list 1 to %d targets, "
		    "not %zu", MAX_TARGETS, v->nitems);
	rc->targets = v;	/* read once type and policy are known */
	return 0;
}

static int
rec_fence(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct record_ctx *rc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, MAX_NAME, &s) != 0)
		return ERR_INVAL;
	rc->r->fence = xstrdup(s);
	rc->fence = v;		/* resolved in validate() */
	return 0;
}

static const struct ys_key record_keys[] = {
	{"name", rec_name},
	{"fence", rec_fence},
	{"type", rec_type},
	{"policy", rec_policy},
	{"when-none-on", rec_none_on},
	{"targets", rec_targets},
	{NULL, NULL}
};

/* One target being read. */
struct target_ctx {
	struct conf_target	*t;
	const struct ynode	*control;
	const struct ynode	*region;
	const struct ynode	*values;
	const struct ynode *const *items;	/* ys_get_list() of values */
	size_t			nitems;
};

static int
tgt_control(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct target_ctx *tc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, MAX_NAME, &s) != 0)
		return ERR_INVAL;
	tc->control = v;	/* resolved in validate() */
	return 0;
}

static int
tgt_region(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct target_ctx *tc = obj;

	if (get_region(ys, k, v, &tc->t->region) != 0)
		return ERR_INVAL;
	tc->region = v;
	return 0;
}

static int
tgt_values(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct target_ctx *tc = obj;

	if (ys_get_list(ys, k, v, true, &tc->items, &tc->nitems) != 0)
		return ERR_INVAL;
	if (tc->nitems > MAX_VALUES)
		return ys_fail(ys, v, "'values' must list 1 to %d values, "
		    "not %zu", MAX_VALUES, tc->nitems);
	tc->values = v;		/* read once the type is known */
	return 0;
}

static const struct ys_key target_keys[] = {
	{"control", tgt_control},
	{"region", tgt_region},
	{"values", tgt_values},
	{NULL, NULL}
};

/* One value of a target: an address, or a name completed with origin. */
static int
parse_value(struct parser *p, const struct conf_record *r,
    const uint8_t *origin, const struct ynode *it, struct conf_rdata *out)
{
	uint8_t buf[DNAME_MAXLEN];
	char shown[80];
	const char *why = NULL;
	size_t len;

	switch (r->type) {
	case 1:
	case 28:
		len = r->type == 1 ? 4 : 16;
		if (inet_pton(r->type == 1 ? AF_INET : AF_INET6, it->str,
		    buf) != 1)
			return ys_fail(&p->ys, it, "invalid IPv%d address '%s' "
			    "in 'values'", r->type == 1 ? 4 : 6,
			    ys_shown(it, shown, sizeof(shown)));
		break;
	default:	/* CNAME */
		len = name_wire(it->str, origin, buf, &why);
		if (len == 0)
			return ys_fail(&p->ys, it, "invalid domain name '%s' "
			    "in 'values': %s",
			    ys_shown(it, shown, sizeof(shown)), why);
		break;
	}
	out->len = (uint16_t)len;
	out->data = xmalloc(len);
	memcpy(out->data, buf, len);
	return 0;
}

static void
add_control_ref(struct parser *p, struct conf_target *t,
    const struct ynode *name)
{
	if (p->nrefs == p->refs_cap) {
		p->refs_cap = p->refs_cap ? 2 * p->refs_cap : 16;
		p->refs = xrealloc(p->refs, p->refs_cap, sizeof(*p->refs));
	}
	p->refs[p->nrefs].target = t;
	p->refs[p->nrefs].name = name;
	p->nrefs++;
}

/* The values of a target, or their absence for role. */
static int
target_values(struct parser *p, const struct conf_record *r,
    const uint8_t *origin, struct target_ctx *tc)
{
	const struct ynode *v = tc->values;
	size_t n = tc->nitems;

	if (r->policy == CONF_POLICY_ROLE) {
		if (v != NULL)
			return ys_fail(&p->ys, v, "a role target has no "
			    "'values' (it answers \"active\" or "
			    "\"passive\")");
		return 0;
	}
	if (r->type == 5 && n != 1)
		return ys_fail(&p->ys, v, "a CNAME target has exactly one "
		    "value, not %zu", n);
	tc->t->values = xcalloc(n, sizeof(*tc->t->values));
	for (size_t i = 0; i < n; i++) {
		if (parse_value(p, r, origin, ys_list_item(v, tc->items, i),
		    &tc->t->values[i]) != 0)
			return ERR_INVAL;
		tc->t->nvalues++;
	}
	return 0;
}

static int
parse_target(struct parser *p, struct conf_record *r, const uint8_t *origin,
    const struct ynode *v)
{
	struct target_ctx tc;
	char buf[80];

	if (v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, v, "each entry of 'targets' must be a "
		    "mapping with 'control'");
	memset(&tc, 0, sizeof(tc));
	tc.t = &r->targets[r->ntargets++];	/* conf_free() sees it */
	tc.t->line = v->line;
	tc.t->column = v->column;
	if (ys_walk(&p->ys, v, "targets", target_keys, NULL, &tc) != 0)
		return ERR_INVAL;
	if (tc.control == NULL)
		return ys_fail(&p->ys, v, "target has no 'control'");
	add_control_ref(p, tc.t, tc.control);
	if (r->policy == CONF_POLICY_ROLE && tc.region == NULL)
		return ys_fail(&p->ys, v, "a role target needs a 'region'");
	if (tc.values == NULL && r->policy != CONF_POLICY_ROLE)
		return ys_fail(&p->ys, v, "target has no 'values'");
	if (target_values(p, r, origin, &tc) != 0)
		return ERR_INVAL;
	for (size_t i = 0; r->policy == CONF_POLICY_ROLE &&
	    i + 1 < r->ntargets; i++)
		if (strcmp(r->targets[i].region, tc.t->region) == 0)
			return ys_fail(&p->ys, tc.region, "duplicate region "
			    "'%s' in role record '%s' (first at line %d)",
			    ys_shown(tc.region, buf, sizeof(buf)), r->name,
			    r->targets[i].line);
	return 0;
}

size_t
conf_role_owner(const struct conf_record *r, size_t t, uint8_t *out)
{
	const char *region = r->targets[t].region;
	size_t rl = region != NULL ? strlen(region) : 0;
	size_t ol = dname_len(r->owner);

	if (rl == 0 || rl > DNAME_MAXLABEL || 1 + rl + ol > DNAME_MAXLEN)
		return 0;
	out[0] = (uint8_t)rl;
	memcpy(out + 1, region, rl);
	memcpy(out + 1 + rl, r->owner, ol);
	return 1 + rl + ol;
}

/* The kind, policy and targets a record's type needs. */
static int
check_record_type(struct parser *p, const struct ynode *node,
    struct record_ctx *rc)
{
	struct conf_record *r = rc->r;
	char buf[80];

	if (rc->policy == NULL)
		return ys_fail(&p->ys, node, "record '%s' has no 'policy'",
		    ys_shown(rc->name, buf, sizeof(buf)));
	if (r->policy == CONF_POLICY_ROLE) {
		if (rc->type == NULL)
			r->type = 16;
		else if (r->type != 16)
			return ys_fail(&p->ys, rc->type, "a role record has "
			    "type TXT, not %s", type_name(r->type));
	} else if (rc->type == NULL) {
		return ys_fail(&p->ys, node, "record '%s' has no 'type'",
		    ys_shown(rc->name, buf, sizeof(buf)));
	} else if (r->type == 16) {
		return ys_fail(&p->ys, rc->type, "type TXT is only for "
		    "policy role");
	} else if (r->type == 5 && r->policy == CONF_POLICY_MULTIVALUE) {
		return ys_fail(&p->ys, rc->policy, "a CNAME record cannot be "
		    "multivalue (a name has at most one CNAME)");
	}
	if (rc->targets == NULL)
		return ys_fail(&p->ys, node, "record '%s' has no 'targets'",
		    ys_shown(rc->name, buf, sizeof(buf)));
	return 0;
}

static int
parse_record(struct parser *p, struct conf_zone *z, const uint8_t *origin,
    const struct ynode *node, struct record_ctx *rc)
{
	struct conf_record *r = rc->r;
	uint8_t wire[DNAME_MAXLEN];
	const char *why = NULL;
	char buf[80];
	size_t len;

	if (node->type != YNODE_MAPPING)
		return ys_fail(&p->ys, node, "each entry of 'records' must be a "
		    "mapping with 'name', 'policy' and 'targets'");
	r->line = node->line;
	r->column = node->column;
	r->fence_index = -1;
	if (ys_walk(&p->ys, node, "records", record_keys, later_record,
	    rc) != 0)
		return ERR_INVAL;
	if (rc->fence != NULL && (rc->policy == NULL ||
	    r->policy != CONF_POLICY_FAILOVER))
		return ys_fail(&p->ys, rc->fence, "'fence' is for failover "
		    "records (a writer endpoint has one target at a time)");
	if (rc->fence != NULL) {
		p->frefs = xrealloc(p->frefs, p->nfrefs + 1,
		    sizeof(*p->frefs));
		p->frefs[p->nfrefs++] = (struct fence_ref){r, rc->fence};
	}
	if (rc->name == NULL)
		return ys_fail(&p->ys, node, "record has no 'name'");
	if (check_record_type(p, node, rc) != 0)
		return ERR_INVAL;
	len = name_wire(r->name, origin, wire, &why);
	if (len == 0)
		return ys_fail(&p->ys, rc->name, "invalid record name '%s': %s",
		    ys_shown(rc->name, buf, sizeof(buf)), why);
	dname_lower(wire, wire, len);
	if (!dname_is_subdomain(wire, origin))
		return ys_fail(&p->ys, rc->name, "record name '%s' is outside "
		    "the zone's origin '%s'",
		    ys_shown(rc->name, buf, sizeof(buf)), z->origin);
	r->owner = xmalloc(len);
	memcpy(r->owner, wire, len);
	r->targets = xcalloc(rc->targets->nitems, sizeof(*r->targets));
	for (size_t i = 0; i < rc->targets->nitems; i++) {
		if (parse_target(p, r, origin, rc->targets->items[i]) != 0)
			return ERR_INVAL;
		if (r->policy == CONF_POLICY_ROLE &&
		    conf_role_owner(r, i, wire) == 0)
			return ys_fail(&p->ys, rc->targets->items[i], "the "
			    "role name '%s.%s' is longer than 255 bytes",
			    r->targets[i].region, r->name);
	}
	return 0;
}

/*
 * Whether record a (being added) clashes with an earlier record b of the
 * same block: the same name and type, or a CNAME beside anything at its
 * name. Returns NULL, or what is wrong.
 */
static const char *
record_clash(const struct conf_record *a, const struct conf_record *b)
{
	const struct conf_record *cname, *other;
	uint8_t role[DNAME_MAXLEN];

	if (dname_equal(a->owner, b->owner)) {
		if (a->type == b->type)
			return "duplicate";
		if ((a->type == 5 || b->type == 5) &&
		    a->policy != CONF_POLICY_ROLE &&
		    b->policy != CONF_POLICY_ROLE)
			return "cname";
	}
	if (a->type == 5 && b->policy == CONF_POLICY_ROLE) {
		cname = a;
		other = b;
	} else if (b->type == 5 && a->policy == CONF_POLICY_ROLE) {
		cname = b;
		other = a;
	} else
		return NULL;
	for (size_t t = 0; t < other->ntargets; t++)
		if (conf_role_owner(other, t, role) != 0 &&
		    dname_equal(role, cname->owner))
			return "role";
	return NULL;
}

static int
check_clashes(struct parser *p, const struct conf_zone *z,
    const struct ynode *name)
{
	const struct conf_record *a = &z->records[z->nrecords - 1];
	char shown[80], text[DNAME_MAXLEN * 4 + 1];

	for (size_t i = 0; i + 1 < z->nrecords; i++) {
		const struct conf_record *b = &z->records[i];
		const char *what = record_clash(a, b);

		if (what == NULL)
			continue;
		if (strcmp(what, "duplicate") == 0)
			return ys_fail(&p->ys, name, "duplicate record '%s' "
			    "type %s (first at line %d)",
			    ys_shown(name, shown, sizeof(shown)),
			    type_name(a->type), b->line);
		dname_to_str(a->type == 5 ? a->owner : b->owner, text,
		    sizeof(text));
		if (strcmp(what, "cname") == 0)
			return ys_fail(&p->ys, name, "a CNAME must be alone at "
			    "its name: '%s' also has the record at line %d",
			    text, b->line);
		return ys_fail(&p->ys, name, "a CNAME must be alone at its "
		    "name: '%s' is also a role name of the record at line %d",
		    text, b->line);
	}
	return 0;
}

static int
parse_records(struct parser *p, struct zone_ctx *zc)
{
	const struct ynode *v = zc->records;
	struct conf_zone *z = zc->z;
	uint8_t origin[DNAME_MAXLEN];
	size_t olen;

	if (dname_from_str(z->origin, NULL, origin, &olen) != 0)
		abort();	/* normalise_origin() checked it */
	z->records = xcalloc(v->nitems ? v->nitems : 1, sizeof(*z->records));
	for (size_t i = 0; i < v->nitems; i++) {
		struct record_ctx rc;

		memset(&rc, 0, sizeof(rc));
		rc.r = &z->records[z->nrecords++];	/* conf_free() sees it */
		if (parse_record(p, z, origin, v->items[i], &rc) != 0 ||
		    check_clashes(p, z, rc.name) != 0)
			return ERR_INVAL;
	}
	return 0;
}


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
	zc.records = NULL;
	memset(zc.z, 0, sizeof(*zc.z));
	memset(zc.src, 0, sizeof(*zc.src));
	zc.z->ttl = CONF_DEFAULT_ZONE_TTL;
	zc.z->key = -1;
	zc.z->line = v->line;
	zc.z->column = v->column;
	/* Count the block now so that conf_free() sees what it holds. */
	c->nzones++;
	if (ys_walk(&p->ys, v, "zones", zone_keys, NULL, &zc) != 0)
		return ERR_INVAL;
	if (zc.z->id == NULL)
		return ys_fail(&p->ys, v, "zone block has no 'id'");
	if (zc.z->origin == NULL)
		return ys_fail(&p->ys, v, "zone '%s' has no 'origin'",
		    ys_shown(zc.src->id, buf, sizeof(buf)));
	if (zc.z->file == NULL)
		return ys_fail(&p->ys, v, "zone '%s' has no 'file'",
		    ys_shown(zc.src->id, buf, sizeof(buf)));
	return zc.records != NULL ? parse_records(p, &zc) : 0;
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

static int
view_match(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_view *view = ((struct view_ctx *)obj)->v;

	return get_prefixes(ys, k, v, &view->match, &view->nmatch);
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

/* --- arc: and controls: ------------------------------------------------- */

/*
 * The ARC cluster. Durations are checked one by one here and against each
 * other in check_arc(), once the whole section is read, so that the keys
 * may come in any order. Where a value came from is kept for messages.
 */
struct arc_ctx {
	struct conf_arc		*arc;
	const struct ynode	*endpoints;	/* the value of 'endpoints' */
	const struct ynode	*connect;	/* values, NULL when left out */
	const struct ynode	*hedge;
	const struct ynode	*stale;
	const struct ynode	*profile;
};

/* An ARN as the ARC model has it: 1..255 of [A-Za-z0-9:./_-]. */
static int
check_arn(struct parser *p, const struct ynode *k, const struct ynode *v,
    const char **out)
{
	char buf[80];

	if (ys_get_string(&p->ys, k, v, CONF_MAX_ARN, out) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < v->len; i++) {
		char ch = v->str[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == ':' || ch == '.' ||
		    ch == '/' || ch == '_' || ch == '-'))
			return ys_fail(&p->ys, v, "invalid ARN '%s' in '%s' "
			    "(only letters, digits and ':./_-' are allowed)",
			    ys_shown(v, buf, sizeof(buf)), k->str);
	}
	return 0;
}

/* True for localhost, 127.0.0.0/8 and ::1 (host as in the URL). */
static bool
host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(host);

	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (len > 2 && len < sizeof(buf) && host[0] == '[' &&
	    host[len - 1] == ']') {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return false;
}

/*
 * An endpoint URL: "https://host[:port][/path]", or "http://" with a
 * loopback host. The host is a name, an IPv4 address or an IPv6 address
 * in brackets. The URL is otherwise kept verbatim (spec section 2).
 * Returns NULL, or why it is refused.
 */
static const char *
check_url(const char *url)
{
	const char *rest, *end, *colon;
	char host[256];
	size_t hl;
	bool plain;

	if (strncmp(url, "https://", 8) == 0) {
		rest = url + 8;
		plain = false;
	} else if (strncmp(url, "http://", 7) == 0) {
		rest = url + 7;
		plain = true;
	} else
		return "must start with https:// (or http:// on loopback)";
	for (const char *c = url; *c != '\0'; c++)
		if (*c == ' ' || *c == '?' || *c == '#' || *c == '\\')
			return "must not contain spaces, '\\', a query or a "
			    "fragment";
	end = rest + strcspn(rest, "/");
	if (memchr(rest, '@', (size_t)(end - rest)) != NULL)
		return "must not contain a user name or password";
	if (rest[0] == '[') {
		const char *rb = memchr(rest, ']', (size_t)(end - rest));

		if (rb == NULL)
			return "has an unterminated '[' in its host";
		colon = rb + 1 < end ? rb + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return "has no valid host";
		hl = (size_t)(rb + 1 - rest);
	} else {
		colon = memchr(rest, ':', (size_t)(end - rest));
		hl = (size_t)((colon != NULL ? colon : end) - rest);
	}
	if (hl == 0 || hl >= sizeof(host))
		return "has no valid host";
	memcpy(host, rest, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		struct in6_addr a6;
		char inner[sizeof(host)];

		memcpy(inner, host + 1, hl - 2);
		inner[hl - 2] = '\0';
		if (inet_pton(AF_INET6, inner, &a6) != 1)
			return "has no valid host";
	} else {
		for (size_t i = 0; i < hl; i++) {
			char ch = host[i];

			if (!((ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' ||
			    ch == '.' || ch == '_'))
				return "has no valid host";
		}
	}
	if (colon != NULL) {
		long port = 0;
		const char *d = colon + 1;

		if (d == end)
			return "has an empty port";
		for (; d < end; d++) {
			if (*d < '0' || *d > '9' || port > 65535)
				return "has an invalid port";
			port = port * 10 + (*d - '0');
		}
		if (port < 1 || port > 65535)
			return "has an invalid port";
	}
	if (plain && !host_is_loopback(host))
		return "uses plain http:// on a host that is not loopback "
		    "(127.0.0.0/8, ::1, localhost); use https://";
	return NULL;
}

/* One endpoint being parsed. */
struct endpoint_ctx {
	struct conf_arc_endpoint *ep;
	const struct ynode	*region;
	const struct ynode	*url;
};

static int
ep_region(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct endpoint_ctx *ec = obj;

	if (get_region(ys, k, v, &ec->ep->region) != 0)
		return ERR_INVAL;
	ec->region = v;
	return 0;
}

static int
ep_url(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct endpoint_ctx *ec = obj;
	const char *s, *why;
	char buf[80];

	if (ys_get_string(ys, k, v, CONF_MAX_URL, &s) != 0)
		return ERR_INVAL;
	why = check_url(s);
	if (why != NULL)
		return ys_fail(ys, v, "endpoint url '%s' %s",
		    ys_shown(v, buf, sizeof(buf)), why);
	ec->ep->url = xstrdup(s);
	ec->url = v;
	return 0;
}

static const struct ys_key endpoint_keys[] = {
	{"region", ep_region},
	{"url", ep_url},
	{NULL, NULL}
};

static int
arc_endpoints(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct arc_ctx *ac = obj;
	struct conf_arc *arc = ac->arc;
	char buf[80];

	if (ynode_is_null(v))
		return ys_fail(ys, k, "'endpoints' has no value");
	if (v->type != YNODE_SEQUENCE)
		return ys_fail(ys, v, "'endpoints' must be a list of "
		    "{ region, url } mappings");
	if (v->nitems == 0 || v->nitems > CONF_MAX_ARC_ENDPOINTS)
		return ys_fail(ys, v, "'endpoints' must list 1 to %d "
		    "endpoints, not %zu", CONF_MAX_ARC_ENDPOINTS, v->nitems);
	ac->endpoints = v;
	arc->endpoints = xcalloc(v->nitems, sizeof(*arc->endpoints));
	for (size_t i = 0; i < v->nitems; i++) {
		const struct ynode *e = v->items[i];
		struct endpoint_ctx ec = {&arc->endpoints[i], NULL, NULL};

		if (e->type != YNODE_MAPPING)
			return ys_fail(ys, e, "each entry of 'endpoints' must "
			    "be a mapping with 'region' and 'url'");
		arc->nendpoints++;	/* conf_free() sees what it holds */
		if (ys_walk(ys, e, "arc.endpoints", endpoint_keys, NULL,
		    &ec) != 0)
			return ERR_INVAL;
		if (ec.region == NULL)
			return ys_fail(ys, e, "endpoint has no 'region'");
		if (ec.url == NULL)
			return ys_fail(ys, e, "endpoint '%s' has no 'url'",
			    ec.ep->region);
		for (size_t j = 0; j < i; j++) {
			const struct ynode *o = v->items[j];

			if (strcmp(arc->endpoints[j].region,
			    ec.ep->region) == 0)
				return ys_fail(ys, ec.region, "duplicate "
				    "region '%s' (first at line %d)",
				    ys_shown(ec.region, buf, sizeof(buf)),
				    o->line);
			if (strcmp(arc->endpoints[j].url, ec.ep->url) == 0)
				return ys_fail(ys, ec.url, "duplicate "
				    "endpoint url '%s' (first at line %d)",
				    ys_shown(ec.url, buf, sizeof(buf)),
				    o->line);
		}
	}
	return 0;
}

static int
arc_control_panel(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct conf_arc *arc = ((struct arc_ctx *)obj)->arc;
	const char *s;

	if (check_arn(parser_of(ys), k, v, &s) != 0)
		return ERR_INVAL;
	free(arc->control_panel);
	arc->control_panel = xstrdup(s);
	return 0;
}

static int
get_ms(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    uint64_t min, uint64_t max, uint32_t *field)
{
	uint64_t ms;

	if (ys_get_duration(ys, k, v, min, max, &ms) != 0)
		return ERR_INVAL;
	*field = (uint32_t)ms;
	return 0;
}

static int
arc_poll(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	return get_ms(ys, k, v, CONF_MIN_ARC_POLL_MS, CONF_MAX_ARC_POLL_MS,
	    &((struct arc_ctx *)obj)->arc->poll_interval_ms);
}

static int
arc_timeout(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	return get_ms(ys, k, v, 1, CONF_MAX_ARC_TIMEOUT_MS,
	    &((struct arc_ctx *)obj)->arc->timeout_ms);
}

static int
arc_connect(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct arc_ctx *ac = obj;

	ac->connect = v;
	return get_ms(ys, k, v, 1, CONF_MAX_ARC_TIMEOUT_MS,
	    &ac->arc->connect_timeout_ms);
}

static int
arc_hedge(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct arc_ctx *ac = obj;

	ac->hedge = v;
	return get_ms(ys, k, v, 0, CONF_MAX_ARC_TIMEOUT_MS,
	    &ac->arc->hedge_after_ms);
}

static int
arc_stale(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct arc_ctx *ac = obj;

	ac->stale = v;
	return get_ms(ys, k, v, CONF_MIN_ARC_POLL_MS, CONF_MAX_ARC_STALE_MS,
	    &ac->arc->stale_after_ms);
}

/*
 * The CA bundle must be a readable regular file now: a typo shows at -t
 * (and on reload), not as TLS failures on every endpoint later.
 */
static int
arc_ca_file(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct conf_arc *arc = ((struct arc_ctx *)obj)->arc;
	struct stat st;
	char buf[80];

	if (set_path(p, k, v, &arc->ca_file) != 0)
		return ERR_INVAL;
	if (stat(arc->ca_file, &st) != 0 || access(arc->ca_file, R_OK) != 0)
		return ys_fail(ys, v, "cannot read ca-file '%s': %s",
		    ys_shown(v, buf, sizeof(buf)), strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ys_fail(ys, v, "ca-file '%s' is not a regular file",
		    ys_shown(v, buf, sizeof(buf)));
	return 0;
}

static const char *const credential_sources[] = {"auto", "env", "profile",
	"container", "imds", "web-identity", NULL};

static int
arc_credentials(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct conf_arc *arc = ((struct arc_ctx *)obj)->arc;
	const char *s;

	if (ys_get_string(ys, k, v, 32, &s) != 0)
		return ERR_INVAL;
	for (size_t i = 0; credential_sources[i] != NULL; i++) {
		if (strcmp(s, credential_sources[i]) == 0) {
			free(arc->credentials);
			arc->credentials = xstrdup(s);
			return 0;
		}
	}
	return ys_fail(ys, v, "'credentials' must be one of auto, env, "
	    "profile, container, imds, web-identity");
}

static int
arc_profile(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct arc_ctx *ac = obj;

	ac->profile = v;
	if (set_string(ys, k, v, CONF_MAX_PROFILE, &ac->arc->profile) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < v->len; i++)
		if (v->str[i] == ' ' || v->str[i] == '[' || v->str[i] == ']')
			return ys_fail(ys, v, "'profile' must not contain "
			    "spaces, '[' or ']'");
	return 0;
}

static const struct ys_key arc_keys[] = {
	{"endpoints", arc_endpoints},
	{"control-panel", arc_control_panel},
	{"poll-interval", arc_poll},
	{"timeout", arc_timeout},
	{"connect-timeout", arc_connect},
	{"hedge-after", arc_hedge},
	{"stale-after", arc_stale},
	{"ca-file", arc_ca_file},
	{"credentials", arc_credentials},
	{"profile", arc_profile},
	{NULL, NULL}
};

static const char *
show_ms(uint32_t ms, char *buf, size_t size)
{
	if (ms % 3600000 == 0 && ms > 0)
		snprintf(buf, size, "%uh", (unsigned)(ms / 3600000));
	else if (ms % 60000 == 0 && ms > 0)
		snprintf(buf, size, "%um", (unsigned)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, size, "%us", (unsigned)(ms / 1000));
	else
		snprintf(buf, size, "%ums", (unsigned)ms);
	return buf;
}

/* What needs the whole arc: section: defaults that follow other values,
 * and the durations against each other. */
static int
check_arc(struct parser *p, const struct ynode *k, struct arc_ctx *ac)
{
	struct conf_arc *a = ac->arc;
	char b1[32], b2[32];

	if (ac->endpoints == NULL)
		return ys_fail(&p->ys, k, "'arc' has no 'endpoints'");
	if (ac->connect == NULL)
		a->connect_timeout_ms = a->timeout_ms;
	else if (a->connect_timeout_ms > a->timeout_ms)
		return ys_fail(&p->ys, ac->connect, "'connect-timeout' (%s) "
		    "must not be longer than 'timeout' (%s)",
		    show_ms(a->connect_timeout_ms, b1, sizeof(b1)),
		    show_ms(a->timeout_ms, b2, sizeof(b2)));
	if (ac->hedge != NULL && a->hedge_after_ms != 0 &&
	    a->hedge_after_ms >= a->timeout_ms)
		return ys_fail(&p->ys, ac->hedge, "'hedge-after' (%s) must be "
		    "shorter than 'timeout' (%s), or 0 for no hedging",
		    show_ms(a->hedge_after_ms, b1, sizeof(b1)),
		    show_ms(a->timeout_ms, b2, sizeof(b2)));
	if (ac->stale == NULL)
		a->stale_after_ms = 3 * a->poll_interval_ms + a->timeout_ms;
	else if (a->stale_after_ms <= a->poll_interval_ms)
		return ys_fail(&p->ys, ac->stale, "'stale-after' (%s) must be "
		    "longer than 'poll-interval' (%s)",
		    show_ms(a->stale_after_ms, b1, sizeof(b1)),
		    show_ms(a->poll_interval_ms, b2, sizeof(b2)));
	if (ac->profile != NULL && strcmp(a->credentials, "auto") != 0 &&
	    strcmp(a->credentials, "profile") != 0)
		return ys_fail(&p->ys, ac->profile, "'profile' needs "
		    "'credentials' auto or profile, not %s", a->credentials);
	return 0;
}

static int
top_arc(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct arc_ctx ac;
	bool empty;

	memset(&ac, 0, sizeof(ac));
	ac.arc = &p->conf->arc;
	if (check_section(p, k, v, &empty) != 0)
		return ERR_INVAL;
	p->conf->arc.enabled = true;
	if (!empty && ys_walk(ys, v, "arc", arc_keys, NULL, &ac) != 0)
		return ERR_INVAL;
	return check_arc(p, k, &ac);
}

/* One control being parsed. */
struct control_ctx {
	struct conf_control	*c;
	const struct ynode	*arn;
	const struct ynode	*name;
};

static int
ctl_arn(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct control_ctx *cc = obj;
	const char *s;

	if (check_arn(parser_of(ys), k, v, &s) != 0)
		return ERR_INVAL;
	cc->c->arn = xstrdup(s);
	cc->arn = v;
	return 0;
}

/* A RoutingControlName: 1..64 characters without white space. */
static int
ctl_name(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct control_ctx *cc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, MAX_NAME, &s) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < v->len; i++)
		if (s[i] == ' ' || s[i] == '\t')
			return ys_fail(ys, v, "'name' must not contain white "
			    "space");
	cc->c->arc_name = xstrdup(s);
	cc->name = v;
	return 0;
}

static const struct ys_key control_keys[] = {
	{"arn", ctl_arn},
	{"name", ctl_name},
	{NULL, NULL}
};

static int
parse_control(struct parser *p, const struct ynode *k, const struct ynode *v)
{
	struct conf *c = p->conf;
	struct control_ctx cc;
	char buf[80];

	if (k->len == 0)
		return ys_fail(&p->ys, k, "a control name must not be empty");
	if (k->len > MAX_NAME)
		return ys_fail(&p->ys, k, "control name '%s' must be at most "
		    "%d characters", ys_shown(k, buf, sizeof(buf)), MAX_NAME);
	if (check_name(p, k, "control name") != 0)
		return ERR_INVAL;
	if (ynode_is_null(v) || v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, ynode_is_null(v) ? k : v, "control '%s' "
		    "must be a mapping with 'arn' or 'name'",
		    ys_shown(k, buf, sizeof(buf)));
	cc.c = &c->controls[c->ncontrols++];
	cc.arn = cc.name = NULL;
	cc.c->name = xstrdup(k->str);
	cc.c->line = k->line;
	cc.c->column = k->column;
	if (ys_walk(&p->ys, v, "controls", control_keys, NULL, &cc) != 0)
		return ERR_INVAL;
	if (cc.arn != NULL && cc.name != NULL)
		return ys_fail(&p->ys, v, "control '%s' has both 'arn' and "
		    "'name' (give one)", cc.c->name);
	if (cc.arn == NULL && cc.name == NULL)
		return ys_fail(&p->ys, v, "control '%s' has neither 'arn' nor "
		    "'name'", cc.c->name);
	for (size_t i = 0; i + 1 < c->ncontrols; i++) {
		const struct conf_control *o = &c->controls[i];

		if (cc.arn != NULL && o->arn != NULL &&
		    strcmp(o->arn, cc.c->arn) == 0)
			return ys_fail(&p->ys, cc.arn, "routing control ARN "
			    "'%s' is already control '%s' (line %d)",
			    ys_shown(cc.arn, buf, sizeof(buf)), o->name,
			    o->line);
		if (cc.name != NULL && o->arc_name != NULL &&
		    strcmp(o->arc_name, cc.c->arc_name) == 0)
			return ys_fail(&p->ys, cc.name, "routing control name "
			    "'%s' is already control '%s' (line %d)",
			    ys_shown(cc.name, buf, sizeof(buf)), o->name,
			    o->line);
	}
	return 0;
}

static int
top_controls(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct conf *c = p->conf;
	bool empty;

	(void)obj;
	if (check_section(p, k, v, &empty) != 0)
		return ERR_INVAL;
	p->controls_key = k;	/* "controls need an arc: section" */
	if (empty)
		return 0;
	if (v->npairs > CONF_MAX_CONTROLS)
		return ys_fail(ys, v, "'controls' must name at most %d "
		    "controls, not %zu", CONF_MAX_CONTROLS, v->npairs);
	c->controls = xcalloc(v->npairs ? v->npairs : 1,
	    sizeof(*c->controls));
	for (size_t i = 0; i < v->npairs; i++)
		if (parse_control(p, v->pairs[i].key, v->pairs[i].value) != 0)
			return ERR_INVAL;
	return 0;
}

/* --- keys: TSIG ------------------------------------------------------- */

#define MAX_SECRET	1024	/* base64 characters: 768 bytes of key */

/*
 * Strict base64 (RFC 4648 section 4): whole quanta, '=' only as the last
 * one or two characters. On success *out is new (secret: the caller
 * wipes it before freeing).
 */
static int
base64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t *buf;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;
	bool pad = false;

	if (len == 0 || len % 4 != 0)
		return ERR_PARSE;
	buf = xmalloc(len / 4 * 3);
	for (size_t i = 0; i < len; i++) {
		const char *d = in[i] != '\0' ? strchr(alphabet, in[i]) : NULL;

		if (in[i] == '=' && i + 2 >= len) {
			pad = true;
			continue;
		}
		if (d == NULL || pad) {
			explicit_bzero(buf, len / 4 * 3);
			free(buf);
			return ERR_PARSE;
		}
		acc = (acc << 6) | (uint32_t)(d - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (uint8_t)(acc >> bits);
		}
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* One key being read. */
struct key_ctx {
	struct conf_key		*key;
	const struct ynode	*algorithm;
	const struct ynode	*secret;
};

static int
key_algorithm(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	static const char *const names[] = {"hmac-sha256", "hmac-sha384",
		"hmac-sha512", "hmac-sha1"};
	struct key_ctx *kc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, 32, &s) != 0)
		return ERR_INVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i]) == 0) {
			kc->key->algorithm = xstrdup(names[i]);
			kc->algorithm = v;
			return 0;
		}
	}
	if (strcasecmp(s, "hmac-md5") == 0)
		return ys_fail(ys, v, "'algorithm' hmac-md5 is not supported "
		    "(MD5 is broken); use hmac-sha256");
	return ys_fail(ys, v, "'algorithm' must be hmac-sha256, hmac-sha384, "
	    "hmac-sha512 or hmac-sha1");
}

/* The secret never appears in a message, not even in part. */
static int
key_secret(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct key_ctx *kc = obj;
	const char *s;

	if (ys_get_string(ys, k, v, MAX_SECRET, &s) != 0)
		return ERR_INVAL;
	if (base64_decode(s, v->len, &kc->key->secret,
	    &kc->key->secret_len) != 0)
		return ys_fail(ys, v, "'secret' of key '%s' is not valid "
		    "base64", kc->key->name);
	kc->secret = v;
	return 0;
}

static const struct ys_key key_keys[] = {
	{"algorithm", key_algorithm},
	{"secret", key_secret},
	{NULL, NULL}
};

static int
parse_key(struct parser *p, const struct ynode *k, const struct ynode *v)
{
	struct conf *c = p->conf;
	struct key_ctx kc;
	uint8_t wire[DNAME_MAXLEN];
	const char *why = NULL;
	char buf[80];
	size_t len;

	if (k->len == 0)
		return ys_fail(&p->ys, k, "a key name must not be empty");
	len = name_wire(k->str, NULL, wire, &why);
	if (len == 0)
		return ys_fail(&p->ys, k, "invalid key name '%s': %s",
		    ys_shown(k, buf, sizeof(buf)), why);
	dname_lower(wire, wire, len);
	if (ynode_is_null(v) || v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, ynode_is_null(v) ? k : v, "key '%s' "
		    "must be a mapping with 'algorithm' and 'secret'",
		    ys_shown(k, buf, sizeof(buf)));
	for (size_t i = 0; i < c->nkeys; i++)
		if (dname_equal(c->keys[i].wire, wire))
			return ys_fail(&p->ys, k, "key '%s' has the same name "
			    "as key '%s' (line %d)",
			    ys_shown(k, buf, sizeof(buf)), c->keys[i].name,
			    c->keys[i].line);
	kc.key = &c->keys[c->nkeys++];		/* conf_free() sees it */
	kc.algorithm = kc.secret = NULL;
	kc.key->name = xstrdup(k->str);
	for (char *ch = kc.key->name; *ch != '\0'; ch++)
		if (*ch >= 'A' && *ch <= 'Z')
			*ch = (char)(*ch + 32);
	kc.key->wire = xmalloc(len);
	memcpy(kc.key->wire, wire, len);
	kc.key->line = k->line;
	kc.key->column = k->column;
	if (ys_walk(&p->ys, v, "keys", key_keys, NULL, &kc) != 0)
		return ERR_INVAL;
	if (kc.algorithm == NULL)
		return ys_fail(&p->ys, v, "key '%s' has no 'algorithm'",
		    kc.key->name);
	if (kc.secret == NULL)
		return ys_fail(&p->ys, v, "key '%s' has no 'secret'",
		    kc.key->name);
	return 0;
}

static int
top_tsig_keys(struct yschema *ys, const struct ynode *k,
    const struct ynode *v, void *obj)
{
	struct parser *p = parser_of(ys);
	struct conf *c = p->conf;
	bool empty;

	(void)obj;
	if (check_section(p, k, v, &empty) != 0)
		return ERR_INVAL;
	if (empty)
		return 0;
	c->keys = xcalloc(v->npairs ? v->npairs : 1, sizeof(*c->keys));
	for (size_t i = 0; i < v->npairs; i++)
		if (parse_key(p, v->pairs[i].key, v->pairs[i].value) != 0)
			return ERR_INVAL;
	return 0;
}

/* --- fences: the single-writer invariant ------------------------------ */

#define MAX_ARGV	64
#define MAX_ENV		64

struct fence_ctx {
	struct conf_fence	*f;
	const struct ynode	*hook;
	const struct ynode	*lease;
};

/* A non-empty list of strings into a new NULL-terminated argv. */
static int
get_argv(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    char ***out)
{
	struct parser *p = parser_of(ys);
	const struct ynode *const *items;
	size_t n;
	char **argv;

	if (ynode_is_null(v) || v->type != YNODE_SEQUENCE)
		return ys_fail(ys, ynode_is_null(v) ? k : v, "'%s' must be a "
		    "list: the program and its arguments (run without a "
		    "shell)", k->str);
	if (ys_get_list(ys, k, v, false, &items, &n) != 0)
		return ERR_INVAL;
	if (n > MAX_ARGV)
		return ys_fail(ys, v, "'%s' must have at most %d items",
		    k->str, MAX_ARGV);
	argv = xcalloc(n + 1, sizeof(*argv));
	*out = argv;		/* conf_free() sees it */
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = ys_list_item(v, items, i);
		const char *str;

		if (ys_get_string(ys, k, it, PATH_MAX - 1, &str) != 0)
			return ERR_INVAL;
		argv[i] = i == 0 ? resolve_path(p->conf, str) : xstrdup(str);
	}
	return 0;
}

static int
fen_hook(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct fence_ctx *fc = obj;

	fc->hook = v;
	return get_argv(ys, k, v, &fc->f->hook);
}

static int
fen_promote(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	return get_argv(ys, k, v, &((struct fence_ctx *)obj)->f->promote);
}

static int
fen_ready(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	return get_argv(ys, k, v, &((struct fence_ctx *)obj)->f->ready_check);
}

static int
fen_env(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct conf_fence *f = ((struct fence_ctx *)obj)->f;
	char buf[80];

	if (ynode_is_null(v) || v->type != YNODE_MAPPING)
		return ys_fail(ys, ynode_is_null(v) ? k : v, "'env' must be a "
		    "mapping of variable names to values");
	if (v->npairs > MAX_ENV)
		return ys_fail(ys, v, "'env' must have at most %d variables",
		    MAX_ENV);
	f->env = xcalloc(v->npairs + 1, sizeof(*f->env));
	for (size_t i = 0; i < v->npairs; i++) {
		const struct ynode *name = v->pairs[i].key;
		const char *val;
		bool ok = name->len > 0 && !(name->str[0] >= '0' &&
		    name->str[0] <= '9');

		for (size_t j = 0; ok && j < name->len; j++) {
			char c = name->str[j];

			ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '_';
		}
		if (!ok)
			return ys_fail(ys, name, "invalid variable name '%s' "
			    "in 'env' (letters, digits and _)",
			    ys_shown(name, buf, sizeof(buf)));
		if (strncmp(name->str, "ARCDNS_", 7) == 0)
			return ys_fail(ys, name, "'env' cannot set %s: arcdnsd "
			    "sets the ARCDNS_ variables itself", name->str);
		if (ynode_is_null(v->pairs[i].value) ||
		    v->pairs[i].value->type != YNODE_SCALAR)
			return ys_fail(ys, name, "'env' variable '%s' must have "
			    "a string value", name->str);
		val = v->pairs[i].value->str;
		f->env[i] = xstrfmt("%s=%s", name->str, val);
	}
	return 0;
}

static int
fen_timeout(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	uint64_t ms;

	if (ys_get_duration(ys, k, v, 100, 3600000, &ms) != 0)
		return ERR_INVAL;
	((struct fence_ctx *)obj)->f->timeout_ms = (uint32_t)ms;
	return 0;
}

static int
fen_retries(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	long long n;

	if (ys_get_int(ys, k, v, 0, 100, &n) != 0)
		return ERR_INVAL;
	((struct fence_ctx *)obj)->f->retries = (unsigned)n;
	return 0;
}

static int
fen_backoff(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	uint64_t ms;

	if (ys_get_duration(ys, k, v, 10, 600000, &ms) != 0)
		return ERR_INVAL;
	((struct fence_ctx *)obj)->f->backoff_ms = (uint32_t)ms;
	return 0;
}

static int
fen_stale(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	const char *s;

	if (ys_get_string(ys, k, v, 32, &s) != 0)
		return ERR_INVAL;
	if (strcmp(s, "keep") == 0)
		((struct fence_ctx *)obj)->f->stale = CONF_FENCE_STALE_KEEP;
	else if (strcmp(s, "withdraw") == 0)
		((struct fence_ctx *)obj)->f->stale = CONF_FENCE_STALE_WITHDRAW;
	else
		return ys_fail(ys, v, "'stale' must be keep or withdraw");
	return 0;
}

static int
fen_lease(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	uint64_t ms;

	if (ys_get_duration(ys, k, v, 1000, 86400000, &ms) != 0)
		return ERR_INVAL;
	((struct fence_ctx *)obj)->f->stale_lease_ms = (uint32_t)ms;
	((struct fence_ctx *)obj)->lease = v;
	return 0;
}

static const struct ys_key fence_keys[] = {
	{"hook", fen_hook},
	{"promote", fen_promote},
	{"ready-check", fen_ready},
	{"env", fen_env},
	{"timeout", fen_timeout},
	{"retries", fen_retries},
	{"backoff", fen_backoff},
	{"stale", fen_stale},
	{"stale-lease", fen_lease},
	{NULL, NULL}
};

static int
parse_fence(struct parser *p, const struct ynode *k, const struct ynode *v)
{
	struct conf *c = p->conf;
	struct fence_ctx fc;
	char buf[80];

	if (k->len == 0)
		return ys_fail(&p->ys, k, "a fence name must not be empty");
	if (k->len > MAX_NAME)
		return ys_fail(&p->ys, k, "fence name '%s' must be at most %d "
		    "characters", ys_shown(k, buf, sizeof(buf)), MAX_NAME);
	if (check_name(p, k, "fence name") != 0)
		return ERR_INVAL;
	if (ynode_is_null(v) || v->type != YNODE_MAPPING)
		return ys_fail(&p->ys, ynode_is_null(v) ? k : v, "fence '%s' "
		    "must be a mapping with at least 'hook'",
		    ys_shown(k, buf, sizeof(buf)));
	fc.f = &c->fences[c->nfences++];	/* conf_free() sees it */
	fc.hook = fc.lease = NULL;
	fc.f->name = xstrdup(k->str);
	fc.f->line = k->line;
	fc.f->column = k->column;
	fc.f->timeout_ms = CONF_DEFAULT_FENCE_TIMEOUT_MS;
	fc.f->retries = CONF_DEFAULT_FENCE_RETRIES;
	fc.f->backoff_ms = CONF_DEFAULT_FENCE_BACKOFF_MS;
	fc.f->stale_lease_ms = CONF_DEFAULT_FENCE_LEASE_MS;
	if (ys_walk(&p->ys, v, "fences", fence_keys, NULL, &fc) != 0)
		return ERR_INVAL;
	if (fc.hook == NULL)
		return ys_fail(&p->ys, v, "fence '%s' has no 'hook'",
		    fc.f->name);
	if (fc.lease != NULL && fc.f->stale != CONF_FENCE_STALE_WITHDRAW)
		return ys_fail(&p->ys, fc.lease, "'stale-lease' goes with "
		    "'stale: withdraw'");
	for (size_t i = 0; i + 1 < c->nfences; i++)
		if (strcmp(c->fences[i].name, fc.f->name) == 0)
			return ys_fail(&p->ys, k, "duplicate fence '%s' (line "
			    "%d)", fc.f->name, c->fences[i].line);
	return 0;
}

static int
top_fences(struct yschema *ys, const struct ynode *k, const struct ynode *v,
    void *obj)
{
	struct parser *p = parser_of(ys);
	struct conf *c = p->conf;
	bool empty;

	(void)obj;
	if (check_section(p, k, v, &empty) != 0)
		return ERR_INVAL;
	if (empty)
		return 0;
	c->fences = xcalloc(v->npairs ? v->npairs : 1, sizeof(*c->fences));
	for (size_t i = 0; i < v->npairs; i++)
		if (parse_fence(p, v->pairs[i].key, v->pairs[i].value) != 0)
			return ERR_INVAL;
	return 0;
}

static const struct ys_key top_keys[] = {
	{"server", top_server},
	{"zones", top_zones},
	{"views", top_views},
	{"arc", top_arc},
	{"controls", top_controls},
	{"keys", top_tsig_keys},
	{"fences", top_fences},
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

/* Every target's control names a configured control. */
static int
resolve_controls(struct parser *p)
{
	const struct conf *c = p->conf;
	char buf[80];

	for (size_t i = 0; i < p->nrefs; i++) {
		const struct ynode *name = p->refs[i].name;
		size_t j;

		for (j = 0; j < c->ncontrols; j++)
			if (strcmp(c->controls[j].name, name->str) == 0)
				break;
		if (j == c->ncontrols)
			return ys_fail(&p->ys, name, "unknown control '%s'",
			    ys_shown(name, buf, sizeof(buf)));
		p->refs[i].target->control = j;
	}
	return 0;
}

/*
 * Every record's fence names a fence under fences:, and records sharing a
 * fence list the same controls in the same order.
 */
static int
resolve_fences(struct parser *p)
{
	const struct conf *c = p->conf;
	char buf[80];

	for (size_t i = 0; i < p->nfrefs; i++) {
		struct conf_record *r = p->frefs[i].record;
		const struct conf_record *first;
		size_t j;

		for (j = 0; j < c->nfences; j++)
			if (strcmp(c->fences[j].name, r->fence) == 0)
				break;
		if (j == c->nfences)
			return ys_fail(&p->ys, p->frefs[i].name, "unknown fence "
			    "'%s' (not under 'fences')",
			    ys_shown(p->frefs[i].name, buf, sizeof(buf)));
		r->fence_index = (int)j;
		for (size_t k = 0; k < i; k++) {
			first = p->frefs[k].record;
			if (first->fence_index != (int)j)
				continue;
			bool same = first->ntargets == r->ntargets;

			for (size_t t = 0; same && t < r->ntargets; t++)
				same = first->targets[t].control ==
				    r->targets[t].control;
			if (!same)
				return ys_fail(&p->ys, p->frefs[i].name,
				    "records sharing fence '%s' must list the "
				    "same controls in the same order (see line "
				    "%d)", r->fence, first->line);
			break;
		}
	}
	return 0;
}

/* Every zone's tsig-key names a key under keys:, in any letter case. */
static int
resolve_keys(struct parser *p)
{
	struct conf *c = p->conf;
	uint8_t wire[DNAME_MAXLEN];
	const char *why = NULL;
	char buf[80];

	for (size_t i = 0; i < c->nzones; i++) {
		const struct ynode *name = p->zsrc[i].key;
		size_t len;

		if (name == NULL)
			continue;
		len = name_wire(name->str, NULL, wire, &why);
		for (size_t j = 0; len != 0 && j < c->nkeys; j++)
			if (dname_equal(c->keys[j].wire, wire))
				c->zones[i].key = (int)j;
		if (c->zones[i].key < 0)
			return ys_fail(&p->ys, name, "unknown TSIG key '%s' "
			    "(not under 'keys')",
			    ys_shown(name, buf, sizeof(buf)));
	}
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
	if (p->controls_key != NULL && !c->arc.enabled)
		return ys_fail(&p->ys, p->controls_key,
		    "controls need an arc: section");
	if (resolve_controls(p) != 0 || resolve_keys(p) != 0 ||
	    resolve_fences(p) != 0)
		return ERR_INVAL;
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
	char cwd[PATH_MAX], *dir = fs_dirname(path), *abs;

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
	s->chaos_clients = xcalloc(2, sizeof(*s->chaos_clients));
	if (netprefix_parse("127.0.0.0/8", &s->chaos_clients[0]) != 0 ||
	    netprefix_parse("::1/128", &s->chaos_clients[1]) != 0)
		abort();	/* constant input */
	s->nchaos_clients = 2;
	c->arc.poll_interval_ms = CONF_DEFAULT_ARC_POLL_MS;
	c->arc.timeout_ms = CONF_DEFAULT_ARC_TIMEOUT_MS;
	c->arc.connect_timeout_ms = CONF_DEFAULT_ARC_TIMEOUT_MS;
	c->arc.stale_after_ms = 3 * CONF_DEFAULT_ARC_POLL_MS +
	    CONF_DEFAULT_ARC_TIMEOUT_MS;
	c->arc.credentials = xstrdup("auto");
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
	free(p.refs);
	free(p.frefs);
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

static void
record_free(struct conf_record *r)
{
	for (size_t i = 0; i < r->ntargets; i++) {
		free(r->targets[i].region);
		for (size_t j = 0; j < r->targets[i].nvalues; j++)
			free(r->targets[i].values[j].data);
		free(r->targets[i].values);
	}
	free(r->targets);
	free(r->name);
	free(r->owner);
	free(r->fence);
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
	free(conf->server.control);
	free(conf->server.control_group);
	free(conf->server.chaos_clients);
	for (size_t i = 0; i < conf->nzones; i++) {
		free(conf->zones[i].id);
		free(conf->zones[i].origin);
		free(conf->zones[i].file);
		for (size_t j = 0; j < conf->zones[i].nrecords; j++)
			record_free(&conf->zones[i].records[j]);
		free(conf->zones[i].records);
		free(conf->zones[i].notify);
		free(conf->zones[i].allow_transfer);
	}
	free(conf->zones);
	for (size_t i = 0; i < conf->nviews; i++) {
		free(conf->views[i].name);
		free(conf->views[i].match);
		free(conf->views[i].zones);
	}
	free(conf->views);
	for (size_t i = 0; i < conf->arc.nendpoints; i++) {
		free(conf->arc.endpoints[i].region);
		free(conf->arc.endpoints[i].url);
	}
	free(conf->arc.endpoints);
	free(conf->arc.control_panel);
	free(conf->arc.ca_file);
	free(conf->arc.credentials);
	free(conf->arc.profile);
	for (size_t i = 0; i < conf->ncontrols; i++) {
		free(conf->controls[i].name);
		free(conf->controls[i].arn);
		free(conf->controls[i].arc_name);
	}
	free(conf->controls);
	for (size_t i = 0; i < conf->nkeys; i++) {
		free(conf->keys[i].name);
		free(conf->keys[i].wire);
		free(conf->keys[i].algorithm);
		if (conf->keys[i].secret != NULL)
			explicit_bzero(conf->keys[i].secret,
			    conf->keys[i].secret_len);
		free(conf->keys[i].secret);
	}
	free(conf->keys);
	for (size_t i = 0; i < conf->nfences; i++) {
		struct conf_fence *f = &conf->fences[i];
		char **lists[4] = {f->hook, f->promote, f->ready_check, f->env};

		free(f->name);
		for (size_t j = 0; j < 4; j++) {
			for (char **a = lists[j]; a != NULL && *a != NULL; a++)
				free(*a);
			free(lists[j]);
		}
	}
	free(conf->fences);
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
	if (a->has_http != b->has_http || (a->has_http &&
	    (a->http.len != b->http.len || memcmp(&a->http.ss, &b->http.ss,
	    a->http.len) != 0)))
		return "server.http";
	if (!same_string(a->control, b->control))
		return "server.control";
	if (!same_string(a->control_group, b->control_group))
		return "server.control-group";
	if (!same_string(a->state_dir, b->state_dir))
		return "server.state-dir";
	return NULL;
}
