/*
 * tls.h -- arcsim's TLS server side: a private CA made at start, or the
 * certificate and key the operator gives.
 *
 * With no certificate given, sim_tls_new() makes a private CA (EC P-256)
 * and a server certificate signed by it for 127.0.0.1, ::1 and localhost
 * (subjectAltName IP and DNS entries), valid from an hour ago for 30
 * days. Both keys live only in memory; sim_tls_write_ca() writes the CA
 * certificate (PEM) for clients to trust, so that they verify the chain
 * and the host name for real. A new CA is made at every start.
 *
 * The server context accepts TLS 1.2 and later. OpenSSL types stay out of
 * this header: server.c gets a new SSL object per connection from
 * sim_tls_ssl_new() and hands it to libevent.
 *
 * Call from the main thread only (before and inside the event loop).
 */
#ifndef SIM_TLS_H
#define SIM_TLS_H

#include <stdbool.h>

struct sim_tls;
struct ssl_st;

/*
 * Build the server context. cert_file and key_file (both or neither) name
 * a PEM certificate chain and its private key; with neither, a private CA
 * and a server certificate are made. Returns 0 and a new object in *out,
 * or a negative code and a new message in *errmsg (OpenSSL's reason
 * included).
 */
int	sim_tls_new(const char *cert_file, const char *key_file,
	    struct sim_tls **out, char **errmsg)
	    __attribute__((warn_unused_result));

/* NULL-safe. */
void	sim_tls_free(struct sim_tls *t);

/* True when the CA was made here (sim_tls_write_ca has something to write). */
bool	sim_tls_has_ca(const struct sim_tls *t);

/*
 * Write the CA certificate as PEM to path, atomically (a temporary file
 * in the same folder, fsync, rename, fsync of the folder), mode 0644.
 * Returns 0, or a negative code and a new message in *errmsg; ERR_INVAL
 * when the certificate was given rather than made.
 */
int	sim_tls_write_ca(const struct sim_tls *t, const char *path,
	    char **errmsg) __attribute__((warn_unused_result));

/*
 * A new SSL object for one accepted connection (the caller, or libevent
 * with BEV_OPT_CLOSE_ON_FREE, frees it), or NULL when OpenSSL fails.
 */
struct ssl_st	*sim_tls_ssl_new(struct sim_tls *t);

#endif
