#include "dns/tsig.h"

#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "conf/conf.h"
#include "dns/wire.h"
#include "util/err.h"

#define CLASS_ANY	255

struct alg {
	const char	*text;		/* as in the config */
	const uint8_t	*wire;		/* its name in TSIG records */
	size_t		 wirelen;
	const char	*digest;	/* OpenSSL's name */
	size_t		 maclen;
};

#define W(s)	(const uint8_t *)(s), sizeof(s)
static const struct alg algs[] = {
	{"hmac-md5", W("\x08hmac-md5\x07sig-alg\x03reg\x03int"), "MD5", 16},
	{"hmac-sha1", W("\x09hmac-sha1"), "SHA1", 20},
	{"hmac-sha224", W("\x0bhmac-sha224"), "SHA224", 28},
	{"hmac-sha256", W("\x0bhmac-sha256"), "SHA256", 32},
	{"hmac-sha384", W("\x0bhmac-sha384"), "SHA384", 48},
	{"hmac-sha512", W("\x0bhmac-sha512"), "SHA512", 64},
};
#undef W

static const struct alg *
alg_by_text(const char *name)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		if (strlen(algs[i].text) == n &&
		    strncasecmp(algs[i].text, name, n) == 0)
			return &algs[i];
	}
	if (strncasecmp(name, "hmac-md5.sig-alg.reg.int", n) == 0 && n == 24)
		return &algs[0];
	return NULL;
}

bool
tsig_algorithm_known(const char *name)
{
	return alg_by_text(name) != NULL;
}

void
tsig_init(struct tsig_ctx *ctx, const struct conf_key *key)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->key = key;
}

/*
 * Read the possibly compressed name at off into out (lower case, at most
 * DNAME_MAXLEN bytes). Returns the offset after the name where it
 * started, or 0 when malformed.
 */
static size_t
read_name(const uint8_t *msg, size_t len, size_t off, uint8_t *out,
    size_t *outlen)
{
	size_t n = 0, next = 0;
	int hops = 0;

	for (;;) {
		uint8_t l;

		if (off >= len)
			return 0;
		l = msg[off];
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len || ++hops > 64)
				return 0;
			if (next == 0)
				next = off + 2;
			off = (size_t)(l & 0x3f) << 8 | msg[off + 1];
			continue;
		}
		if (l > DNAME_MAXLABEL || off + 1 + l > len ||
		    n + 1 + l > DNAME_MAXLEN)
			return 0;
		if (out != NULL) {
			out[n] = l;
			dname_lower(out + n + 1, msg + off + 1, l);
		}
		n += 1 + (size_t)l;
		off += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	if (outlen != NULL)
		*outlen = n;
	return next != 0 ? next : off;
}

int
tsig_find(const uint8_t *msg, size_t len, size_t *off)
{
	size_t pos = WIRE_HDRLEN, last = 0;
	uint32_t qd, rrs, ar;

	if (len < WIRE_HDRLEN)
		return ERR_FORMAT;
	qd = wire_get16(msg + 4);
	ar = wire_get16(msg + 10);
	rrs = (uint32_t)wire_get16(msg + 6) + wire_get16(msg + 8) + ar;
	for (uint32_t i = 0; i < qd; i++) {
		pos = read_name(msg, len, pos, NULL, NULL);
		if (pos == 0 || pos + 4 > len)
			return ERR_FORMAT;
		pos += 4;
	}
	for (uint32_t i = 0; i < rrs; i++) {
		last = pos;
		pos = read_name(msg, len, pos, NULL, NULL);
		if (pos == 0 || pos + 10 > len ||
		    pos + 10 + wire_get16(msg + pos + 8) > len)
			return ERR_FORMAT;
		if (wire_get16(msg + pos) == TSIG_TYPE && i + 1 != rrs)
			return ERR_FORMAT;	/* a TSIG must be last */
		pos += 10 + (size_t)wire_get16(msg + pos + 8);
	}
	if (ar == 0 || rrs == 0)
		return ERR_NOTFOUND;
	pos = read_name(msg, len, last, NULL, NULL);
	if (wire_get16(msg + pos) != TSIG_TYPE)
		return ERR_NOTFOUND;
	*off = last;
	return 0;
}

static void
put48(uint8_t *p, uint64_t v)
{
	for (int i = 5; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get48(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | p[i];
	return v;
}

/* What goes into a MAC besides the message. */
struct macvars {
	const uint8_t	*prior;		/* prior/request MAC or NULL */
	size_t		 priorlen;
	const uint8_t	*name, *alg;	/* canonical wire */
	size_t		 namelen, alglen;
	uint64_t	 time;
	uint16_t	 fudge, error, otherlen;
	const uint8_t	*other;
	bool		 timers_only;
};

/*
 * The MAC over vars and the msglen-byte message without its TSIG, with
 * ARCOUNT ar and ID id in its header. Returns the MAC length, 0 on error.
 */
static size_t
compute_mac(const struct alg *a, const struct conf_key *key,
    const struct macvars *v, const uint8_t *msg, size_t msglen, uint16_t id,
    uint16_t ar, uint8_t *out)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac == NULL ? NULL : EVP_MAC_CTX_new(mac);
	OSSL_PARAM params[2];
	uint8_t hdr[WIRE_HDRLEN], buf[16];
	size_t outlen = 0;
	bool ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)a->digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	memcpy(hdr, msg, WIRE_HDRLEN);
	wire_put16(hdr, id);
	wire_put16(hdr + 10, ar);
	ok = c != NULL && EVP_MAC_init(c, key->secret, key->secret_len,
	    params) == 1;
	if (ok && v->prior != NULL) {
		wire_put16(buf, (uint16_t)v->priorlen);
		ok = EVP_MAC_update(c, buf, 2) == 1 &&
		    EVP_MAC_update(c, v->prior, v->priorlen) == 1;
	}
	ok = ok && EVP_MAC_update(c, hdr, WIRE_HDRLEN) == 1 &&
	    EVP_MAC_update(c, msg + WIRE_HDRLEN, msglen - WIRE_HDRLEN) == 1;
	if (ok && !v->timers_only) {
		wire_put16(buf, CLASS_ANY);
		memset(buf + 2, 0, 4);		/* TTL */
		ok = EVP_MAC_update(c, v->name, v->namelen) == 1 &&
		    EVP_MAC_update(c, buf, 6) == 1 &&
		    EVP_MAC_update(c, v->alg, v->alglen) == 1;
	}
	put48(buf, v->time);
	wire_put16(buf + 6, v->fudge);
	ok = ok && EVP_MAC_update(c, buf, 8) == 1;
	if (ok && !v->timers_only) {
		wire_put16(buf, v->error);
		wire_put16(buf + 2, v->otherlen);
		ok = EVP_MAC_update(c, buf, 4) == 1 && (v->otherlen == 0 ||
		    EVP_MAC_update(c, v->other, v->otherlen) == 1);
	}
	ok = ok && EVP_MAC_final(c, out, &outlen, TSIG_MAC_MAX) == 1;
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	return ok ? outlen : 0;
}

int
tsig_verify(struct tsig_ctx *ctx, const uint8_t *msg, size_t len,
    uint64_t now)
{
	const struct alg *a = alg_by_text(ctx->key->algorithm);
	uint8_t mymac[TSIG_MAC_MAX];
	struct macvars v = {0};
	size_t off, pos, rdend, maclen;
	const uint8_t *rmac;
	uint16_t orig_id;
	int ret = tsig_find(msg, len, &off);

	ctx->error = TSIG_NOERROR;
	if (ret != 0)
		return ret;
	pos = read_name(msg, len, off, ctx->name, &ctx->namelen);
	if (pos == 0 || wire_get16(msg + pos + 2) != CLASS_ANY)
		return ERR_FORMAT;
	rdend = pos + 10 + wire_get16(msg + pos + 8);
	pos += 10;
	/* The algorithm name: uncompressed (RFC 8945 4.2). */
	pos = read_name(msg, rdend, pos, ctx->alg, &ctx->alglen);
	if (pos == 0 || pos + 10 > rdend)
		return ERR_FORMAT;
	v.time = get48(msg + pos);
	v.fudge = wire_get16(msg + pos + 6);
	maclen = wire_get16(msg + pos + 8);
	rmac = msg + pos + 10;
	pos += 10 + maclen;
	if (pos + 6 > rdend)
		return ERR_FORMAT;
	orig_id = wire_get16(msg + pos);
	v.error = wire_get16(msg + pos + 2);
	v.otherlen = wire_get16(msg + pos + 4);
	v.other = msg + pos + 6;
	if (pos + 6 + v.otherlen != rdend)
		return ERR_FORMAT;
	ctx->req_time = v.time;

	/* RFC 8945 5.2: the key, then the MAC, then the time. */
	if (a == NULL || ctx->namelen != dname_len(ctx->key->wire) ||
	    !dname_equal(ctx->name, ctx->key->wire) ||
	    ctx->alglen != a->wirelen ||
	    memcmp(ctx->alg, a->wire, a->wirelen) != 0) {
		ctx->error = TSIG_BADKEY;
		return ERR_INVAL;
	}
	v.prior = ctx->maclen > 0 ? ctx->mac : NULL;
	v.priorlen = ctx->maclen;
	v.name = ctx->name;
	v.namelen = ctx->namelen;
	v.alg = ctx->alg;
	v.alglen = ctx->alglen;
	if (maclen != a->maclen || compute_mac(a, ctx->key, &v, msg, off,
	    orig_id, (uint16_t)(wire_get16(msg + 10) - 1), mymac) != maclen ||
	    CRYPTO_memcmp(mymac, rmac, maclen) != 0) {
		ctx->error = TSIG_BADSIG;
		return ERR_INVAL;
	}
	memcpy(ctx->mac, rmac, maclen);
	ctx->maclen = maclen;
	if ((now > v.time ? now - v.time : v.time - now) > v.fudge) {
		ctx->error = TSIG_BADTIME;
		return ERR_INVAL;
	}
	return 0;
}

size_t
tsig_sign(struct tsig_ctx *ctx, uint8_t *msg, size_t len, size_t cap,
    uint64_t now)
{
	const struct alg *a = alg_by_text(ctx->key->algorithm);
	bool nomac = ctx->error == TSIG_BADKEY || ctx->error == TSIG_BADSIG;
	uint8_t mac[TSIG_MAC_MAX], other[6];
	struct macvars v = {0};
	size_t maclen = 0, pos, rdstart;

	if (a == NULL && !nomac)
		return 0;
	if (ctx->error == TSIG_NOERROR || ctx->namelen == 0) {
		/* Our key: a request we sign, or a reply to a good one. */
		ctx->namelen = dname_len(ctx->key->wire);
		dname_lower(ctx->name, ctx->key->wire, ctx->namelen);
		ctx->alglen = a->wirelen;
		memcpy(ctx->alg, a->wire, a->wirelen);
	}
	v.name = ctx->name;
	v.namelen = ctx->namelen;
	v.alg = ctx->alg;
	v.alglen = ctx->alglen;
	v.time = now;
	v.fudge = TSIG_FUDGE;
	v.error = ctx->error;
	if (ctx->error == TSIG_BADTIME) {
		v.time = ctx->req_time;
		put48(other, now);
		v.other = other;
		v.otherlen = 6;
	}
	v.prior = ctx->maclen > 0 ? ctx->mac : NULL;
	v.priorlen = ctx->maclen;
	v.timers_only = ctx->nsigned > 0;
	if (len + ctx->namelen + 10 + ctx->alglen + 16 + TSIG_MAC_MAX +
	    v.otherlen > cap)
		return 0;
	if (!nomac) {
		maclen = compute_mac(a, ctx->key, &v, msg, len,
		    wire_get16(msg), wire_get16(msg + 10), mac);
		if (maclen == 0)
			return 0;
	}
	pos = len;
	memcpy(msg + pos, ctx->name, ctx->namelen);
	pos += ctx->namelen;
	wire_put16(msg + pos, TSIG_TYPE);
	wire_put16(msg + pos + 2, CLASS_ANY);
	memset(msg + pos + 4, 0, 4);
	rdstart = pos + 10;
	pos = rdstart;
	memcpy(msg + pos, ctx->alg, ctx->alglen);
	pos += ctx->alglen;
	put48(msg + pos, v.time);
	wire_put16(msg + pos + 6, v.fudge);
	wire_put16(msg + pos + 8, (uint16_t)maclen);
	memcpy(msg + pos + 10, mac, maclen);
	pos += 10 + maclen;
	wire_put16(msg + pos, wire_get16(msg));		/* original ID */
	wire_put16(msg + pos + 2, v.error);
	wire_put16(msg + pos + 4, v.otherlen);
	memcpy(msg + pos + 6, other, v.otherlen);
	pos += 6 + v.otherlen;
	wire_put16(msg + rdstart - 2, (uint16_t)(pos - rdstart));
	wire_put16(msg + 10, (uint16_t)(wire_get16(msg + 10) + 1));
	if (maclen > 0) {
		memcpy(ctx->mac, mac, maclen);
		ctx->maclen = maclen;
	}
	ctx->nsigned++;
	return pos;
}
