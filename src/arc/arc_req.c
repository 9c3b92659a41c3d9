#include "arc/arc_req.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "arc/sigv4.h"
#include "util/err.h"
#include "util/xalloc.h"

/* ---- URLs ------------------------------------------------------------- */

static bool
is_loopback(const char *host)
{
	return strcasecmp(host, "localhost") == 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0;
}

int
arc_url_parse(const char *region, const char *url, struct arc_url *out,
    char **errmsg)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL,
	    *query = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (u == NULL)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		*errmsg = xstrfmt("arc endpoint %s: cannot parse URL %s",
		    region, url);
		ret = ERR_INVAL;
		goto out;
	}
	(void)curl_url_get(u, CURLUPART_PORT, &port, 0);
	(void)curl_url_get(u, CURLUPART_PATH, &path, 0);
	(void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
	if (strcasecmp(scheme, "http") == 0) {
		if (!is_loopback(host)) {
			*errmsg = xstrfmt("arc endpoint %s: plain http:// is "
			    "only accepted on loopback (%s)", region, url);
			ret = ERR_INVAL;
			goto out;
		}
		out->plain = true;
	} else if (strcasecmp(scheme, "https") != 0) {
		*errmsg = xstrfmt("arc endpoint %s: %s is neither https:// "
		    "nor http://", region, url);
		ret = ERR_INVAL;
		goto out;
	}
	out->host = port != NULL ? xstrfmt("%s:%s", host, port) :
	    xstrdup(host);
	out->path = xstrdup(path != NULL && path[0] != '\0' ? path : "/");
	out->query = query != NULL ? xstrdup(query) : NULL;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return ret;
}

void
arc_url_fini(struct arc_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->path);
	free(u->query);
	memset(u, 0, sizeof(*u));
}

/* ---- requests --------------------------------------------------------- */

static struct curl_slist *
add_header(struct curl_slist *l, const char *name, const char *value)
{
	char *h = xstrfmt("%s: %s", name, value);
	struct curl_slist *r = curl_slist_append(l, h);

	explicit_bzero(h, strlen(h));
	free(h);
	if (r == NULL)
		abort();
	return r;
}

void
arc_req_headers_free(struct curl_slist *hdrs)
{
	for (struct curl_slist *l = hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
}

static void
set_options(CURL *e, const struct arc_req *r, struct curl_slist *hdrs)
{
	(void)curl_easy_setopt(e, CURLOPT_URL, r->url);
	(void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(e, CURLOPT_POST, 1L);
	(void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	(void)curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, r->body);
	(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, r->write_cb);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, r->cb_arg);
	(void)curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, r->header_cb);
	(void)curl_easy_setopt(e, CURLOPT_HEADERDATA, r->cb_arg);
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
	(void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(r->connect_timeout_ms != 0 &&
	    r->connect_timeout_ms < r->timeout_ms ? r->connect_timeout_ms :
	    r->timeout_ms));
	(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (r->ca_file != NULL)
		(void)curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	(void)curl_easy_setopt(e, CURLOPT_USERAGENT, r->user_agent != NULL ?
	    r->user_agent : "arcdns/" PACKAGE_VERSION);
}

int
arc_req_prepare(CURL *easy, const struct arc_req *r,
    const struct sigv4_creds *c, uint64_t wall_ms, struct curl_slist **hdrs)
{
	struct sigv4_header h[5];
	struct sigv4_request req;
	char date[SIGV4_AMZDATE_LEN + 1], *target, *auth = NULL;
	size_t nh = 0;
	int ret;

	arc_req_headers_free(*hdrs);
	*hdrs = NULL;
	target = xstrfmt("%s%s", ARC_REQ_TARGET_PREFIX, r->operation);
	sigv4_amzdate((time_t)(wall_ms / 1000), date);
	h[nh++] = (struct sigv4_header){ "Content-Type", ARC_REQ_CONTENT_TYPE };
	h[nh++] = (struct sigv4_header){ "Host", r->u->host };
	h[nh++] = (struct sigv4_header){ "X-Amz-Date", date };
	h[nh++] = (struct sigv4_header){ "X-Amz-Target", target };
	if (c->session_token != NULL)
		h[nh++] = (struct sigv4_header){ "X-Amz-Security-Token",
		    c->session_token };
	req = (struct sigv4_request){ "POST", r->u->path,
	    r->u->query != NULL ? r->u->query : "", h, nh,
	    (const uint8_t *)r->body, strlen(r->body) };
	ret = sigv4_sign(&req, c, r->region, SIGV4_SERVICE, &auth);
	if (ret != 0) {
		free(target);
		return ERR_INVAL;
	}
	for (size_t i = 0; i < nh; i++)
		*hdrs = add_header(*hdrs, h[i].name, h[i].value);
	*hdrs = add_header(*hdrs, "Authorization", auth);
	*hdrs = add_header(*hdrs, "Expect", "");
	explicit_bzero(auth, strlen(auth));
	free(auth);
	free(target);
	set_options(easy, r, *hdrs);
	return 0;
}

/* ---- replies ---------------------------------------------------------- */

bool
arc_header_value(const char *line, size_t n, const char *name, char *out,
    size_t outsz)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (outsz == 0 || n <= nl || strncasecmp(line, name, nl) != 0 ||
	    line[nl] != ':')
		return false;
	v = line + nl + 1;
	vl = n - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
	    v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (vl >= outsz)
		vl = outsz - 1;
	memcpy(out, v, vl);
	out[vl] = '\0';
	return true;
}

size_t
arc_reply_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct arc_reply *r = arg;
	size_t n = size * nmemb;

	if (r->len + n > ARC_REQ_MAX_BODY) {
		r->too_big = true;
		return 0;	/* aborts the transfer */
	}
	r->buf = xrealloc(r->buf, r->len + n + 1, 1);
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

size_t
arc_reply_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct arc_reply *r = arg;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		r->errtype[0] = '\0';
		r->retry_after[0] = '\0';
	}
	(void)arc_header_value(data, n, "X-Amzn-ErrorType", r->errtype,
	    sizeof(r->errtype));
	(void)arc_header_value(data, n, "Retry-After", r->retry_after,
	    sizeof(r->retry_after));
	return n;
}

void
arc_reply_reset(struct arc_reply *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
