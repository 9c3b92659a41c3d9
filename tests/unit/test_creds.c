/*
 * test_creds.c -- the credential sources and the auto chain, against
 * loopback stubs: an evhttp server on 127.0.0.1 (port 0) in the test's own
 * event_base, run with bounded event_base_loop slices, never a sleep.
 *
 * Each Criterion test runs in its own process, so every test points fd 2
 * at a file, logs at debug level, and checks at the end that no secret,
 * session token or authorization token reached the log.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "arc/creds.h"
#include "arc/curl_ev.h"
#include "arc/sigv4.h"
#include "log/log.h"
#include "util/err.h"
#include "util/xalloc.h"

/* --- fixture: environment, stub, loop, captured stderr -------------------- */

#define NENV	24
#define NREQ	32

struct fenv {
	const char	*name[NENV];
	char		*value[NENV];
	int		 n;
};

enum stub_mode {
	STUB_CONTAINER = 0,
	STUB_IMDS,
	STUB_STS_JSON,
	STUB_STS_XML
};

struct stub {
	struct evhttp	*http;
	int		 port;
	enum stub_mode	 mode;
	int		 fail;		/* reply 500 to everything */
	int		 life_s;	/* lifetime of what is handed out */
	const char	*code;		/* IMDS Code */
	const char	*imds_token;	/* the token it hands out and wants */
	int		 served;	/* credentials handed out */
	int		 hits;
	char		 req[NREQ][160];	/* "METHOD URI" */
	char		 auth[NREQ][128];	/* Authorization or IMDS token */
	char		 ttl[64];
	char		 accept[64];
	char		 body[1024];
};

static struct event_base *base;
static struct curl_ev *ce;
static struct stub stub;
static struct fenv fenv;
static char tmpdir[64];
static char logpath[128];
static int ready;

static const char *
fake_getenv(const char *name, void *arg)
{
	struct fenv *e = arg;

	for (int i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->value[i];
	return NULL;
}

static void
setenv_f(const char *name, const char *value)
{
	for (int i = 0; i < fenv.n; i++)
		if (strcmp(fenv.name[i], name) == 0) {
			free(fenv.value[i]);
			fenv.value[i] = xstrdup(value);
			return;
		}
	cr_assert(fenv.n < NENV);
	fenv.name[fenv.n] = name;
	fenv.value[fenv.n++] = xstrdup(value);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
iso(uint64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
reply(struct evhttp_request *req, int status, const char *body)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", b);
	evbuffer_free(b);
}

static void
reply_creds_json(struct evhttp_request *req, bool imds)
{
	char exp[32], body[512];

	stub.served++;
	iso(now_ms() + (uint64_t)stub.life_s * 1000, exp, sizeof(exp));
	snprintf(body, sizeof(body), "{%s\"AccessKeyId\":\"AKIDSTUB%d\","
	    "\"SecretAccessKey\":\"SECRETSTUB%d\",\"Token\":\"TOKENSTUB%d\","
	    "\"Expiration\":\"%s\"}", imds ? "\"Code\":\"" : "",
	    stub.served, stub.served, stub.served, exp);
	if (imds) {
		char full[600];

		snprintf(full, sizeof(full), "{\"Code\":\"%s\",%s", stub.code,
		    body + strlen("{\"Code\":\""));
		reply(req, 200, full);
	} else
		reply(req, 200, body);
}

static void
stub_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *uri = evhttp_request_get_uri(req);
	const char *method;
	const char *v;
	int i = stub.hits < NREQ ? stub.hits : NREQ - 1;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);

	(void)arg;
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET: method = "GET"; break;
	case EVHTTP_REQ_PUT: method = "PUT"; break;
	case EVHTTP_REQ_POST: method = "POST"; break;
	default: method = "OTHER"; break;
	}
	stub.hits++;
	snprintf(stub.req[i], sizeof(stub.req[i]), "%s %s", method, uri);
	v = evhttp_find_header(h, stub.mode == STUB_IMDS ?
	    "X-aws-ec2-metadata-token" : "Authorization");
	snprintf(stub.auth[i], sizeof(stub.auth[i]), "%s", v ? v : "");
	v = evhttp_find_header(h, "Accept");
	snprintf(stub.accept, sizeof(stub.accept), "%s", v ? v : "");
	if (n >= sizeof(stub.body))
		n = sizeof(stub.body) - 1;
	evbuffer_remove(in, stub.body, n);
	stub.body[n] = '\0';
	if (stub.fail) {
		reply(req, 500, "{\"message\":\"stub failure\"}");
		return;
	}
	switch (stub.mode) {
	case STUB_CONTAINER:
		reply_creds_json(req, false);
		break;
	case STUB_IMDS:
		if (strcmp(uri, "/latest/api/token") == 0) {
			v = evhttp_find_header(h,
			    "X-aws-ec2-metadata-token-ttl-seconds");
			snprintf(stub.ttl, sizeof(stub.ttl), "%s", v ? v : "");
			if (strcmp(method, "PUT") != 0 || v == NULL)
				reply(req, 400, "");
			else
				reply(req, 200, stub.imds_token);
			return;
		}
		if (strcmp(stub.auth[i], stub.imds_token) != 0) {
			reply(req, 401, "");
			return;
		}
		if (strcmp(uri, "/latest/meta-data/iam/security-credentials/")
		    == 0)
			reply(req, 200, "arcdns-role\n");
		else if (strcmp(uri, "/latest/meta-data/iam/"
		    "security-credentials/arcdns-role") == 0)
			reply_creds_json(req, true);
		else
			reply(req, 404, "");
		break;
	case STUB_STS_JSON: {
		char body[512];

		stub.served++;
		snprintf(body, sizeof(body), "{\"AssumeRoleWithWebIdentity"
		    "Response\":{\"AssumeRoleWithWebIdentityResult\":{"
		    "\"Credentials\":{\"AccessKeyId\":\"AKIDSTUB%d\","
		    "\"SecretAccessKey\":\"SECRETSTUB%d\",\"SessionToken\":"
		    "\"TOKENSTUB%d\",\"Expiration\":%llu}},"
		    "\"ResponseMetadata\":{\"RequestId\":\"r\"}}}",
		    stub.served, stub.served, stub.served,
		    (unsigned long long)(now_ms() / 1000 + 3600));
		reply(req, 200, body);
		break;
	}
	case STUB_STS_XML: {
		char body[800], exp[32];

		stub.served++;
		iso(now_ms() + 3600 * 1000, exp, sizeof(exp));
		snprintf(body, sizeof(body), "<AssumeRoleWithWebIdentity"
		    "Response xmlns=\"https://sts.amazonaws.com/doc/"
		    "2011-06-15/\"><AssumeRoleWithWebIdentityResult>"
		    "<Credentials><AccessKeyId>AKIDSTUB%d</AccessKeyId>"
		    "<SecretAccessKey>SECRETSTUB%d</SecretAccessKey>"
		    "<SessionToken>TOKENSTUB%d</SessionToken><Expiration>%s"
		    "</Expiration></Credentials>"
		    "</AssumeRoleWithWebIdentityResult>"
		    "</AssumeRoleWithWebIdentityResponse>", stub.served,
		    stub.served, stub.served, exp);
		reply(req, 200, body);
		break;
	}
	}
}

static void
setup(void)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	cr_assert(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
	strcpy(tmpdir, "/tmp/test_creds.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(logpath, sizeof(logpath), "%s/stderr", tmpdir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert(dup2(fd, 2) == 2);
	close(fd);
	log_setup("test_creds", LOG_FORMAT_TEXT, LOG_TARGET_STDERR,
	    LOG_LEVEL_DEBUG);

	base = event_base_new();
	cr_assert_not_null(base);
	ce = curl_ev_new(base);
	memset(&stub, 0, sizeof(stub));
	stub.life_s = 3600;
	stub.code = "Success";
	stub.imds_token = "IMDSTOKEN42";
	stub.http = evhttp_new(base);
	cr_assert_not_null(stub.http);
	evhttp_set_allowed_methods(stub.http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_POST);
	evhttp_set_gencb(stub.http, stub_cb, NULL);
	bs = evhttp_bind_socket_with_handle(stub.http, "127.0.0.1", 0);
	cr_assert_not_null(bs);
	cr_assert(getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&ss, &len) == 0);
	stub.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	memset(&fenv, 0, sizeof(fenv));
	ready = 0;
	/* No test may reach a real home, IMDS or container agent. */
	setenv_f("HOME", tmpdir);
	setenv_f("AWS_EC2_METADATA_DISABLED", "true");
}

static void
teardown(void)
{
	char cmd[128];

	curl_ev_free(ce);
	evhttp_free(stub.http);
	event_base_free(base);
	for (int i = 0; i < fenv.n; i++)
		free(fenv.value[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	(void)system(cmd);
	curl_global_cleanup();
}

TestSuite(creds, .init = setup, .fini = teardown, .timeout = 30);

static void
ready_cb(struct creds *c, void *arg)
{
	(void)c;
	(void)arg;
	ready++;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop in 20 ms slices until *counter >= want or ms pass. */
static bool
run_until(const int *counter, int want, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;

	while (*counter < want) {
		struct timeval tv = { 0, 20000 };

		if (mono_ms() > end)
			return false;
		event_base_loopexit(base, &tv);
		event_base_loop(base, 0);
	}
	return true;
}

static struct creds *
make(enum creds_source src)
{
	return creds_new(base, ce, src, fake_getenv, &fenv, ready_cb, NULL);
}

/* Start c and wait for its first outcome (success or failure). */
static void
start_wait(struct creds *c)
{
	int before = ready;
	uint64_t end = mono_ms() + 5000;

	creds_start(c);
	while (ready == before && creds_failures(c) == 0 &&
	    mono_ms() < end) {
		struct timeval tv = { 0, 20000 };

		event_base_loopexit(base, &tv);
		event_base_loop(base, 0);
	}
}

static void
write_file(const char *name, const char *text, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* Nothing secret in what was logged; something was logged. */
static void
assert_no_secrets(void)
{
	static const char *const secrets[] = {
		"SECRETSTUB", "SECRETENV", "SECRETDEFAULT", "SECRETOTHER",
		"SECRETCONFIG", "SECRETNOTAPROFILE", "SECRETSHADOWED",
		"TOKENSTUB", "IMDSTOKEN", "AUTHTOKEN", "FILETOKEN", "JWTTOKEN",
	};
	FILE *f = fopen(logpath, "r");
	char buf[65536];
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cr_expect(n > 0, "nothing was logged");
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		cr_expect_null(strstr(buf, secrets[i]),
		    "'%s' reached the log:\n%s", secrets[i], buf);
}

static void
expect_creds(struct creds *c, const char *akid, const char *secret,
    const char *token)
{
	const struct sigv4_creds *k = creds_current(c, now_ms());

	cr_assert_not_null(k, "no credentials (failures %u)",
	    creds_failures(c));
	cr_expect_str_eq(k->access_key_id, akid);
	cr_expect_str_eq(k->secret_access_key, secret);
	if (token == NULL)
		cr_expect_null(k->session_token);
	else {
		cr_assert_not_null(k->session_token);
		cr_expect_str_eq(k->session_token, token);
	}
}

/* --- pure pieces ---------------------------------------------------------- */

Test(creds_pure, source_names)
{
	static const char *const names[] = { "auto", "env", "profile",
	    "container", "imds", "web-identity" };
	enum creds_source s;

	for (size_t i = 0; i < 6; i++) {
		cr_assert_eq(creds_source_parse(names[i], &s), 0);
		cr_expect_eq((size_t)s, i);
		cr_expect_str_eq(creds_source_str(s), names[i]);
	}
	cr_expect_eq(creds_source_parse("Auto", &s), ERR_INVAL);
	cr_expect_eq(creds_source_parse("", &s), ERR_INVAL);
	cr_expect_eq(creds_source_parse("ec2", &s), ERR_INVAL);
}

Test(creds_pure, parse_time)
{
	uint64_t t = 0;

	cr_assert_eq(creds_parse_time("2024-05-01T12:34:56Z", &t), 0);
	cr_expect_eq(t, 1714566896000ull);
	cr_assert_eq(creds_parse_time("2024-05-01T12:34:56.250Z", &t), 0);
	cr_expect_eq(t, 1714566896250ull);
	cr_assert_eq(creds_parse_time("2024-05-01T14:34:56+02:00", &t), 0);
	cr_expect_eq(t, 1714566896000ull);
	cr_assert_eq(creds_parse_time("2024-05-01T12:34:56+0000", &t), 0);
	cr_expect_eq(t, 1714566896000ull);
	cr_assert_eq(creds_parse_time("2000-02-29T00:00:00Z", &t), 0);
	cr_expect_eq(t, 951782400000ull);
	cr_expect_neq(creds_parse_time("2024-05-01T12:34:56", &t), 0);
	cr_expect_neq(creds_parse_time("2024-05-01 12:34Z", &t), 0);
	cr_expect_neq(creds_parse_time("2024-13-01T12:34:56Z", &t), 0);
	cr_expect_neq(creds_parse_time("2024-05-01T12:34:56Zx", &t), 0);
	cr_expect_neq(creds_parse_time("", &t), 0);
	cr_expect_neq(creds_parse_time("1714566896", &t), 0);
}

Test(creds_pure, refresh_at)
{
	const uint64_t now = 1714566896000ull, min = 60000;

	/* Long-lived: 15 min before expiry (advisory). */
	cr_expect_eq(creds_refresh_at(now, now + 360 * min),
	    now + 345 * min);
	cr_expect_eq(creds_refresh_at(now, now + 60 * min), now + 45 * min);
	cr_expect_eq(creds_refresh_at(now, now + 30 * min), now + 15 * min);
	/* Short-lived: half of what is left, not sooner than a minute. */
	cr_expect_eq(creds_refresh_at(now, now + 20 * min), now + 10 * min);
	cr_expect_eq(creds_refresh_at(now, now + 90000), now + 60000);
	cr_expect_eq(creds_refresh_at(now, now + 10000), now + 9000);
	cr_expect_eq(creds_refresh_at(now, now + 2000), now + 1000);
	/* Already (nearly) expired: never sooner than 1 s. */
	cr_expect_eq(creds_refresh_at(now, now + 500), now + 1000);
	cr_expect_eq(creds_refresh_at(now, now - 5000), now + 1000);
	/* Always before expiry when there is time for it. */
	for (uint64_t l = 2000; l < 48 * 60 * min; l = l * 3 / 2)
		cr_expect_lt(creds_refresh_at(now, now + l), now + l);
}

Test(creds_pure, container_url)
{
	static const char *const ok[] = {
		"https://creds.example.com/v1/x",
		"https://10.0.0.1/",
		"http://127.0.0.1/v1/credentials",
		"http://127.1.2.3:8080/",
		"http://localhost:9000/creds",
		"http://[::1]/creds",
		"http://169.254.170.2/v2/credentials/abc",
		"http://169.254.170.23/v1/credentials",
		"http://[fd00:ec2::23]/v1/credentials",
	};
	static const char *const bad[] = {
		"http://169.254.169.254/latest",
		"http://10.0.0.1/creds",
		"http://example.com/creds",
		"http://127.0.0.1.example.com/",
		"http://127.0.0.1@example.com/",
		"http://[fd00:ec2::24]/",
		"ftp://127.0.0.1/",
		"file:///etc/passwd",
		"not a url",
		"",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		cr_expect(creds_container_url_ok(ok[i]), "%s", ok[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_not(creds_container_url_ok(bad[i]), "%s", bad[i]);
}

/* --- environment ---------------------------------------------------------- */

Test(creds, env_long_term)
{
	struct creds *c;

	setenv_f("AWS_ACCESS_KEY_ID", "AKIDENV");
	setenv_f("AWS_SECRET_ACCESS_KEY", "SECRETENV");
	c = make(CREDS_ENV);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_str_eq(creds_origin(c), "none");
	start_wait(c);
	cr_expect_eq(ready, 1);
	expect_creds(c, "AKIDENV", "SECRETENV", NULL);
	cr_expect_str_eq(creds_origin(c), "env");
	cr_expect_eq(creds_expiration(c), 0);
	/* Long-term: valid whenever. */
	cr_expect_not_null(creds_current(c, now_ms() + 86400000ull * 365));
	creds_free(c);
	assert_no_secrets();
}

Test(creds, env_session_token_and_expiration)
{
	struct creds *c;
	char exp[32];
	uint64_t e = now_ms() + 3600 * 1000;

	iso(e, exp, sizeof(exp));
	setenv_f("AWS_ACCESS_KEY_ID", "AKIDENV");
	setenv_f("AWS_SECRET_ACCESS_KEY", "SECRETENV");
	setenv_f("AWS_SECURITY_TOKEN", "TOKENSTUBLEGACY");
	setenv_f("AWS_CREDENTIAL_EXPIRATION", exp);
	c = make(CREDS_ENV);
	start_wait(c);
	expect_creds(c, "AKIDENV", "SECRETENV", "TOKENSTUBLEGACY");
	cr_expect_eq(creds_expiration(c), e / 1000 * 1000);
	cr_expect_null(creds_current(c, e + 1000));
	creds_free(c);

	/* AWS_SESSION_TOKEN wins over the legacy name. */
	setenv_f("AWS_SESSION_TOKEN", "TOKENSTUBNEW");
	c = make(CREDS_ENV);
	start_wait(c);
	expect_creds(c, "AKIDENV", "SECRETENV", "TOKENSTUBNEW");
	creds_free(c);
	assert_no_secrets();
}

Test(creds, env_partial_or_bad)
{
	struct creds *c;

	setenv_f("AWS_ACCESS_KEY_ID", "AKIDENV");
	c = make(CREDS_ENV);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_eq(creds_failures(c), 1);
	cr_expect_eq(ready, 1, "a failure with nothing held is reported");
	creds_free(c);

	setenv_f("AWS_SECRET_ACCESS_KEY", "SECRETENV");
	setenv_f("AWS_CREDENTIAL_EXPIRATION", "tomorrow");
	c = make(CREDS_ENV);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	creds_free(c);

	/* An expiration in the past is a failure, not a credential. */
	setenv_f("AWS_CREDENTIAL_EXPIRATION", "2001-01-01T00:00:00Z");
	c = make(CREDS_ENV);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	creds_free(c);

	/* Not an access key id. */
	setenv_f("AWS_CREDENTIAL_EXPIRATION", "2999-01-01T00:00:00Z");
	setenv_f("AWS_ACCESS_KEY_ID", "AKID/ENV");
	c = make(CREDS_ENV);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	creds_free(c);
	assert_no_secrets();
}

/* --- shared files --------------------------------------------------------- */

static const char cred_file[] =
    "# comment\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key=SECRETDEFAULT\n"
    "\n"
    "[other]\n"
    "; another comment\n"
    "aws_access_key_id   =   AKIDOTHER  \n"
    "aws_secret_access_key = SECRETOTHER\n"
    "aws_session_token = TOKENSTUBOTHER\n"
    "s3 =\n"
    "    max_concurrent_requests = 10\n"
    "[broken]\n"
    "aws_access_key_id = AKIDBROKEN\n";

static const char config_file[] =
    "[default]\n"
    "region = us-west-2\n"
    "[cfgonly]\n"
    "aws_access_key_id = AKIDNOTAPROFILE\n"
    "aws_secret_access_key = SECRETNOTAPROFILE\n"
    "[profile   cfgonly]\n"
    "aws_access_key_id = AKIDCONFIG\n"
    "aws_secret_access_key = SECRETCONFIG\n"
    "[profile other]\n"
    "aws_access_key_id = AKIDSHADOWED\n"
    "aws_secret_access_key = SECRETSHADOWED\n";

static void
write_profiles(bool via_env)
{
	char p[256];

	if (via_env) {
		write_file("creds.ini", cred_file, p, sizeof(p));
		setenv_f("AWS_SHARED_CREDENTIALS_FILE", p);
		write_file("config.ini", config_file, p, sizeof(p));
		setenv_f("AWS_CONFIG_FILE", p);
	} else {
		snprintf(p, sizeof(p), "%s/.aws", tmpdir);
		cr_assert(mkdir(p, 0700) == 0);
		write_file(".aws/credentials", cred_file, p, sizeof(p));
		write_file(".aws/config", config_file, p, sizeof(p));
	}
}

Test(creds, profile_default_under_home)
{
	struct creds *c;

	write_profiles(false);
	c = make(CREDS_PROFILE);
	start_wait(c);
	expect_creds(c, "AKIDDEFAULT", "SECRETDEFAULT", NULL);
	cr_expect_str_eq(creds_origin(c), "profile");
	cr_expect_eq(creds_expiration(c), 0);
	creds_free(c);
	assert_no_secrets();
}

Test(creds, profile_named_and_config)
{
	struct creds *c;

	write_profiles(true);
	setenv_f("AWS_PROFILE", "other");
	c = make(CREDS_PROFILE);
	start_wait(c);
	/* The credentials file wins over the config file. */
	expect_creds(c, "AKIDOTHER", "SECRETOTHER", "TOKENSTUBOTHER");
	creds_free(c);

	/* Config file: only "[profile name]" sections count. */
	setenv_f("AWS_PROFILE", "cfgonly");
	c = make(CREDS_PROFILE);
	start_wait(c);
	expect_creds(c, "AKIDCONFIG", "SECRETCONFIG", NULL);
	creds_free(c);

	/* A configured profile (arc.profile) wins over AWS_PROFILE. */
	c = make(CREDS_PROFILE);
	creds_set_profile(c, "other");
	start_wait(c);
	expect_creds(c, "AKIDOTHER", "SECRETOTHER", "TOKENSTUBOTHER");
	creds_free(c);
	assert_no_secrets();
}

Test(creds, profile_missing_keys)
{
	struct creds *c;

	write_profiles(true);
	setenv_f("AWS_PROFILE", "broken");
	c = make(CREDS_PROFILE);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_eq(creds_failures(c), 1);
	creds_free(c);

	setenv_f("AWS_PROFILE", "nosuch");
	c = make(CREDS_PROFILE);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_eq(creds_failures(c), 1);
	creds_free(c);

	/* No files at all. */
	setenv_f("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/creds");
	setenv_f("AWS_CONFIG_FILE", "/nonexistent/config");
	setenv_f("AWS_PROFILE", "default");
	c = make(CREDS_PROFILE);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	creds_free(c);
	assert_no_secrets();
}

/* --- container ------------------------------------------------------------ */

static void
set_full_uri(const char *path)
{
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", stub.port, path);
	setenv_f("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
}

Test(creds, container_full_uri_token)
{
	struct creds *c;
	uint64_t t0 = now_ms();

	set_full_uri("/v1/credentials");
	setenv_f("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTHTOKEN-env");
	c = make(CREDS_CONTAINER);
	start_wait(c);
	cr_assert_eq(stub.hits, 1);
	cr_expect_str_eq(stub.req[0], "GET /v1/credentials");
	cr_expect_str_eq(stub.auth[0], "AUTHTOKEN-env");
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");
	cr_expect_str_eq(creds_origin(c), "container");
	cr_expect_geq(creds_expiration(c) + 1000, t0 + 3600 * 1000);
	cr_expect_leq(creds_expiration(c), now_ms() + 3600 * 1000);
	creds_free(c);
	assert_no_secrets();
}

Test(creds, container_token_file_reread)
{
	struct creds *c;
	char p[256];

	set_full_uri("/v1/credentials");
	write_file("token", "FILETOKEN-1\n", p, sizeof(p));
	setenv_f("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", p);
	setenv_f("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTHTOKEN-env");
	c = make(CREDS_CONTAINER);
	start_wait(c);
	cr_assert_eq(stub.hits, 1);
	cr_expect_str_eq(stub.auth[0], "FILETOKEN-1", "the file wins");
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");

	/* The token rotates: the next fetch reads the file again. */
	write_file("token", "FILETOKEN-2", p, sizeof(p));
	creds_invalidate(c);
	cr_assert(run_until(&stub.hits, 2, 5000));
	cr_assert(run_until(&ready, 2, 5000));
	cr_expect_str_eq(stub.auth[1], "FILETOKEN-2");
	expect_creds(c, "AKIDSTUB2", "SECRETSTUB2", "TOKENSTUB2");
	creds_free(c);
	assert_no_secrets();
}

Test(creds, container_rejects_bad_token_and_url)
{
	struct creds *c;
	char p[256];

	set_full_uri("/v1/credentials");
	write_file("token", "FILETOKEN\r\nX-Injected: 1", p, sizeof(p));
	setenv_f("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", p);
	c = make(CREDS_CONTAINER);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_eq(creds_failures(c), 1);
	creds_free(c);

	/* Plain http to a host that is no container agent. */
	setenv_f("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent");
	setenv_f("AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "http://192.0.2.1/v1/credentials");
	c = make(CREDS_CONTAINER);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_eq(creds_failures(c), 1);
	creds_free(c);

	/* A token file that cannot be read. */
	set_full_uri("/v1/credentials");
	c = make(CREDS_CONTAINER);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	creds_free(c);
	cr_expect_eq(stub.hits, 0, "no request may leave");
	assert_no_secrets();
}

Test(creds, container_http_error)
{
	struct creds *c;

	set_full_uri("/v1/credentials");
	stub.fail = 1;
	c = make(CREDS_CONTAINER);
	start_wait(c);
	cr_expect_eq(stub.hits, 1);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_eq(ready, 1);
	/* It retries on a timer, with backoff: a second try, not a storm. */
	cr_assert(run_until(&stub.hits, 2, 5000));
	cr_expect_eq(stub.hits, 2);
	creds_free(c);
	assert_no_secrets();
}

/* --- IMDSv2 --------------------------------------------------------------- */

static void
set_imds(void)
{
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", stub.port);
	setenv_f("AWS_EC2_METADATA_SERVICE_ENDPOINT", url);
	setenv_f("AWS_EC2_METADATA_DISABLED", "false");
	stub.mode = STUB_IMDS;
}

Test(creds, imds_sequence)
{
	struct creds *c;

	set_imds();
	c = make(CREDS_IMDS);
	start_wait(c);
	cr_assert_eq(stub.hits, 3);
	cr_expect_str_eq(stub.req[0], "PUT /latest/api/token");
	cr_expect_str_eq(stub.ttl, "21600");
	cr_expect_str_eq(stub.req[1],
	    "GET /latest/meta-data/iam/security-credentials/");
	cr_expect_str_eq(stub.auth[1], "IMDSTOKEN42");
	cr_expect_str_eq(stub.req[2],
	    "GET /latest/meta-data/iam/security-credentials/arcdns-role");
	cr_expect_str_eq(stub.auth[2], "IMDSTOKEN42");
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");
	cr_expect_str_eq(creds_origin(c), "imds");

	/* A refresh reuses the cached IMDS token: two GETs, no PUT. */
	creds_invalidate(c);
	cr_assert(run_until(&ready, 2, 5000));
	cr_expect_eq(stub.hits, 5);
	cr_expect_str_eq(stub.req[3],
	    "GET /latest/meta-data/iam/security-credentials/");
	expect_creds(c, "AKIDSTUB2", "SECRETSTUB2", "TOKENSTUB2");
	creds_free(c);
	assert_no_secrets();
}

Test(creds, imds_token_renewed_on_401)
{
	struct creds *c;

	set_imds();
	c = make(CREDS_IMDS);
	start_wait(c);
	cr_assert_eq(stub.hits, 3);
	/* The instance forgot the token: 401, a new PUT, then success. */
	stub.imds_token = "IMDSTOKEN43";
	creds_invalidate(c);
	cr_assert(run_until(&ready, 2, 5000));
	cr_assert_eq(stub.hits, 7);
	cr_expect_str_eq(stub.req[3],
	    "GET /latest/meta-data/iam/security-credentials/");
	cr_expect_str_eq(stub.auth[3], "IMDSTOKEN42");
	cr_expect_str_eq(stub.req[4], "PUT /latest/api/token");
	cr_expect_str_eq(stub.auth[5], "IMDSTOKEN43");
	cr_expect_str_eq(stub.auth[6], "IMDSTOKEN43");
	expect_creds(c, "AKIDSTUB2", "SECRETSTUB2", "TOKENSTUB2");
	creds_free(c);
	assert_no_secrets();
}

Test(creds, imds_code_not_success)
{
	struct creds *c;

	set_imds();
	stub.code = "Failure";
	c = make(CREDS_IMDS);
	start_wait(c);
	cr_expect_eq(stub.hits, 3);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_eq(creds_failures(c), 1);
	creds_free(c);
	assert_no_secrets();
}

Test(creds, imds_disabled)
{
	struct creds *c;

	set_imds();
	setenv_f("AWS_EC2_METADATA_DISABLED", "TRUE");
	c = make(CREDS_IMDS);
	start_wait(c);
	cr_expect_eq(stub.hits, 0);
	cr_expect_null(creds_current(c, now_ms()));
	creds_free(c);
	assert_no_secrets();
}

/* --- web identity --------------------------------------------------------- */

static void
set_webid(void)
{
	char url[128], p[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", stub.port);
	setenv_f("AWS_ENDPOINT_URL_STS", url);
	setenv_f("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/arcdns");
	setenv_f("AWS_ROLE_SESSION_NAME", "arcdns-test");
	write_file("jwt", "JWTTOKEN.a+b/c=\n", p, sizeof(p));
	setenv_f("AWS_WEB_IDENTITY_TOKEN_FILE", p);
}

Test(creds, web_identity_json)
{
	struct creds *c;

	set_webid();
	stub.mode = STUB_STS_JSON;
	c = make(CREDS_WEB_IDENTITY);
	start_wait(c);
	cr_assert_eq(stub.hits, 1);
	cr_expect_str_eq(stub.req[0], "POST /");
	cr_expect_str_eq(stub.accept, "application/json");
	cr_expect_str_eq(stub.auth[0], "", "STS is called unsigned");
	cr_expect_str_eq(stub.body, "Action=AssumeRoleWithWebIdentity"
	    "&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012"
	    "%3Arole%2Farcdns&RoleSessionName=arcdns-test"
	    "&WebIdentityToken=JWTTOKEN.a%2Bb%2Fc%3D&DurationSeconds=3600");
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");
	cr_expect_str_eq(creds_origin(c), "web-identity");
	cr_expect_gt(creds_expiration(c), now_ms() + 3500 * 1000);
	creds_free(c);
	memset(stub.body, 0, sizeof(stub.body));
	assert_no_secrets();
}

Test(creds, web_identity_xml_and_errors)
{
	struct creds *c;

	set_webid();
	stub.mode = STUB_STS_XML;
	c = make(CREDS_WEB_IDENTITY);
	start_wait(c);
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");
	creds_free(c);

	stub.fail = 1;
	c = make(CREDS_WEB_IDENTITY);
	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	creds_free(c);
	assert_no_secrets();
}

/* --- refresh and failures ------------------------------------------------- */

Test(creds, refresh_before_expiry)
{
	struct creds *c;

	set_full_uri("/v1/credentials");
	stub.life_s = 2;
	c = make(CREDS_CONTAINER);
	start_wait(c);
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");
	/* Refreshed about 1 s later, before the first ones expire. */
	stub.life_s = 3600;
	cr_assert(run_until(&ready, 2, 5000));
	cr_expect_eq(stub.hits, 2);
	expect_creds(c, "AKIDSTUB2", "SECRETSTUB2", "TOKENSTUB2");
	/* Long-lived now: no further fetch soon. */
	cr_expect_not(run_until(&stub.hits, 3, 1500));
	creds_free(c);
	assert_no_secrets();
}

Test(creds, failure_keeps_old)
{
	struct creds *c;
	unsigned want = 1;
	uint64_t exp;

	set_full_uri("/v1/credentials");
	c = make(CREDS_CONTAINER);
	start_wait(c);
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");
	exp = creds_expiration(c);
	stub.fail = 1;
	creds_invalidate(c);	/* within 1 s of the first: deferred */
	while (creds_failures(c) < want) {
		struct timeval tv = { 0, 20000 };

		cr_assert(stub.hits < 5);
		event_base_loopexit(base, &tv);
		event_base_loop(base, 0);
	}
	cr_expect_eq(stub.hits, 2);
	cr_expect_eq(ready, 1, "no report while valid ones are kept");
	expect_creds(c, "AKIDSTUB1", "SECRETSTUB1", "TOKENSTUB1");
	cr_expect_eq(creds_expiration(c), exp);
	cr_expect_null(creds_current(c, exp));
	cr_expect_not_null(creds_current(c, exp - 1));
	/* Once it works again, the new ones replace them. */
	stub.fail = 0;
	cr_assert(run_until(&ready, 2, 5000));
	expect_creds(c, "AKIDSTUB2", "SECRETSTUB2", "TOKENSTUB2");
	cr_expect_eq(creds_failures(c), 0);
	creds_free(c);
	assert_no_secrets();
}

/* --- the auto chain ------------------------------------------------------- */

static const char *
auto_origin(void)
{
	struct creds *c = make(CREDS_AUTO);
	static char origin[32];

	start_wait(c);
	snprintf(origin, sizeof(origin), "%s", creds_origin(c));
	creds_free(c);
	return origin;
}

Test(creds, auto_chain_order)
{
	char p[256];

	/* Last in line: IMDS. */
	set_imds();
	cr_expect_str_eq(auto_origin(), "imds");
	/* The container provider comes before it. */
	stub.mode = STUB_CONTAINER;
	set_full_uri("/v1/credentials");
	cr_expect_str_eq(auto_origin(), "container");
	/* The shared files before that (a profile without keys is skipped). */
	write_profiles(true);
	setenv_f("AWS_PROFILE", "nosuch");
	cr_expect_str_eq(auto_origin(), "container");
	setenv_f("AWS_PROFILE", "other");
	cr_expect_str_eq(auto_origin(), "profile");
	/* Web identity before the files. */
	stub.mode = STUB_STS_JSON;
	set_webid();
	cr_expect_str_eq(auto_origin(), "web-identity");
	/* The environment first of all. */
	setenv_f("AWS_ACCESS_KEY_ID", "AKIDENV");
	setenv_f("AWS_SECRET_ACCESS_KEY", "SECRETENV");
	cr_expect_str_eq(auto_origin(), "env");
	(void)p;
	assert_no_secrets();
}

Test(creds, auto_nothing)
{
	struct creds *c = make(CREDS_AUTO);

	start_wait(c);
	cr_expect_null(creds_current(c, now_ms()));
	cr_expect_str_eq(creds_origin(c), "none");
	cr_expect_eq(creds_failures(c), 1);
	cr_expect_eq(stub.hits, 0);
	creds_free(c);
	assert_no_secrets();
}
