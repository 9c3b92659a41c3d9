/*
 * curl_ev.h -- libcurl's multi interface driven by a libevent base.
 *
 * The pattern of curl's docs/examples/hiperfifo.c: CURLMOPT_SOCKETFUNCTION
 * keeps one event per socket (curl_multi_assign), CURLMOPT_TIMERFUNCTION
 * only re-arms one timer, and every event runs curl_multi_socket_action and
 * then drains curl_multi_info_read, calling each finished transfer's done
 * callback. Nothing blocks; everything runs on the loop of the base given.
 * Used by the ARC client and the credential providers.
 */
#ifndef ARC_CURL_EV_H
#define ARC_CURL_EV_H

#include <stdbool.h>

struct curl_ev;
struct event_base;
typedef void CURL;		/* as curl.h has it: keeps curl.h out */

/*
 * A transfer finished: result is its CURLcode (0 = the transfer completed,
 * whatever the HTTP status; read it with CURLINFO_RESPONSE_CODE). The easy
 * handle is already removed from the multi handle and belongs to the
 * caller again; the callback may free it or add it (or another) again.
 */
typedef void (*curl_ev_done_cb)(CURL *easy, int result, void *arg);

/* New driver on base (borrowed; must outlive it). Aborts on OOM. */
struct curl_ev	*curl_ev_new(struct event_base *base);
/* NULL-safe. Transfers still running are removed, without callbacks. */
void		 curl_ev_free(struct curl_ev *ce);

/*
 * Start easy (borrowed until its callback runs or curl_ev_cancel()).
 * Returns 0, or ERR_INVAL when curl refuses it.
 */
int	curl_ev_add(struct curl_ev *ce, CURL *easy, curl_ev_done_cb cb,
	    void *arg) __attribute__((warn_unused_result));

/* Stop a running transfer without calling its callback. */
void	curl_ev_cancel(struct curl_ev *ce, CURL *easy);

/* Transfers running now. */
int	curl_ev_running(const struct curl_ev *ce);

#endif
