#include "arc/sigv4.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/err.h"
#include "util/xalloc.h"

#define ALGORITHM	"AWS4-HMAC-SHA256"
#define TERMINATOR	"aws4_request"
#define HASH_LEN	32
#define HEX_LEN		(2 * HASH_LEN)
#define MAX_AUTH_LEN	4096	/* longer Authorization values are refused */
#define MAX_SIGNED	64	/* at most this many SignedHeaders names */
#define MAX_KEY_ID	128

/*
 * The headers sigv4_sign signs when present: what botocore signs for this
 * service (spec section 6), sorted as the canonical request needs them.
 */
static const char *const sign_names[] = {
	"content-type", "host", "x-amz-date", "x-amz-security-token",
	"x-amz-target",
};
#define NSIGN_NAMES (sizeof(sign_names) / sizeof(sign_names[0]))

/* --- a growing string ----------------------------------------------------- */

struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 256;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->p = xrealloc(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

static void
sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

/* The string built so far (new, never NULL); b is empty afterwards. */
static char *
sb_take(struct sbuf *b)
{
	char *p = b->p != NULL ? b->p : xstrdup("");

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* --- characters ----------------------------------------------------------- */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII, locale-independent strcasecmp equality. */
static bool
is_name_equal(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return false;
	return *a == *b;
}

/*
 * White space as Python's str.split() sees it in ASCII: botocore trims
 * and collapses header values with ' '.join(value.split()).
 */
static bool
is_ws(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    is_digit(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* An RFC 9110 token character, lower case only (SignedHeaders names). */
static bool
is_lower_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool
is_lower_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool
sigv4_is_access_key_id(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= 'a' && s[n] <= 'z') || is_digit(s[n]) ||
		    s[n] == '_'))
			return false;
	return n >= 1 && n <= MAX_KEY_ID;
}

/* A region or service name usable in a scope (and so in Authorization). */
static bool
is_scope_part(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '/' || c == ',')
			return false;
	}
	return true;
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* --- time ----------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static void
civil_from_days(long long z, int *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((long long)yoe + era * 400 + (*m <= 2));
}

void
sigv4_amzdate(time_t t, char *out)
{
	long long days, secs;
	unsigned m, d;
	int y;

	assert(t >= 0 && (long long)t <= 253402300799LL);
	days = (long long)t / 86400;
	secs = (long long)t % 86400;
	civil_from_days(days, &y, &m, &d);
	for (int i = 3; i >= 0; i--, y /= 10)
		out[i] = (char)('0' + y % 10);
	out[4] = (char)('0' + m / 10);
	out[5] = (char)('0' + m % 10);
	out[6] = (char)('0' + d / 10);
	out[7] = (char)('0' + d % 10);
	out[8] = 'T';
	out[9] = (char)('0' + secs / 36000);
	out[10] = (char)('0' + secs / 3600 % 10);
	out[11] = (char)('0' + secs % 3600 / 600);
	out[12] = (char)('0' + secs % 3600 / 60 % 10);
	out[13] = (char)('0' + secs % 60 / 10);
	out[14] = (char)('0' + secs % 10);
	out[15] = 'Z';
	out[16] = '\0';
}

static unsigned
digits_value(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

/* Parse a strict "YYYYMMDDTHHMMSSZ" into *t. */
static bool
parse_amzdate(const char *s, time_t *t)
{
	static const unsigned mdays[] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	unsigned y, mo, d, h, mi, se;

	if (strlen(s) != SIGV4_AMZDATE_LEN || s[8] != 'T' || s[15] != 'Z')
		return false;
	for (size_t i = 0; i < 15; i++)
		if (i != 8 && !is_digit((unsigned char)s[i]))
			return false;
	y = digits_value(s, 4);
	mo = digits_value(s + 4, 2);
	d = digits_value(s + 6, 2);
	h = digits_value(s + 9, 2);
	mi = digits_value(s + 11, 2);
	se = digits_value(s + 13, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 59)
		return false;
	if (mo == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return false;
	*t = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    se);
	return true;
}

/* --- OpenSSL -------------------------------------------------------------- */

/* The queue is cleared on failure so that no stale error reaches TLS code. */
static int
sha256(const void *data, size_t n, unsigned char out[HASH_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != HASH_LEN) {
		ERR_clear_error();
		return ERR_IO;
	}
	return 0;
}

static int
hmac(const void *key, size_t keylen, const void *data, size_t n,
    unsigned char out[HASH_LEN])
{
	unsigned int len = 0;

	if (keylen > INT_MAX ||
	    HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len) == NULL ||
	    len != HASH_LEN) {
		ERR_clear_error();
		return ERR_IO;
	}
	return 0;
}

/*
 * kSigning from the secret, the scope date, region and service. The
 * intermediate keys are wiped.
 */
static int
signing_key(const char *secret, const char *date8, const char *region,
    const char *service, unsigned char out[HASH_LEN])
{
	unsigned char k[HASH_LEN];
	size_t slen = strlen(secret);
	char *ksecret = xmalloc(slen + 5);
	int ret;

	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen + 1);
	ret = hmac(ksecret, slen + 4, date8, 8, out);
	if (ret == 0)
		ret = hmac(out, HASH_LEN, region, strlen(region), k);
	if (ret == 0)
		ret = hmac(k, HASH_LEN, service, strlen(service), out);
	if (ret == 0)
		ret = hmac(out, HASH_LEN, TERMINATOR, strlen(TERMINATOR), k);
	if (ret == 0)
		memcpy(out, k, HASH_LEN);
	else
		OPENSSL_cleanse(out, HASH_LEN);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(ksecret, slen + 5);
	free(ksecret);
	return ret;
}

/* --- canonical request ---------------------------------------------------- */

/*
 * botocore's _normalize_url_path: remove_dot_segments (which also drops
 * empty segments), then quote(path, safe='/~'). The path is not decoded
 * first, so '%' is encoded again, as botocore does for every service but S3.
 */
static void
put_canonical_uri(struct sbuf *b, const char *path)
{
	struct seg {
		const char	*p;
		size_t		 n;
	} *segs;
	size_t nsegs = 0, len = strlen(path), maxsegs = 1;
	struct sbuf norm = {0};
	static const char hex[] = "0123456789ABCDEF";

	if (len == 0) {
		sb_putc(b, '/');
		return;
	}
	for (size_t i = 0; i < len; i++)
		maxsegs += path[i] == '/';
	segs = xcalloc(maxsegs, sizeof(*segs));
	for (const char *p = path; ; ) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nsegs > 0)
				nsegs--;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			segs[nsegs].p = p;
			segs[nsegs++].n = n;
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	if (path[0] == '/')
		sb_putc(&norm, '/');
	for (size_t i = 0; i < nsegs; i++) {
		if (i > 0)
			sb_putc(&norm, '/');
		sb_putn(&norm, segs[i].p, segs[i].n);
	}
	if (path[len - 1] == '/' && nsegs > 0)
		sb_putc(&norm, '/');
	free(segs);
	for (size_t i = 0; i < norm.len; i++) {
		unsigned char c = (unsigned char)norm.p[i];
		char enc[3] = {'%', hex[c >> 4], hex[c & 0x0f]};

		if (is_unreserved(c) || c == '/')
			sb_putc(b, (char)c);
		else
			sb_putn(b, enc, 3);
	}
	free(norm.p);
}

struct qpair {
	const char	*k;
	size_t		 klen;
	const char	*v;
	size_t		 vlen;
};

static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = cmp_bytes(x->k, x->klen, y->k, y->klen);

	return c != 0 ? c : cmp_bytes(x->v, x->vlen, y->v, y->vlen);
}

/*
 * botocore's _canonical_query_string_url: split on '&', partition on '=',
 * sort the (key, value) pairs, join as key=value with '&'. No re-encoding.
 */
static void
put_canonical_query(struct sbuf *b, const char *query)
{
	struct qpair *pairs;
	size_t n = 1, npairs = 0;

	if (query == NULL || *query == '\0')
		return;
	for (const char *p = query; *p != '\0'; p++)
		n += *p == '&';
	pairs = xcalloc(n, sizeof(*pairs));
	for (const char *p = query; ; ) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);

		pairs[npairs].k = p;
		pairs[npairs].klen = eq != NULL ? (size_t)(eq - p) : len;
		pairs[npairs].v = eq != NULL ? eq + 1 : p + len;
		pairs[npairs].vlen =
		    eq != NULL ? len - (size_t)(eq - p) - 1 : 0;
		npairs++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	qsort(pairs, npairs, sizeof(*pairs), qpair_cmp);
	for (size_t i = 0; i < npairs; i++) {
		if (i > 0)
			sb_putc(b, '&');
		sb_putn(b, pairs[i].k, pairs[i].klen);
		sb_putc(b, '=');
		sb_putn(b, pairs[i].v, pairs[i].vlen);
	}
	free(pairs);
}

/* value trimmed, with each run of white space collapsed to one space */
static void
put_trimmed(struct sbuf *b, const char *v)
{
	bool first = true;

	while (*v != '\0') {
		size_t n;

		while (is_ws((unsigned char)*v))
			v++;
		if (*v == '\0')
			break;
		for (n = 0; v[n] != '\0' && !is_ws((unsigned char)v[n]); n++)
			;
		if (!first)
			sb_putc(b, ' ');
		sb_putn(b, v, n);
		first = false;
		v += n;
	}
}

/* How many headers of req are named name (any case). */
static size_t
count_headers(const struct sigv4_request *req, const char *name,
    const char **last)
{
	size_t n = 0;

	for (size_t i = 0; i < req->nheaders; i++)
		if (req->headers[i].name != NULL &&
		    is_name_equal(req->headers[i].name, name)) {
			if (last != NULL)
				*last = req->headers[i].value;
			n++;
		}
	return n;
}

/* "name:v1,v2\n", or ERR_NOTFOUND when req has no header of that name. */
static int
put_header(struct sbuf *b, const struct sigv4_request *req, const char *name)
{
	size_t n = 0;

	sb_puts(b, name);
	sb_putc(b, ':');
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct sigv4_header *h = &req->headers[i];

		if (h->name == NULL || !is_name_equal(h->name, name))
			continue;
		if (n++ > 0)
			sb_putc(b, ',');
		put_trimmed(b, h->value != NULL ? h->value : "");
	}
	sb_putc(b, '\n');
	return n > 0 ? 0 : ERR_NOTFOUND;
}

/* What signing and verifying share. */
struct sigctx {
	const struct sigv4_request	*req;
	const char			*const *names;	/* sorted, lower case */
	size_t				 nnames;
	const char			*amzdate;	/* well-formed */
	const char			*secret;
	const char			*region;
	const char			*service;
};

/*
 * Compute the signature of x into sig (64 hex + NUL) and, when dbg is not
 * NULL, every intermediate value into it (the caller cleans it up on
 * error). ERR_NOTFOUND: a name in x->names has no header; ERR_IO: OpenSSL
 * failed.
 */
static int
compute_signature(const struct sigctx *x, char sig[HEX_LEN + 1],
    struct sigv4_debug *dbg)
{
	const struct sigv4_request *req = x->req;
	struct sbuf cr = {0}, sh = {0}, sts = {0}, scope = {0};
	unsigned char md[HASH_LEN], key[HASH_LEN];
	char payload[HEX_LEN + 1], crhash[HEX_LEN + 1], date8[9];
	const char *method = req->method != NULL ? req->method : "";
	int ret;

	memcpy(date8, x->amzdate, 8);
	date8[8] = '\0';
	ret = sha256(req->body != NULL ? (const void *)req->body : "",
	    req->body != NULL ? req->bodylen : 0, md);
	if (ret != 0)
		goto out;
	hex_encode(md, HASH_LEN, payload);

	for (const char *m = method; *m != '\0'; m++)
		sb_putc(&cr, (char)(*m >= 'a' && *m <= 'z' ? *m - 32 : *m));
	sb_putc(&cr, '\n');
	put_canonical_uri(&cr, req->path != NULL ? req->path : "");
	sb_putc(&cr, '\n');
	put_canonical_query(&cr, req->query);
	sb_putc(&cr, '\n');
	for (size_t i = 0; i < x->nnames; i++) {
		ret = put_header(&cr, req, x->names[i]);
		if (ret != 0)
			goto out;
		if (i > 0)
			sb_putc(&sh, ';');
		sb_puts(&sh, x->names[i]);
	}
	sb_putc(&cr, '\n');
	sb_puts(&cr, sh.p != NULL ? sh.p : "");
	sb_putc(&cr, '\n');
	sb_puts(&cr, payload);

	ret = sha256(cr.p, cr.len, md);
	if (ret != 0)
		goto out;
	hex_encode(md, HASH_LEN, crhash);

	sb_puts(&scope, date8);
	sb_putc(&scope, '/');
	sb_puts(&scope, x->region);
	sb_putc(&scope, '/');
	sb_puts(&scope, x->service);
	sb_puts(&scope, "/" TERMINATOR);
	sb_puts(&sts, ALGORITHM "\n");
	sb_puts(&sts, x->amzdate);
	sb_putc(&sts, '\n');
	sb_puts(&sts, scope.p);
	sb_putc(&sts, '\n');
	sb_puts(&sts, crhash);

	ret = signing_key(x->secret, date8, x->region, x->service, key);
	if (ret == 0)
		ret = hmac(key, HASH_LEN, sts.p, sts.len, md);
	if (ret != 0)
		goto out;
	hex_encode(md, HASH_LEN, sig);

	if (dbg != NULL) {
		/* only sigv4_sign asks, and it signs at most sign_names */
		assert(sh.len < sizeof(dbg->signed_headers));
		memcpy(dbg->signed_headers, sh.p != NULL ? sh.p : "",
		    sh.len + 1);
		memcpy(dbg->payload_hash, payload, sizeof(payload));
		memcpy(dbg->canonical_request_hash, crhash, sizeof(crhash));
		hex_encode(key, HASH_LEN, dbg->signing_key_hex);
		memcpy(dbg->signature, sig, HEX_LEN + 1);
		dbg->canonical_request = sb_take(&cr);
		dbg->string_to_sign = sb_take(&sts);
		dbg->credential_scope = sb_take(&scope);
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(cr.p);
	free(sh.p);
	free(sts.p);
	free(scope.p);
	return ret;
}

/* --- signing -------------------------------------------------------------- */

void
sigv4_debug_fini(struct sigv4_debug *dbg)
{
	if (dbg == NULL)
		return;
	free(dbg->canonical_request);
	free(dbg->string_to_sign);
	free(dbg->credential_scope);
	OPENSSL_cleanse(dbg, sizeof(*dbg));	/* zeroes it: strings NULL */
}

static bool
is_header_value_ok(const char *v)
{
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < ' ' && *v != '\t')
			return false;
	return true;
}

int
sigv4_sign_debug(const struct sigv4_request *req, const struct sigv4_creds *c,
    const char *region, const char *service, char **authorization,
    struct sigv4_debug *dbg)
{
	const char *names[NSIGN_NAMES];
	const char *amzdate = NULL, *token = NULL;
	char sig[HEX_LEN + 1];
	struct sigctx x;
	time_t t;
	size_t n = 0;
	int ret;

	assert(req != NULL && c != NULL && authorization != NULL);
	if (dbg != NULL)
		memset(dbg, 0, sizeof(*dbg));
	if (!sigv4_is_access_key_id(c->access_key_id) ||
	    c->secret_access_key == NULL || *c->secret_access_key == '\0' ||
	    region == NULL || !is_scope_part(region, strlen(region)) ||
	    service == NULL || !is_scope_part(service, strlen(service)))
		return ERR_INVAL;
	if (count_headers(req, "host", NULL) == 0 ||
	    count_headers(req, "x-amz-date", &amzdate) != 1 ||
	    amzdate == NULL || !parse_amzdate(amzdate, &t))
		return ERR_INVAL;
	if (c->session_token != NULL &&
	    (count_headers(req, "x-amz-security-token", &token) != 1 ||
	    token == NULL || strcmp(token, c->session_token) != 0 ||
	    !is_header_value_ok(token)))
		return ERR_INVAL;
	for (size_t i = 0; i < NSIGN_NAMES; i++)
		if (count_headers(req, sign_names[i], NULL) > 0)
			names[n++] = sign_names[i];

	x = (struct sigctx){
		.req = req, .names = names, .nnames = n, .amzdate = amzdate,
		.secret = c->secret_access_key, .region = region,
		.service = service,
	};
	ret = compute_signature(&x, sig, dbg);
	if (ret != 0) {
		sigv4_debug_fini(dbg);
		return ret == ERR_NOTFOUND ? ERR_INVAL : ret;
	}
	{
		struct sbuf a = {0};

		sb_puts(&a, ALGORITHM " Credential=");
		sb_puts(&a, c->access_key_id);
		sb_putc(&a, '/');
		sb_putn(&a, amzdate, 8);
		sb_putc(&a, '/');
		sb_puts(&a, region);
		sb_putc(&a, '/');
		sb_puts(&a, service);
		sb_puts(&a, "/" TERMINATOR ", SignedHeaders=");
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				sb_putc(&a, ';');
			sb_puts(&a, names[i]);
		}
		sb_puts(&a, ", Signature=");
		sb_puts(&a, sig);
		*authorization = sb_take(&a);
	}
	return 0;
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_creds *c,
    const char *region, const char *service, char **authorization)
{
	return sigv4_sign_debug(req, c, region, service, authorization, NULL);
}

/* --- verification --------------------------------------------------------- */

/* A parsed Authorization value; every pointer is into buf. */
struct auth {
	char		*buf;		/* new: a copy of the header value */
	const char	*key_id;
	const char	*date8;
	const char	*region;
	const char	*service;
	const char	*terminator;
	const char	*names[MAX_SIGNED];
	size_t		 nnames;
	const char	*signature;
};

/* Split "a/b/c/d/e" in place into exactly five non-empty parts. */
static bool
split_credential(char *s, struct auth *a)
{
	const char **parts[] = {
		&a->key_id, &a->date8, &a->region, &a->service, &a->terminator,
	};

	for (size_t i = 0; i < 5; i++) {
		char *slash = strchr(s, '/');

		if ((slash == NULL) != (i == 4))
			return false;
		if (slash != NULL)
			*slash = '\0';
		*parts[i] = s;
		if (*s == '\0')
			return false;
		if (slash != NULL)
			s = slash + 1;
	}
	return true;
}

static bool
split_signed_headers(char *s, struct auth *a)
{
	for (;;) {
		char *semi = strchr(s, ';');
		size_t n;

		if (semi != NULL)
			*semi = '\0';
		for (n = 0; s[n] != '\0'; n++)
			if (!is_lower_tchar((unsigned char)s[n]))
				return false;
		if (n == 0 || a->nnames == MAX_SIGNED ||
		    (a->nnames > 0 && strcmp(a->names[a->nnames - 1], s) >= 0))
			return false;
		a->names[a->nnames++] = s;
		if (semi == NULL)
			return true;
		s = semi + 1;
	}
}

/*
 * Cut "<key>=<value>" off the front of *s: the value runs to the next
 * ',' (which is replaced by NUL, then any spaces after it are skipped) or
 * to the end when last.
 */
static char *
take_component(char **s, const char *key, bool last)
{
	size_t klen = strlen(key);
	char *v, *comma;

	if (strncmp(*s, key, klen) != 0 || (*s)[klen] != '=')
		return NULL;
	v = *s + klen + 1;
	comma = strchr(v, ',');
	if (last) {
		if (comma != NULL)
			return NULL;
		*s = v + strlen(v);
		return v;
	}
	if (comma == NULL)
		return NULL;
	*comma = '\0';
	for (*s = comma + 1; **s == ' '; (*s)++)
		;
	return v;
}

static enum sigv4_verdict
parse_authorization(const char *value, struct auth *a)
{
	size_t len, alen = strlen(ALGORITHM);
	const char *end;
	char *s, *cred, *names, *sig;

	while (*value == ' ' || *value == '\t')
		value++;
	for (end = value + strlen(value);
	    end > value && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	len = (size_t)(end - value);
	if (len > MAX_AUTH_LEN || len <= alen ||
	    strncmp(value, ALGORITHM, alen) != 0 || value[alen] != ' ')
		return SIGV4_MALFORMED;
	a->buf = xstrndup(value, len);
	for (s = a->buf + alen; *s == ' '; s++)
		;
	cred = take_component(&s, "Credential", false);
	names = cred != NULL ? take_component(&s, "SignedHeaders", false) :
	    NULL;
	sig = names != NULL ? take_component(&s, "Signature", true) : NULL;
	if (sig == NULL || !split_credential(cred, a) ||
	    !split_signed_headers(names, a))
		return SIGV4_MALFORMED;
	if (!sigv4_is_access_key_id(a->key_id) || strlen(a->date8) != 8 ||
	    !is_scope_part(a->region, strlen(a->region)) ||
	    !is_scope_part(a->service, strlen(a->service)))
		return SIGV4_MALFORMED;
	for (size_t i = 0; i < 8; i++)
		if (!is_digit((unsigned char)a->date8[i]))
			return SIGV4_MALFORMED;
	if (strlen(sig) != HEX_LEN)
		return SIGV4_MALFORMED;
	for (size_t i = 0; i < HEX_LEN; i++)
		if (!is_lower_hex((unsigned char)sig[i]))
			return SIGV4_MALFORMED;
	a->signature = sig;
	return SIGV4_OK;
}

static bool
is_signed(const struct auth *a, const char *name)
{
	for (size_t i = 0; i < a->nnames; i++)
		if (strcmp(a->names[i], name) == 0)
			return true;
	return false;
}

static bool
is_same_secret(const char *a, const char *b)
{
	size_t n = strlen(a);

	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* The session-token rules of sigv4_verify. */
static enum sigv4_verdict
check_token(const struct sigv4_request *req, const struct auth *a,
    const struct sigv4_creds *c)
{
	const char *token = NULL;
	size_t n = count_headers(req, "x-amz-security-token", &token);
	bool is_sig = is_signed(a, "x-amz-security-token");

	if (n > 1 || (n == 1 && !is_sig))
		return SIGV4_BAD_TOKEN;
	if (c->session_token == NULL)
		return n == 0 ? SIGV4_OK : SIGV4_BAD_TOKEN;
	if (n == 0 || token == NULL ||
	    !is_same_secret(token, c->session_token))
		return SIGV4_BAD_TOKEN;
	return SIGV4_OK;
}

static enum sigv4_verdict
verify_parsed(const struct sigv4_request *req, const struct auth *a,
    sigv4_lookup_fn lookup, void *arg, const char *region,
    const char *service, time_t now, long max_skew)
{
	const char *amzdate = NULL;
	struct sigv4_creds c = {0};
	char sig[HEX_LEN + 1];
	enum sigv4_verdict v;
	struct sigctx x;
	time_t t;
	int ret;

	if (!is_signed(a, "host") || !is_signed(a, "x-amz-date") ||
	    count_headers(req, "x-amz-date", &amzdate) != 1 ||
	    amzdate == NULL || !parse_amzdate(amzdate, &t))
		return SIGV4_MALFORMED;
	if (strcmp(a->terminator, TERMINATOR) != 0 ||
	    strcmp(a->region, region) != 0 ||
	    strcmp(a->service, service) != 0 ||
	    strncmp(a->date8, amzdate, 8) != 0)
		return SIGV4_BAD_SCOPE;
	if (max_skew < 0)
		max_skew = 0;
	if ((t > now && (long long)t - (long long)now > max_skew) ||
	    (t < now && (long long)now - (long long)t > max_skew))
		return SIGV4_SKEWED;
	if (!lookup(a->key_id, &c, arg) || c.secret_access_key == NULL ||
	    *c.secret_access_key == '\0')
		return SIGV4_UNKNOWN_KEY;
	v = check_token(req, a, &c);
	if (v != SIGV4_OK)
		return v;

	x = (struct sigctx){
		.req = req, .names = a->names, .nnames = a->nnames,
		.amzdate = amzdate, .secret = c.secret_access_key,
		.region = region, .service = service,
	};
	ret = compute_signature(&x, sig, NULL);
	if (ret != 0)
		return SIGV4_BAD_SIGNATURE;
	if (CRYPTO_memcmp(sig, a->signature, HEX_LEN) != 0)
		return SIGV4_BAD_SIGNATURE;
	return SIGV4_OK;
}

enum sigv4_verdict
sigv4_verify(const struct sigv4_request *req, sigv4_lookup_fn lookup,
    void *arg, const char *region, const char *service, time_t now,
    long max_skew)
{
	struct auth a = {0};
	const char *value = NULL;
	enum sigv4_verdict v;
	size_t n;

	assert(req != NULL && lookup != NULL && region != NULL &&
	    service != NULL);
	n = count_headers(req, "authorization", &value);
	if (n == 0)
		return SIGV4_MISSING;
	if (n > 1 || value == NULL)
		return SIGV4_MALFORMED;
	v = parse_authorization(value, &a);
	if (v == SIGV4_OK)
		v = verify_parsed(req, &a, lookup, arg, region, service, now,
		    max_skew);
	free(a.buf);
	return v;
}

const char *
sigv4_verdict_str(enum sigv4_verdict v)
{
	switch (v) {
	case SIGV4_OK:
		return "signature valid";
	case SIGV4_MISSING:
		return "no Authorization header";
	case SIGV4_MALFORMED:
		return "malformed Authorization or X-Amz-Date";
	case SIGV4_UNKNOWN_KEY:
		return "unknown access key id";
	case SIGV4_BAD_SCOPE:
		return "credential scope does not match this endpoint";
	case SIGV4_SKEWED:
		return "X-Amz-Date too far from the server time";
	case SIGV4_BAD_TOKEN:
		return "session token missing, unsigned or wrong";
	case SIGV4_BAD_SIGNATURE:
		return "signature does not match";
	}
	return "unknown verdict";
}
