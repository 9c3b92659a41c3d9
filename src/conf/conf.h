/*
 * conf.h -- arcdns.yaml: parse, validate, and the immutable result.
 *
 * conf_load() reads one YAML file (libyaml) into a new struct conf, with
 * defaults for everything left out, then validates it. Every error names
 * the place: "file:line:column: message". A loaded conf is never modified;
 * a reload loads a new one and swaps it in.
 *
 * This module does no I/O besides reading the config file: zone files are
 * read by zone/, sockets are opened by dns/.
 *
 * Choices the schema leaves open (arcdns.yaml(5) documents them):
 *   - zone origins may omit the final dot; it is added, and the name is
 *     lower-cased;
 *   - at least one zone block is required ("no zones configured");
 *   - relative paths (zone files, state-dir, pid-file) are resolved against
 *     the config file's folder, made absolute when the file is loaded;
 *   - a null section ("server:" with nothing below it) means its
 *     defaults; a null option value ("workers:") is an error;
 *   - "views: []" is an error; "zones: []" inside a view is allowed (that
 *     view refuses every query);
 *   - keys owned by later issues are rejected with "'KEY' is not supported
 *     by this version of arcdns yet";
 *   - arc: needs 'endpoints' (1..5, regions and urls unique); plain
 *     http:// only on a loopback host (127.0.0.0/8, ::1, localhost);
 *   - arc durations: poll-interval 100ms..1h; timeout and connect-timeout
 *     1ms..1m, connect-timeout <= timeout (default: timeout); timeout may
 *     be longer than poll-interval; hedge-after 0 (off) or < timeout;
 *     stale-after > poll-interval, at most 24h (default 3 * poll-interval
 *     + timeout);
 *   - ca-file must be a readable regular file when the config is loaded
 *     (the only file besides the config itself that conf_load() looks
 *     at: so that -t and a reload catch a wrong path);
 *   - profile only with credentials auto or profile;
 *   - controls: without arc: is an error ("controls need an arc:
 *     section"); arc: without controls: (or "controls: {}") is allowed:
 *     the mirror then polls and logs, which checks endpoints and
 *     credentials, but no name depends on it;
 *   - a control has exactly one of arn and name; the same ARN or the same
 *     name twice is an error; local names are 1..64 of [A-Za-z0-9_.-];
 *   - record targets may name controls defined anywhere in the file (they
 *     are resolved once it is read): "unknown control 'x'" otherwise, also
 *     when there is no controls: section; "records: []" means none;
 *   - record names and CNAME values take labels of [A-Za-z0-9_-] only (no
 *     escapes, no wildcards); fence: only on failover records;
 *   - keys: names are domain names, compared without case or final dot
 *     (two that compare equal are an error); algorithm hmac-sha1/256/384/
 *     512 in any case (hmac-md5 refused); the secret is strict base64 (RFC
 *     4648, padded), 1..1024 characters, and no message ever quotes it;
 *   - zone tsig-key must name a key; notify is a list of addresses (port
 *     default 53, no duplicates, no port 0), allow-transfer and
 *     server.chaos-clients lists of prefixes as match-clients (a list
 *     given may not be empty).
 */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"
#include "util/netaddr.h"

#define CONF_DEFAULT_PORT		53
#define CONF_DEFAULT_EDNS_SIZE		1232
#define CONF_DEFAULT_TCP_IDLE_MS	10000
#define CONF_DEFAULT_TCP_MAX_CONN	256
#define CONF_DEFAULT_STATE_DIR		"/var/lib/arcdns"
#define CONF_DEFAULT_ZONE_TTL		5	/* seconds, ARC-driven answers */
#define CONF_DEFAULT_HTTP_PORT		8053
#define CONF_MAX_CONTROL_PATH		107	/* sun_path, NUL excluded */
#define CONF_MAX_WORKERS		64
#define CONF_MAX_TTL			2147483647u	/* RFC 2181 section 8 */

/* arc: and controls: (arcdns.yaml(5) "arc" and "controls"). */
#define CONF_MAX_ARC_ENDPOINTS		5	/* a cluster has five */
#define CONF_DEFAULT_ARC_POLL_MS	1000
#define CONF_MIN_ARC_POLL_MS		100
#define CONF_MAX_ARC_POLL_MS		3600000		/* 1h */
#define CONF_DEFAULT_ARC_TIMEOUT_MS	800
#define CONF_MAX_ARC_TIMEOUT_MS		60000		/* 1m */
#define CONF_MAX_ARC_STALE_MS		86400000	/* 24h */
#define CONF_MAX_ARN			255	/* the ARC model's Arn */
#define CONF_MAX_REGION			32
#define CONF_MAX_URL			1024
#define CONF_MAX_PROFILE		128
#define CONF_MAX_CONTROLS		1000

/*
 * Without server.listen the daemon listens on the wildcard addresses
 * 0.0.0.0:53 and [::]:53, as NSD does; dns/ must set IPV6_V6ONLY on the
 * IPv6 socket so that both can be bound.
 */

struct conf_server {
	struct netaddr	*listen;	/* at least one */
	size_t		nlisten;
	unsigned	workers;	/* resolved: 0 in the file = nproc */
	char		*identity;	/* CHAOS id.server; default hostname */
	bool		hide_version;	/* version.bind answers REFUSED */
	char		*version;	/* version.bind text; default
					   "arcdns " PACKAGE_VERSION */
	char		*state_dir;	/* absolute path (resolved) */
	char		*user;		/* NULL: keep the starting user */
	char		*pid_file;	/* NULL: none; else absolute path */
	uint16_t	edns_size;	/* our UDP payload limit, 512..4096 */
	uint32_t	tcp_idle_ms;	/* idle timeout per TCP connection */
	uint32_t	tcp_max_conn;	/* open TCP connections, all workers */
	bool		has_http;	/* server.http given */
	struct netaddr	http;		/* health responder and metrics */
	char		*control;	/* control socket path (absolute), or
					   NULL: none */
	char		*control_group;	/* group of the socket, or NULL */
	struct netprefix *chaos_clients; /* may read CH TXT state.arcdns;
					   default 127.0.0.0/8 and ::1/128 */
	size_t		nchaos_clients;
	enum log_level	log_level;
	enum log_format	log_format;
	enum log_target	log_target;
};

/*
 * records: ARC-driven names of a zone block (issue "ARC-driven answers").
 *
 * failover: the first target whose control is On; multivalue: every
 * target whose control is On (values in target order, duplicates
 * dropped); role: "<region>.<name>" TXT "active" for the region failover
 * would pick and "passive" for the other targets' regions.
 * when-none-on (no target On): first = the first target's values (for
 * role: the first target's region is active), servfail, nodata.
 *
 * Checked by conf.c: type A, AAAA or CNAME for failover and multivalue
 * (TXT for role, and only there); multivalue CNAME is an error; a CNAME
 * target has exactly one value; A/AAAA targets 1..64 values; role
 * targets have a region and no values, regions distinct; every target's
 * control is a configured control; 1..16 targets; names (relative to the
 * origin, "@" for the origin itself, or absolute below the origin) and
 * (name, type) pairs unique within the block; a CNAME shares its name
 * with no other record (role names "<region>.<name>" included).
 * Checked against the zone file when zones are loaded (policy/): no
 * static data at an ARC-driven name, none below a zone cut.
 */
enum conf_policy {
	CONF_POLICY_FAILOVER = 0,
	CONF_POLICY_MULTIVALUE,
	CONF_POLICY_ROLE
};

enum conf_none_on {
	CONF_NONE_ON_FIRST = 0,		/* default (Route 53 fails open) */
	CONF_NONE_ON_SERVFAIL,
	CONF_NONE_ON_NODATA
};

struct conf_rdata {
	uint16_t	 len;
	uint8_t		*data;		/* uncompressed wire: 4 bytes (A), 16
					   (AAAA), a domain name (CNAME,
					   absolute, case as written) */
};

struct conf_target {
	size_t			 control;	/* index into conf.controls */
	char			*region;	/* NULL when not given */
	struct conf_rdata	*values;	/* none for role */
	size_t			 nvalues;
	int			 line, column;
};

struct conf_record {
	char			*name;		/* as written, for messages */
	uint8_t			*owner;		/* absolute wire, lower case */
	uint16_t		 type;		/* 1 A, 28 AAAA, 5 CNAME, 16 TXT */
	enum conf_policy	 policy;
	enum conf_none_on	 none_on;
	char			*fence;		/* fence name, or NULL */
	int			 fence_index;	/* into conf.fences; -1: none */
	struct conf_target	*targets;	/* 1..16, in order */
	size_t			 ntargets;
	int			 line, column;
};

/*
 * fences: the single-writer invariant (DESIGN.md "Fence"). A record with
 * fence: NAME is a writer endpoint (policy failover); records sharing a
 * fence list the same controls in the same order (their targets
 * correspond). Hooks are argv arrays (argv[0] resolved like other paths),
 * run without a shell with a clean environment plus env and the ARCDNS_*
 * variables.
 */
enum conf_fence_stale {
	CONF_FENCE_STALE_KEEP = 0,	/* default: static stability */
	CONF_FENCE_STALE_WITHDRAW	/* withdraw after stale-lease */
};

#define CONF_DEFAULT_FENCE_TIMEOUT_MS	10000
#define CONF_DEFAULT_FENCE_RETRIES	5
#define CONF_DEFAULT_FENCE_BACKOFF_MS	1000
#define CONF_DEFAULT_FENCE_LEASE_MS	30000

struct conf_fence {
	char		*name;
	char		**hook;		/* NULL-terminated argv, required */
	char		**promote;	/* NULL: none */
	char		**ready_check;	/* NULL: none */
	char		**env;		/* NULL-terminated "NAME=value" */
	uint32_t	 timeout_ms;	/* per run of a hook */
	unsigned	 retries;	/* runs after the first failed one */
	uint32_t	 backoff_ms;	/* first wait between runs, doubling */
	enum conf_fence_stale stale;
	uint32_t	 stale_lease_ms;
	int		 line, column;
};

/* keys: TSIG keys (RFC 8945) for NOTIFY and zone transfers. */
struct conf_key {
	char		*name;		/* the key under keys:, lower case */
	uint8_t		*wire;		/* its name, wire format, lower case */
	char		*algorithm;	/* "hmac-sha256", "hmac-sha512", ... */
	uint8_t		*secret;	/* decoded (never logged) */
	size_t		 secret_len;
	int		 line, column;
};

/* One zone block: a zone file served under an id that views refer to. */
struct conf_zone {
	char		*id;
	char		*origin;	/* absolute, lower case, ends in "." */
	char		*file;		/* absolute path (resolved) */
	uint32_t	ttl;		/* TTL of ARC-driven answers */
	struct conf_record *records;	/* ARC-driven names */
	size_t		nrecords;
	struct netaddr	*notify;	/* secondaries (port default 53) */
	size_t		nnotify;
	struct netprefix *allow_transfer; /* AXFR/IXFR clients; none: no
					   transfer */
	size_t		nallow_transfer;
	int		key;		/* index into conf.keys: TSIG for
					   NOTIFY and transfers; -1: none */
	int		line;		/* where the block starts, for errors */
	int		column;
};

struct conf_view {
	char			*name;
	struct netprefix	*match;	/* match-clients, at least one */
	size_t			nmatch;
	size_t			*zones;	/* indexes into conf.zones, distinct
					   origins; may be empty (then every
					   query from these clients is
					   REFUSED) */
	size_t			nzones;
	bool			implicit; /* the "default" view made up for a
					   file without views */
	int			line;	/* where the view starts (0 when
					   implicit) */
	int			column;
};

/*
 * arc: the ARC cluster to mirror (issue "ARC mirror"). enabled is false
 * when the section is absent: no ARC client runs and no control may be
 * configured.
 */
struct conf_arc_endpoint {
	char		*region;	/* e.g. "us-east-1" */
	char		*url;		/* opaque base URL, path included */
};

struct conf_arc {
	bool			 enabled;
	struct conf_arc_endpoint *endpoints;	/* 1..5, as configured */
	size_t			 nendpoints;
	char			*control_panel;	/* ARN filter, or NULL */
	uint32_t		 poll_interval_ms;	/* default 1000 */
	uint32_t		 timeout_ms;		/* per request, 800 */
	uint32_t		 connect_timeout_ms;	/* default = timeout */
	uint32_t		 hedge_after_ms;	/* 0: no hedging */
	uint32_t		 stale_after_ms;	/* 3 * poll + timeout */
	char			*ca_file;	/* NULL: the system store */
	char			*credentials;	/* auto|env|profile|... */
	char			*profile;	/* NULL: AWS_PROFILE/default */
};

/* controls: a local name for a routing control, by ARN or by ARC name. */
struct conf_control {
	char		*name;		/* the key under controls: */
	char		*arn;		/* exactly one of arn and arc_name */
	char		*arc_name;
	int		 line, column;
};

struct conf {
	char			*path;	/* the file as given */
	char			*dir;	/* its folder: base of relative paths */
	struct conf_server	server;
	struct conf_zone	*zones;
	size_t			nzones;
	/*
	 * Views in match order. A file without views gets one implicit view
	 * "default" that matches any client and holds every zone.
	 */
	struct conf_view	*views;
	size_t			nviews;
	struct conf_arc		arc;
	struct conf_control	*controls;
	size_t			ncontrols;
	struct conf_key		*keys;	/* TSIG keys, in file order; names
					   distinct */
	size_t			nkeys;
	struct conf_fence	*fences;	/* in file order */
	size_t			nfences;
};

/*
 * Load and validate path. On success *out is a new conf (conf_free) and 0
 * is returned. On failure, a new message "file:line:column: message" is
 * stored in *errmsg (the caller frees it) and ERR_PARSE, ERR_INVAL or
 * -errno is returned.
 */
int	conf_load(const char *path, struct conf **out, char **errmsg)
	    __attribute__((warn_unused_result));

/* Same, from a string in memory; name stands for the file in messages. */
int	conf_load_string(const char *name, const char *text, size_t len,
	    struct conf **out, char **errmsg)
	    __attribute__((warn_unused_result));

/* NULL-safe. */
void	conf_free(struct conf *conf);

/*
 * Options a running daemon cannot take over on reload: server.listen,
 * server.workers, server.user, server.tcp-idle-timeout,
 * server.tcp-max-connections, server.http, server.control and
 * server.control-group (sockets, threads and connection slots are set up
 * once, and privileges are gone after the start). Returns the name
 * of the first one that differs between old and new ("server.listen",
 * ...), or NULL when a reload may proceed. Borrowed static string.
 */
const char	*conf_restart_diff(const struct conf *old,
		    const struct conf *new);

/*
 * The owner of role record r's answer for target t, "<region>.<name>"
 * (regions are lower case, conf.c checks them), in wire format into out
 * (DNAME_MAXLEN bytes). Returns its length, or 0 when the target has no
 * region or the name would be too long.
 */
size_t	conf_role_owner(const struct conf_record *r, size_t t, uint8_t *out);

/*
 * Parse a duration: "500ms", "1s", "2m", "1h", or a bare number of
 * seconds. Returns 0 and the value in milliseconds, or ERR_PARSE.
 */
int	conf_parse_duration(const char *s, uint64_t *ms)
	    __attribute__((warn_unused_result));

#endif
