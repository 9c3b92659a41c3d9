#include "arc/creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "arc/curl_ev.h"
#include "arc/sigv4.h"
#include "log/log.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/xalloc.h"

#define BODY_MAX	(64 * 1024)	/* no credential reply is bigger */
#define TOKEN_FILE_MAX	(16 * 1024)
#define MIN_DELAY_MS	1000u		/* floor of every timer: no busy loop */
#define MAX_BACKOFF_MS	60000u
#define ADVISORY_MS	(15u * 60 * 1000)
#define LONG_LIVED_MS	(30u * 60 * 1000)
#define IMDS_TTL_S	21600
#define CONTAINER_HOST	"http://169.254.170.2"

enum step {
	STEP_NONE = 0,
	STEP_CONTAINER,
	STEP_IMDS_TOKEN,
	STEP_IMDS_ROLE,
	STEP_IMDS_CREDS,
	STEP_STS
};

struct creds {
	struct event_base	*base;
	struct curl_ev		*ce;
	enum creds_source	 src;
	const char		*(*getenv_fn)(const char *, void *);
	void			*getenv_arg;
	void			(*ready_cb)(struct creds *, void *);
	void			*arg;

	/* The credentials held now (secrets: never logged). */
	bool			 have;
	char			*akid, *secret, *token;
	uint64_t		 expires_ms;	/* wall clock; 0 = never */
	enum creds_source	 origin;
	struct sigv4_creds	 view;

	/* The fetch running now (easy != NULL) and its state. */
	enum creds_source	 fetching;
	enum step		 step;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*body;
	size_t			 bodylen;
	bool			 toolong;
	char			*imds_base;
	char			*imds_token;	/* secret */
	uint64_t		 imds_token_until;
	char			*imds_role;
	bool			 imds_retried;

	struct event		*timer;
	unsigned		 failures;
	uint64_t		 last_start_ms;
	uint64_t		 rng;
	bool			 started;
	char			*profile;	/* NULL: AWS_PROFILE */
};

static const char *const source_names[] = {
	[CREDS_AUTO] = "auto",
	[CREDS_ENV] = "env",
	[CREDS_PROFILE] = "profile",
	[CREDS_CONTAINER] = "container",
	[CREDS_IMDS] = "imds",
	[CREDS_WEB_IDENTITY] = "web-identity",
};

int
creds_source_parse(const char *s, enum creds_source *out)
{
	for (size_t i = 0; i < sizeof(source_names) / sizeof(source_names[0]);
	    i++)
		if (strcmp(s, source_names[i]) == 0) {
			*out = (enum creds_source)i;
			return 0;
		}
	return ERR_INVAL;
}

const char *
creds_source_str(enum creds_source s)
{
	if ((size_t)s < sizeof(source_names) / sizeof(source_names[0]))
		return source_names[s];
	return "?";
}

/* --- time ----------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int
creds_parse_time(const char *s, uint64_t *out_ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, ms = 0;
	int64_t t;
	const char *p;

	if (strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return ERR_PARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || y < 1970)
		return ERR_INVAL;
	p = s + 19;
	if (*p == '.') {
		int scale = 100;

		p++;
		if (!isdigit((unsigned char)*p))
			return ERR_PARSE;
		for (; isdigit((unsigned char)*p); p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		if (!digits(p + 1, 2, &oh))
			return ERR_PARSE;
		p += 3;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om))
			return ERR_PARSE;
		p += 2;
		oh *= sign;
		om *= sign;
	} else
		return ERR_PARSE;
	if (*p != '\0')
		return ERR_PARSE;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    oh * 3600 - om * 60;
	if (t < 0)
		return ERR_INVAL;
	*out_ms = (uint64_t)t * 1000 + (uint64_t)ms;
	return 0;
}

uint64_t
creds_refresh_at(uint64_t now_ms, uint64_t expires_ms)
{
	uint64_t remaining, delay, floor;

	if (expires_ms <= now_ms + MIN_DELAY_MS)
		return now_ms + MIN_DELAY_MS;
	remaining = expires_ms - now_ms;
	if (remaining >= LONG_LIVED_MS)
		delay = remaining - ADVISORY_MS;
	else {
		/*
		 * Short-lived: half of what is left, but no sooner than a
		 * minute (or 1 s before expiry), so that a server handing
		 * back the same near-expiry credential is not hammered.
		 */
		delay = remaining / 2;
		floor = remaining - MIN_DELAY_MS;
		if (floor > 60000)
			floor = 60000;
		if (delay < floor)
			delay = floor;
	}
	if (delay < MIN_DELAY_MS)
		delay = MIN_DELAY_MS;
	return now_ms + delay;
}

/* --- small helpers -------------------------------------------------------- */

static const char *
env(struct creds *c, const char *name)
{
	const char *v = c->getenv_fn != NULL ?
	    c->getenv_fn(name, c->getenv_arg) : getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static bool
env_true(struct creds *c, const char *name)
{
	const char *v = env(c, name);

	return v != NULL && strcasecmp(v, "true") == 0;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		volatile char *p = s;

		while (*p != '\0')
			*p++ = '\0';
		free(s);
	}
}

/* "~/x" -> "$HOME/x" (new), else a copy. */
static char *
expand_home(struct creds *c, const char *path)
{
	const char *home = env(c, "HOME");

	if (path[0] == '~' && path[1] == '/' && home != NULL)
		return xstrfmt("%s%s", home, path + 1);
	return xstrdup(path);
}

/* Read a small file whole (new, NUL-terminated) or NULL. */
static char *
read_small_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = xmalloc(max + 1);
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max) {
		fclose(f);
		wipe_free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static char *
ltrim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* --- holding credentials -------------------------------------------------- */

static void
drop_held(struct creds *c)
{
	wipe_free(c->akid);
	wipe_free(c->secret);
	wipe_free(c->token);
	c->akid = c->secret = c->token = NULL;
	c->have = false;
	memset(&c->view, 0, sizeof(c->view));
}

static bool
valid_at(const struct creds *c, uint64_t now_ms)
{
	return c->have && (c->expires_ms == 0 || now_ms < c->expires_ms);
}

static void
schedule(struct creds *c, uint64_t delay_ms)
{
	struct timeval tv;

	if (delay_ms < MIN_DELAY_MS)
		delay_ms = MIN_DELAY_MS;
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000;
	(void)evtimer_add(c->timer, &tv);
}

static uint64_t
rnd(struct creds *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* A fetch from src failed: log why (never a secret), back off, retry. */
static void
failed(struct creds *c, enum creds_source src, const char *why)
{
	uint64_t now = clock_wall_ms(), d;
	unsigned shift;

	c->failures++;
	shift = c->failures - 1 < 6 ? c->failures - 1 : 6;
	d = 1000u << shift;
	if (d > MAX_BACKOFF_MS)
		d = MAX_BACKOFF_MS;
	d = d / 2 + rnd(c) % (d / 2 + 1);
	/* Retry sooner when what we hold is about to expire. */
	if (valid_at(c, now) && c->expires_ms != 0 &&
	    (c->expires_ms - now) / 2 < d)
		d = (c->expires_ms - now) / 2;
	if (d < MIN_DELAY_MS)
		d = MIN_DELAY_MS;
	log_warn(LOG_SRC_ARC, "credentials (%s): %s; retry in %llu ms%s",
	    creds_source_str(src), why, (unsigned long long)d,
	    valid_at(c, now) ? ", keeping the current ones" : "");
	schedule(c, d);
	if (!valid_at(c, now) && c->ready_cb != NULL)
		c->ready_cb(c, c->arg);
}

/* New credentials (copied). exp_ms 0 = they do not expire. */
static void
got(struct creds *c, enum creds_source src, const char *akid,
    const char *secret, const char *token, uint64_t exp_ms)
{
	uint64_t now = clock_wall_ms();

	if (akid == NULL || !sigv4_is_access_key_id(akid)) {
		failed(c, src, "missing or malformed access key id");
		return;
	}
	if (secret == NULL || *secret == '\0') {
		failed(c, src, "missing secret access key");
		return;
	}
	if (exp_ms != 0 && exp_ms <= now) {
		failed(c, src, "credentials already expired");
		return;
	}
	drop_held(c);
	c->akid = xstrdup(akid);
	c->secret = xstrdup(secret);
	c->token = token != NULL && *token != '\0' ? xstrdup(token) : NULL;
	c->expires_ms = exp_ms;
	c->origin = src;
	c->have = true;
	c->view.access_key_id = c->akid;
	c->view.secret_access_key = c->secret;
	c->view.session_token = c->token;
	c->failures = 0;
	if (exp_ms != 0) {
		uint64_t at = creds_refresh_at(now, exp_ms);

		log_info(LOG_SRC_ARC, "credentials from %s, expire in %llu s, "
		    "refresh in %llu s", creds_source_str(src),
		    (unsigned long long)((exp_ms - now) / 1000),
		    (unsigned long long)((at - now) / 1000));
		schedule(c, at - now);
	} else {
		log_info(LOG_SRC_ARC, "credentials from %s (long-term)",
		    creds_source_str(src));
		(void)evtimer_del(c->timer);
	}
	if (c->ready_cb != NULL)
		c->ready_cb(c, c->arg);
}

/* --- environment ---------------------------------------------------------- */

static bool
env_present(struct creds *c)
{
	return env(c, "AWS_ACCESS_KEY_ID") != NULL ||
	    env(c, "AWS_SECRET_ACCESS_KEY") != NULL;
}

static void
from_env(struct creds *c)
{
	const char *tok = env(c, "AWS_SESSION_TOKEN");
	const char *exps = env(c, "AWS_CREDENTIAL_EXPIRATION");
	uint64_t exp = 0;

	if (tok == NULL)
		tok = env(c, "AWS_SECURITY_TOKEN");
	if (!env_present(c)) {
		failed(c, CREDS_ENV, "AWS_ACCESS_KEY_ID is not set");
		return;
	}
	if (exps != NULL && creds_parse_time(exps, &exp) != 0) {
		failed(c, CREDS_ENV, "AWS_CREDENTIAL_EXPIRATION is not ISO 8601");
		return;
	}
	got(c, CREDS_ENV, env(c, "AWS_ACCESS_KEY_ID"),
	    env(c, "AWS_SECRET_ACCESS_KEY"), tok, exp);
}

/* --- shared files --------------------------------------------------------- */

struct ini_keys {
	bool	 section;	/* the section exists */
	char	*akid, *secret, *token;
};

static void
ini_keys_fini(struct ini_keys *k)
{
	wipe_free(k->akid);
	wipe_free(k->secret);
	wipe_free(k->token);
	memset(k, 0, sizeof(*k));
}

/*
 * Does section header text s (inside the brackets, trimmed) name profile?
 * Credentials file: "[name]". Config file: "[profile name]", and also
 * "[default]" for the default profile.
 */
static bool
section_is(const char *s, const char *profile, bool config)
{
	if (!config)
		return strcmp(s, profile) == 0;
	if (strcmp(profile, "default") == 0 && strcmp(s, "default") == 0)
		return true;
	if (strncmp(s, "profile", 7) != 0 || !isspace((unsigned char)s[7]))
		return false;
	s = s + 7;
	while (isspace((unsigned char)*s))
		s++;
	return strcmp(s, profile) == 0;
}

/*
 * Read the keys of profile from the INI file at path (a missing file has
 * no sections). Indented lines continue a value (sub-sections) and are
 * skipped; later keys override earlier ones, as in configparser.
 */
static void
ini_read(const char *path, const char *profile, bool config,
    struct ini_keys *k)
{
	char *text = read_small_file(path, 1024 * 1024), *line, *save = NULL;
	bool in = false;

	if (text == NULL)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *l, *eq, *key, *val, **slot = NULL;

		rtrim(line);
		if (isspace((unsigned char)line[0]))
			continue;
		l = line;
		if (*l == '\0' || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			char *end = strchr(l, ']');

			if (end == NULL) {
				in = false;
				continue;
			}
			*end = '\0';
			l = ltrim(l + 1);
			rtrim(l);
			in = section_is(l, profile, config);
			if (in)
				k->section = true;
			continue;
		}
		if (!in || (eq = strchr(l, '=')) == NULL)
			continue;
		*eq = '\0';
		key = l;
		rtrim(key);
		val = ltrim(eq + 1);
		if (strcmp(key, "aws_access_key_id") == 0)
			slot = &k->akid;
		else if (strcmp(key, "aws_secret_access_key") == 0)
			slot = &k->secret;
		else if (strcmp(key, "aws_session_token") == 0 ||
		    strcmp(key, "aws_security_token") == 0)
			slot = &k->token;
		if (slot != NULL) {
			wipe_free(*slot);
			*slot = xstrdup(val);
		}
	}
	/* The buffer held secrets: wipe it whole. */
	memset(text, 0, 1024 * 1024 + 1);
	free(text);
}

/*
 * The profile's keys from the credentials file, else the config file.
 * Returns 0 with keys, ERR_NOTFOUND when neither file gives an access key
 * for the profile, ERR_INVAL when the profile has one but no secret.
 */
static int
profile_keys(struct creds *c, struct ini_keys *k, const char **where)
{
	const char *profile = c->profile != NULL ? c->profile :
	    env(c, "AWS_PROFILE");
	const char *home = env(c, "HOME");
	char *path;

	if (profile == NULL)
		profile = env(c, "AWS_DEFAULT_PROFILE");
	if (profile == NULL)
		profile = "default";
	for (int config = 0; config <= 1; config++) {
		const char *p = env(c, config ? "AWS_CONFIG_FILE" :
		    "AWS_SHARED_CREDENTIALS_FILE");

		if (p != NULL)
			path = expand_home(c, p);
		else if (home != NULL)
			path = xstrfmt("%s/.aws/%s", home,
			    config ? "config" : "credentials");
		else
			continue;
		ini_read(path, profile, config != 0, k);
		free(path);
		*where = config ? "config file" : "credentials file";
		if (k->akid != NULL)
			return k->secret != NULL && *k->secret != '\0' ?
			    0 : ERR_INVAL;
		ini_keys_fini(k);
	}
	return ERR_NOTFOUND;
}

/* Profile source. In auto mode, a profile without keys is "not here". */
static bool
from_profile(struct creds *c, bool auto_mode)
{
	struct ini_keys k = {0};
	const char *where = "shared files";
	int r = profile_keys(c, &k, &where);

	if (r == ERR_NOTFOUND && auto_mode)
		return false;
	if (r == ERR_NOTFOUND)
		failed(c, CREDS_PROFILE,
		    "no aws_access_key_id for the profile in the shared files");
	else if (r != 0) {
		char *why = xstrfmt("%s: profile has aws_access_key_id but "
		    "no aws_secret_access_key", where);

		failed(c, CREDS_PROFILE, why);
		free(why);
	} else
		got(c, CREDS_PROFILE, k.akid, k.secret, k.token, 0);
	ini_keys_fini(&k);
	return true;
}

/* --- HTTP through curl_ev ------------------------------------------------- */

static void	fetch_done_cb(CURL *easy, int result, void *arg);

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct creds *c = arg;
	size_t n = size * nmemb;

	if (c->bodylen + n > BODY_MAX) {
		c->toolong = true;
		return 0;
	}
	c->body = xrealloc(c->body, 1, c->bodylen + n + 1);
	memcpy(c->body + c->bodylen, ptr, n);
	c->bodylen += n;
	c->body[c->bodylen] = '\0';
	return n;
}

static void
reset_body(struct creds *c)
{
	if (c->body != NULL)
		memset(c->body, 0, c->bodylen);
	free(c->body);
	c->body = NULL;
	c->bodylen = 0;
	c->toolong = false;
}

static void
end_fetch(struct creds *c)
{
	if (c->easy != NULL) {
		curl_ev_cancel(c->ce, c->easy);
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
	}
	curl_slist_free_all(c->hdrs);	/* may hold a token */
	c->hdrs = NULL;
	c->step = STEP_NONE;
}

/*
 * Start one request: method "GET", "PUT" (empty body) or "POST" (post).
 * The headers in c->hdrs are taken. Local endpoints (container, IMDS)
 * bypass any proxy. Returns 0 or ERR_INVAL (logged by the caller).
 */
static int
http_start(struct creds *c, enum step step, const char *method,
    const char *url, const char *post, long connect_ms, long total_ms,
    bool local)
{
	CURL *e = curl_easy_init();
	bool ok;

	reset_body(c);
	if (e == NULL)
		return ERR_INVAL;
	ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, total_ms) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb) ==
	    CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, c) == CURLE_OK &&
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->hdrs) == CURLE_OK;
	if (ok && local)
		ok = curl_easy_setopt(e, CURLOPT_PROXY, "") == CURLE_OK;
	if (ok && strcmp(method, "PUT") == 0)
		ok = curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT") ==
		    CURLE_OK &&
		    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "") == CURLE_OK;
	else if (ok && strcmp(method, "POST") == 0)
		ok = curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, post) ==
		    CURLE_OK;
	c->easy = e;
	c->step = step;
	if (!ok || curl_ev_add(c->ce, e, fetch_done_cb, c) != 0) {
		curl_easy_cleanup(e);
		c->easy = NULL;
		curl_slist_free_all(c->hdrs);
		c->hdrs = NULL;
		c->step = STEP_NONE;
		return ERR_INVAL;
	}
	log_debug(LOG_SRC_ARC, "credentials (%s): %s request started",
	    creds_source_str(c->fetching), method);
	return 0;
}

static void
add_header(struct creds *c, const char *name, const char *value)
{
	char *h = xstrfmt("%s: %s", name, value);
	struct curl_slist *l = curl_slist_append(c->hdrs, h);

	wipe_free(h);
	if (l == NULL)
		abort();	/* out of memory, as xalloc does */
	c->hdrs = l;
}

/* --- JSON replies --------------------------------------------------------- */

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Expiration as an ISO 8601 string or epoch seconds. 0 ok, else error. */
static int
jtime(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		*out = 0;
		return 0;
	}
	if (json_is_number(v) && json_number_value(v) > 0) {
		*out = (uint64_t)(json_number_value(v) * 1000.0);
		return 0;
	}
	if (json_is_string(v))
		return creds_parse_time(json_string_value(v), out);
	return ERR_PARSE;
}

/*
 * Container and IMDS replies: AccessKeyId, SecretAccessKey, Token,
 * Expiration (and for IMDS, Code = "Success").
 */
static void
got_json_reply(struct creds *c, enum creds_source src, bool imds)
{
	json_t *doc = json_loadb(c->body != NULL ? c->body : "", c->bodylen,
	    0, NULL);
	uint64_t exp;

	if (!json_is_object(doc))
		failed(c, src, "reply is not a JSON object");
	else if (imds && (jstr(doc, "Code") == NULL ||
	    strcmp(jstr(doc, "Code"), "Success") != 0))
		failed(c, src, "reply Code is not Success");
	else if (jtime(doc, "Expiration", &exp) != 0)
		failed(c, src, "reply Expiration is malformed");
	else
		got(c, src, jstr(doc, "AccessKeyId"),
		    jstr(doc, "SecretAccessKey"), jstr(doc, "Token"), exp);
	json_decref(doc);
}

/* --- container ------------------------------------------------------------ */

static bool
container_present(struct creds *c)
{
	return env(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != NULL ||
	    env(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL;
}

/* http is allowed to loopback and the ECS / EKS link-local agents only. */
static bool
container_host_ok(const char *host)
{
	char buf[64];
	size_t n = strlen(host);
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' &&
	    n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET, host, &a4) == 1) {
		uint32_t h = ntohl(a4.s_addr);

		return (h >> 24) == 127 || h == 0xA9FEAA02u ||
		    h == 0xA9FEAA17u;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		static const uint8_t eks[16] = { 0xfd, 0x00, 0x0e, 0xc2,
		    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23 };

		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    memcmp(a6.s6_addr, eks, 16) == 0;
	}
	return false;
}

bool
creds_container_url_ok(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool r = false;

	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (strcasecmp(scheme, "https") == 0)
			r = true;
		else if (strcasecmp(scheme, "http") == 0 &&
		    container_host_ok(host))
			r = true;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

static void
from_container(struct creds *c)
{
	const char *rel = env(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tfile = env(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	char *url, *token = NULL;

	c->fetching = CREDS_CONTAINER;
	if (rel != NULL)
		url = xstrfmt("%s%s%s", CONTAINER_HOST, rel[0] == '/' ? "" :
		    "/", rel);
	else if (full != NULL) {
		if (!creds_container_url_ok(full)) {
			failed(c, CREDS_CONTAINER, "AWS_CONTAINER_CREDENTIALS_"
			    "FULL_URI must be https, or http to a loopback "
			    "or container agent address");
			return;
		}
		url = xstrdup(full);
	} else {
		failed(c, CREDS_CONTAINER, "neither AWS_CONTAINER_CREDENTIALS_"
		    "RELATIVE_URI nor _FULL_URI is set");
		return;
	}
	/* The token file is read afresh each time: it rotates. */
	if (tfile != NULL) {
		char *path = expand_home(c, tfile);

		token = read_small_file(path, TOKEN_FILE_MAX);
		free(path);
		if (token == NULL) {
			free(url);
			failed(c, CREDS_CONTAINER, "cannot read "
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
			return;
		}
		rtrim(token);
	} else if (env(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN") != NULL)
		token = xstrdup(env(c, "AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	if (token != NULL && strpbrk(token, "\r\n") != NULL) {
		wipe_free(token);
		free(url);
		failed(c, CREDS_CONTAINER, "authorization token contains CR "
		    "or LF");
		return;
	}
	add_header(c, "Accept", "application/json");
	if (token != NULL)
		add_header(c, "Authorization", token);
	wipe_free(token);
	if (http_start(c, STEP_CONTAINER, "GET", url, NULL, 1000, 2000,
	    true) != 0)
		failed(c, CREDS_CONTAINER, "cannot start the request");
	free(url);
}

/* --- IMDSv2 --------------------------------------------------------------- */

static void
imds_step(struct creds *c)
{
	char *url;
	enum step step;
	const char *method = "GET";

	curl_slist_free_all(c->hdrs);
	c->hdrs = NULL;
	if (c->imds_token != NULL && clock_wall_ms() >= c->imds_token_until) {
		wipe_free(c->imds_token);
		c->imds_token = NULL;
	}
	if (c->imds_token == NULL) {
		url = xstrfmt("%s/latest/api/token", c->imds_base);
		add_header(c, "X-aws-ec2-metadata-token-ttl-seconds",
		    "21600");
		method = "PUT";
		step = STEP_IMDS_TOKEN;
	} else {
		add_header(c, "X-aws-ec2-metadata-token", c->imds_token);
		if (c->imds_role == NULL) {
			url = xstrfmt("%s/latest/meta-data/iam/"
			    "security-credentials/", c->imds_base);
			step = STEP_IMDS_ROLE;
		} else {
			url = xstrfmt("%s/latest/meta-data/iam/"
			    "security-credentials/%s", c->imds_base,
			    c->imds_role);
			step = STEP_IMDS_CREDS;
		}
	}
	if (http_start(c, step, method, url, NULL, 1000, 1000, true) != 0)
		failed(c, CREDS_IMDS, "cannot start the request");
	free(url);
}

static void
from_imds(struct creds *c)
{
	const char *ep = env(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	size_t n;

	c->fetching = CREDS_IMDS;
	if (env_true(c, "AWS_EC2_METADATA_DISABLED")) {
		failed(c, CREDS_IMDS, "disabled by AWS_EC2_METADATA_DISABLED");
		return;
	}
	free(c->imds_base);
	if (ep != NULL)
		c->imds_base = xstrdup(ep);
	else if (mode != NULL && strcasecmp(mode, "IPv6") == 0)
		c->imds_base = xstrdup("http://[fd00:ec2::254]");
	else
		c->imds_base = xstrdup("http://169.254.169.254");
	n = strlen(c->imds_base);
	while (n > 0 && c->imds_base[n - 1] == '/')
		c->imds_base[--n] = '\0';
	/* The role can change (instance profile swap): ask each time. */
	free(c->imds_role);
	c->imds_role = NULL;
	c->imds_retried = false;
	imds_step(c);
}

static void
imds_reply(struct creds *c, enum step step, long code)
{
	if (step != STEP_IMDS_TOKEN && code == 401 && !c->imds_retried) {
		/* The token expired early or the instance restarted. */
		c->imds_retried = true;
		wipe_free(c->imds_token);
		c->imds_token = NULL;
		imds_step(c);
		return;
	}
	if (code != 200) {
		char *why = xstrfmt("%s: HTTP status %ld", step ==
		    STEP_IMDS_TOKEN ? "token request" : step ==
		    STEP_IMDS_ROLE ? "role request" : "credentials request",
		    code);

		failed(c, CREDS_IMDS, why);
		free(why);
		return;
	}
	switch (step) {
	case STEP_IMDS_TOKEN:
		if (c->body == NULL || c->bodylen == 0 ||
		    strpbrk(c->body, "\r\n") != NULL) {
			failed(c, CREDS_IMDS, "malformed token reply");
			return;
		}
		c->imds_token = xstrdup(c->body);
		c->imds_token_until = clock_wall_ms() + (IMDS_TTL_S - 60) * 1000ull;
		imds_step(c);
		break;
	case STEP_IMDS_ROLE: {
		char *role = xstrdup(c->body != NULL ? c->body : "");

		role[strcspn(role, "\r\n")] = '\0';
		rtrim(role);
		if (*role == '\0' || strpbrk(role, "/?#% ") != NULL) {
			free(role);
			failed(c, CREDS_IMDS, "no usable instance role name");
			return;
		}
		c->imds_role = role;
		imds_step(c);
		break;
	}
	default:
		got_json_reply(c, CREDS_IMDS, true);
		break;
	}
}

/* --- web identity (STS AssumeRoleWithWebIdentity) ------------------------- */

static bool
webid_present(struct creds *c)
{
	return env(c, "AWS_ROLE_ARN") != NULL &&
	    env(c, "AWS_WEB_IDENTITY_TOKEN_FILE") != NULL;
}

static char *
urlenc(CURL *e, const char *s)
{
	char *t = curl_easy_escape(e, s, 0);
	char *r;

	if (t == NULL)
		abort();
	r = xstrdup(t);
	curl_free(t);
	return r;
}

static void
from_webid(struct creds *c)
{
	const char *arn = env(c, "AWS_ROLE_ARN");
	const char *tfile = env(c, "AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *sess = env(c, "AWS_ROLE_SESSION_NAME");
	const char *region = env(c, "AWS_REGION");
	const char *ep = env(c, "AWS_ENDPOINT_URL_STS");
	char *url, *token, *path, *post, *e_arn, *e_sess, *e_tok, *gen = NULL;
	CURL *esc;

	c->fetching = CREDS_WEB_IDENTITY;
	if (region == NULL)
		region = env(c, "AWS_DEFAULT_REGION");
	if (arn == NULL || tfile == NULL) {
		failed(c, CREDS_WEB_IDENTITY, "AWS_ROLE_ARN and "
		    "AWS_WEB_IDENTITY_TOKEN_FILE must both be set");
		return;
	}
	if (ep == NULL && region == NULL) {
		failed(c, CREDS_WEB_IDENTITY, "no AWS_REGION for STS");
		return;
	}
	path = expand_home(c, tfile);
	token = read_small_file(path, TOKEN_FILE_MAX);
	free(path);
	if (token == NULL) {
		failed(c, CREDS_WEB_IDENTITY, "cannot read "
		    "AWS_WEB_IDENTITY_TOKEN_FILE");
		return;
	}
	rtrim(token);
	if (sess == NULL)
		sess = gen = xstrfmt("arcdns-%llu",
		    (unsigned long long)clock_wall_ms());
	url = ep != NULL ? xstrdup(ep) :
	    xstrfmt("https://sts.%s.amazonaws.com/", region);
	if ((esc = curl_easy_init()) == NULL)
		abort();
	e_arn = urlenc(esc, arn);
	e_sess = urlenc(esc, sess);
	e_tok = urlenc(esc, token);
	curl_easy_cleanup(esc);
	post = xstrfmt("Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
	    "&RoleArn=%s&RoleSessionName=%s&WebIdentityToken=%s"
	    "&DurationSeconds=3600", e_arn, e_sess, e_tok);
	add_header(c, "Content-Type",
	    "application/x-www-form-urlencoded; charset=utf-8");
	add_header(c, "Accept", "application/json");
	if (http_start(c, STEP_STS, "POST", url, post, 3000, 10000,
	    false) != 0)
		failed(c, CREDS_WEB_IDENTITY, "cannot start the request");
	wipe_free(post);
	wipe_free(e_tok);
	wipe_free(token);
	free(e_arn);
	free(e_sess);
	free(gen);
	free(url);
}

/* The text of the first <tag>...</tag> in xml (new), or NULL. */
static char *
xml_text(const char *xml, const char *tag)
{
	char *open = xstrfmt("<%s>", tag), *close = xstrfmt("</%s>", tag);
	const char *a = strstr(xml, open), *b;
	char *r = NULL;

	if (a != NULL) {
		a += strlen(open);
		if ((b = strstr(a, close)) != NULL)
			r = xstrndup(a, (size_t)(b - a));
	}
	free(open);
	free(close);
	return r;
}

static void
sts_reply(struct creds *c, long code)
{
	const char *body = c->body != NULL ? c->body : "";
	json_t *doc = json_loadb(body, c->bodylen, 0, NULL), *cr;
	uint64_t exp;

	if (code != 200) {
		/* The error code names the failure; the message may not. */
		json_t *err = json_object_get(json_object_get(doc, "Error"),
		    "Code");
		char *xcode = json_is_string(err) ? NULL :
		    xml_text(body, "Code");
		const char *ec = json_is_string(err) ? json_string_value(err) :
		    xcode;
		char *why = xstrfmt("STS HTTP status %ld%s%.64s", code,
		    ec != NULL ? ", " : "", ec != NULL ? ec : "");

		failed(c, CREDS_WEB_IDENTITY, why);
		free(why);
		free(xcode);
		json_decref(doc);
		return;
	}
	if (doc != NULL) {
		cr = json_object_get(json_object_get(json_object_get(doc,
		    "AssumeRoleWithWebIdentityResponse"),
		    "AssumeRoleWithWebIdentityResult"), "Credentials");
		if (!json_is_object(cr))
			failed(c, CREDS_WEB_IDENTITY,
			    "reply has no Credentials");
		else if (jtime(cr, "Expiration", &exp) != 0)
			failed(c, CREDS_WEB_IDENTITY,
			    "reply Expiration is malformed");
		else
			got(c, CREDS_WEB_IDENTITY, jstr(cr, "AccessKeyId"),
			    jstr(cr, "SecretAccessKey"),
			    jstr(cr, "SessionToken"), exp);
		json_decref(doc);
		return;
	}
	{
		/* The documented XML reply. */
		char *ak = xml_text(body, "AccessKeyId");
		char *sk = xml_text(body, "SecretAccessKey");
		char *st = xml_text(body, "SessionToken");
		char *ex = xml_text(body, "Expiration");

		if (ex == NULL || creds_parse_time(ex, &exp) != 0)
			failed(c, CREDS_WEB_IDENTITY,
			    "reply Expiration is missing or malformed");
		else
			got(c, CREDS_WEB_IDENTITY, ak, sk, st, exp);
		wipe_free(ak);
		wipe_free(sk);
		wipe_free(st);
		free(ex);
	}
}

/* --- the fetch machine ---------------------------------------------------- */

static void
fetch_done_cb(CURL *easy, int result, void *arg)
{
	struct creds *c = arg;
	enum step step = c->step;
	long code = 0;

	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(easy);
	c->easy = NULL;
	curl_slist_free_all(c->hdrs);
	c->hdrs = NULL;
	c->step = STEP_NONE;
	if (result != CURLE_OK) {
		char *why = xstrfmt("request failed: %s", c->toolong ?
		    "reply too long" : curl_easy_strerror((CURLcode)result));

		failed(c, c->fetching, why);
		free(why);
	} else if (step == STEP_CONTAINER) {
		if (code != 200) {
			char *why = xstrfmt("HTTP status %ld", code);

			failed(c, CREDS_CONTAINER, why);
			free(why);
		} else
			got_json_reply(c, CREDS_CONTAINER, false);
	} else if (step == STEP_STS)
		sts_reply(c, code);
	else
		imds_reply(c, step, code);
	if (c->easy == NULL)
		reset_body(c);
}

/* Obtain credentials now from the configured source (or the chain). */
static void
refresh(struct creds *c)
{
	if (c->easy != NULL)
		return;		/* one fetch at a time */
	c->last_start_ms = clock_wall_ms();
	log_debug(LOG_SRC_ARC, "credentials: refreshing (%s)",
	    creds_source_str(c->src));
	switch (c->src) {
	case CREDS_ENV:
		c->fetching = CREDS_ENV;
		from_env(c);
		break;
	case CREDS_PROFILE:
		c->fetching = CREDS_PROFILE;
		(void)from_profile(c, false);
		break;
	case CREDS_CONTAINER:
		from_container(c);
		break;
	case CREDS_IMDS:
		from_imds(c);
		break;
	case CREDS_WEB_IDENTITY:
		from_webid(c);
		break;
	case CREDS_AUTO:
	default:
		/* botocore's order, for the sources a daemon needs. */
		if (env_present(c)) {
			c->fetching = CREDS_ENV;
			from_env(c);
			break;
		}
		if (webid_present(c)) {
			from_webid(c);
			break;
		}
		c->fetching = CREDS_PROFILE;
		if (from_profile(c, true))
			break;
		if (container_present(c))
			from_container(c);
		else if (!env_true(c, "AWS_EC2_METADATA_DISABLED"))
			from_imds(c);
		else
			failed(c, CREDS_AUTO, "no source has credentials "
			    "(environment, web identity, shared files, "
			    "container; IMDS is disabled)");
		break;
	}
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct creds *c = arg;

	(void)fd;
	(void)what;
	refresh(c);
}

struct creds *
creds_new(struct event_base *base, struct curl_ev *ce,
    enum creds_source src,
    const char *(*getenv_fn)(const char *name, void *arg), void *getenv_arg,
    void (*ready_cb)(struct creds *c, void *arg), void *arg)
{
	struct creds *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->ce = ce;
	c->src = src;
	c->getenv_fn = getenv_fn;
	c->getenv_arg = getenv_arg;
	c->ready_cb = ready_cb;
	c->arg = arg;
	c->timer = evtimer_new(base, timer_cb, c);
	if (c->timer == NULL)
		abort();
	c->rng = clock_wall_ms() ^ (uint64_t)(uintptr_t)c ^ 0x9E3779B97F4A7C15ull;
	if (c->rng == 0)
		c->rng = 1;
	return c;
}

void
creds_free(struct creds *c)
{
	if (c == NULL)
		return;
	end_fetch(c);
	reset_body(c);
	event_free(c->timer);
	drop_held(c);
	wipe_free(c->imds_token);
	free(c->imds_role);
	free(c->imds_base);
	free(c->profile);
	free(c);
}

void
creds_set_profile(struct creds *c, const char *profile)
{
	free(c->profile);
	c->profile = profile != NULL ? xstrdup(profile) : NULL;
}

void
creds_start(struct creds *c)
{
	c->started = true;
	refresh(c);
}

const struct sigv4_creds *
creds_current(struct creds *c, uint64_t now_ms)
{
	return valid_at(c, now_ms) ? &c->view : NULL;
}

void
creds_invalidate(struct creds *c)
{
	uint64_t now = clock_wall_ms();

	if (!c->started || c->easy != NULL)
		return;
	/* At most one forced fetch a second, whatever the callers do. */
	if (now < c->last_start_ms + MIN_DELAY_MS) {
		schedule(c, c->last_start_ms + MIN_DELAY_MS - now);
		return;
	}
	(void)evtimer_del(c->timer);
	log_info(LOG_SRC_ARC, "credentials (%s): refused by the endpoint, "
	    "refreshing", creds_origin(c));
	refresh(c);
}

const char *
creds_origin(const struct creds *c)
{
	return c->have ? creds_source_str(c->origin) : "none";
}

uint64_t
creds_expiration(const struct creds *c)
{
	return c->have ? c->expires_ms : 0;
}

unsigned
creds_failures(const struct creds *c)
{
	return c->failures;
}
