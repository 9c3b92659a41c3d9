/*
 * arc_req.h -- one signed ARC data-plane request on a curl easy handle:
 * the piece the polling client (arc_client) and the one-shot calls of
 * arcdnsctl (arc_call) share, so that both build, sign and send requests
 * the same way.
 *
 * An endpoint URL is split once (arc_url_parse) into the Host header
 * value, the path and the query that SigV4 signs; arc_req_prepare then
 * adds the headers of spec/arc-data-plane.md section 6 (Content-Type,
 * Host, X-Amz-Date, X-Amz-Target, X-Amz-Security-Token with temporary
 * credentials), signs them with the endpoint's region and sets every
 * option of the easy handle: POST body, timeouts, TLS verification (peer
 * and host name, always; ca_file when given), no redirects, no signals.
 *
 * Nothing here logs; nothing here sees a secret after it returns (the
 * Authorization header is wiped from our copies).
 */
#ifndef ARC_ARC_REQ_H
#define ARC_ARC_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct curl_slist;
struct sigv4_creds;
typedef void CURL;		/* as curl.h has it: keeps curl.h out */

#define ARC_REQ_TARGET_PREFIX	"ToggleCustomerAPI."
#define ARC_REQ_CONTENT_TYPE	"application/x-amz-json-1.0"
#define ARC_REQ_MAX_BODY	(4u << 20)	/* larger replies are errors */

/* The parts of an endpoint URL a signed request needs (strings owned). */
struct arc_url {
	char	*host;		/* Host header: host, or host:port */
	char	*path;		/* raw path, "/" when the URL has none */
	char	*query;		/* raw query, NULL when none */
	bool	 plain;		/* http:// (accepted on loopback only) */
};

/*
 * Split url (of the endpoint of region, for messages). https:// always;
 * http:// only to a loopback host (127.0.0.0/8, ::1, localhost). Returns
 * 0 and fills *out (arc_url_fini), or ERR_INVAL with a new message in
 * *errmsg (out zeroed).
 */
int	arc_url_parse(const char *region, const char *url, struct arc_url *out,
	    char **errmsg) __attribute__((warn_unused_result));
/* Frees what u owns and zeroes it. NULL-safe. */
void	arc_url_fini(struct arc_url *u);

/* One request. Everything is borrowed for the arc_req_prepare() call. */
struct arc_req {
	const char		*url;		/* the endpoint URL, verbatim */
	const char		*region;	/* signing region */
	const struct arc_url	*u;		/* arc_url_parse(url) */
	const char		*operation;	/* e.g. "ListRoutingControls" */
	const char		*body;		/* JSON text, NUL-terminated */
	uint32_t		 timeout_ms;	/* whole transfer, > 0 */
	uint32_t		 connect_timeout_ms;	/* 0: timeout_ms */
	const char		*ca_file;	/* NULL: the system store */
	const char		*user_agent;	/* NULL: "arcdns/<version>" */
	/* curl write and header callbacks and their argument */
	size_t			(*write_cb)(char *, size_t, size_t, void *);
	size_t			(*header_cb)(char *, size_t, size_t, void *);
	void			*cb_arg;
};

/*
 * Sign req with c at wall_ms (wall clock, ms) and set every option of
 * easy for it. The header list is new in *hdrs; the one *hdrs held
 * before (may be NULL) is freed first. It must stay alive until the
 * transfer is done (curl borrows it): free it with arc_req_headers_free
 * then. Returns 0, or ERR_INVAL when signing fails (unusable credentials
 * or region); *hdrs is NULL then.
 */
int	arc_req_prepare(CURL *easy, const struct arc_req *req,
	    const struct sigv4_creds *c, uint64_t wall_ms,
	    struct curl_slist **hdrs) __attribute__((warn_unused_result));
/* Wipes (it holds a signature) and frees a header list. NULL-safe. */
void	arc_req_headers_free(struct curl_slist *hdrs);

/*
 * The value of header name when line (n bytes, as curl's header callback
 * gets it) is that header (name in any case): copied into out (at most
 * outsz bytes, NUL included, surrounding white space and CR LF dropped)
 * and true; false and out untouched otherwise.
 */
bool	arc_header_value(const char *line, size_t n, const char *name,
	    char *out, size_t outsz);

/*
 * A reply as the write and header callbacks below collect it: the body
 * (at most ARC_REQ_MAX_BODY bytes, NUL-terminated; more aborts the
 * transfer and sets too_big), X-Amzn-ErrorType and Retry-After (the last
 * response's, when curl sees several, e.g. after 100 Continue).
 */
struct arc_reply {
	char	*buf;			/* NULL until a byte arrives */
	size_t	 len;
	bool	 too_big;
	char	 errtype[96];
	char	 retry_after[32];
};

/* For arc_req.write_cb / header_cb with cb_arg = a struct arc_reply. */
size_t	arc_reply_write_cb(char *data, size_t size, size_t nmemb, void *arg);
size_t	arc_reply_header_cb(char *data, size_t size, size_t nmemb, void *arg);
/* Frees the body and zeroes r (ready for the next request). */
void	arc_reply_reset(struct arc_reply *r);

#endif
