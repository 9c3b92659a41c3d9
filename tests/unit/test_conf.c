/*
 * test_conf.c -- the YAML tree and arcdns.yaml parsing and validation.
 *
 * Good configs are checked field by field; bad configs form a table of
 * (text, exact message), so that every error keeps its wording and its
 * line:column. Texts are parsed from memory under the name "t.yaml".
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/yamltree.h"
#include "util/err.h"
#include "util/xalloc.h"

#define X110 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define ZONE_A	"zones: [{ id: a, origin: a.test., file: a.zone }]\n"
/* Lines 2 and 3 of a file that starts with ZONE_A: a minimal arc:. */
#define ARC_E	"arc:\n  endpoints: [{ region: us-east-1, url: " \
	"\"https://a.example/v1\" }]\n"

static struct conf *
load_ok(const char *yaml)
{
	struct conf *c = NULL;
	char *err = NULL;
	int ret;

	ret = conf_load_string("t.yaml", yaml, strlen(yaml), &c, &err);
	cr_assert_eq(ret, 0, "unexpected error %d: %s\n--- input:\n%s", ret,
	    err != NULL ? err : "(none)", yaml);
	cr_assert_null(err);
	cr_assert_not_null(c);
	return c;
}

/* Returns the message (new); the load must fail with code want. */
static char *
load_bad(const char *yaml, int want)
{
	struct conf *c = NULL;
	char *err = NULL;
	int ret;

	ret = conf_load_string("t.yaml", yaml, strlen(yaml), &c, &err);
	cr_assert_eq(ret, want, "got %d, want %d for:\n%s", ret, want, yaml);
	cr_assert_null(c);
	cr_assert_not_null(err);
	return err;
}

static char *
fmt_addr(const struct netaddr *a)
{
	char buf[64];

	netaddr_format(a, buf, sizeof(buf));
	return xstrdup(buf);
}

static char *
cwd_file(const char *name)
{
	char cwd[PATH_MAX], *real;
	char *out;

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	real = realpath(cwd, NULL);
	cr_assert_not_null(real);
	out = xstrfmt("%s/%s", real, name);
	free(real);
	return out;
}

/* --- good configs -------------------------------------------------------- */

Test(conf_good, minimal_gets_every_default)
{
	struct conf *c = load_ok(ZONE_A);
	const struct conf_server *s = &c->server;
	char host[256] = "";
	char *a0, *a1, *file;

	cr_expect_eq(s->nlisten, 2);
	a0 = fmt_addr(&s->listen[0]);
	a1 = fmt_addr(&s->listen[1]);
	cr_expect_str_eq(a0, "0.0.0.0:53");
	cr_expect_str_eq(a1, "[::]:53");
	cr_expect_eq(s->workers, 1);
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	cr_expect_str_eq(s->identity, host);
	cr_expect_not(s->hide_version);
	cr_expect_str_eq(s->version, "arcdns " PACKAGE_VERSION);
	cr_expect_str_eq(s->state_dir, CONF_DEFAULT_STATE_DIR);
	cr_expect_null(s->user);
	cr_expect_null(s->pid_file);
	cr_expect_eq(s->edns_size, 1232);
	cr_expect_eq(s->tcp_idle_ms, 10000);
	cr_expect_eq(s->tcp_max_conn, 256);
	cr_expect_eq(s->log_level, LOG_LEVEL_INFO);
	cr_expect_eq(s->log_format, LOG_FORMAT_TEXT);
	cr_expect_eq(s->log_target, LOG_TARGET_STDERR);

	cr_assert_eq(c->nzones, 1);
	cr_expect_str_eq(c->zones[0].id, "a");
	cr_expect_str_eq(c->zones[0].origin, "a.test.");
	file = cwd_file("a.zone");
	cr_expect_str_eq(c->zones[0].file, file);
	cr_expect_eq(c->zones[0].ttl, 5);
	cr_expect_eq(c->zones[0].line, 1);
	cr_expect_eq(c->zones[0].column, 9);

	cr_assert_eq(c->nviews, 1);
	cr_expect_str_eq(c->views[0].name, "default");
	cr_expect(c->views[0].implicit);
	cr_assert_eq(c->views[0].nmatch, 1);
	cr_expect_eq(c->views[0].match[0].family, AF_UNSPEC);
	cr_assert_eq(c->views[0].nzones, 1);
	cr_expect_eq(c->views[0].zones[0], 0);
	cr_expect_str_eq(c->path, "t.yaml");
	free(a0);
	free(a1);
	free(file);
	conf_free(c);
}

Test(conf_good, every_server_option)
{
	const char *yaml =
	    "# every option set away from its default\n"
	    "server:\n"
	    "  listen: [\"127.0.0.1:5300\", \"[::1]:5301\", 10.1.2.3]\n"
	    "  workers: 3\n"
	    "  identity: \"arcdns-east-1\"\n"
	    "  hide-version: true\n"
	    "  version: \"not telling\"\n"
	    "  state-dir: /srv/arcdns\n"
	    "  user: arcdns\n"
	    "  pid-file: run/arcdnsd.pid\n"
	    "  edns-buffer-size: 4096\n"
	    "  tcp-idle-timeout: 2m\n"
	    "  tcp-max-connections: 1000\n"
	    "  log: { level: debug, format: json, target: syslog }\n"
	    ZONE_A;
	struct conf *c = load_ok(yaml);
	const struct conf_server *s = &c->server;
	char *a[3], *pid;

	cr_assert_eq(s->nlisten, 3);
	for (int i = 0; i < 3; i++)
		a[i] = fmt_addr(&s->listen[i]);
	cr_expect_str_eq(a[0], "127.0.0.1:5300");
	cr_expect_str_eq(a[1], "[::1]:5301");
	cr_expect_str_eq(a[2], "10.1.2.3:53");
	cr_expect_eq(s->workers, 3);
	cr_expect_str_eq(s->identity, "arcdns-east-1");
	cr_expect(s->hide_version);
	cr_expect_str_eq(s->version, "not telling");
	cr_expect_str_eq(s->state_dir, "/srv/arcdns");
	cr_expect_str_eq(s->user, "arcdns");
	pid = cwd_file("run/arcdnsd.pid");
	cr_expect_str_eq(s->pid_file, pid);
	cr_expect_eq(s->edns_size, 4096);
	cr_expect_eq(s->tcp_idle_ms, 120000);
	cr_expect_eq(s->tcp_max_conn, 1000);
	cr_expect_eq(s->log_level, LOG_LEVEL_DEBUG);
	cr_expect_eq(s->log_format, LOG_FORMAT_JSON);
	cr_expect_eq(s->log_target, LOG_TARGET_SYSLOG);
	for (int i = 0; i < 3; i++)
		free(a[i]);
	free(pid);
	conf_free(c);
}

Test(conf_good, listen_as_one_string_and_block_list)
{
	struct conf *c = load_ok("server:\n  listen: \"[::1]:5300\"\n" ZONE_A);
	char *a;

	cr_assert_eq(c->server.nlisten, 1);
	a = fmt_addr(&c->server.listen[0]);
	cr_expect_str_eq(a, "[::1]:5300");
	free(a);
	conf_free(c);

	/* Unquoted IPv6 is fine in a block list (not in a flow list). */
	c = load_ok("server:\n  listen:\n    - ::1\n    - 127.0.0.1:5300\n"
	    ZONE_A);
	cr_assert_eq(c->server.nlisten, 2);
	a = fmt_addr(&c->server.listen[0]);
	cr_expect_str_eq(a, "[::1]:53");
	free(a);
	conf_free(c);
}

Test(conf_good, workers_zero_means_one_per_cpu)
{
	struct conf *c = load_ok("server: { workers: 0 }\n" ZONE_A);
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > CONF_MAX_WORKERS)
		n = CONF_MAX_WORKERS;
	cr_expect_eq(c->server.workers, (unsigned)n);
	cr_expect_gt(c->server.workers, 0);
	conf_free(c);
}

Test(conf_good, null_sections_are_empty)
{
	/* What an example file with every option commented out looks like. */
	struct conf *c = load_ok("server:\n  # workers: 1\n  log:\n"
	    "views:\n" ZONE_A);

	cr_expect_eq(c->server.workers, 1);
	cr_expect_eq(c->nviews, 1);
	cr_expect(c->views[0].implicit);
	conf_free(c);
}

Test(conf_good, booleans)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {
		{"true", true}, {"True", true}, {"TRUE", true}, {"yes", true},
		{"false", false}, {"False", false}, {"no", false},
		{"NO", false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *y = xstrfmt("server: { hide-version: %s }\n" ZONE_A,
		    cases[i].text);
		struct conf *c = load_ok(y);

		cr_expect_eq(c->server.hide_version, cases[i].value, "%s",
		    cases[i].text);
		conf_free(c);
		free(y);
	}
}

Test(conf_good, origin_is_normalised)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"Svc.Example.Internal", "svc.example.internal."},
		{"svc.example.internal.", "svc.example.internal."},
		{"\"EXAMPLE.\"", "example."},
		{"_tcp.x-1.test", "_tcp.x-1.test."},
		{"\".\"", "."},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *y = xstrfmt("zones: [{id: a, origin: %s, file: f}]\n",
		    cases[i].in);
		struct conf *c = load_ok(y);

		cr_expect_str_eq(c->zones[0].origin, cases[i].out, "%s",
		    cases[i].in);
		conf_free(c);
		free(y);
	}
}

Test(conf_good, longest_origin)
{
	char label[64], name[300];
	struct conf *c;
	char *y;

	memset(label, 'x', 63);
	label[63] = '\0';
	/* 63+1 + 63+1 + 63+1 + 61+1 + 1 (root) = 255 bytes on the wire. */
	snprintf(name, sizeof(name), "%s.%s.%s.%.61s.", label, label, label,
	    label);
	y = xstrfmt("zones: [{id: a, origin: %s, file: f}]\n", name);
	c = load_ok(y);
	cr_expect_str_eq(c->zones[0].origin, name);
	conf_free(c);
	free(y);
}

Test(conf_good, zone_options_and_paths)
{
	const char *yaml =
	    "zones:\n"
	    "  - id: svc\n"
	    "    origin: svc.example.internal.\n"
	    "    file: zones/svc.zone\n"
	    "    ttl: 0\n"
	    "  - id: other\n"
	    "    origin: other.test\n"
	    "    file: /abs/other.zone\n"
	    "    ttl: 2147483647\n";
	struct conf *c = load_ok(yaml);
	char *f = cwd_file("zones/svc.zone");

	cr_assert_eq(c->nzones, 2);
	cr_expect_str_eq(c->zones[0].file, f);
	cr_expect_eq(c->zones[0].ttl, 0);
	cr_expect_eq(c->zones[0].line, 2);
	cr_expect_eq(c->zones[0].column, 5);
	cr_expect_str_eq(c->zones[1].file, "/abs/other.zone");
	cr_expect_eq(c->zones[1].ttl, 2147483647u);
	cr_expect_eq(c->zones[1].line, 6);
	cr_assert_eq(c->nviews, 1);
	cr_expect_eq(c->views[0].nzones, 2);
	free(f);
	conf_free(c);
}

Test(conf_good, views_split_horizon)
{
	const char *yaml =
	    "zones:\n"
	    "  - { id: svc, origin: svc.example.internal., file: a.zone }\n"
	    "  - { id: svc-east, origin: SVC.example.internal, file: b.zone }\n"
	    "  - { id: extra, origin: extra.test., file: c.zone }\n"
	    "views:\n"
	    "  - name: vpc-east\n"
	    "    match-clients: [\"10.0.0.0/16\", 127.0.0.2/32, \"::1\"]\n"
	    "    zones: [svc-east, extra]\n"
	    "  - name: default\n"
	    "    match-clients: [any]\n"
	    "    zones: [svc]\n"
	    "  - name: nothing\n"
	    "    match-clients: 192.0.2.0/24\n"
	    "    zones: []\n";
	struct conf *c = load_ok(yaml);
	const struct conf_view *v;
	struct sockaddr_in sin;

	cr_assert_eq(c->nviews, 3);
	v = &c->views[0];
	cr_expect_str_eq(v->name, "vpc-east");
	cr_expect_not(v->implicit);
	cr_expect_eq(v->line, 6);
	cr_expect_eq(v->column, 5);
	cr_assert_eq(v->nmatch, 3);
	cr_expect_eq(v->match[0].family, AF_INET);
	cr_expect_eq(v->match[0].bits, 16);
	cr_expect_eq(v->match[1].bits, 32);
	cr_expect_eq(v->match[2].family, AF_INET6);
	cr_expect_eq(v->match[2].bits, 128);
	cr_assert_eq(v->nzones, 2);
	cr_expect_eq(v->zones[0], 1);
	cr_expect_eq(v->zones[1], 2);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr), 1);
	cr_expect(netprefix_match(&v->match[1], (struct sockaddr *)&sin));
	cr_expect_not(netprefix_match(&v->match[0], (struct sockaddr *)&sin));

	v = &c->views[1];
	cr_expect_str_eq(v->name, "default");
	cr_expect_not(v->implicit);
	cr_expect_eq(v->match[0].family, AF_UNSPEC);
	cr_assert_eq(v->nzones, 1);
	cr_expect_eq(v->zones[0], 0);

	v = &c->views[2];
	cr_expect_eq(v->nmatch, 1);
	cr_expect_eq(v->nzones, 0);
	conf_free(c);
}

Test(conf_good, yaml_styles_and_markers)
{
	/* Document markers, comments, quoting styles, !!str, block scalar. */
	const char *yaml =
	    "%YAML 1.1\n"
	    "---\n"
	    "server:   # trailing comment\n"
	    "  identity: !!str 12345\n"
	    "  version: >-\n"
	    "    folded\n"
	    "    text\n"
	    "  'user': 'o''brien'\n"
	    "zones:\n"
	    "- id: \"a\"\n"
	    "  origin: a.test.\n"
	    "  file: 'a.zone'\n"
	    "...\n";
	struct conf *c = load_ok(yaml);

	cr_expect_str_eq(c->server.identity, "12345");
	cr_expect_str_eq(c->server.version, "folded text");
	cr_expect_str_eq(c->server.user, "o'brien");
	cr_expect_str_eq(c->zones[0].id, "a");
	conf_free(c);
}

Test(conf_good, load_from_file_resolves_dir)
{
	char tmpl[] = "/tmp/arcdns-conf-XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *real, *want;
	struct conf *c = NULL;
	char *err = NULL;
	FILE *fp;

	cr_assert_not_null(dir);
	path = xstrfmt("%s/arcdns.yaml", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(ZONE_A, fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(conf_load(path, &c, &err), 0, "%s", err);
	real = realpath(dir, NULL);
	cr_assert_not_null(real);
	want = xstrfmt("%s/a.zone", real);
	cr_expect_str_eq(c->dir, real);
	cr_expect_str_eq(c->path, path);
	cr_expect_str_eq(c->zones[0].file, want);
	conf_free(c);
	unlink(path);
	rmdir(dir);
	free(path);
	free(real);
	free(want);
}

Test(conf_bad, missing_file)
{
	struct conf *c = NULL;
	char *err = NULL;

	cr_expect_eq(conf_load("/nonexistent/arcdns.yaml", &c, &err),
	    -ENOENT);
	cr_expect_null(c);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, "/nonexistent/arcdns.yaml: No such file or "
	    "directory");
	free(err);
}

Test(conf_bad, file_with_syntax_error_names_path)
{
	char tmpl[] = "/tmp/arcdns-conf-XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *want;
	struct conf *c = NULL;
	char *err = NULL;
	FILE *fp;

	cr_assert_not_null(dir);
	path = xstrfmt("%s/bad.yaml", dir);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(ZONE_A "server:\n  workers: many\n", fp);
	cr_assert_eq(fclose(fp), 0);
	cr_expect_eq(conf_load(path, &c, &err), ERR_INVAL);
	want = xstrfmt("%s:3:12: 'workers' must be an integer", path);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, want);
	unlink(path);
	rmdir(dir);
	free(path);
	free(want);
	free(err);
}

Test(conf_bad, origin_too_long)
{
	char label[64], name[300], *y, *err, *want;

	memset(label, 'x', 63);
	label[63] = '\0';
	/* One byte more than longest_origin: 256 bytes on the wire. */
	snprintf(name, sizeof(name), "%s.%s.%s.%.62s", label, label, label,
	    label);
	y = xstrfmt("zones: [{id: a, origin: %s, file: f}]\n", name);
	err = load_bad(y, ERR_INVAL);
	want = xstrfmt("t.yaml:1:25: invalid origin '%.64s...': name longer "
	    "than 255 bytes", name);
	cr_expect_str_eq(err, want);
	free(want);
	free(err);
	free(y);
}

Test(yamltree, file_at_the_size_limit_loads)
{
	char tmpl[] = "/tmp/arcdns-yt-XXXXXX";
	int fd = mkstemp(tmpl);
	struct ytree *t = NULL;
	char *err = NULL;

	/* A comment line padded to exactly YTREE_MAX_SIZE bytes. */
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "#", 1), 1);
	cr_assert_eq(ftruncate(fd, YTREE_MAX_SIZE), 0);
	close(fd);
	cr_expect_eq(ytree_load(tmpl, &t, &err), ERR_PARSE);
	/* NULs are not YAML: the reader must have seen the whole file. */
	cr_assert_not_null(err);
	cr_expect(strstr(err, "invalid input") != NULL, "%s", err);
	free(err);
	unlink(tmpl);
}

/* --- arc: and controls: -------------------------------------------------- */

Test(conf_good, no_arc_section)
{
	struct conf *c = load_ok(ZONE_A);

	cr_expect_not(c->arc.enabled);
	cr_expect_eq(c->arc.nendpoints, 0);
	cr_expect_null(c->arc.endpoints);
	cr_expect_eq(c->ncontrols, 0);
	cr_expect_null(c->controls);
	conf_free(c);
}

Test(conf_good, arc_defaults)
{
	struct conf *c = load_ok(ZONE_A ARC_E);
	const struct conf_arc *a = &c->arc;

	cr_expect(a->enabled);
	cr_assert_eq(a->nendpoints, 1);
	cr_expect_str_eq(a->endpoints[0].region, "us-east-1");
	cr_expect_str_eq(a->endpoints[0].url, "https://a.example/v1");
	cr_expect_null(a->control_panel);
	cr_expect_eq(a->poll_interval_ms, 1000);
	cr_expect_eq(a->timeout_ms, 800);
	cr_expect_eq(a->connect_timeout_ms, 800);
	cr_expect_eq(a->hedge_after_ms, 0);
	cr_expect_eq(a->stale_after_ms, 3 * 1000 + 800);
	cr_expect_null(a->ca_file);
	cr_expect_str_eq(a->credentials, "auto");
	cr_expect_null(a->profile);
	cr_expect_eq(c->ncontrols, 0);	/* arc: without controls: is fine */
	conf_free(c);
}

Test(conf_good, arc_every_option)
{
	char tmpl[] = "/tmp/arcdns-ca-XXXXXX";
	int fd = mkstemp(tmpl);
	char *y;
	struct conf *c;
	const struct conf_arc *a;

	cr_assert_geq(fd, 0);
	close(fd);
	y = xstrfmt(ZONE_A
	    "arc:\n"
	    "  endpoints:\n"
	    "    - { region: us-east-1, url: \"https://h1.example/v1\" }\n"
	    "    - { region: us-west-2, url: \"https://[2001:db8::1]:8443\" }\n"
	    "    - { region: eu-west-1, url: \"http://127.0.0.1:5001/v1\" }\n"
	    "    - { region: ap-northeast-1, url: \"http://[::1]:5002/\" }\n"
	    "    - { region: us-gov-west-1, url: \"http://localhost/v1\" }\n"
	    "  control-panel: \"arn:aws:route53-recovery-control::1111:"
	    "controlpanel/abc\"\n"
	    "  poll-interval: 2s\n"
	    "  timeout: 3s\n"		/* longer than poll-interval: allowed */
	    "  connect-timeout: 1s\n"
	    "  hedge-after: 300ms\n"
	    "  stale-after: 1m\n"
	    "  ca-file: %s\n"
	    "  credentials: profile\n"
	    "  profile: dr-team\n", tmpl);
	c = load_ok(y);
	a = &c->arc;
	cr_expect(a->enabled);
	cr_assert_eq(a->nendpoints, 5);
	cr_expect_str_eq(a->endpoints[1].region, "us-west-2");
	cr_expect_str_eq(a->endpoints[1].url, "https://[2001:db8::1]:8443");
	cr_expect_str_eq(a->endpoints[3].url, "http://[::1]:5002/");
	cr_expect_str_eq(a->endpoints[4].region, "us-gov-west-1");
	cr_expect_str_eq(a->control_panel,
	    "arn:aws:route53-recovery-control::1111:controlpanel/abc");
	cr_expect_eq(a->poll_interval_ms, 2000);
	cr_expect_eq(a->timeout_ms, 3000);
	cr_expect_eq(a->connect_timeout_ms, 1000);
	cr_expect_eq(a->hedge_after_ms, 300);
	cr_expect_eq(a->stale_after_ms, 60000);
	cr_expect_str_eq(a->ca_file, tmpl);
	cr_expect_str_eq(a->credentials, "profile");
	cr_expect_str_eq(a->profile, "dr-team");
	conf_free(c);
	free(y);
	unlink(tmpl);
}

Test(conf_good, arc_defaults_follow_other_values)
{
	struct conf *c = load_ok(ZONE_A ARC_E
	    "  timeout: 1500ms\n  poll-interval: 5s\n  hedge-after: 0s\n");

	cr_expect_eq(c->arc.connect_timeout_ms, 1500);
	cr_expect_eq(c->arc.stale_after_ms, 3 * 5000 + 1500);
	cr_expect_eq(c->arc.hedge_after_ms, 0);
	conf_free(c);
}

Test(conf_good, arc_loopback_and_credentials)
{
	static const char *const ok[] = {
		"http://127.0.0.1/v1", "http://127.255.0.9:80",
		"http://LocalHost:5000/v1", "http://localhost./",
		"http://[::1]", "http://[0:0:0:0:0:0:0:1]:5300/v1",
		"https://10.0.0.1/v1", "https://a-b_c.example.com:443/v1/",
	};
	static const char *const creds[] = {"auto", "env", "profile",
		"container", "imds", "web-identity"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *y = xstrfmt(ZONE_A "arc:\n  endpoints: [{ region: "
		    "ap-southeast-2, url: \"%s\" }]\n", ok[i]);
		struct conf *c = load_ok(y);

		cr_expect_str_eq(c->arc.endpoints[0].url, ok[i]);
		conf_free(c);
		free(y);
	}
	for (size_t i = 0; i < sizeof(creds) / sizeof(creds[0]); i++) {
		char *y = xstrfmt(ZONE_A ARC_E "  credentials: %s\n",
		    creds[i]);
		struct conf *c = load_ok(y);

		cr_expect_str_eq(c->arc.credentials, creds[i]);
		conf_free(c);
		free(y);
	}
}

Test(conf_good, controls_by_arn_and_by_name)
{
	struct conf *c = load_ok(ZONE_A ARC_E
	    "controls:\n"
	    "  east: { arn: \"arn:aws:route53-recovery-control::1111:"
	    "controlpanel/abc/routingcontrol/e1\" }\n"
	    "  west.2: { name: \"route-us-west-2\" }\n"
	    "  A_b-9: { name: \"x:y/z\" }\n");

	cr_assert_eq(c->ncontrols, 3);
	cr_expect_str_eq(c->controls[0].name, "east");
	cr_expect_str_eq(c->controls[0].arn, "arn:aws:route53-recovery-"
	    "control::1111:controlpanel/abc/routingcontrol/e1");
	cr_expect_null(c->controls[0].arc_name);
	cr_expect_eq(c->controls[0].line, 5);
	cr_expect_eq(c->controls[0].column, 3);
	cr_expect_str_eq(c->controls[1].name, "west.2");
	cr_expect_null(c->controls[1].arn);
	cr_expect_str_eq(c->controls[1].arc_name, "route-us-west-2");
	cr_expect_eq(c->controls[1].line, 6);
	cr_expect_str_eq(c->controls[2].name, "A_b-9");
	cr_expect_str_eq(c->controls[2].arc_name, "x:y/z");
	conf_free(c);
}

Test(conf_good, empty_controls_with_arc)
{
	static const char *const forms[] = {"controls: {}\n", "controls:\n"};

	for (size_t i = 0; i < 2; i++) {
		char *y = xstrfmt(ZONE_A ARC_E "%s", forms[i]);
		struct conf *c = load_ok(y);

		cr_expect(c->arc.enabled);
		cr_expect_eq(c->ncontrols, 0);
		conf_free(c);
		free(y);
	}
}

Test(conf_good, controls_before_arc)
{
	struct conf *c = load_ok("controls: { e: { name: e } }\n" ZONE_A
	    "arc: { endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example\" }] }\n");

	cr_expect_eq(c->ncontrols, 1);
	cr_expect(c->arc.enabled);
	conf_free(c);
}

Test(conf_good, ca_file_relative_to_the_config)
{
	char tmpl[] = "/tmp/arcdns-conf-XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *ca, *real, *want;
	struct conf *c = NULL;
	char *err = NULL;
	FILE *fp;

	cr_assert_not_null(dir);
	path = xstrfmt("%s/arcdns.yaml", dir);
	ca = xstrfmt("%s/ca.pem", dir);
	fp = fopen(ca, "w");
	cr_assert_not_null(fp);
	cr_assert_eq(fclose(fp), 0);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(ZONE_A ARC_E "  ca-file: ca.pem\n", fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(conf_load(path, &c, &err), 0, "%s", err);
	real = realpath(dir, NULL);
	cr_assert_not_null(real);
	want = xstrfmt("%s/ca.pem", real);
	cr_expect_str_eq(c->arc.ca_file, want);
	conf_free(c);
	unlink(ca);
	unlink(path);
	rmdir(dir);
	free(path);
	free(ca);
	free(real);
	free(want);
}

/* --- records, notify, allow-transfer, keys, chaos-clients ------------- */

/*
 * Lines 1-10 of a file whose zone block a has records: arc:, controls
 * east (index 0) and west (1), then the zone; records start at line 11.
 */
#define REC	"arc:\n  endpoints: [{ region: us-east-1, url: " \
	"\"https://a.example/v1\" }]\n" \
	"controls:\n  east: { name: e }\n  west: { name: w }\n" \
	"zones:\n  - id: a\n    origin: a.test.\n    file: a.zone\n" \
	"    records:\n"

static void
expect_bytes(const struct conf_rdata *rd, const void *want, size_t len)
{
	cr_assert_eq(rd->len, len, "length %u, want %zu", rd->len, len);
	cr_expect_eq(memcmp(rd->data, want, len), 0);
}

Test(conf_good, records_every_policy)
{
	struct conf *c = load_ok(REC
	    "      - name: api\n"
	    "        type: A\n"
	    "        policy: failover\n"
	    "        when-none-on: servfail\n"
	    "        targets:\n"
	    "          - { control: east, region: us-east-1, values: "
	    "[10.0.1.10, 10.0.1.11] }\n"
	    "          - { control: west, region: us-west-2, values: "
	    "10.1.1.10 }\n"
	    "      - { name: api, type: aaaa, policy: multivalue, "
	    "when-none-on: nodata, targets: [{ control: west, values: "
	    "[\"2001:db8::1\"] }] }\n"
	    "      - name: Writer.DB\n"
	    "        type: CNAME\n"
	    "        policy: failover\n"
	    "        targets:\n"
	    "          - { control: east, values: [East-Writer.example.com.] }\n"
	    "          - { control: west, values: [West] }\n"
	    "      - { name: role, policy: role, targets: [{ control: east, "
	    "region: us-east-1 }, { control: west, region: us-west-2 }] }\n"
	    "      - { name: \"@\", type: A, policy: failover, targets: "
	    "[{ control: east, values: 192.0.2.1 }] }\n"
	    "      - { name: x.A.Test., type: A, policy: failover, targets: "
	    "[{ control: east, values: 192.0.2.2 }] }\n");
	const struct conf_zone *z = &c->zones[0];
	const struct conf_record *r;
	static const uint8_t a1[] = {10, 0, 1, 10}, a2[] = {10, 0, 1, 11},
	    a3[] = {10, 1, 1, 10}, aaaa[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	cr_assert_eq(z->nrecords, 6);
	cr_expect_eq(z->key, -1);
	cr_expect_eq(z->nnotify, 0);
	cr_expect_eq(z->nallow_transfer, 0);

	r = &z->records[0];
	cr_expect_str_eq(r->name, "api");
	cr_expect_eq(memcmp(r->owner, "\3api\1a\4test", 12), 0);
	cr_expect_eq(r->type, 1);
	cr_expect_eq(r->policy, CONF_POLICY_FAILOVER);
	cr_expect_eq(r->none_on, CONF_NONE_ON_SERVFAIL);
	cr_expect_null(r->fence);
	cr_expect_eq(r->line, 11);
	cr_expect_eq(r->column, 9);
	cr_assert_eq(r->ntargets, 2);
	cr_expect_eq(r->targets[0].control, 0);
	cr_expect_str_eq(r->targets[0].region, "us-east-1");
	cr_expect_eq(r->targets[0].line, 16);
	cr_expect_eq(r->targets[0].column, 13);
	cr_assert_eq(r->targets[0].nvalues, 2);
	expect_bytes(&r->targets[0].values[0], a1, 4);
	expect_bytes(&r->targets[0].values[1], a2, 4);
	cr_expect_eq(r->targets[1].control, 1);
	cr_expect_str_eq(r->targets[1].region, "us-west-2");
	cr_assert_eq(r->targets[1].nvalues, 1);
	expect_bytes(&r->targets[1].values[0], a3, 4);

	r = &z->records[1];
	cr_expect_eq(r->type, 28);
	cr_expect_eq(r->policy, CONF_POLICY_MULTIVALUE);
	cr_expect_eq(r->none_on, CONF_NONE_ON_NODATA);
	cr_assert_eq(r->ntargets, 1);
	cr_expect_null(r->targets[0].region);
	expect_bytes(&r->targets[0].values[0], aaaa, 16);

	r = &z->records[2];
	cr_expect_str_eq(r->name, "Writer.DB");
	cr_expect_eq(memcmp(r->owner, "\6writer\2db\1a\4test", 18), 0);
	cr_expect_eq(r->type, 5);
	cr_expect_eq(r->none_on, CONF_NONE_ON_FIRST);
	cr_assert_eq(r->ntargets, 2);
	/* A CNAME's value keeps its case; relative is completed. */
	expect_bytes(&r->targets[0].values[0],
	    "\013East-Writer\7example\3com", 25);
	expect_bytes(&r->targets[1].values[0], "\4West\1a\4test", 13);

	r = &z->records[3];
	cr_expect_eq(r->type, 16);
	cr_expect_eq(r->policy, CONF_POLICY_ROLE);
	cr_assert_eq(r->ntargets, 2);
	cr_expect_str_eq(r->targets[1].region, "us-west-2");
	cr_expect_eq(r->targets[0].nvalues, 0);
	cr_expect_null(r->targets[0].values);

	cr_expect_eq(memcmp(z->records[4].owner, "\1a\4test", 8), 0);
	cr_expect_eq(memcmp(z->records[5].owner, "\1x\1a\4test", 10), 0);
	conf_free(c);
}

Test(conf_good, records_before_controls_and_origin)
{
	/* Controls come last, the origin after the records. */
	struct conf *c = load_ok(
	    "zones:\n"
	    "  - id: a\n"
	    "    records:\n"
	    "      - { name: www, type: CNAME, policy: failover, targets: "
	    "[{ control: b, values: [\"@\"] }] }\n"
	    "    origin: A.Test\n"
	    "    file: a.zone\n"
	    "arc: { endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example\" }] }\n"
	    "controls:\n  a: { name: a }\n  b: { name: b }\n");
	const struct conf_record *r = &c->zones[0].records[0];

	cr_expect_eq(memcmp(r->owner, "\3www\1a\4test", 12), 0);
	cr_expect_eq(r->targets[0].control, 1);
	expect_bytes(&r->targets[0].values[0], "\1a\4test", 8);
	conf_free(c);
}

Test(conf_good, records_empty_list)
{
	struct conf *c = load_ok("zones:\n  - { id: a, origin: a., file: a, "
	    "records: [] }\n");

	cr_expect_eq(c->zones[0].nrecords, 0);
	conf_free(c);
}

Test(conf_good, records_limits)
{
	char *targets = xstrdup(""), *values = xstrdup(""), *y, *t, *err;
	struct conf *c;

	for (int i = 0; i < 16; i++) {
		t = xstrfmt("%s%s{ control: east, values: [10.0.0.%d] }",
		    targets, i ? ", " : "", i);
		free(targets);
		targets = t;
	}
	for (int i = 0; i < 64; i++) {
		t = xstrfmt("%s%s10.0.1.%d", values, i ? ", " : "", i);
		free(values);
		values = t;
	}
	y = xstrfmt(REC "      - { name: a, type: A, policy: multivalue, "
	    "targets: [%s] }\n      - { name: b, type: A, policy: failover, "
	    "targets: [{ control: west, values: [%s] }] }\n", targets,
	    values);
	c = load_ok(y);
	cr_expect_eq(c->zones[0].records[0].ntargets, 16);
	cr_expect_eq(c->zones[0].records[1].targets[0].nvalues, 64);
	conf_free(c);
	free(y);

	/* One more of each is one too many. */
	y = xstrfmt(REC "      - { name: a, type: A, policy: multivalue, "
	    "targets: [%s, { control: west, values: 10.0.0.99 }] }\n",
	    targets);
	err = load_bad(y, ERR_INVAL);
	cr_expect_str_eq(err, "t.yaml:11:58: 'targets' must list 1 to 16 "
	    "targets, not 17");
	free(err);
	free(y);
	y = xstrfmt(REC "      - { name: b, type: A, policy: failover, "
	    "targets: [{ control: west, values: [%s, 10.0.2.1] }] }\n",
	    values);
	err = load_bad(y, ERR_INVAL);
	cr_expect_str_eq(err, "t.yaml:11:82: 'values' must list 1 to 64 "
	    "values, not 65");
	free(err);
	free(y);
	free(targets);
	free(values);
}

/* Names that may share a name: A and AAAA, role names and other types. */
Test(conf_good, records_that_may_share_a_name)
{
	struct conf *c = load_ok(REC
	    "      - { name: api, type: A, policy: failover, targets: "
	    "[{ control: east, values: 10.0.0.1 }] }\n"
	    "      - { name: api, type: AAAA, policy: failover, targets: "
	    "[{ control: east, values: \"::1\" }] }\n"
	    "      - { name: role, policy: role, targets: "
	    "[{ control: east, region: us-east-1 }] }\n"
	    "      - { name: us-east-1.role, type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n"
	    "      - { name: role, type: CNAME, policy: failover, targets: "
	    "[{ control: east, values: x.example. }] }\n");

	cr_expect_eq(c->zones[0].nrecords, 5);
	conf_free(c);
}

Test(conf_good, notify_allow_transfer_tsig_key)
{
	struct conf *c = load_ok(
	    "keys:\n"
	    "  XFR-Key: { algorithm: HMAC-SHA256, secret: \"c2VjcmV0\" }\n"
	    "  other.key.: { algorithm: hmac-sha1, secret: \"YQ==\" }\n"
	    "  k3: { secret: \"YWI=\", algorithm: hmac-sha512 }\n"
	    "  k4: { algorithm: hmac-sha384, secret: AAAA }\n"
	    "zones:\n"
	    "  - id: a\n"
	    "    origin: a.test.\n"
	    "    file: a.zone\n"
	    "    notify: [\"127.0.0.1:5301\", \"::1\", 10.0.0.1]\n"
	    "    allow-transfer: [\"127.0.0.0/8\", \"::1\", any]\n"
	    "    tsig-key: xfr-key.\n"
	    "  - { id: b, origin: b.test., file: b.zone, notify: "
	    "\"127.0.0.2\", allow-transfer: 10.0.0.0/8, tsig-key: "
	    "OTHER.key }\n"
	    "  - { id: c, origin: c.test., file: c.zone }\n");
	const struct conf_zone *z = &c->zones[0];
	char *a[3];

	cr_assert_eq(c->nkeys, 4);
	cr_expect_str_eq(c->keys[0].name, "xfr-key");
	cr_expect_eq(memcmp(c->keys[0].wire, "\7xfr-key", 9), 0);
	cr_expect_str_eq(c->keys[0].algorithm, "hmac-sha256");
	cr_assert_eq(c->keys[0].secret_len, 6);
	cr_expect_eq(memcmp(c->keys[0].secret, "secret", 6), 0);
	cr_expect_eq(c->keys[0].line, 2);
	cr_expect_eq(c->keys[0].column, 3);
	cr_expect_str_eq(c->keys[1].name, "other.key.");
	cr_expect_eq(memcmp(c->keys[1].wire, "\5other\3key", 11), 0);
	cr_expect_str_eq(c->keys[1].algorithm, "hmac-sha1");
	cr_assert_eq(c->keys[1].secret_len, 1);
	cr_expect_eq(c->keys[1].secret[0], 'a');
	cr_expect_str_eq(c->keys[2].algorithm, "hmac-sha512");
	cr_expect_eq(c->keys[2].secret_len, 2);
	cr_expect_str_eq(c->keys[3].algorithm, "hmac-sha384");
	cr_expect_eq(c->keys[3].secret_len, 3);

	cr_assert_eq(z->nnotify, 3);
	for (int i = 0; i < 3; i++)
		a[i] = fmt_addr(&z->notify[i]);
	cr_expect_str_eq(a[0], "127.0.0.1:5301");
	cr_expect_str_eq(a[1], "[::1]:53");
	cr_expect_str_eq(a[2], "10.0.0.1:53");
	for (int i = 0; i < 3; i++)
		free(a[i]);
	cr_assert_eq(z->nallow_transfer, 3);
	cr_expect_eq(z->allow_transfer[0].family, AF_INET);
	cr_expect_eq(z->allow_transfer[0].bits, 8);
	cr_expect_eq(z->allow_transfer[1].family, AF_INET6);
	cr_expect_eq(z->allow_transfer[1].bits, 128);
	cr_expect_eq(z->allow_transfer[2].family, AF_UNSPEC);
	cr_expect_eq(z->key, 0);

	z = &c->zones[1];
	cr_expect_eq(z->nnotify, 1);
	cr_expect_eq(z->nallow_transfer, 1);
	cr_expect_eq(z->key, 1);
	z = &c->zones[2];
	cr_expect_eq(z->key, -1);
	cr_expect_eq(z->nnotify, 0);
	cr_expect_null(z->notify);
	cr_expect_eq(z->nallow_transfer, 0);
	cr_expect_null(z->allow_transfer);
	conf_free(c);
}

Test(conf_good, chaos_clients_default_and_set)
{
	struct conf *c = load_ok(ZONE_A);
	const struct conf_server *s = &c->server;
	static const uint8_t lo4[16] = {127}, lo6[16] = {[15] = 1};

	cr_assert_eq(s->nchaos_clients, 2);
	cr_expect_eq(s->chaos_clients[0].family, AF_INET);
	cr_expect_eq(s->chaos_clients[0].bits, 8);
	cr_expect_eq(memcmp(s->chaos_clients[0].addr, lo4, 4), 0);
	cr_expect_eq(s->chaos_clients[1].family, AF_INET6);
	cr_expect_eq(s->chaos_clients[1].bits, 128);
	cr_expect_eq(memcmp(s->chaos_clients[1].addr, lo6, 16), 0);
	conf_free(c);

	c = load_ok("server: { chaos-clients: [\"10.0.0.0/8\", "
	    "\"2001:db8::/32\", 192.0.2.1] }\n" ZONE_A);
	s = &c->server;
	cr_assert_eq(s->nchaos_clients, 3);
	cr_expect_eq(s->chaos_clients[0].bits, 8);
	cr_expect_eq(s->chaos_clients[1].bits, 32);
	cr_expect_eq(s->chaos_clients[2].bits, 32);
	conf_free(c);

	c = load_ok("server: { chaos-clients: any }\n" ZONE_A);
	cr_assert_eq(c->server.nchaos_clients, 1);
	cr_expect_eq(c->server.chaos_clients[0].family, AF_UNSPEC);
	conf_free(c);
}

/* No message about a key's secret quotes any part of it. */
Test(conf_bad, secret_never_in_messages)
{
	static const char *const secrets[] = {"sekrit!!", "c2VjcmV0=", "abc",
	    "c2Vj cmV0", "=c2VjcmV0", "c2VjcmV0\\tx", "c2VjcmV0====",
	    "ab=c"};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		char *y = xstrfmt("keys:\n  k: { algorithm: hmac-sha256, "
		    "secret: \"%s\" }\n" ZONE_A, secrets[i]);
		char *err = load_bad(y, ERR_INVAL);
		const char *cut = secrets[i];

		cr_expect_null(strstr(err, cut), "%s", err);
		cr_expect_null(strstr(err, "c2Vj"), "%s", err);
		free(err);
		free(y);
	}
}

Test(conf_bad, role_name_too_long)
{
	char *l63 = xmalloc(64), *l50 = xmalloc(51), *y, *err;

	memset(l63, 'x', 63);
	l63[63] = '\0';
	memset(l50, 'y', 50);
	l50[50] = '\0';
	/* 3 * 64 + 51 + 8 = 251 bytes; "us-east-1." makes it 261. */
	y = xstrfmt(REC "      - { name: %s.%s.%s.%s, policy: role, "
	    "targets: [{ control: east, region: us-east-1 }] }\n", l63, l63,
	    l63, l50);
	err = load_bad(y, ERR_INVAL);
	cr_expect(strncmp(err, "t.yaml:11:", 10) == 0, "%s", err);
	cr_expect_not_null(strstr(err, ": the role name 'us-east-1.xxx"),
	    "%s", err);
	cr_expect_not_null(strstr(err, "' is longer than 255 bytes"), "%s",
	    err);
	free(err);
	free(y);
	free(l63);
	free(l50);
}

/* --- bad configs: exact messages ---------------------------------------- */

struct bad_case {
	const char	*yaml;
	const char	*msg;
	int		code;	/* 0 means ERR_INVAL */
};

/*
 * Criterion runs each test in a fresh process of a position-independent
 * executable, so parameters must not hold pointers: they are indexes into
 * these file-scope tables.
 */
static const struct bad_case bad_cases[] = {
	/* the file as a whole */
	{"", "t.yaml:1:1: empty configuration (expected a mapping "
	    "with at least a 'zones' section)", 0},
	{"# nothing\n\n", "t.yaml:1:1: empty configuration "
	    "(expected a mapping with at least a 'zones' section)", 0},
	{"---\n...\n", "t.yaml:1:1: empty configuration (expected a "
	    "mapping with at least a 'zones' section)", 0},
	{"- a\n", "t.yaml:1:1: the top level must be a mapping, not "
	    "a sequence", 0},
	{"hello\n", "t.yaml:1:1: the top level must be a mapping, "
	    "not a scalar", 0},
	{"server: {}\n", "t.yaml:1:1: no zones configured", 0},
	{"server: {}\nzones: []\n", "t.yaml:2:8: no zones "
	    "configured", 0},
	{"server: {}\nzones:\n", "t.yaml:2:1: no zones configured", 0},
	{ZONE_A "foo: 1\n", "t.yaml:2:1: unknown top-level key "
	    "'foo'", 0},
	{ZONE_A "fences: []\n", "t.yaml:2:9: 'fences' must be a "
	    "mapping", 0},
	{ZONE_A "fences:\n  db: { hook: /bin/true }\n", "t.yaml:3:15: "
	    "'hook' must be a list: the program and its arguments (run "
	    "without a shell)", 0},
	{ZONE_A "fences:\n  db: { timeout: 1s }\n", "t.yaml:3:7: fence "
	    "'db' has no 'hook'", 0},
	{ZONE_A "fences:\n  db: { hook: [/bin/true], env: { ARCDNS_X: 1 } "
	    "}\n", "t.yaml:3:35: 'env' cannot set ARCDNS_X: arcdnsd sets "
	    "the ARCDNS_ variables itself", 0},
	{ZONE_A "fences:\n  db: { hook: [/bin/true], stale-lease: 5s }\n",
	    "t.yaml:3:41: 'stale-lease' goes with 'stale: withdraw'", 0},
	{ZONE_A "fences:\n  db: { hook: [/bin/true], stale: maybe }\n",
	    "t.yaml:3:35: 'stale' must be keep or withdraw", 0},

	/* arc: and controls: */
	{ZONE_A "arc:\n",
	    "t.yaml:2:1: 'arc' has no 'endpoints'", 0},
	{ZONE_A "arc: {}\n",
	    "t.yaml:2:1: 'arc' has no 'endpoints'", 0},
	{ZONE_A "arc: []\n",
	    "t.yaml:2:6: 'arc' must be a mapping", 0},
	{ZONE_A "arc:\n  poll-interval: 1s\n",
	    "t.yaml:2:1: 'arc' has no 'endpoints'", 0},
	{ZONE_A "arc:\n  foo: 1\n",
	    "t.yaml:3:3: unknown key 'foo' in 'arc'", 0},
	{ZONE_A "arc:\n  fences: 1\n",
	    "t.yaml:3:3: unknown key 'fences' in 'arc'", 0},
	{ZONE_A "arc:\n  endpoints:\n",
	    "t.yaml:3:3: 'endpoints' has no value", 0},
	{ZONE_A "arc:\n  endpoints: []\n",
	    "t.yaml:3:14: 'endpoints' must list 1 to 5 "
	    "endpoints, not 0", 0},
	{ZONE_A "arc:\n  endpoints:\n    - { region: us-east-1, "
	    "url: \"https://h1.example/v1\" }\n    - { "
	    "region: us-east-2, url: \"https://h2.example/v1\" "
	    "}\n    - { region: us-east-3, url: \"https://h3.example/"
	    "v1\" }\n    - { region: us-east-4, url: \"https://h4.exa"
	    "mple/v1\" }\n    - { region: us-east-5, url: "
	    "\"https://h5.example/v1\" }\n    - { region: "
	    "us-east-6, url: \"https://h6.example/v1\" "
	    "}\n",
	    "t.yaml:4:5: 'endpoints' must list 1 to 5 endpoints, "
	    "not 6", 0},
	{ZONE_A "arc:\n  endpoints: https://a.example/v1\n",
	    "t.yaml:3:14: 'endpoints' must be a list of "
	    "{ region, url } mappings", 0},
	{ZONE_A "arc:\n  endpoints: [https://a.example/v1]\n",
	    "t.yaml:3:15: each entry of 'endpoints' must "
	    "be a mapping with 'region' and 'url'", 0},
	{ZONE_A "arc:\n  endpoints: [{ url: \"https://a.example/v1\" "
	    "}]\n",
	    "t.yaml:3:15: endpoint has no 'region'", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1 }]\n",
	    "t.yaml:3:15: endpoint 'us-east-1' has no 'url'", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example/v1\", name: a }]\n",
	    "t.yaml:3:65: unknown key 'name' in 'arc.endpoints'", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: US-EAST-1, url: "
	    "\"https://a.example/v1\" }]\n",
	    "t.yaml:3:25: invalid region 'US-EAST-1' (expected "
	    "a region name such as us-east-1)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east, url: "
	    "\"https://a.example/v1\" }]\n",
	    "t.yaml:3:25: invalid region 'us-east' (expected "
	    "a region name such as us-east-1)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: useast-1, url: "
	    "\"https://a.example/v1\" }]\n",
	    "t.yaml:3:25: invalid region 'useast-1' (expected "
	    "a region name such as us-east-1)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us--east-1, "
	    "url: \"https://a.example/v1\" }]\n",
	    "t.yaml:3:25: invalid region 'us--east-1' (expected "
	    "a region name such as us-east-1)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: \"us-east-1 "
	    "\", url: \"https://a.example/v1\" }]\n",
	    "t.yaml:3:25: invalid region 'us-east-1 ' (expected "
	    "a region name such as us-east-1)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"\" }]\n",
	    "t.yaml:3:41: 'url' must not be empty", 0},
	{ZONE_A "arc:\n  endpoints:\n    - { region: us-east-1, "
	    "url: \"https://a.example/v1\" }\n    - { region: "
	    "us-east-1, url: \"https://b.example/v1\" }\n",
	    "t.yaml:5:17: duplicate region 'us-east-1' "
	    "(first at line 4)", 0},
	{ZONE_A "arc:\n  endpoints:\n    - { region: us-east-1, "
	    "url: \"https://a.example/v1\" }\n    - { region: "
	    "us-west-2, url: \"https://a.example/v1\" }\n",
	    "t.yaml:5:33: duplicate endpoint url 'https://a.example/v"
	    "1' (first at line 4)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"ftp://a.example/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'ftp://a.example/v1' "
	    "must start with https:// (or http:// on loopback)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"HTTPS://a.example/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'HTTPS://a.example/v1' "
	    "must start with https:// (or http:// on loopback)", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"http://10.0.0.1:8080/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'http://10.0.0.1:8080/v1' "
	    "uses plain http:// on a host that is not loopback "
	    "(127.0.0.0/8, ::1, localhost); use https://", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"http://[::2]/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'http://[::2]/v1' "
	    "uses plain http:// on a host that is not loopback "
	    "(127.0.0.0/8, ::1, localhost); use https://", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"http://localhost.example/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'http://localhost.example/v1' "
	    "uses plain http:// on a host that is not loopback "
	    "(127.0.0.0/8, ::1, localhost); use https://", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"http://128.0.0.1/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'http://128.0.0.1/v1' "
	    "uses plain http:// on a host that is not loopback "
	    "(127.0.0.0/8, ::1, localhost); use https://", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https:///v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https:///v1' has "
	    "no valid host", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://' has no "
	    "valid host", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a%20b/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a%20b/v1' "
	    "has no valid host", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://[zz]/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://[zz]/v1' "
	    "has no valid host", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://[::1/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://[::1/v1' "
	    "has an unterminated '[' in its host", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://[::1]x/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://[::1]x/v1' "
	    "has no valid host", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example:/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example:/v1' "
	    "has an empty port", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example:0/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example:0/v1' "
	    "has an invalid port", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example:65536\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example:65536' "
	    "has an invalid port", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example:99999999999999999999\" "
	    "}]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example:99999999999"
	    "999999999' has an invalid port", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example:44x3\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example:44x3' "
	    "has an invalid port", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://user:pw@a.example/v1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://user:pw@a.example/v1'"
	    " must not contain a user name or password", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example/v1?x=1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example/v1?x=1' "
	    "must not contain spaces, '\\', a query or "
	    "a fragment", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example/v1#f\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example/v1#f' "
	    "must not contain spaces, '\\', a query or "
	    "a fragment", 0},
	{ZONE_A "arc:\n  endpoints: [{ region: us-east-1, url: "
	    "\"https://a.example/v 1\" }]\n",
	    "t.yaml:3:41: endpoint url 'https://a.example/v "
	    "1' must not contain spaces, '\\', a query "
	    "or a fragment", 0},
	{ZONE_A ARC_E "  control-panel: \"arn:aws:x panel\"\n",
	    "t.yaml:4:18: invalid ARN 'arn:aws:x panel' "
	    "in 'control-panel' (only letters, digits and "
	    "':./_-' are allowed)", 0},
	{ZONE_A ARC_E "  control-panel: \"arn:aws:x*\"\n",
	    "t.yaml:4:18: invalid ARN 'arn:aws:x*' in 'control-panel'"
	    " (only letters, digits and ':./_-' are allowed)", 0},
	{ZONE_A ARC_E "  control-panel: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "t.yaml:4:18: 'control-panel' must be at most "
	    "255 characters", 0},
	{ZONE_A ARC_E "  control-panel: \"\"\n",
	    "t.yaml:4:18: 'control-panel' must not be empty", 0},
	{ZONE_A ARC_E "  control-panel:\n",
	    "t.yaml:4:3: 'control-panel' has no value", 0},
	{ZONE_A ARC_E "  poll-interval: 99ms\n",
	    "t.yaml:4:18: 'poll-interval' must be between "
	    "100ms and 1h", 0},
	{ZONE_A ARC_E "  poll-interval: 61m\n",
	    "t.yaml:4:18: 'poll-interval' must be between "
	    "100ms and 1h", 0},
	{ZONE_A ARC_E "  poll-interval: fast\n",
	    "t.yaml:4:18: 'poll-interval' must be a duration "
	    "such as 500ms, 10s, 2m or 1h", 0},
	{ZONE_A ARC_E "  timeout: 0\n",
	    "t.yaml:4:12: 'timeout' must be between 1ms "
	    "and 1m", 0},
	{ZONE_A ARC_E "  timeout: 61s\n",
	    "t.yaml:4:12: 'timeout' must be between 1ms "
	    "and 1m", 0},
	{ZONE_A ARC_E "  connect-timeout: 0ms\n",
	    "t.yaml:4:20: 'connect-timeout' must be between "
	    "1ms and 1m", 0},
	{ZONE_A ARC_E "  connect-timeout: 801ms\n",
	    "t.yaml:4:20: 'connect-timeout' (801ms) must "
	    "not be longer than 'timeout' (800ms)", 0},
	{ZONE_A ARC_E "  connect-timeout: 2s\n  timeout: 1s\n",
	    "t.yaml:4:20: 'connect-timeout' (2s) must not "
	    "be longer than 'timeout' (1s)", 0},
	{ZONE_A ARC_E "  hedge-after: 800ms\n",
	    "t.yaml:4:16: 'hedge-after' (800ms) must be "
	    "shorter than 'timeout' (800ms), or 0 for no "
	    "hedging", 0},
	{ZONE_A ARC_E "  timeout: 2s\n  hedge-after: 3s\n",
	    "t.yaml:5:16: 'hedge-after' (3s) must be shorter "
	    "than 'timeout' (2s), or 0 for no hedging", 0},
	{ZONE_A ARC_E "  hedge-after: 2m\n",
	    "t.yaml:4:16: 'hedge-after' must be between "
	    "0s and 1m", 0},
	{ZONE_A ARC_E "  stale-after: 1s\n",
	    "t.yaml:4:16: 'stale-after' (1s) must be longer "
	    "than 'poll-interval' (1s)", 0},
	{ZONE_A ARC_E "  stale-after: 1m\n  poll-interval: 2m\n",
	    "t.yaml:4:16: 'stale-after' (1m) must be longer "
	    "than 'poll-interval' (2m)", 0},
	{ZONE_A ARC_E "  stale-after: 25h\n",
	    "t.yaml:4:16: 'stale-after' must be between "
	    "100ms and 24h", 0},
	{ZONE_A ARC_E "  ca-file: /nonexistent/ca.pem\n",
	    "t.yaml:4:12: cannot read ca-file '/nonexistent/ca.pem': "
	    "No such file or directory", 0},
	{ZONE_A ARC_E "  ca-file: /\n",
	    "t.yaml:4:12: ca-file '/' is not a regular "
	    "file", 0},
	{ZONE_A ARC_E "  ca-file:\n",
	    "t.yaml:4:3: 'ca-file' has no value", 0},
	{ZONE_A ARC_E "  credentials: sso\n",
	    "t.yaml:4:16: 'credentials' must be one of "
	    "auto, env, profile, container, imds, web-identity", 0},
	{ZONE_A ARC_E "  credentials: Auto\n",
	    "t.yaml:4:16: 'credentials' must be one of "
	    "auto, env, profile, container, imds, web-identity", 0},
	{ZONE_A ARC_E "  credentials: [env]\n",
	    "t.yaml:4:16: 'credentials' must be a string", 0},
	{ZONE_A ARC_E "  profile: dr\n  credentials: env\n",
	    "t.yaml:4:12: 'profile' needs 'credentials' "
	    "auto or profile, not env", 0},
	{ZONE_A ARC_E "  credentials: imds\n  profile: dr\n",
	    "t.yaml:5:12: 'profile' needs 'credentials' "
	    "auto or profile, not imds", 0},
	{ZONE_A ARC_E "  profile: \"dr team\"\n",
	    "t.yaml:4:12: 'profile' must not contain spaces, "
	    "'[' or ']'", 0},
	{ZONE_A ARC_E "  profile: ppppppppppppppppppppppppppppppppppppppppppppp"
	    "pppppppppppppppppppppppppppppppppppppppppppppppppppppppp"
	    "pppppppppppppppppppppppppppp\n",
	    "t.yaml:4:12: 'profile' must be at most 128 "
	    "characters", 0},
	{"controls: {}\n" ZONE_A,
	    "t.yaml:1:1: controls need an arc: section", 0},
	{ZONE_A "controls:\n  east: { arn: \"arn:aws:x\" }\n",
	    "t.yaml:2:1: controls need an arc: section", 0},
	{ZONE_A ARC_E "controls: []\n",
	    "t.yaml:4:11: 'controls' must be a mapping", 0},
	{ZONE_A ARC_E "controls:\n  east: arn:aws:x\n",
	    "t.yaml:5:9: control 'east' must be a mapping "
	    "with 'arn' or 'name'", 0},
	{ZONE_A ARC_E "controls:\n  east:\n",
	    "t.yaml:5:3: control 'east' must be a mapping "
	    "with 'arn' or 'name'", 0},
	{ZONE_A ARC_E "controls:\n  \"us east\": { name: e }\n",
	    "t.yaml:5:3: control name 'us east' may only "
	    "contain letters, digits, '-', '_' and '.'", 0},
	{ZONE_A ARC_E "controls:\n  \"panel/east\": { name: e }\n",
	    "t.yaml:5:3: control name 'panel/east' may "
	    "only contain letters, digits, '-', '_' and "
	    "'.'", 0},
	{ZONE_A ARC_E "controls:\n  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaa: { name: e }\n",
	    "t.yaml:5:3: control name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' must "
	    "be at most 64 characters", 0},
	{ZONE_A ARC_E "controls:\n  \"\": { name: e }\n",
	    "t.yaml:5:3: a control name must not be empty", 0},
	/* local names are unique because mapping keys are */
	{ZONE_A ARC_E "controls:\n  east: { name: e }\n  east: { name: f }\n",
	    "t.yaml:6:3: duplicate key 'east' (first at line 5)", ERR_PARSE},
	{ZONE_A ARC_E "controls:\n  east: {}\n",
	    "t.yaml:5:9: control 'east' has neither 'arn' "
	    "nor 'name'", 0},
	{ZONE_A ARC_E "controls:\n  east: { arn: \"arn:aws:x\", name: "
	    "e }\n",
	    "t.yaml:5:9: control 'east' has both 'arn' "
	    "and 'name' (give one)", 0},
	{ZONE_A ARC_E "controls:\n  east: { region: us-east-1 }\n",
	    "t.yaml:5:11: unknown key 'region' in 'controls'", 0},
	{ZONE_A ARC_E "controls:\n  east: { arn: \"arn:aws:x\" }\n "
	    " west: { name: w }\n  again: { arn: \"arn:aws:x\" "
	    "}\n",
	    "t.yaml:7:17: routing control ARN 'arn:aws:x' "
	    "is already control 'east' (line 5)", 0},
	{ZONE_A ARC_E "controls:\n  east: { name: e }\n  west: { "
	    "name: e }\n",
	    "t.yaml:6:17: routing control name 'e' is already "
	    "control 'east' (line 5)", 0},
	{ZONE_A ARC_E "controls:\n  east: { arn: \"arn:aws:x y\" "
	    "}\n",
	    "t.yaml:5:16: invalid ARN 'arn:aws:x y' in "
	    "'arn' (only letters, digits and ':./_-' are "
	    "allowed)", 0},
	{ZONE_A ARC_E "controls:\n  east: { arn: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aa }\n",
	    "t.yaml:5:16: 'arn' must be at most 255 characters", 0},
	{ZONE_A ARC_E "controls:\n  east: { arn: }\n",
	    "t.yaml:5:11: 'arn' has no value", 0},
	{ZONE_A ARC_E "controls:\n  east: { name: \"route east\" "
	    "}\n",
	    "t.yaml:5:17: 'name' must not contain white "
	    "space", 0},
	{ZONE_A ARC_E "controls:\n  east: { name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }\n",
	    "t.yaml:5:17: 'name' must be at most 64 characters", 0},

	/* server */
	{"server: []\n" ZONE_A, "t.yaml:1:9: 'server' must be a "
	    "mapping", 0},
	{"server:\n  foo: 1\n" ZONE_A, "t.yaml:2:3: unknown key 'foo' "
	    "in 'server'", 0},
	{"server:\n  zones: []\n" ZONE_A, "t.yaml:2:3: unknown key "
	    "'zones' in 'server'", 0},
	{"server:\n  http: \"127.0.0.1:99999\"\n" ZONE_A, "t.yaml:2:9: "
	    "invalid address '127.0.0.1:99999' in 'http' (expected "
	    "127.0.0.1:8053 or [::1]:8053)", 0},
	{"server:\n  http: [x]\n" ZONE_A, "t.yaml:2:9: 'http' must be a "
	    "string", 0},
	{"server:\n  control: /run/" X110 ".sock\n" ZONE_A, "t.yaml:2:12: "
	    "'control': the socket path /run/" X110 ".sock is longer than "
	    "107 bytes", 0},
	{"server:\n  chaos-clients: [nope]\n" ZONE_A, "t.yaml:2:19: "
	    "invalid address or prefix 'nope' in 'chaos-clients' "
	    "(expected 10.0.0.0/16, ::1, 2001:db8::/32 or any)", 0},
	{"server:\n  chaos-clients: [\"127.0.0.1/8\"]\n" ZONE_A,
	    "t.yaml:2:19: host bits set in '127.0.0.1/8' (the network "
	    "is 127.0.0.0/8)", 0},
	{"server:\n  chaos-clients: []\n" ZONE_A, "t.yaml:2:18: "
	    "'chaos-clients' must not be empty", 0},
	{"server:\n  chaos-clients:\n" ZONE_A, "t.yaml:2:3: "
	    "'chaos-clients' has no value", 0},
	{"server:\n  workers: many\n" ZONE_A, "t.yaml:2:12: 'workers' "
	    "must be an integer", 0},
	{"server:\n  workers: 4.0\n" ZONE_A, "t.yaml:2:12: 'workers' "
	    "must be an integer", 0},
	{"server:\n  workers: 010\n" ZONE_A, "t.yaml:2:12: 'workers' "
	    "must be an integer", 0},
	{"server:\n  workers: 0x10\n" ZONE_A, "t.yaml:2:12: 'workers' "
	    "must be an integer", 0},
	{"server:\n  workers: [1]\n" ZONE_A, "t.yaml:2:12: 'workers' "
	    "must be an integer", 0},
	{"server:\n  workers: \"4\"\n" ZONE_A, "t.yaml:2:12: "
	    "'workers' must be an integer, not a string", 0},
	{"server:\n  workers: -1\n" ZONE_A, "t.yaml:2:12: 'workers' "
	    "must be between 0 and 64", 0},
	{"server:\n  workers: 65\n" ZONE_A, "t.yaml:2:12: 'workers' "
	    "must be between 0 and 64", 0},
	{"server:\n  workers: 99999999999999999999\n" ZONE_A,
	    "t.yaml:2:12: 'workers' must be an integer", 0},
	{"server:\n  workers:\n" ZONE_A, "t.yaml:2:3: 'workers' has "
	    "no value", 0},
	{"server:\n  hide-version: maybe\n" ZONE_A, "t.yaml:2:17: "
	    "'hide-version' must be true or false", 0},
	{"server:\n  hide-version: \"true\"\n" ZONE_A, "t.yaml:2:17: "
	    "'hide-version' must be true or false", 0},
	{"server:\n  hide-version: 1\n" ZONE_A, "t.yaml:2:17: "
	    "'hide-version' must be true or false", 0},
	{"server:\n  identity: \"\"\n" ZONE_A, "t.yaml:2:13: "
	    "'identity' must not be empty", 0},
	{"server:\n  identity: \"a\\tb\"\n" ZONE_A, "t.yaml:2:13: "
	    "'identity' must not contain control characters", 0},
	{"server:\n  identity: [a]\n" ZONE_A, "t.yaml:2:13: "
	    "'identity' must be a string", 0},
	{"server:\n  identity: ~\n" ZONE_A, "t.yaml:2:3: 'identity' "
	    "has no value", 0},
	{"server:\n  version: {a: b}\n" ZONE_A, "t.yaml:2:12: "
	    "'version' must be a string", 0},
	{"server:\n  user: \"\"\n" ZONE_A, "t.yaml:2:9: 'user' must "
	    "not be empty", 0},
	{"server:\n  pid-file:\n" ZONE_A, "t.yaml:2:3: 'pid-file' has "
	    "no value", 0},
	{"server:\n  state-dir: [a, b]\n" ZONE_A, "t.yaml:2:14: "
	    "'state-dir' must be a string", 0},
	{"server:\n  edns-buffer-size: 511\n" ZONE_A, "t.yaml:2:21: "
	    "'edns-buffer-size' must be between 512 and 4096", 0},
	{"server:\n  edns-buffer-size: 4097\n" ZONE_A, "t.yaml:2:21: "
	    "'edns-buffer-size' must be between 512 and 4096", 0},
	{"server:\n  tcp-idle-timeout: 10x\n" ZONE_A, "t.yaml:2:21: "
	    "'tcp-idle-timeout' must be a duration such as 500ms, 10s, "
	    "2m or 1h", 0},
	{"server:\n  tcp-idle-timeout: -5s\n" ZONE_A, "t.yaml:2:21: "
	    "'tcp-idle-timeout' must be a duration such as 500ms, 10s, "
	    "2m or 1h", 0},
	{"server:\n  tcp-idle-timeout: 99ms\n" ZONE_A, "t.yaml:2:21: "
	    "'tcp-idle-timeout' must be between 100ms and 1h", 0},
	{"server:\n  tcp-idle-timeout: 0\n" ZONE_A, "t.yaml:2:21: "
	    "'tcp-idle-timeout' must be between 100ms and 1h", 0},
	{"server:\n  tcp-idle-timeout: 61m\n" ZONE_A, "t.yaml:2:21: "
	    "'tcp-idle-timeout' must be between 100ms and 1h", 0},
	{"server:\n  tcp-max-connections: 0\n" ZONE_A, "t.yaml:2:24: "
	    "'tcp-max-connections' must be between 1 and 1000000", 0},
	{"server:\n  listen: []\n" ZONE_A, "t.yaml:2:11: 'listen' "
	    "must not be empty", 0},
	{"server:\n  listen: {a: b}\n" ZONE_A, "t.yaml:2:11: 'listen' "
	    "must be a list or a string", 0},
	{"server:\n  listen: [[a]]\n" ZONE_A, "t.yaml:2:12: each "
	    "entry of 'listen' must be a string", 0},
	{"server:\n  listen: localhost:53\n" ZONE_A, "t.yaml:2:11: "
	    "invalid listen address 'localhost:53' (expected an IP "
	    "address with an optional port: 127.0.0.1, "
	    "127.0.0.1:5300 or [::1]:5300)", 0},
	{"server:\n  listen: [\"127.0.0.1:65536\"]\n" ZONE_A,
	    "t.yaml:2:12: invalid listen address '127.0.0.1:65536' "
	    "(expected an IP address with an optional port: "
	    "127.0.0.1, 127.0.0.1:5300 or [::1]:5300)", 0},
	{"server:\n  listen: [\"[::1]:0\"]\n" ZONE_A, "t.yaml:2:12: "
	    "listen address '[::1]:0' has port 0", 0},
	{"server:\n  listen:\n    - 127.0.0.1:53\n    - 127.0.0.1\n"
	    ZONE_A, "t.yaml:4:7: duplicate listen address "
	    "'127.0.0.1:53'", 0},
	{"server:\n  log: info\n" ZONE_A, "t.yaml:2:8: 'log' must be "
	    "a mapping", 0},
	{"server:\n  log: {level: loud}\n" ZONE_A, "t.yaml:2:16: "
	    "'level' must be one of error, warning, notice, info, "
	    "debug", 0},
	{"server:\n  log: {format: xml}\n" ZONE_A, "t.yaml:2:17: "
	    "'format' must be text or json", 0},
	{"server:\n  log: {target: file}\n" ZONE_A, "t.yaml:2:17: "
	    "'target' must be stderr or syslog", 0},
	{"server:\n  log:\n    colour: yes\n" ZONE_A, "t.yaml:3:5: "
	    "unknown key 'colour' in 'server.log'", 0},

	/* zones */
	{"zones: {a: b}\n", "t.yaml:1:8: 'zones' must be a list of "
	    "zone blocks", 0},
	{"zones: [a]\n", "t.yaml:1:9: each entry of 'zones' must be a "
	    "mapping with 'id', 'origin' and 'file'", 0},
	{"zones:\n  - origin: a.\n    file: a\n", "t.yaml:2:5: zone "
	    "block has no 'id'", 0},
	{"zones:\n  - id: a\n    file: a\n", "t.yaml:2:5: zone 'a' "
	    "has no 'origin'", 0},
	{"zones:\n  - id: a\n    origin: a.\n", "t.yaml:2:5: zone 'a' "
	    "has no 'file'", 0},
	{"zones:\n  - {id: a, origin: a., file: a, foo: 1}\n",
	    "t.yaml:2:34: unknown key 'foo' in 'zones'", 0},
	/* records: (REC puts the first record at line 11, column 9) */
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[{ control: north, values: [10.0.0.1] }] }\n",
	    "t.yaml:11:70: unknown control 'north'", 0},
	{ZONE_A ARC_E "  poll-interval: 1s\n" "zones2: 1\n",
	    "t.yaml:5:1: unknown top-level key 'zones2'", 0},
	{"arc: { endpoints: [{ region: us-east-1, url: \"https://a.ex\" "
	    "}] }\nzones:\n  - { id: a, origin: a., file: a, records: "
	    "[{ name: x, type: A, policy: failover, targets: [{ control: "
	    "east, values: 10.0.0.1 }] }] }\n",
	    "t.yaml:3:104: unknown control 'east'", 0},
	{"controls: { east: { name: e } }\nzones:\n  - { id: a, origin: "
	    "a., file: a, records: [{ name: x, type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }] }\n",
	    "t.yaml:1:1: controls need an arc: section", 0},
	{REC "      - { name: api.other.test., type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:17: record name 'api.other.test.' is outside the "
	    "zone's origin 'a.test.'", 0},
	{REC "      - { name: test., type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:17: record name 'test.' is outside the zone's "
	    "origin 'a.test.'", 0},
	{REC "      - { name: \"a b\", type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:17: invalid record name 'a b': only letters, "
	    "digits, '-' and '_' are allowed in labels", 0},
	{REC "      - { name: \"*.a\", type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:17: invalid record name '*.a': only letters, "
	    "digits, '-' and '_' are allowed in labels", 0},
	{REC "      - { name: a..b, type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:17: invalid record name 'a..b': empty label", 0},
	{REC "      - { name: api, type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n"
	    "      - { name: API.a.test., type: a, policy: multivalue, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:12:17: duplicate record 'API.a.test.' type A (first "
	    "at line 11)", 0},
	{REC "      - { name: role, policy: role, targets: [{ control: "
	    "east, region: us-east-1 }] }\n"
	    "      - { name: role, type: TXT, policy: role, targets: "
	    "[{ control: west, region: us-west-2 }] }\n",
	    "t.yaml:12:17: duplicate record 'role' type TXT (first at "
	    "line 11)", 0},
	{REC "      - { name: api, type: A, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n"
	    "      - { name: api, type: CNAME, policy: failover, "
	    "targets: [{ control: east, values: x.example. }] }\n",
	    "t.yaml:12:17: a CNAME must be alone at its name: "
	    "'api.a.test.' also has the record at line 11", 0},
	{REC "      - { name: \"@\", type: CNAME, policy: failover, "
	    "targets: [{ control: east, values: x.example. }] }\n"
	    "      - { name: a.test., type: AAAA, policy: failover, "
	    "targets: [{ control: east, values: \"::1\" }] }\n",
	    "t.yaml:12:17: a CNAME must be alone at its name: "
	    "'a.test.' also has the record at line 11", 0},
	{REC "      - { name: role, policy: role, targets: [{ control: "
	    "east, region: us-east-1 }, { control: west, region: "
	    "us-west-2 }] }\n"
	    "      - { name: us-west-2.role, type: CNAME, policy: failover, "
	    "targets: [{ control: east, values: x.example. }] }\n",
	    "t.yaml:12:17: a CNAME must be alone at its name: "
	    "'us-west-2.role.a.test.' is also a role name of the record "
	    "at line 11", 0},
	{REC "      - { name: us-east-1.role, type: CNAME, policy: "
	    "failover, targets: [{ control: east, values: x.example. }] }\n"
	    "      - { name: role, policy: role, targets: [{ control: "
	    "east, region: us-east-1 }] }\n",
	    "t.yaml:12:17: a CNAME must be alone at its name: "
	    "'us-east-1.role.a.test.' is also a role name of the record "
	    "at line 11", 0},
	{REC "      - { name: api, type: A, policy: failover, "
	    "targets: [{ control: east, values: [10.0.0.1, 10.0.0.256] }] }\n",
	    "t.yaml:11:95: invalid IPv4 address '10.0.0.256' in "
	    "'values'", 0},
	{REC "      - { name: api, type: A, policy: failover, "
	    "targets: [{ control: east, values: \"::1\" }] }\n",
	    "t.yaml:11:84: invalid IPv4 address '::1' in 'values'", 0},
	{REC "      - { name: api, type: AAAA, policy: failover, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:87: invalid IPv6 address '10.0.0.1' in 'values'", 0},
	{REC "      - { name: api, type: CNAME, policy: failover, "
	    "targets: [{ control: east, values: a..b }] }\n",
	    "t.yaml:11:88: invalid domain name 'a..b' in 'values': "
	    "empty label", 0},
	{REC "      - { name: api, type: CNAME, policy: failover, "
	    "targets: [{ control: east, values: [a., b.] }] }\n",
	    "t.yaml:11:88: a CNAME target has exactly one value, not 2", 0},
	{REC "      - { name: api, type: CNAME, policy: multivalue, "
	    "targets: [{ control: east, values: a. }] }\n",
	    "t.yaml:11:43: a CNAME record cannot be multivalue (a name "
	    "has at most one CNAME)", 0},
	{REC "      - { name: role, type: A, policy: role, targets: "
	    "[{ control: east, region: us-east-1 }] }\n",
	    "t.yaml:11:29: a role record has type TXT, not A", 0},
	{REC "      - { name: api, type: TXT, policy: failover, targets: "
	    "[{ control: east, values: a }] }\n",
	    "t.yaml:11:28: type TXT is only for policy role", 0},
	{REC "      - { name: role, policy: role, targets: "
	    "[{ control: east }] }\n",
	    "t.yaml:11:47: a role target needs a 'region'", 0},
	{REC "      - name: role\n        policy: role\n        targets:\n"
	    "          - { control: east, region: us-east-1 }\n"
	    "          - { control: west, region: us-east-1 }\n",
	    "t.yaml:15:38: duplicate region 'us-east-1' in role record "
	    "'role' (first at line 14)", 0},
	{REC "      - { name: role, policy: role, targets: "
	    "[{ control: east, region: us-east-1, values: [a] }] }\n",
	    "t.yaml:11:91: a role target has no 'values' (it answers "
	    "\"active\" or \"passive\")", 0},
	{REC "      - { name: api, type: A, policy: failover, when-none-on: "
	    "closed, targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:63: 'when-none-on' must be first, servfail or "
	    "nodata", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: [] }\n",
	    "t.yaml:11:58: 'targets' must list 1 to 16 targets, not 0", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "{ control: east } }\n",
	    "t.yaml:11:58: 'targets' must be a list of { control, region, "
	    "values } mappings", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: }\n",
	    "t.yaml:11:49: 'targets' has no value", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[east] }\n",
	    "t.yaml:11:59: each entry of 'targets' must be a mapping with "
	    "'control'", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[{ control: east, values: [] }] }\n",
	    "t.yaml:11:84: 'values' must not be empty", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[{ control: east }] }\n",
	    "t.yaml:11:59: target has no 'values'", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[{ values: 10.0.0.1 }] }\n",
	    "t.yaml:11:59: target has no 'control'", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[{ control: east, values: 10.0.0.1, weight: 2 }] }\n",
	    "t.yaml:11:94: unknown key 'weight' in 'targets'", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[{ control: east, region: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:84: invalid region 'east' (expected a region name "
	    "such as us-east-1)", 0},
	{REC "      - { name: api, type: A, policy: failover, targets: "
	    "[{ control: \"\", values: 10.0.0.1 }] }\n",
	    "t.yaml:11:70: 'control' must not be empty", 0},
	{REC "      - { name: api, type: CNAME, policy: failover, "
	    "fence: primary-db, targets: [{ control: east, values: a. }] }\n",
	    "t.yaml:11:60: unknown fence 'primary-db' (not under "
	    "'fences')", 0},
	{REC "      - { name: api, type: A, policy: multivalue, "
	    "fence: primary-db, targets: [{ control: east, values: 10.0.0.1 "
	    "}] }\n", "t.yaml:11:58: 'fence' is for failover records (a "
	    "writer endpoint has one target at a time)", 0},
	{REC "      - { type: A, policy: failover, targets: "
	    "[{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:9: record has no 'name'", 0},
	{REC "      - { name: api, type: A, targets: "
	    "[{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:9: record 'api' has no 'policy'", 0},
	{REC "      - { name: api, policy: failover, targets: "
	    "[{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:9: record 'api' has no 'type'", 0},
	{REC "      - { name: api, type: A, policy: failover }\n",
	    "t.yaml:11:9: record 'api' has no 'targets'", 0},
	{REC "      - { name: api, type: MX, policy: failover, targets: "
	    "[{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:28: 'type' must be A, AAAA, CNAME or TXT", 0},
	{REC "      - { name: api, type: A, policy: weighted, targets: "
	    "[{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:39: 'policy' must be failover, multivalue or "
	    "role", 0},
	{REC "      - { name: api, type: A, policy: failover, ttl: 5, "
	    "targets: [{ control: east, values: 10.0.0.1 }] }\n",
	    "t.yaml:11:49: unknown key 'ttl' in 'records'", 0},
	{REC "      - api\n",
	    "t.yaml:11:9: each entry of 'records' must be a mapping with "
	    "'name', 'policy' and 'targets'", 0},
	{"zones:\n  - { id: a, origin: a., file: a, records: }\n",
	    "t.yaml:2:35: 'records' has no value", 0},
	{"zones:\n  - { id: a, origin: a., file: a, records: {} }\n",
	    "t.yaml:2:44: 'records' must be a list of records", 0},

	/* notify, allow-transfer, tsig-key and keys */
	{"zones:\n  - { id: a, origin: a., file: a, notify: [x] }\n",
	    "t.yaml:2:44: invalid notify address 'x' (expected an IP "
	    "address with an optional port: 127.0.0.1, 127.0.0.1:5300 or "
	    "[::1]:5300)", 0},
	{"zones:\n  - { id: a, origin: a., file: a, notify: "
	    "\"127.0.0.1:0\" }\n",
	    "t.yaml:2:43: notify address '127.0.0.1:0' has port 0", 0},
	{"zones:\n  - { id: a, origin: a., file: a, notify: "
	    "[127.0.0.1, \"127.0.0.1:53\"] }\n",
	    "t.yaml:2:55: duplicate notify address '127.0.0.1:53'", 0},
	{"zones:\n  - { id: a, origin: a., file: a, notify: }\n",
	    "t.yaml:2:35: 'notify' has no value", 0},
	{"zones:\n  - { id: a, origin: a., file: a, allow-transfer: "
	    "[\"10.0.0.1/8\"] }\n",
	    "t.yaml:2:52: host bits set in '10.0.0.1/8' (the network is "
	    "10.0.0.0/8)", 0},
	{"zones:\n  - { id: a, origin: a., file: a, allow-transfer: "
	    "[everyone] }\n",
	    "t.yaml:2:52: invalid address or prefix 'everyone' in "
	    "'allow-transfer' (expected 10.0.0.0/16, ::1, 2001:db8::/32 "
	    "or any)", 0},
	{"zones:\n  - { id: a, origin: a., file: a, tsig-key: k }\n",
	    "t.yaml:2:45: unknown TSIG key 'k' (not under 'keys')", 0},
	{"keys: { k: { algorithm: hmac-sha256, secret: YQ== } }\n"
	    "zones:\n  - { id: a, origin: a., file: a, tsig-key: \"k.x\" }\n",
	    "t.yaml:3:45: unknown TSIG key 'k.x' (not under 'keys')", 0},
	{"keys: { k: { algorithm: hmac-sha256, secret: YQ== } }\n"
	    "zones:\n  - { id: a, origin: a., file: a, tsig-key: \"a b\" }\n",
	    "t.yaml:3:45: unknown TSIG key 'a b' (not under 'keys')", 0},
	{"zones:\n  - { id: a, origin: a., file: a, tsig-key: \"\" }\n",
	    "t.yaml:2:45: 'tsig-key' must not be empty", 0},
	{ZONE_A "keys: []\n", "t.yaml:2:7: 'keys' must be a mapping", 0},
	{ZONE_A "keys:\n  k: 1\n", "t.yaml:3:6: key 'k' must be a mapping "
	    "with 'algorithm' and 'secret'", 0},
	{ZONE_A "keys:\n  k:\n", "t.yaml:3:3: key 'k' must be a mapping "
	    "with 'algorithm' and 'secret'", 0},
	{ZONE_A "keys:\n  \"a b\": { algorithm: hmac-sha256, secret: YQ== "
	    "}\n", "t.yaml:3:3: invalid key name 'a b': only letters, "
	    "digits, '-' and '_' are allowed in labels", 0},
	{ZONE_A "keys:\n  \"\": { algorithm: hmac-sha256, secret: YQ== "
	    "}\n", "t.yaml:3:3: a key name must not be empty", 0},
	{ZONE_A "keys:\n  k: { algorithm: hmac-md5, secret: YQ== }\n",
	    "t.yaml:3:19: 'algorithm' hmac-md5 is not supported (MD5 is "
	    "broken); use hmac-sha256", 0},
	{ZONE_A "keys:\n  k: { algorithm: gost, secret: YQ== }\n",
	    "t.yaml:3:19: 'algorithm' must be hmac-sha256, hmac-sha384, "
	    "hmac-sha512 or hmac-sha1", 0},
	{ZONE_A "keys:\n  k: { algorithm: hmac-sha256, secret: \"YQ=\" }\n",
	    "t.yaml:3:40: 'secret' of key 'k' is not valid base64", 0},
	{ZONE_A "keys:\n  k: { algorithm: hmac-sha256, secret: \"\" }\n",
	    "t.yaml:3:40: 'secret' must not be empty", 0},
	{ZONE_A "keys:\n  k: { algorithm: hmac-sha256, secret: }\n",
	    "t.yaml:3:32: 'secret' has no value", 0},
	{ZONE_A "keys:\n  k: { secret: YQ== }\n",
	    "t.yaml:3:6: key 'k' has no 'algorithm'", 0},
	{ZONE_A "keys:\n  k: { algorithm: hmac-sha256 }\n",
	    "t.yaml:3:6: key 'k' has no 'secret'", 0},
	{ZONE_A "keys:\n  k: { algorithm: hmac-sha256, secret: YQ==, "
	    "bits: 256 }\n", "t.yaml:3:46: unknown key 'bits' in 'keys'", 0},
	{ZONE_A "keys:\n  k: { algorithm: hmac-sha256, secret: YQ== }\n"
	    "  K.: { algorithm: hmac-sha256, secret: YQ== }\n",
	    "t.yaml:4:3: key 'K.' has the same name as key 'k' (line 3)", 0},
	{"zones:\n  - {id: a, origin: a., file: a, notify: []}\n",
	    "t.yaml:2:42: 'notify' must not be empty", 0},
	{"zones:\n  - {id: a, origin: a., file: a, allow-transfer: "
	    "[]}\n", "t.yaml:2:50: 'allow-transfer' must not be empty", 0},
	{"zones:\n  - {id: a, origin: a., file: a}\n"
	    "  - {id: a, origin: b., file: b}\n", "t.yaml:3:10: "
	    "duplicate zone id 'a' (first at line 2)", 0},
	{"zones:\n  - {id: \"a b\", origin: a., file: a}\n",
	    "t.yaml:2:10: zone id 'a b' may only contain letters, "
	    "digits, '-', '_' and '.'", 0},
	{"zones:\n  - {id: a, origin: \"\", file: a}\n", "t.yaml:2:21: "
	    "'origin' must not be empty", 0},
	{"zones:\n  - {id: a, origin: a..b, file: a}\n", "t.yaml:2:21: "
	    "invalid origin 'a..b': empty label", 0},
	{"zones:\n  - {id: a, origin: .a, file: a}\n", "t.yaml:2:21: "
	    "invalid origin '.a': empty label", 0},
	{"zones:\n  - {id: a, origin: a.., file: a}\n", "t.yaml:2:21: "
	    "invalid origin 'a..': empty label", 0},
	{"zones:\n  - {id: a, origin: \"a b.\", file: a}\n",
	    "t.yaml:2:21: invalid origin 'a b.': only letters, "
	    "digits, '-' and '_' are allowed in labels", 0},
	{"zones:\n  - {id: a, origin: a\\.b, file: a}\n",
	    "t.yaml:2:21: invalid origin 'a\\.b': only letters, "
	    "digits, '-' and '_' are allowed in labels", 0},
	{"zones:\n  - {id: a, origin: "
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxx.test, file: a}\n", "t.yaml:2:21: invalid origin "
	    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxx...': label longer than 63 characters", 0},
	{"zones:\n  - {id: a, origin: a, file: a, ttl: -1}\n",
	    "t.yaml:2:38: 'ttl' must be between 0 and 2147483647", 0},
	{"zones:\n  - {id: a, origin: a, file: a, ttl: 2147483648}\n",
	    "t.yaml:2:38: 'ttl' must be between 0 and 2147483647", 0},
	{"zones:\n  - {id: a, origin: a, file: a, ttl: 5s}\n",
	    "t.yaml:2:38: 'ttl' must be an integer", 0},
	{"zones:\n  - {id: a, origin: x.test., file: a}\n"
	    "  - {id: b, origin: X.TEST, file: b}\n", "t.yaml:3:21: "
	    "duplicate origin 'x.test.' in zones 'a' and 'b' (without "
	    "'views' every zone is served to every client)", 0},

	/* views */
	{ZONE_A "views: []\n", "t.yaml:2:8: 'views' must not be empty "
	    "(leave it out to serve every zone to every client)", 0},
	{ZONE_A "views: {a: b}\n", "t.yaml:2:8: 'views' must be a list "
	    "of views", 0},
	{ZONE_A "views: [v]\n", "t.yaml:2:9: each entry of 'views' "
	    "must be a mapping with 'name', 'match-clients' and "
	    "'zones'", 0},
	{ZONE_A "views:\n  - {match-clients: any, zones: [a]}\n",
	    "t.yaml:3:5: view has no 'name'", 0},
	{ZONE_A "views:\n  - {name: v, zones: [a]}\n", "t.yaml:3:5: "
	    "view 'v' has no 'match-clients'", 0},
	{ZONE_A "views:\n  - {name: v, match-clients: any}\n",
	    "t.yaml:3:5: view 'v' has no 'zones'", 0},
	{ZONE_A "views:\n  - name: v\n    match-clients: any\n    zones:\n",
	    "t.yaml:5:5: 'zones' has no value (write [] for a view "
	    "that refuses every query)", 0},
	{ZONE_A "views:\n  - {name: v, match-clients: any, zones: a}\n",
	    "t.yaml:3:42: 'zones' must be a list of zone ids", 0},
	{ZONE_A "views:\n  - {name: v, match-clients: any, zones: [a],"
	    " x: 1}\n", "t.yaml:3:47: unknown key 'x' in 'views'", 0},
	{ZONE_A "views:\n  - {name: v, match-clients: any, zones: [a]}\n"
	    "  - {name: v, match-clients: any, zones: [a]}\n",
	    "t.yaml:4:12: duplicate view name 'v' (first at line 3)",
	    0},
	{ZONE_A "views:\n  - {name: \"v/1\", match-clients: any, "
	    "zones: [a]}\n", "t.yaml:3:12: view name 'v/1' may only "
	    "contain letters, digits, '-', '_' and '.'", 0},
	{ZONE_A "views:\n  - {name: v, match-clients: [], zones: [a]}\n",
	    "t.yaml:3:30: 'match-clients' must not be empty", 0},
	{ZONE_A "views:\n  - name: v\n    match-clients: 10.0.0.1/16\n"
	    "    zones: [a]\n", "t.yaml:4:20: host bits set in "
	    "'10.0.0.1/16' (the network is 10.0.0.0/16)", 0},
	{ZONE_A "views:\n  - name: v\n    match-clients:\n"
	    "      - \"2001:db8::1/32\"\n    zones: [a]\n",
	    "t.yaml:5:9: host bits set in '2001:db8::1/32' (the "
	    "network is 2001:db8::/32)", 0},
	{ZONE_A "views:\n  - name: v\n    match-clients: [10.0.0.0/33]\n"
	    "    zones: [a]\n", "t.yaml:4:21: invalid address or "
	    "prefix '10.0.0.0/33' in 'match-clients' (expected "
	    "10.0.0.0/16, ::1, 2001:db8::/32 or any)", 0},
	{ZONE_A "views:\n  - name: v\n    match-clients: [all]\n"
	    "    zones: [a]\n", "t.yaml:4:21: invalid address or "
	    "prefix 'all' in 'match-clients' (expected 10.0.0.0/16, "
	    "::1, 2001:db8::/32 or any)", 0},
	{ZONE_A "views:\n  - {name: v, match-clients: any, zones: [b]}\n",
	    "t.yaml:3:43: unknown zone 'b' in view 'v'", 0},
	{ZONE_A "views:\n  - {name: v, match-clients: any, "
	    "zones: [a, a]}\n", "t.yaml:3:46: zone 'a' is listed twice "
	    "in view 'v'", 0},
	{"zones:\n  - {id: a, origin: x.test., file: a}\n"
	    "  - {id: b, origin: X.test, file: b}\n"
	    "views:\n  - name: inner\n    match-clients: [any]\n"
	    "    zones:\n      - a\n      - b\n", "t.yaml:9:9: "
	    "duplicate origin 'x.test.' in view 'inner'", 0},

	/* YAML itself */
	{ZONE_A "server: {}\nserver: {}\n", "t.yaml:3:1: duplicate "
	    "key 'server' (first at line 2)", ERR_PARSE},
	{"server: {workers: 1, workers: 2}\n" ZONE_A, "t.yaml:1:22: "
	    "duplicate key 'workers' (first at line 1)", ERR_PARSE},
	{"server: &s {}\n" ZONE_A, "t.yaml:1:9: anchors are not "
	    "supported ('&s')", ERR_PARSE},
	{ZONE_A "views: *v\n", "t.yaml:2:8: aliases are not "
	    "supported ('*v')", ERR_PARSE},
	{"server: {workers: !!int 4}\n" ZONE_A, "t.yaml:1:19: "
	    "unsupported tag '!!int'", ERR_PARSE},
	{"server: !!map []\n" ZONE_A, "t.yaml:1:9: unsupported tag "
	    "'!!map'", ERR_PARSE},
	{"server: !!seq []\n" ZONE_A, "t.yaml:1:9: 'server' must be a "
	    "mapping", 0},
	{"server: !custom {}\n" ZONE_A, "t.yaml:1:9: unsupported tag "
	    "'!custom'", ERR_PARSE},
	{ZONE_A "---\nzones: []\n", "t.yaml:2:1: more than one YAML "
	    "document in the file", ERR_PARSE},
	{"? [a]\n: b\n", "t.yaml:1:3: mapping keys must be scalars, "
	    "not a sequence", ERR_PARSE},
	{"server: {identity: \"a\\0b\"}\n" ZONE_A, "t.yaml:1:20: NUL "
	    "character in a string", ERR_PARSE},
	{"zones: [a\n", "t.yaml:2:1: syntax error: did not find "
	    "expected ',' or ']' (while parsing a flow sequence at "
	    "line 1, column 8)", ERR_PARSE},
	{"server:\n  workers: 1\n identity: x\n", "t.yaml:3:2: syntax "
	    "error: did not find expected key (while parsing a block "
	    "mapping at line 1, column 1)", ERR_PARSE},
	{"server:\n\tworkers: 1\n", "t.yaml:2:1: syntax error: found "
	    "character that cannot start any token (while scanning "
	    "for the next token at line 2, column 1)", ERR_PARSE},
	{"server:\n  identity: \xff\n", "t.yaml:2:13: invalid input: "
	    "invalid leading UTF-8 octet (byte 0xff)", ERR_PARSE},
};
#define NBAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

ParameterizedTestParameters(conf_bad, table)
{
	static size_t idx[NBAD];

	for (size_t i = 0; i < NBAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NBAD);
}

ParameterizedTest(size_t *i, conf_bad, table)
{
	const struct bad_case *bc = &bad_cases[*i];

	char *err = load_bad(bc->yaml, bc->code != 0 ? bc->code : ERR_INVAL);

	cr_expect_str_eq(err, bc->msg, "input:\n%s\ngot:  %s\nwant: %s",
	    bc->yaml, err, bc->msg);
	free(err);
}

/* --- durations ----------------------------------------------------------- */

struct duration_case {
	const char	*text;
	int		ret;
	uint64_t	ms;
};

static const struct duration_case duration_cases[] = {
	{"0", 0, 0}, {"1", 0, 1000}, {"500ms", 0, 500},
	{"1s", 0, 1000}, {"2m", 0, 120000}, {"1h", 0, 3600000},
	{"90s", 0, 90000}, {"0ms", 0, 0},
	{"18446744073709551615ms", 0, UINT64_MAX},
	{"18446744073709551616ms", ERR_PARSE, 0},
	{"18446744073709552s", ERR_PARSE, 0},
	{"", ERR_PARSE, 0}, {"s", ERR_PARSE, 0}, {"ms", ERR_PARSE, 0},
	{"-1s", ERR_PARSE, 0}, {"+1s", ERR_PARSE, 0},
	{" 1s", ERR_PARSE, 0}, {"1s ", ERR_PARSE, 0},
	{"1.5s", ERR_PARSE, 0}, {"1S", ERR_PARSE, 0},
	{"1d", ERR_PARSE, 0}, {"1m30s", ERR_PARSE, 0},
	{"1 s", ERR_PARSE, 0}, {"1sec", ERR_PARSE, 0},
};
#define NDURATION (sizeof(duration_cases) / sizeof(duration_cases[0]))

ParameterizedTestParameters(conf_duration, table)
{
	static size_t idx[NDURATION];

	for (size_t i = 0; i < NDURATION; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, NDURATION);
}

ParameterizedTest(size_t *i, conf_duration, table)
{
	const struct duration_case *dc = &duration_cases[*i];

	uint64_t ms = 12345;
	int ret = conf_parse_duration(dc->text, &ms);

	cr_expect_eq(ret, dc->ret, "'%s': got %d", dc->text, ret);
	if (dc->ret == 0)
		cr_expect_eq(ms, dc->ms, "'%s': got %llu", dc->text,
		    (unsigned long long)ms);
	else
		cr_expect_eq(ms, 12345, "'%s' wrote its output on error",
		    dc->text);
}

/* --- reload ------------------------------------------------------------- */

Test(conf_restart, restart_only_options)
{
	static const struct {
		const char *server;
		const char *diff;
	} cases[] = {
		{"server: {workers: 2}\n", NULL},
		{"server: {workers: 2, log: {level: debug}, identity: x, "
		    "hide-version: true, pid-file: /run/x.pid, "
		    "edns-buffer-size: 512}\n", NULL},
		{"server: {workers: 3}\n", "server.workers"},
		{"server: {workers: 2, listen: 127.0.0.1}\n", "server.listen"},
		{"server: {workers: 2, user: nobody}\n", "server.user"},
		/* its lock is held from the start (one daemon per state-dir) */
		{"server: {workers: 2, state-dir: /tmp}\n", "server.state-dir"},
		{"server: {workers: 2, tcp-idle-timeout: 11s}\n",
		    "server.tcp-idle-timeout"},
		{"server: {workers: 2, tcp-max-connections: 255}\n",
		    "server.tcp-max-connections"},
		/* arc: and controls: are taken over on reload */
		{"server: {workers: 2}\n" ARC_E "  timeout: 2s\n"
		    "controls: { e: { name: e } }\n", NULL},
	};
	struct conf *old = load_ok("server: {workers: 2}\n" ZONE_A);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *y = xstrfmt("%s" ZONE_A, cases[i].server);
		struct conf *new = load_ok(y);
		const char *d = conf_restart_diff(old, new);

		if (cases[i].diff == NULL)
			cr_expect_null(d, "%s: got %s", cases[i].server, d);
		else {
			cr_expect_not_null(d, "%s", cases[i].server);
			if (d != NULL)
				cr_expect_str_eq(d, cases[i].diff);
		}
		conf_free(new);
		free(y);
	}
	conf_free(old);
}

Test(conf_restart, listen_order_and_port_matter)
{
	struct conf *a = load_ok("server: {listen: [\"127.0.0.1:5300\", "
	    "\"[::1]:5300\"]}\n" ZONE_A);
	struct conf *b = load_ok("server: {listen: [\"127.0.0.1:5300\", "
	    "\"[::1]:5301\"]}\n" ZONE_A);
	struct conf *c = load_ok("server: {listen: [\"127.0.0.1:5300\", "
	    "\"[::1]:5300\"]}\n" ZONE_A);

	cr_expect_str_eq(conf_restart_diff(a, b), "server.listen");
	cr_expect_null(conf_restart_diff(a, c));
	conf_free(a);
	conf_free(b);
	conf_free(c);
}

/* --- the YAML tree ------------------------------------------------------ */

static struct ytree *
tree_ok(const char *text)
{
	struct ytree *t = NULL;
	char *err = NULL;

	cr_assert_eq(ytree_parse("y", text, strlen(text), &t, &err), 0,
	    "%s", err);
	return t;
}

Test(yamltree, positions_of_keys_and_values)
{
	struct ytree *t = tree_ok(
	    "a: 1\n"
	    "bb:\n"
	    "  - x\n"
	    "  - { k: v, \"q\": 'w' }\n"
	    "c: [1, [2]]\n");
	const struct ynode *r = ytree_root(t), *b, *m, *c;

	cr_assert_not_null(r);
	cr_assert_eq(r->type, YNODE_MAPPING);
	cr_assert_eq(r->npairs, 3);
	cr_expect_eq(r->line, 1);
	cr_expect_eq(r->column, 1);
	cr_expect_str_eq(r->pairs[0].key->str, "a");
	cr_expect_eq(r->pairs[0].value->line, 1);
	cr_expect_eq(r->pairs[0].value->column, 4);
	cr_expect(r->pairs[0].value->plain);
	cr_expect_eq(r->pairs[1].key->line, 2);
	cr_expect_eq(r->pairs[1].key->column, 1);

	b = ynode_get(r, "bb");
	cr_assert_not_null(b);
	cr_assert_eq(b->type, YNODE_SEQUENCE);
	cr_assert_eq(b->nitems, 2);
	cr_expect_eq(b->items[0]->line, 3);
	cr_expect_eq(b->items[0]->column, 5);
	m = b->items[1];
	cr_assert_eq(m->type, YNODE_MAPPING);
	cr_expect_eq(m->line, 4);
	cr_expect_eq(m->column, 5);
	cr_assert_eq(m->npairs, 2);
	cr_expect_eq(m->pairs[0].key->column, 7);
	cr_expect_eq(m->pairs[0].value->column, 10);
	cr_expect_eq(m->pairs[1].key->column, 13);
	cr_expect_not(m->pairs[1].key->plain);
	cr_expect_str_eq(m->pairs[1].value->str, "w");
	cr_expect_not(m->pairs[1].value->plain);
	cr_expect_eq(m->pairs[1].value->column, 18);

	c = ynode_get(r, "c");
	cr_assert_not_null(c);
	cr_assert_eq(c->nitems, 2);
	cr_expect_eq(c->items[1]->type, YNODE_SEQUENCE);
	cr_expect_eq(c->items[1]->column, 8);
	cr_expect_str_eq(c->items[1]->items[0]->str, "2");

	cr_expect_null(ynode_get(r, "missing"));
	cr_expect_null(ynode_get(b, "x"));
	cr_expect_str_eq(ytree_name(t), "y");
	ytree_free(t);
}

Test(yamltree, columns_count_characters)
{
	/* "é" is two bytes but one column. */
	struct ytree *t = tree_ok("\xc3\xa9: [a, b]\n");
	const struct ynode *r = ytree_root(t);

	cr_expect_eq(r->pairs[0].value->column, 4);
	cr_expect_eq(r->pairs[0].value->items[1]->column, 8);
	ytree_free(t);
}

Test(yamltree, nulls_and_plain)
{
	struct ytree *t = tree_ok("a:\nb: ~\nc: null\nd: ''\ne: \"null\"\n"
	    "f: !!str\ng: NULL\n");
	const struct ynode *r = ytree_root(t);

	cr_expect(ynode_is_null(ynode_get(r, "a")));
	cr_expect(ynode_is_null(ynode_get(r, "b")));
	cr_expect(ynode_is_null(ynode_get(r, "c")));
	cr_expect_not(ynode_is_null(ynode_get(r, "d")));
	cr_expect_not(ynode_is_null(ynode_get(r, "e")));
	cr_expect_not(ynode_is_null(ynode_get(r, "f")));
	cr_expect(ynode_is_null(ynode_get(r, "g")));
	cr_expect_not(ynode_is_null(r));
	cr_expect_not(ynode_is_null(NULL));
	ytree_free(t);
}

Test(yamltree, empty_stream_has_no_root)
{
	struct ytree *t = tree_ok("# comment only\n");

	cr_expect_null(ytree_root(t));
	ytree_free(t);
	t = tree_ok("");
	cr_expect_null(ytree_root(t));
	ytree_free(t);
}

Test(yamltree, nesting_limit)
{
	char text[2 * (YTREE_MAX_DEPTH + 1) + 2];
	struct ytree *t = NULL;
	char *err = NULL;
	size_t n;

	/* Exactly YTREE_MAX_DEPTH levels parse... */
	memset(text, '[', YTREE_MAX_DEPTH);
	memset(text + YTREE_MAX_DEPTH, ']', YTREE_MAX_DEPTH);
	text[2 * YTREE_MAX_DEPTH] = '\0';
	cr_expect_eq(ytree_parse("y", text, strlen(text), &t, &err), 0, "%s",
	    err);
	ytree_free(t);
	t = NULL;

	/* ...one more does not, and says where. */
	n = YTREE_MAX_DEPTH + 1;
	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	cr_expect_eq(ytree_parse("y", text, strlen(text), &t, &err),
	    ERR_PARSE);
	cr_expect_null(t);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, "y:1:65: nesting deeper than 64 levels");
	free(err);
}

Test(yamltree, deep_garbage_does_not_crash)
{
	size_t n = 100000;
	char *text = xmalloc(2 * n + 1);
	struct ytree *t = NULL;
	char *err = NULL;

	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	cr_expect_eq(ytree_parse("y", text, 2 * n, &t, &err), ERR_PARSE);
	cr_expect_null(t);
	free(err);
	free(text);
}

Test(yamltree, text_need_not_be_terminated)
{
	const char text[] = {'a', ':', ' ', 'b', 'c'};
	struct ytree *t = NULL;
	char *err = NULL;

	/* Only the first four bytes count: the value is "b", not "bc". */
	cr_assert_eq(ytree_parse("y", text, 4, &t, &err), 0, "%s", err);
	cr_expect_str_eq(ytree_root(t)->pairs[0].value->str, "b");
	ytree_free(t);
}

Test(yamltree, huge_mapping_is_linear, .timeout = 20)
{
	/* 200000 keys: a quadratic duplicate check would take minutes. */
	size_t nkeys = 200000, cap = nkeys * 24 + 64, off = 0;
	char *text = xmalloc(cap), *err = NULL;
	struct ytree *t = NULL;

	for (size_t i = 0; i < nkeys; i++)
		off += (size_t)snprintf(text + off, cap - off, "k%zu: %zu\n", i,
		    i);
	cr_assert_eq(ytree_parse("y", text, off, &t, &err), 0, "%s", err);
	cr_expect_eq(ytree_root(t)->npairs, nkeys);
	cr_expect_str_eq(ynode_get(ytree_root(t), "k199999")->str, "199999");
	ytree_free(t);
	t = NULL;

	off += (size_t)snprintf(text + off, cap - off, "k7: again\n");
	cr_expect_eq(ytree_parse("y", text, off, &t, &err), ERR_PARSE);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, "y:200001:1: duplicate key 'k7' (first at line "
	    "8)");
	free(err);
	free(text);
}

Test(yamltree, printable)
{
	char *s = ytree_printable("a\nb\tc", 64);

	cr_expect_str_eq(s, "a?b?c");
	free(s);
	s = ytree_printable("abcdef", 3);
	cr_expect_str_eq(s, "abc...");
	free(s);
	s = ytree_printable("abc", 3);
	cr_expect_str_eq(s, "abc");
	free(s);
}

Test(yamltree, file_too_large)
{
	char tmpl[] = "/tmp/arcdns-yt-XXXXXX";
	int fd = mkstemp(tmpl);
	struct ytree *t = NULL;
	char *err = NULL, *want;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, YTREE_MAX_SIZE + 1), 0);
	close(fd);
	cr_expect_eq(ytree_load(tmpl, &t, &err), ERR_LIMIT);
	cr_expect_null(t);
	want = xstrfmt("%s: file larger than %u bytes", tmpl,
	    YTREE_MAX_SIZE);
	cr_assert_not_null(err);
	cr_expect_str_eq(err, want);
	unlink(tmpl);
	free(want);
	free(err);
}

Test(conf_server, http_and_control)
{
	struct conf *c = load_ok("server:\n"
	    "  http: \"127.0.0.1:9053\"\n"
	    "  control: run/ctl.sock\n"
	    "  control-group: arcdns\n"
	    "zones: [{ id: a, origin: a.test., file: a.zone }]\n");
	struct conf *d;
	char buf[64];

	cr_assert(c->server.has_http);
	netaddr_format(&c->server.http, buf, sizeof(buf));
	cr_expect_str_eq(buf, "127.0.0.1:9053");
	cr_expect_eq(c->server.control[0], '/', "made absolute");
	cr_expect(strstr(c->server.control, "/run/ctl.sock") != NULL);
	cr_expect_str_eq(c->server.control_group, "arcdns");
	d = load_ok("server: { http: \"::1\" }\n"
	    "zones: [{ id: a, origin: a.test., file: a.zone }]\n");
	netaddr_format(&d->server.http, buf, sizeof(buf));
	cr_expect_str_eq(buf, "[::1]:8053", "default port");
	cr_expect_null(d->server.control);
	/* All three are restart-only. */
	cr_expect_str_eq(conf_restart_diff(c, d), "server.http");
	conf_free(d);
	d = load_ok("server: { http: \"127.0.0.1:9053\" }\n"
	    "zones: [{ id: a, origin: a.test., file: a.zone }]\n");
	cr_expect_str_eq(conf_restart_diff(c, d), "server.control");
	conf_free(d);
	d = load_ok("server: { http: \"127.0.0.1:9053\", control: run/ctl.sock }\n"
	    "zones: [{ id: a, origin: a.test., file: a.zone }]\n");
	cr_expect_str_eq(conf_restart_diff(c, d), "server.control-group");
	conf_free(d);
	conf_free(c);
}

Test(conf_fences, parsed)
{
	struct conf *c = load_ok(
	    "arc:\n  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n"
	    "controls: { east: { name: e }, west: { name: w } }\n"
	    "fences:\n"
	    "  primary-db:\n"
	    "    hook: [hooks/fence-postgres, --mode, read-only]\n"
	    "    promote: [/usr/libexec/promote]\n"
	    "    env: { PGUSER: arcdns, PGCONNECT_TIMEOUT: \"3\" }\n"
	    "    timeout: 2s\n"
	    "    retries: 2\n"
	    "    backoff: 250ms\n"
	    "    stale: withdraw\n"
	    "    stale-lease: 10s\n"
	    "  other: { hook: [/bin/true] }\n"
	    "zones:\n"
	    "  - id: a\n    origin: a.test.\n    file: a.zone\n"
	    "    records:\n"
	    "      - { name: w, type: CNAME, policy: failover, fence: primary-db,\n"
	    "          targets: [{ control: east, values: e.x. }, { control: west, values: w.x. }] }\n"
	    "      - { name: v, type: A, policy: failover,\n"
	    "          targets: [{ control: east, values: 10.0.0.1 }] }\n"
	    "  - id: b\n    origin: a.test.\n    file: b.zone\n"
	    "    records:\n"
	    "      - { name: w, type: CNAME, policy: failover, fence: primary-db,\n"
	    "          targets: [{ control: east, values: e2.x. }, { control: west, values: w2.x. }] }\n"
	    "views:\n"
	    "  - { name: v1, match-clients: [\"127.0.0.2\"], zones: [b] }\n"
	    "  - { name: v2, match-clients: [any], zones: [a] }\n");
	const struct conf_fence *f;

	cr_assert_eq(c->nfences, 2);
	f = &c->fences[0];
	cr_expect_str_eq(f->name, "primary-db");
	cr_expect(f->hook[0][0] == '/' && strstr(f->hook[0],
	    "/hooks/fence-postgres") != NULL, "%s", f->hook[0]);
	cr_expect_str_eq(f->hook[1], "--mode");
	cr_expect_str_eq(f->hook[2], "read-only");
	cr_expect_null(f->hook[3]);
	cr_expect_str_eq(f->promote[0], "/usr/libexec/promote");
	cr_expect_null(f->ready_check);
	cr_expect_str_eq(f->env[0], "PGUSER=arcdns");
	cr_expect_str_eq(f->env[1], "PGCONNECT_TIMEOUT=3");
	cr_expect_null(f->env[2]);
	cr_expect_eq(f->timeout_ms, 2000);
	cr_expect_eq(f->retries, 2);
	cr_expect_eq(f->backoff_ms, 250);
	cr_expect_eq(f->stale, CONF_FENCE_STALE_WITHDRAW);
	cr_expect_eq(f->stale_lease_ms, 10000);
	f = &c->fences[1];
	cr_expect_eq(f->timeout_ms, CONF_DEFAULT_FENCE_TIMEOUT_MS);
	cr_expect_eq(f->retries, CONF_DEFAULT_FENCE_RETRIES);
	cr_expect_eq(f->stale, CONF_FENCE_STALE_KEEP);
	cr_expect_null(f->env);
	cr_expect_eq(c->zones[0].records[0].fence_index, 0);
	cr_expect_eq(c->zones[0].records[1].fence_index, -1);
	cr_expect_eq(c->zones[1].records[0].fence_index, 0);
	conf_free(c);
}

Test(conf_fences, shared_fence_needs_the_same_controls)
{
	static const char yaml[] =
	    "arc:\n  endpoints: [{ region: us-east-1, url: \"http://127.0.0.1:9/v1\" }]\n"
	    "controls: { east: { name: e }, west: { name: w } }\n"
	    "fences: { db: { hook: [/bin/true] } }\n"
	    "zones:\n"
	    "  - id: a\n    origin: a.test.\n    file: a.zone\n"
	    "    records:\n"
	    "      - { name: w, type: CNAME, policy: failover, fence: db,\n"
	    "          targets: [{ control: east, values: e.x. }, { control: west, values: w.x. }] }\n"
	    "      - { name: w2, type: CNAME, policy: failover, fence: db,\n"
	    "          targets: [{ control: west, values: w.x. }, { control: east, values: e.x. }] }\n";
	struct conf *c = NULL;
	char *err = NULL;

	cr_assert_neq(conf_load_string("t.yaml", yaml, strlen(yaml), &c,
	    &err), 0);
	cr_expect_str_eq(err, "t.yaml:12:59: records sharing fence 'db' must "
	    "list the same controls in the same order (see line 10)");
	free(err);
}
