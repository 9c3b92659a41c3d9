/*
 * arcdnsctl.c -- the operator's CLI: argv, one request over the control
 * socket (ctl/ctlsock.h), the reply as text or JSON. `arc ...` goes to
 * the direct ARC calls (ctl/arcctl_arc.h).
 *
 * Exit status: 0 ok, 1 the command failed, 2 usage, 3 refused by a
 * safety rule (arc), 4 the daemon is not reachable.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "ctl/arcctl_arc.h"
#include "log/log.h"
#include "util/clock.h"
#include "util/jsonx.h"
#include "util/xalloc.h"

#define DEFAULT_CONF SYSCONFDIR "/arcdns/arcdns.yaml"

#define EXIT_OK		ARCCTL_EXIT_OK
#define EXIT_FAILED	ARCCTL_EXIT_FAIL
#define EXIT_USAGE	ARCCTL_EXIT_USAGE
#define EXIT_UNREACHABLE 4	/* arc uses 3: ARCCTL_EXIT_REFUSED */

#define TIMEOUT_MS	10000		/* connect, send, one reply */
#define RELOAD_TIMEOUT_MS 60000		/* a reload loads every zone */
#define MAX_REPLY	(64u * 1024 * 1024)

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: arcdnsctl [-hV] [--json] [-c file] [-s socket] command\n"
	    "  -c, --config FILE   arcdnsd's configuration (default %s)\n"
	    "  -s, --socket PATH   control socket (default: server.control "
	    "of the config)\n"
	    "  -j, --json          print the daemon's JSON reply\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this text\n"
	    "commands:\n"
	    "  status                        the daemon's state\n"
	    "  controls                      routing controls as mirrored\n"
	    "  stats                         DNS, rebuild and ARC counters\n"
	    "  reload                        reload the configuration\n"
	    "  what-if NAME=on|off ...       answers under other states "
	    "(dry run)\n"
	    "  fence status                  every fence's phase and "
	    "targets\n"
	    "  fence NAME                    fence the served writer by "
	    "hand\n"
	    "  fence confirm NAME            declare a failed (or manual) "
	    "fence done\n"
	    "  arc list|get|set|failover ... direct calls to the ARC "
	    "cluster\n", DEFAULT_CONF);
}

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "arcdnsctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr);
	return EXIT_USAGE;
}

/* --- the socket ----------------------------------------------------------- */

/* Wait for events on fd until deadline; 0 ok, -1 timed out or failed. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int64_t left = deadline - (int64_t)clock_mono_ms();
	int n;

	if (left <= 0)
		return -1;
	do
		n = poll(&pfd, 1, (int)left);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/*
 * Send request (one line) to path and read one reply line into *out (new
 * JSON). Returns EXIT_OK, EXIT_UNREACHABLE (cannot connect) or
 * EXIT_FAILED (timeout, closed early, not JSON), with a message printed.
 */
static int
exchange(const char *path, const char *request, int timeout_ms,
    json_t **out)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int64_t deadline = (int64_t)clock_mono_ms() + timeout_ms;
	size_t len = strlen(request), off = 0, cap = 4096, have = 0;
	char *buf = NULL, *nl = NULL;
	json_error_t jerr;
	int fd, ret = EXIT_FAILED;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "arcdnsctl: %s: socket path too long\n", path);
		return EXIT_UNREACHABLE;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "arcdnsctl: socket: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	/* a full backlog (EAGAIN on a unix socket) is worth a retry */
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if ((errno == EAGAIN || errno == EINTR) &&
		    (int64_t)clock_mono_ms() + 20 < deadline) {
			(void)poll(NULL, 0, 10);
			continue;
		}
		fprintf(stderr, "arcdnsctl: cannot reach arcdnsd at %s: %s\n",
		    path, strerror(errno));
		close(fd);
		return EXIT_UNREACHABLE;
	}
	while (off < len) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline) != 0)
			goto timeout;
		n = send(fd, request + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "arcdnsctl: %s: %s\n", path,
			    strerror(errno));
			goto out;
		}
		if (n > 0)
			off += (size_t)n;
	}
	buf = xmalloc(cap);
	while (nl == NULL) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, deadline) != 0)
			goto timeout;
		if (have + 1 >= cap) {
			if (cap >= MAX_REPLY) {
				fprintf(stderr, "arcdnsctl: reply too long\n");
				goto out;
			}
			cap *= 2;
			buf = xrealloc(buf, cap, 1);
		}
		n = recv(fd, buf + have, cap - have - 1, 0);
		if (n == 0) {
			fprintf(stderr, "arcdnsctl: arcdnsd closed the "
			    "connection without a reply\n");
			goto out;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "arcdnsctl: %s: %s\n", path,
			    strerror(errno));
			goto out;
		}
		nl = memchr(buf + have, '\n', (size_t)n);
		have += (size_t)n;
	}
	*out = json_loadb(buf, (size_t)(nl - buf), 0, &jerr);
	if (*out == NULL || !json_is_object(*out)) {
		fprintf(stderr, "arcdnsctl: the reply is not a JSON object: "
		    "%s\n", *out == NULL ? jerr.text : "?");
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	ret = EXIT_OK;
	goto out;
timeout:
	fprintf(stderr, "arcdnsctl: no reply from arcdnsd at %s within "
	    "%d ms\n", path, timeout_ms);
out:
	free(buf);
	close(fd);
	return ret;
}

/* --- human output --------------------------------------------------------- */

/* A scalar as text into buf ("-" for null). */
static const char *
scalar(const json_t *v, char *buf, size_t size)
{
	if (v == NULL || json_is_null(v))
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	if (json_is_integer(v)) {
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, size, "%g", json_real_value(v));
		return buf;
	}
	return NULL;
}

/* "12s", "5m", "3h", "2d" */
static const char *
age_str(const json_t *v, char *buf, size_t size)
{
	json_int_t s;

	if (!json_is_integer(v))
		return "-";
	s = json_integer_value(v);
	if (s < 120)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%lldm", (long long)s / 60);
	else if (s < 172800)
		snprintf(buf, size, "%lldh", (long long)s / 3600);
	else
		snprintf(buf, size, "%lldd", (long long)s / 86400);
	return buf;
}

static void print_value(const char *key, const json_t *v, int depth);

/* An array of objects as a table: the first object's scalar keys. */
static void
print_table(const json_t *arr, int depth)
{
	const json_t *first = json_array_get(arr, 0);
	size_t ncol = 0, *width, i;
	const char **cols;
	const char *key;
	json_t *v;
	char buf[64];

	cols = xcalloc(json_object_size(first) + 1, sizeof(*cols));
	json_object_foreach((json_t *)first, key, v)
		if (scalar(v, buf, sizeof(buf)) != NULL)
			cols[ncol++] = key;
	width = xcalloc(ncol + 1, sizeof(*width));
	for (size_t c = 0; c < ncol; c++) {
		width[c] = strlen(cols[c]);
		json_array_foreach(arr, i, v) {
			const char *s = scalar(json_object_get(v, cols[c]),
			    buf, sizeof(buf));
			size_t l = s != NULL ? strlen(s) : 1;

			if (l > width[c])
				width[c] = l;
		}
	}
	printf("%*s", depth * 2, "");
	for (size_t c = 0; c < ncol; c++) {
		for (const char *p = cols[c]; *p != '\0'; p++)
			putchar(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' :
			    *p == '_' ? ' ' : *p);
		printf("%*s", c + 1 < ncol ? (int)(width[c] - strlen(cols[c]) +
		    2) : 0, "");
	}
	printf("\n");
	json_array_foreach(arr, i, v) {
		printf("%*s", depth * 2, "");
		for (size_t c = 0; c < ncol; c++) {
			const char *s = scalar(json_object_get(v, cols[c]),
			    buf, sizeof(buf));

			if (s == NULL)
				s = "?";
			printf("%s%*s", s, c + 1 < ncol ? (int)(width[c] -
			    strlen(s) + 2) : 0, "");
		}
		printf("\n");
	}
	free(cols);
	free(width);
}

static void
print_value(const char *key, const json_t *v, int depth)
{
	char buf[64];
	const char *s = scalar(v, buf, sizeof(buf));
	const char *k;
	json_t *x;
	size_t i;

	if (s != NULL) {
		printf("%*s%s: %s\n", depth * 2, "", key, s);
		return;
	}
	if (json_is_array(v)) {
		bool objs = json_array_size(v) > 0;

		json_array_foreach(v, i, x)
			if (!json_is_object(x))
				objs = false;
		if (objs) {
			printf("%*s%s:\n", depth * 2, "", key);
			print_table(v, depth + 1);
			return;
		}
		printf("%*s%s:", depth * 2, "", key);
		json_array_foreach(v, i, x) {
			s = scalar(x, buf, sizeof(buf));
			printf(" %s", s != NULL ? s : "...");
		}
		printf("\n");
		return;
	}
	printf("%*s%s:\n", depth * 2, "", key);
	json_object_foreach((json_t *)v, k, x)
		print_value(k, x, depth + 1);
}

/* Every key but "ok", generic layout. */
static void
print_generic(const json_t *reply)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)reply, k, v)
		if (strcmp(k, "ok") != 0)
			print_value(k, v, 0);
}

static void
print_controls(const json_t *reply)
{
	const json_t *arr = json_object_get(reply, "controls");
	size_t wn = 4, ws = 5, i;
	char buf[32];
	json_t *c;

	json_array_foreach(arr, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		const char *s = json_string_value(json_object_get(c, "state"));

		if (n != NULL && strlen(n) > wn)
			wn = strlen(n);
		if (s != NULL && strlen(s) > ws)
			ws = strlen(s);
	}
	printf("%-*s  %-*s  %-6s  %s\n", (int)wn, "NAME", (int)ws, "STATE",
	    "AGE", "ENDPOINT");
	json_array_foreach(arr, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));
		const char *s = json_string_value(json_object_get(c, "state"));
		const char *e = json_string_value(json_object_get(c,
		    "endpoint"));

		printf("%-*s  %-*s  %-6s  %s%s\n", (int)wn, n != NULL ? n : "?",
		    (int)ws, s != NULL ? s : "?", age_str(json_object_get(c,
		    "age_s"), buf, sizeof(buf)), e != NULL ? e : "-",
		    json_is_true(json_object_get(c, "missing")) ?
		    " (missing from the last poll)" : "");
	}
	if (json_is_true(json_object_get(reply, "stale")))
		printf("the mirror is STALE: no ARC poll succeeded lately\n");
	if (json_array_size(arr) == 0)
		printf("(no controls configured)\n");
}

/* "10.0.1.10 10.0.1.11", "SERVFAIL", "NODATA" into a new string. */
static char *
answer_text(const json_t *a)
{
	const char *what = json_string_value(json_object_get(a, "answer"));
	const json_t *vals = json_object_get(a, "values");
	char *s = xstrdup(""), *t;
	size_t i;
	json_t *v;

	if (what != NULL && strcmp(what, "values") != 0) {
		free(s);
		return xstrdup(what);
	}
	json_array_foreach(vals, i, v) {
		t = xstrfmt("%s%s%s", s, i > 0 ? " " : "",
		    json_string_value(v) != NULL ? json_string_value(v) : "?");
		free(s);
		s = t;
	}
	return s;
}

static void
print_whatif(const json_t *reply)
{
	const json_t *arr = json_object_get(reply, "answers");
	const json_t *states = json_object_get(reply, "states");
	size_t wv = 4, wn = 4, wt = 4, wc = 3, i;
	const char *k;
	json_t *a, *v;
	bool any = false;

	printf("states:");
	json_object_foreach((json_t *)states, k, v)
		printf(" %s=%s", k, json_string_value(v));
	printf("\n");
	json_array_foreach(arr, i, a) {
		const char *s;
		char *now = answer_text(json_object_get(a, "now"));

		if ((s = json_string_value(json_object_get(a, "view"))) &&
		    strlen(s) > wv)
			wv = strlen(s);
		if ((s = json_string_value(json_object_get(a, "name"))) &&
		    strlen(s) > wn)
			wn = strlen(s);
		if ((s = json_string_value(json_object_get(a, "type"))) &&
		    strlen(s) > wt)
			wt = strlen(s);
		if (strlen(now) > wc)
			wc = strlen(now);
		free(now);
	}
	printf("  %-*s  %-*s  %-*s  %-*s  %s\n", (int)wv, "VIEW", (int)wn,
	    "NAME", (int)wt, "TYPE", (int)wc, "NOW", "WHAT-IF");
	json_array_foreach(arr, i, a) {
		char *now = answer_text(json_object_get(a, "now"));
		char *then = answer_text(json_object_get(a, "what-if"));
		bool ch = json_is_true(json_object_get(a, "changed"));

		any = any || ch;
		printf("%c %-*s  %-*s  %-*s  %-*s  %s\n", ch ? '*' : ' ',
		    (int)wv, json_string_value(json_object_get(a, "view")),
		    (int)wn, json_string_value(json_object_get(a, "name")),
		    (int)wt, json_string_value(json_object_get(a, "type")),
		    (int)wc, now, then);
		free(now);
		free(then);
	}
	if (json_array_size(arr) == 0)
		printf("(no ARC-driven names configured)\n");
	else
		printf("%s\n", any ? "* = the answer would change (nothing "
		    "was changed)" : "no answer would change");
}

/* --- commands ------------------------------------------------------------- */

/* The what-if request for NAME=on|off arguments, or NULL (usage). */
static json_t *
whatif_request(int argc, char **argv)
{
	json_t *states = jsonx_check(json_object());

	if (argc < 1) {
		usage_error("what-if needs at least one %s", "NAME=on|off");
		json_decref(states);
		return NULL;
	}
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		char *name;

		if (eq == NULL || eq == argv[i] || (strcasecmp(eq + 1, "on") !=
		    0 && strcasecmp(eq + 1, "off") != 0)) {
			usage_error("what-if: '%s' is not NAME=on|off",
			    argv[i]);
			json_decref(states);
			return NULL;
		}
		name = xstrfmt("%.*s", (int)(eq - argv[i]), argv[i]);
		jsonx_set(states, name, jsonx_check(json_string(
		    strcasecmp(eq + 1, "on") == 0 ? "on" : "off")));
		free(name);
	}
	return jsonx_check(json_pack("{s:s,s:o}", "cmd", "what-if", "states",
	    states));
}

/*
 * fence status | fence NAME | fence confirm NAME -> the request, or NULL
 * (usage).
 */
static json_t *
fence_request(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "status") == 0)
		return jsonx_check(json_pack("{s:s}", "cmd", "fence-status"));
	if (argc == 2 && strcmp(argv[0], "confirm") == 0)
		return jsonx_check(json_pack("{s:s,s:s}", "cmd",
		    "fence-confirm", "name", argv[1]));
	if (argc == 1 && strcmp(argv[0], "confirm") != 0)
		return jsonx_check(json_pack("{s:s,s:s}", "cmd", "fence",
		    "name", argv[0]));
	usage_error("fence needs: status | NAME | confirm NAME");
	return NULL;
}

static void
print_fences(const json_t *reply)
{
	const json_t *arr = json_object_get(reply, "fences");

	if (json_array_size(arr) == 0) {
		printf("(no fences configured)\n");
		return;
	}
	print_table(arr, 0);
}

/* The socket to use: -s, else server.control of the config. */
static char *
socket_path(const char *sock, const char *conf_path)
{
	struct conf *conf;
	char *err = NULL, *path;

	if (sock != NULL)
		return xstrdup(sock);
	if (conf_load(conf_path, &conf, &err) != 0) {
		fprintf(stderr, "arcdnsctl: %s\n", err);
		fprintf(stderr, "arcdnsctl: give the socket with -s, or the "
		    "config with -c\n");
		free(err);
		return NULL;
	}
	path = conf->server.control != NULL ?
	    xstrdup(conf->server.control) : NULL;
	if (path == NULL)
		fprintf(stderr, "arcdnsctl: %s has no server.control: the "
		    "daemon has no control socket\n", conf_path);
	conf_free(conf);
	return path;
}

static int
run_command(const char *cmd, int argc, char **argv, const char *sock,
    const char *conf_path, bool json)
{
	json_t *req = NULL, *reply = NULL;
	char *path = NULL, *text;
	int ret;

	if (strcmp(cmd, "what-if") == 0) {
		req = whatif_request(argc, argv);
		if (req == NULL)
			return EXIT_USAGE;
	} else if (strcmp(cmd, "fence") == 0) {
		req = fence_request(argc, argv);
		if (req == NULL)
			return EXIT_USAGE;
	} else if (strcmp(cmd, "status") == 0 || strcmp(cmd, "controls") == 0 ||
	    strcmp(cmd, "stats") == 0 || strcmp(cmd, "reload") == 0) {
		if (argc > 0)
			return usage_error("unexpected argument '%s'", argv[0]);
		req = jsonx_check(json_pack("{s:s}", "cmd", cmd));
	} else
		return usage_error("unknown command '%s'", cmd);
	path = socket_path(sock, conf_path);
	if (path == NULL) {
		json_decref(req);
		return EXIT_FAILED;
	}
	text = jsonx_dump(req);
	json_decref(req);
	req = NULL;
	{
		char *line = xstrfmt("%s\n", text);

		free(text);
		ret = exchange(path, line, strcmp(cmd, "reload") == 0 ?
		    RELOAD_TIMEOUT_MS : TIMEOUT_MS, &reply);
		free(line);
	}
	free(path);
	if (ret != EXIT_OK)
		return ret;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *e = json_string_value(json_object_get(reply,
		    "error"));

		if (json) {
			text = jsonx_dump(reply);
			printf("%s\n", text);
			free(text);
		}
		fprintf(stderr, "arcdnsctl: %s%s: %s\n", cmd,
		    strcmp(cmd, "reload") == 0 ? " failed" : "",
		    e != NULL ? e : "failed");
		json_decref(reply);
		return EXIT_FAILED;
	}
	if (json) {
		text = jsonx_dump(reply);
		printf("%s\n", text);
		free(text);
	} else if (strcmp(cmd, "controls") == 0)
		print_controls(reply);
	else if (strcmp(cmd, "what-if") == 0)
		print_whatif(reply);
	else if (strcmp(cmd, "reload") == 0)
		printf("reloaded\n");
	else if (strcmp(cmd, "fence") == 0 && json_object_get(reply, "fences"))
		print_fences(reply);
	else if (strcmp(cmd, "fence") == 0) {
		const json_t *f = json_object_get(reply, "fence");

		printf("fence %s: %s\n", json_string_value(json_object_get(f,
		    "name")), json_string_value(json_object_get(f, "phase")));
	}
	else
		print_generic(reply);
	json_decref(reply);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *conf_path = DEFAULT_CONF, *sock = NULL;
	bool json = false;
	int ch;

	log_setup("arcdnsctl", LOG_FORMAT_TEXT, LOG_TARGET_STDERR,
	    LOG_LEVEL_WARN);
	/* "+": options end at the command (arc has its own options) */
	while ((ch = getopt_long(argc, argv, "+c:s:jhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'V':
			printf("arcdnsctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "arcdnsctl: no command\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	/* arc: direct calls to the cluster, with the daemon's config */
	if (strcmp(argv[optind], "arc") == 0)
		return arcctl_arc_main(argc - optind, argv + optind, conf_path,
		    json);
	return run_command(argv[optind], argc - optind - 1, argv + optind + 1,
	    sock, conf_path, json);
}
