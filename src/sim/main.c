/*
 * main.c -- arcsim: argv, startup order, run loop. The work is in
 * cluster/api (the state and the four operations), server (endpoints,
 * faults, admin) and tls (the private CA).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log/log.h"
#include "sim/cluster.h"
#include "sim/server.h"
#include "sim/tls.h"
#include "util/daemon.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/xalloc.h"

#define DEFAULT_CONF	SYSCONFDIR "/arcdns/sim.yaml"
#define DEFAULT_LISTEN	"127.0.0.1"
#define DEFAULT_BASE	8440

struct opts {
	const char	*conf;
	const char	*listen;
	int		 base_port;
	const char	*admin;		/* NULL: default; "off": none */
	bool		 plain;
	const char	*ca_out;
	const char	*cert;
	const char	*key;
	const char	*state;
	bool		 foreground;
	bool		 print_config;
	int		 rate_limit;
};

enum {
	OPT_LISTEN = 256,
	OPT_BASE_PORT,
	OPT_ADMIN,
	OPT_PLAIN,
	OPT_CA_OUT,
	OPT_CERT,
	OPT_KEY,
	OPT_STATE,
	OPT_PRINT,
	OPT_RATE
};

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: arcsim [-fhV] [-c file] [--listen addr] [--base-port n]\n"
	    "              [--admin addr:port|off] [--plain] [--ca-out file]\n"
	    "              [--cert file --key file] [--state file]\n"
	    "              [--rate-limit n] [--print-arcdns-config]\n"
	    "  -c, --config FILE      cluster definition (default %s)\n"
	    "  --listen ADDR          endpoint address (default %s)\n"
	    "  --base-port N          endpoints on N..N+4 (default %d)\n"
	    "  --admin ADDR:PORT      admin interface, loopback only\n"
	    "                         (default 127.0.0.1:N+5; off: none)\n"
	    "  --plain                HTTP instead of HTTPS\n"
	    "  --ca-out FILE          write the private CA certificate here\n"
	    "  --cert FILE --key FILE serve this certificate instead\n"
	    "  --state FILE           keep control states across restarts\n"
	    "  --rate-limit N         updates per second per endpoint\n"
	    "                         (default %d, as ARC; 0: no limit)\n"
	    "  --print-arcdns-config  print arcdnsd's arc: and controls:\n"
	    "                         blocks for this simulator, exit\n"
	    "  -f, --foreground       stay in the foreground, log to stderr\n"
	    "  -V, --version          print the version and exit\n"
	    "  -h, --help             this text\n",
	    DEFAULT_CONF, DEFAULT_LISTEN, DEFAULT_BASE, SIM_RATE_LIMIT);
}

static int
parse_int(const char *opt, const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "arcsim: %s %s: expected a number from %ld to "
		    "%ld\n", opt, s, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"base-port", required_argument, NULL, OPT_BASE_PORT},
		{"admin", required_argument, NULL, OPT_ADMIN},
		{"plain", no_argument, NULL, OPT_PLAIN},
		{"ca-out", required_argument, NULL, OPT_CA_OUT},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{"state", required_argument, NULL, OPT_STATE},
		{"rate-limit", required_argument, NULL, OPT_RATE},
		{"print-arcdns-config", no_argument, NULL, OPT_PRINT},
		{NULL, 0, NULL, 0}
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:fhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'V':
			printf("arcsim %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_BASE_PORT:
			if (parse_int("--base-port", optarg, 1, 65535 - 5,
			    &o->base_port) != 0)
				return -1;
			break;
		case OPT_ADMIN:
			o->admin = optarg;
			break;
		case OPT_PLAIN:
			o->plain = true;
			break;
		case OPT_CA_OUT:
			o->ca_out = optarg;
			break;
		case OPT_CERT:
			o->cert = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_STATE:
			o->state = optarg;
			break;
		case OPT_PRINT:
			o->print_config = true;
			break;
		case OPT_RATE:
			if (parse_int("--rate-limit", optarg, 0, 1000000,
			    &o->rate_limit) != 0)
				return -1;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "arcsim: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return -1;
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		fprintf(stderr, "arcsim: --cert and --key go together\n");
		return -1;
	}
	if (o->plain && (o->cert != NULL || o->ca_out != NULL)) {
		fprintf(stderr, "arcsim: --plain serves no TLS: --cert, --key "
		    "and --ca-out do not apply\n");
		return -1;
	}
	if (o->cert != NULL && o->ca_out != NULL) {
		fprintf(stderr, "arcsim: --ca-out writes the CA arcsim makes; "
		    "with --cert there is none\n");
		return -1;
	}
	return 0;
}

static bool
is_loopback(const struct netaddr *a)
{
	struct netprefix v4, v6;

	if (netprefix_parse("127.0.0.0/8", &v4) != 0 ||
	    netprefix_parse("::1/128", &v6) != 0)
		return false;
	return netprefix_match(&v4, (const struct sockaddr *)&a->ss) ||
	    netprefix_match(&v6, (const struct sockaddr *)&a->ss);
}

/* The admin address: --admin, or loopback:base+5; *enabled false: off. */
static int
admin_addr(const struct opts *o, struct netaddr *out, bool *enabled)
{
	struct netaddr l;

	*enabled = true;
	if (o->admin != NULL && strcmp(o->admin, "off") == 0) {
		*enabled = false;
		return 0;
	}
	if (o->admin == NULL) {
		bool v6 = netaddr_parse(o->listen, 0, &l) == 0 &&
		    l.ss.ss_family == AF_INET6;

		return netaddr_parse(v6 ? "::1" : "127.0.0.1", o->base_port + 5,
		    out) == 0 ? 0 : -1;
	}
	if (netaddr_parse(o->admin, -1, out) != 0) {
		fprintf(stderr, "arcsim: --admin %s: expected ADDR:PORT, e.g. "
		    "127.0.0.1:8445 or [::1]:8445\n", o->admin);
		return -1;
	}
	if (!is_loopback(out)) {
		fprintf(stderr, "arcsim: --admin %s: the admin interface has "
		    "no authentication and listens on loopback only\n",
		    o->admin);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------ --print-arcdns-config */

/* s as a YAML double-quoted scalar. */
static void
put_quoted(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(fp, "\\x%02x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

/* s for a POSIX shell, in single quotes. */
static void
put_shell(FILE *fp, const char *s)
{
	fputc('\'', fp);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", fp);
		else
			fputc(*s, fp);
	}
	fputc('\'', fp);
}

/* True when another control of the cluster has the same name. */
static bool
name_clash(const struct sim_cluster *c, size_t i)
{
	const struct sim_control *me = sim_cluster_control(c, i);
	size_t j, n = sim_cluster_ncontrols(c);

	for (j = 0; j < n; j++) {
		if (j != i && strcmp(sim_cluster_control(c, j)->name,
		    me->name) == 0)
			return true;
	}
	return false;
}


/*
 * The key under arcdnsd's controls: for rc: its name, prefixed with its
 * panel's when two panels share it, made to fit arcdnsd's rule for local
 * names (1..64 of [A-Za-z0-9_.-]; other characters become '-').
 */
static char *
local_name(const struct sim_control *rc, bool clash)
{
	char *key = clash ? xstrfmt("%s.%s", rc->panel_name, rc->name) :
	    xstrdup(rc->name);

	for (char *p = key; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (!isalnum(ch) && ch != '_' && ch != '.' && ch != '-')
			*p = '-';
	}
	if (strlen(key) > 64)
		key[64] = '\0';
	return key;
}

static int
print_config(const struct opts *o, const struct sim_cluster *c)
{
	const struct simconf *conf = sim_cluster_conf(c);
	const struct simconf_cred *cred = &conf->creds[0];
	struct netaddr a;
	char host[64], *abs = NULL;
	size_t i, n;

	if (netaddr_parse(o->listen, 0, &a) != 0) {
		fprintf(stderr, "arcsim: --listen %s: not an IP address\n",
		    o->listen);
		return 1;
	}
	netaddr_format(&a, host, sizeof(host));
	*strrchr(host, ':') = '\0';	/* drop the port */
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "[::]") == 0)
		snprintf(host, sizeof(host), "[::1]");
	if (o->ca_out != NULL) {
		abs = o->ca_out[0] == '/' ? xstrdup(o->ca_out) : NULL;
		if (abs == NULL) {
			char cwd[PATH_MAX];

			abs = getcwd(cwd, sizeof(cwd)) != NULL ?
			    xstrfmt("%s/%s", cwd, o->ca_out) :
			    xstrdup(o->ca_out);
		}
	}

	printf("# arcdnsd settings for the arcsim cluster of %s\n", o->conf);
	printf("# (account %s, %zu control panel(s), %zu routing "
	    "control(s)).\n", sim_cluster_account(c), sim_cluster_npanels(c),
	    sim_cluster_ncontrols(c));
	printf("arc:\n  endpoints:\n");
	for (i = 0; i < SIM_NENDPOINTS; i++) {
		char url[128];

		snprintf(url, sizeof(url), "%s://%s:%d/v1",
		    o->plain ? "http" : "https", host, o->base_port + (int)i);
		printf("    - { region: %s, url: ", sim_server_region((int)i));
		put_quoted(stdout, url);
		printf(" }\n");
	}
	n = sim_cluster_npanels(c);
	if (n == 1) {
		const struct simconf_panel *p = sim_cluster_panel(c, 0);

		printf("  control-panel: ");
		put_quoted(stdout, p->arn);
		printf("   # %s\n", p->name);
	} else {
		printf("  # control-panel: one of these, or none for all:\n");
		for (i = 0; i < n; i++) {
			const struct simconf_panel *p = sim_cluster_panel(c, i);

			printf("  #   %s  (%s)\n", p->arn, p->name);
		}
	}
	printf("  poll-interval: 1s\n  timeout: 800ms\n");
	if (o->plain)
		printf("  # plain HTTP (--plain): no ca-file\n");
	else if (abs != NULL) {
		printf("  ca-file: ");
		put_quoted(stdout, abs);
		printf("   # written by arcsim --ca-out at each start\n");
	} else if (o->cert != NULL)
		printf("  # ca-file: the CA that issued %s\n", o->cert);
	else
		printf("  # ca-file: start arcsim with --ca-out FILE and name "
		    "FILE here\n");
	printf("  # Before starting arcdnsd:\n  #   export "
	    "AWS_ACCESS_KEY_ID=");
	put_shell(stdout, cred->access_key_id);
	printf(" AWS_SECRET_ACCESS_KEY=");
	put_shell(stdout, cred->secret_access_key);
	if (cred->session_token != NULL) {
		printf(" AWS_SESSION_TOKEN=");
		put_shell(stdout, cred->session_token);
	}
	printf("\n  credentials: env\n\ncontrols:\n");
	n = sim_cluster_ncontrols(c);
	if (n == 0)
		printf("  {}\n");
	for (i = 0; i < n; i++) {
		const struct sim_control *rc = sim_cluster_control(c, i);
		char *key = local_name(rc, name_clash(c, i));

		printf("  ");
		put_quoted(stdout, key);
		printf(": { arn: ");
		put_quoted(stdout, rc->arn);
		printf(" }   # %s in %s\n", rc->on ? "On" : "Off",
		    rc->panel_name);
		free(key);
	}
	free(abs);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- run */

static void
stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_notice(LOG_SRC_MAIN, "signal %d: stopping", (int)sig);
	event_base_loopexit(base, NULL);
}


static int
restore_state(struct sim_cluster *c, const char *path, char **err)
{
	size_t restored = 0, unknown = 0;
	int ret = sim_cluster_restore(c, path, &restored, &unknown, err);

	if (ret != 0)
		return ret;
	if (restored == 0 && unknown == 0)
		log_notice(LOG_SRC_MAIN, "%s: no saved state: starting from "
		    "the configuration", path);
	else
		log_notice(LOG_SRC_MAIN, "%s: %zu control state(s) restored",
		    path, restored);
	if (unknown > 0)
		log_warn(LOG_SRC_MAIN, "%s: %zu saved control(s) not in the "
		    "configuration, ignored", path, unknown);
	return 0;
}

static int
run(const struct opts *o, struct sim_cluster *c)
{
	struct sim_server_opts so;
	struct netaddr admin;
	struct sim_server *srv = NULL;
	struct sim_tls *tls = NULL;
	struct event_base *base = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	char *err = NULL, *desc;
	bool admin_on;
	int ret = 1;

	if (admin_addr(o, &admin, &admin_on) != 0)
		return 1;
	if (o->state != NULL && restore_state(c, o->state, &err) != 0)
		goto fatal;
	if (!o->plain && sim_tls_new(o->cert, o->key, &tls, &err) != 0)
		goto fatal;
	if (o->ca_out != NULL && sim_tls_write_ca(tls, o->ca_out, &err) != 0)
		goto fatal;
	base = event_base_new();
	if (base == NULL) {
		err = xstrdup("event_base_new failed");
		goto fatal;
	}
	memset(&so, 0, sizeof(so));
	so.listen = o->listen;
	so.base_port = o->base_port;
	so.admin = admin_on ? &admin : NULL;
	so.tls = tls;
	so.state_path = o->state;
	so.rate_limit = o->rate_limit;
	if (sim_server_new(base, c, &so, &srv, &err) != 0)
		goto fatal;
	if (!o->foreground) {
		if (daemon_detach(false, &err) != 0)
			goto fatal;
		log_setup("arcsim", LOG_FORMAT_TEXT, LOG_TARGET_SYSLOG,
		    LOG_LEVEL_INFO);
	}
	(void)signal(SIGPIPE, SIG_IGN);
	sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	sigint = evsignal_new(base, SIGINT, stop_cb, base);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		err = xstrdup("cannot watch SIGTERM and SIGINT");
		goto fatal;
	}
	desc = sim_server_describe(srv);
	log_notice(LOG_SRC_MAIN, "ready: %d endpoints on %s, admin %s",
	    SIM_NENDPOINTS, desc, admin_on ? sim_server_admin_url(srv) : "off");
	free(desc);
	if (event_base_dispatch(base) < 0)
		log_err(LOG_SRC_MAIN, "event loop failed");
	log_notice(LOG_SRC_MAIN, "stopped");
	ret = 0;
	goto out;
fatal:
	log_err(LOG_SRC_MAIN, "%s", err);
	free(err);
out:
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	sim_server_free(srv);
	if (base != NULL)
		event_base_free(base);
	sim_tls_free(tls);
	return ret;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct sim_cluster *c = NULL;
	char *err = NULL;
	int ret;

	memset(&o, 0, sizeof(o));
	o.conf = DEFAULT_CONF;
	o.listen = DEFAULT_LISTEN;
	o.base_port = DEFAULT_BASE;
	o.rate_limit = SIM_RATE_LIMIT;
	if (parse_args(argc, argv, &o) != 0)
		return 1;
	log_setup("arcsim", LOG_FORMAT_TEXT, LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	if (sim_cluster_load(o.conf, &c, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 1;
	}
	if (o.print_config)
		ret = print_config(&o, c);
	else
		ret = run(&o, c);
	sim_cluster_free(c);
	return ret;
}
