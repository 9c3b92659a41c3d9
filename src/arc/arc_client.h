/*
 * arc_client.h -- the ARC polling client: ListRoutingControls (every page)
 * from one of the cluster's endpoints, every poll interval, into the
 * mirror.
 *
 * Runs on the caller's event base through curl_ev (no blocking call, no
 * thread). The endpoint order is shuffled once at start; a failing
 * endpoint is held for a jittered exponential backoff and the next one is
 * tried at once within the same poll; optional hedging asks a second
 * endpoint when the first is slow. Errors are classified by __type
 * (spec/arc-data-plane.md sections 5.2 and 8). Each poll asks each
 * endpoint at most once; when no endpoint that is not held is left to ask
 * (or to hedge with), the poll sends one probe to a held endpoint
 * (arc_probe_endpoint): at most 5 requests per poll interval in the worst
 * case, about one while the whole cluster is down -- the request rate is
 * bounded whatever the endpoints do, and an endpoint that came back is
 * found within a poll or two even before its hold ends. Nothing changes in the mirror unless
 * a complete poll succeeded (static stability).
 *
 * The decision logic (error classes, backoff, the next endpoint, hedging,
 * staleness, page decoding) is exposed as pure functions for the unit
 * tests; time comes from a clock in struct arc_clock (fake in tests).
 */
#ifndef ARC_ARC_CLIENT_H
#define ARC_ARC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arc_client;
struct conf;
struct creds;
struct curl_ev;
struct event_base;
struct mirror;
struct mirror_entry;

#define ARC_BACKOFF_BASE_MS	1000u	/* first hold of a failing endpoint */
#define ARC_BACKOFF_MAX_MS	30000u	/* longest hold */
#define ARC_MAX_BODY		(4u << 20)	/* larger replies are errors */
#define ARC_MAX_PAGES		100	/* a token loop beyond this fails */

/* Clocks in milliseconds: monotonic for scheduling, wall for signing. */
struct arc_clock {
	uint64_t	(*mono_ms)(void *arg);
	uint64_t	(*wall_ms)(void *arg);
	uint32_t	(*random)(void *arg);	/* shuffle and jitter */
	void		*arg;
};

/* The system's clocks and getrandom(): what a NULL clock means. */
extern const struct arc_clock arc_clock_real;

/*
 * New client for conf->arc (conf, state_dir and everything else borrowed;
 * they must outlive the client). clock NULL: the real clocks. Returns 0,
 * or ERR_INVAL with a new message in *errmsg (e.g. plain http:// to a
 * host that is not loopback). Polling begins with arc_client_start().
 */
int	arc_client_new(struct event_base *base, const struct conf *conf,
	    struct curl_ev *ce, struct creds *creds, struct mirror *m,
	    const char *state_dir, const struct arc_clock *clock,
	    struct arc_client **out, char **errmsg)
	    __attribute__((warn_unused_result));
/* Logs the start line and polls at once. */
void	arc_client_start(struct arc_client *ac);
/* NULL-safe; cancels the transfers in flight (no callback runs). */
void	arc_client_free(struct arc_client *ac);

/* Counters, for tests and metrics. */
struct arc_stats {
	uint64_t	polls_ok;
	uint64_t	polls_failed;
	uint64_t	requests;	/* HTTP requests started */
	uint64_t	changes;	/* control state changes applied */
	bool		stale;
};
void	arc_client_stats(const struct arc_client *ac, struct arc_stats *out);

/*
 * Per endpoint, for HTTP /v1/state and /metrics. A request is one HTTP
 * request (one page); it counts in requests when it is handed to curl and
 * in exactly one of ok/err_* when it finishes (the class of
 * arc_classify(); an undecodable 200 page is err_endpoint). A request
 * cancelled in flight (the slower of a hedged pair, a reload) never
 * finishes, so requests >= ok + err_*. An attempt that never reaches
 * the network (no credentials, cannot sign) is not a request.
 *
 * Latency: from the request's start to its end, whatever the outcome,
 * monotonic clock. latency_le[k] is cumulative (Prometheus "le"): the
 * finished requests that took at most arc_lat_bound_ms(k); the last
 * bucket is +Inf and equals ok + err_*.
 */
#define ARC_LAT_BUCKETS	10	/* 5 10 25 50 100 250 500 1000 2500 +Inf */

struct arc_ep_info {
	const char	*region;	/* borrowed from the conf */
	const char	*url;
	bool		 healthy;	/* false after a failure, until the
					   next success; true before any */
	uint64_t	 last_latency_ms;	/* last finished request, 0:
						   none yet */
	uint64_t	 backoff_until_ms;	/* wall clock end of the hold
						   of a failing endpoint; 0:
						   not held */
	uint64_t	 requests, ok, err_endpoint, err_throttle, err_auth,
			 err_config;
	uint64_t	 latency_le[ARC_LAT_BUCKETS];
	uint64_t	 latency_sum_ms;
	unsigned	 fails;		/* consecutive failures */
};

/* Upper bound of latency bucket k in ms; UINT64_MAX for the last. */
uint64_t	arc_lat_bound_ms(size_t k);
/* How many endpoints (conf->arc.endpoints); 0 for NULL. */
size_t		arc_client_endpoints(const struct arc_client *ac);
/*
 * Endpoint i (< arc_client_endpoints()) in config order (not the
 * shuffled polling order) into *out; strings borrowed from the conf.
 * Main thread (the loop that runs the client).
 */
void		arc_client_endpoint(const struct arc_client *ac, size_t i,
		    struct arc_ep_info *out);

/* ---- pure decision logic (exposed for tests) ------------------------ */

enum arc_class {
	ARC_CLASS_OK = 0,
	ARC_CLASS_ENDPOINT,	/* transport, 5xx, non-JSON, unavailable:
				   hold the endpoint, try the next at once */
	ARC_CLASS_THROTTLE,	/* hold max(retry-after, backoff), next */
	ARC_CLASS_AUTH,		/* refresh credentials, retry once */
	ARC_CLASS_CONFIG	/* AccessDenied, Validation, NotFound...:
				   report loudly, don't cycle endpoints */
};

const char	*arc_class_str(enum arc_class c);

/*
 * The error code of a __type value: everything through the last '#' is
 * dropped, then everything from the first ':'. Writes at most outsz bytes
 * (NUL included) to out.
 */
void	arc_error_code(const char *type, char *out, size_t outsz);

/*
 * Classify a finished transfer. curl_result: CURLcode (non-zero: transport
 * failure); status: HTTP status; body/len: the reply; errtype and
 * retry_after: the X-Amzn-ErrorType and Retry-After headers (NULL: absent).
 * code (codesz bytes) receives the error code ("" on success, "transport"
 * or the status as text when there is no better name); *retry_after_s
 * the throttle advice in seconds (body retryAfterSeconds, else the
 * header; 0 if none).
 */
enum arc_class	arc_classify(int curl_result, long status, const char *body,
		    size_t len, const char *errtype, const char *retry_after,
		    char *code, size_t codesz, uint32_t *retry_after_s);

/*
 * The hold after the fails-th consecutive failure (fails >= 1): d =
 * min(max_ms, base_ms * 2^(fails-1)), jittered into [d/2, d] by rnd.
 */
uint64_t	arc_backoff_ms(unsigned fails, uint32_t base_ms,
		    uint32_t max_ms, uint32_t rnd);

/* What the scheduler knows about one endpoint. */
struct arc_ep_state {
	uint64_t	hold_until;	/* monotonic ms; 0: not held */
	uint64_t	throttle_until;	/* retry-after advice, monotonic ms */
	unsigned	fails;		/* consecutive failures */
	bool		tried;		/* already asked in this poll */
	bool		busy;		/* a request is in flight */
};

/*
 * The endpoint to ask next in order, starting at start and wrapping: the
 * first that is neither held at now, tried in this poll, nor busy. -1
 * when there is none.
 */
int		arc_next_endpoint(const struct arc_ep_state *eps, size_t n,
		    size_t start, uint64_t now);
/*
 * When no endpoint that is not held is left in a poll: the one to probe
 * anyway (one request per poll, so that the mirror is current again
 * within a poll interval of a recovery): the endpoint whose hold ends first,
 * never one held by a throttle (throttle_until > now), tried or busy. -1
 * when there is none.
 */
int		arc_probe_endpoint(const struct arc_ep_state *eps, size_t n,
		    uint64_t now);
/* When the next poll starts: last_start + interval, never before now. */
uint64_t	arc_next_poll_at(uint64_t last_start, uint32_t interval_ms,
		    uint64_t now);
/*
 * Should a second request start now? Yes when hedging is on
 * (hedge_after_ms > 0), exactly one request is in flight, it started at
 * least hedge_after_ms ago, and another endpoint is available.
 */
bool		arc_should_hedge(uint32_t hedge_after_ms, int in_flight,
		    uint64_t started, uint64_t now, bool other_available);
/*
 * Stale: no successful poll within stale_after_ms. last_ok 0 (never)
 * counts from since (the client's start).
 */
bool		arc_is_stale(uint64_t last_ok, uint64_t since, uint64_t now,
		    uint64_t stale_after_ms);

/* One decoded ListRoutingControls page (strings owned). */
struct arc_page {
	struct mirror_entry	*entries;
	size_t			 n;
	char			*next_token;	/* NULL on the last page */
};

/*
 * Decode a 200 body into *page (appending to entries already there, so a
 * poll can collect every page in one). RoutingControls must be an array;
 * entries without an ARN or with a state other than "On"/"Off" make the
 * page invalid. Returns 0, or ERR_PARSE with a new message in *errmsg
 * (page unchanged).
 */
int	arc_page_decode(const char *body, size_t len, struct arc_page *page,
	    char **errmsg) __attribute__((warn_unused_result));
/* Frees what the page owns and zeroes it. */
void	arc_page_fini(struct arc_page *page);

#endif
