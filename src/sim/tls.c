#include "sim/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/err.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define CERT_DAYS	30
#define CERT_BACKDATE	3600	/* seconds: tolerate clocks a little behind */

struct sim_tls {
	SSL_CTX		*ctx;
	X509		*ca;		/* NULL when the certificate was given */
};

/* The first OpenSSL error on the queue (and clear the queue). */
static char *
ssl_fail(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e == 0) {
		ERR_clear_error();
		return xstrfmt("%s failed", what);
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return xstrfmt("%s: %s", what, buf);
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int
set_serial(X509 *cert)
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	int ret = -1;

	/* 63 random bits: positive, unique enough for one run's two certs. */
	if (bn == NULL || BN_rand(bn, 63, BN_RAND_TOP_ANY,
	    BN_RAND_BOTTOM_ANY) != 1)
		goto out;
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	if (serial == NULL || X509_set_serialNumber(cert, serial) != 1)
		goto out;
	ret = 0;
out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ret;
}

static int
set_name(X509_NAME *name, const char *cn)
{
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"arcsim", -1, -1, 0) != 1)
		return -1;
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		return -1;
	return 0;
}

/*
 * A certificate for key with subject cn, signed by issuer_key (issuer
 * NULL: self-signed). exts is a NULL-terminated list of nid/value pairs.
 */
struct ext_spec {
	int		 nid;
	const char	*value;
};

static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
    const struct ext_spec *exts, size_t nexts)
{
	X509 *cert = X509_new();
	size_t i;

	if (cert == NULL)
		return NULL;
	if (X509_set_version(cert, 2) != 1 || set_serial(cert) != 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -CERT_BACKDATE) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert),
	    (long)CERT_DAYS * 86400) == NULL ||
	    set_name(X509_get_subject_name(cert), cn) != 0 ||
	    X509_set_issuer_name(cert, issuer != NULL ?
	    X509_get_subject_name(issuer) : X509_get_subject_name(cert)) != 1 ||
	    X509_set_pubkey(cert, key) != 1)
		goto fail;
	for (i = 0; i < nexts; i++) {
		if (add_ext(cert, issuer != NULL ? issuer : cert, exts[i].nid,
		    exts[i].value) != 0)
			goto fail;
	}
	if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0)
		goto fail;
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

static const struct ext_spec ca_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

static const struct ext_spec server_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

static SSL_CTX *
new_ctx(char **errmsg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		*errmsg = ssl_fail("SSL_CTX_new");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		*errmsg = ssl_fail("SSL_CTX_set_min_proto_version");
		SSL_CTX_free(ctx);
		return NULL;
	}
	(void)SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

/* Private CA plus a server certificate it signs, loaded into t->ctx. */
static int
generate(struct sim_tls *t, char **errmsg)
{
	EVP_PKEY *ca_key = NULL, *srv_key = NULL;
	X509 *srv = NULL;
	int ret = ERR_INVAL;

	ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	srv_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (ca_key == NULL || srv_key == NULL) {
		*errmsg = ssl_fail("EC P-256 key generation");
		goto out;
	}
	t->ca = make_cert(ca_key, "arcsim private CA", NULL, ca_key, ca_exts,
	    sizeof(ca_exts) / sizeof(ca_exts[0]));
	if (t->ca == NULL) {
		*errmsg = ssl_fail("making the CA certificate");
		goto out;
	}
	srv = make_cert(srv_key, "localhost", t->ca, ca_key, server_exts,
	    sizeof(server_exts) / sizeof(server_exts[0]));
	if (srv == NULL) {
		*errmsg = ssl_fail("making the server certificate");
		goto out;
	}
	if (SSL_CTX_use_certificate(t->ctx, srv) != 1 ||
	    SSL_CTX_use_PrivateKey(t->ctx, srv_key) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		*errmsg = ssl_fail("loading the server certificate");
		goto out;
	}
	ret = 0;
out:
	X509_free(srv);
	EVP_PKEY_free(srv_key);
	EVP_PKEY_free(ca_key);
	return ret;
}

static int
load_files(struct sim_tls *t, const char *cert_file, const char *key_file,
    char **errmsg)
{
	char *what;

	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1) {
		what = xstrfmt("--cert %s", cert_file);
		*errmsg = ssl_fail(what);
		free(what);
		return ERR_INVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, key_file,
	    SSL_FILETYPE_PEM) != 1) {
		what = xstrfmt("--key %s", key_file);
		*errmsg = ssl_fail(what);
		free(what);
		return ERR_INVAL;
	}
	if (SSL_CTX_check_private_key(t->ctx) != 1) {
		*errmsg = ssl_fail("--key does not match --cert");
		return ERR_INVAL;
	}
	return 0;
}

int
sim_tls_new(const char *cert_file, const char *key_file,
    struct sim_tls **out, char **errmsg)
{
	struct sim_tls *t;
	int ret;

	if ((cert_file == NULL) != (key_file == NULL)) {
		*errmsg = xstrdup("--cert and --key go together");
		return ERR_INVAL;
	}
	t = xcalloc(1, sizeof(*t));
	t->ctx = new_ctx(errmsg);
	if (t->ctx == NULL) {
		free(t);
		return ERR_INVAL;
	}
	if (cert_file != NULL)
		ret = load_files(t, cert_file, key_file, errmsg);
	else
		ret = generate(t, errmsg);
	if (ret != 0) {
		sim_tls_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void
sim_tls_free(struct sim_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	X509_free(t->ca);
	free(t);
}

bool
sim_tls_has_ca(const struct sim_tls *t)
{
	return t != NULL && t->ca != NULL;
}

int
sim_tls_write_ca(const struct sim_tls *t, const char *path, char **errmsg)
{
	BIO *mem = NULL;
	char *data = NULL;
	long len;
	int ret;

	if (!sim_tls_has_ca(t)) {
		*errmsg = xstrfmt("%s: no CA to write (--cert was given)", path);
		return ERR_INVAL;
	}
	mem = BIO_new(BIO_s_mem());
	len = mem != NULL && PEM_write_bio_X509(mem, t->ca) == 1 ?
	    BIO_get_mem_data(mem, &data) : 0;
	if (len <= 0) {
		*errmsg = ssl_fail("encoding the CA certificate");
		BIO_free(mem);
		return ERR_INVAL;
	}
	ret = fs_write_atomic(path, data, (size_t)len, 0644, errmsg);
	BIO_free(mem);
	return ret;
}

struct ssl_st *
sim_tls_ssl_new(struct sim_tls *t)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl == NULL)
		ERR_clear_error();
	return ssl;
}
