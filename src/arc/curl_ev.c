#include "arc/curl_ev.h"

#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "log/log.h"
#include "util/err.h"
#include "util/xalloc.h"

struct curl_ev {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;
	int			 running;
	struct xfer		*xfers;		/* every transfer added */
};

/* What curl_multi_assign keeps per socket. */
struct sockinfo {
	struct curl_ev		*ce;
	struct event		*ev;
};

/* What CURLOPT_PRIVATE keeps per transfer. */
struct xfer {
	CURL			*easy;
	curl_ev_done_cb		 cb;
	void			*arg;
	struct xfer		*prev, *next;
};

/* Forget x: take it off the list, out of the multi handle, and free it. */
static void
xfer_drop(struct curl_ev *ce, struct xfer *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		ce->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	(void)curl_multi_remove_handle(ce->multi, x->easy);
	(void)curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
	free(x);
}

static void
drain(struct curl_ev *ce)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(ce->multi, &left)) != NULL) {
		CURL *easy;
		CURLcode res;
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		res = msg->data.result;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		if (x != NULL) {
			curl_ev_done_cb cb = x->cb;
			void *arg = x->arg;

			xfer_drop(ce, x);
			cb(easy, (int)res, arg);
		} else
			(void)curl_multi_remove_handle(ce->multi, easy);
	}
}

static void
action(struct curl_ev *ce, curl_socket_t fd, int flags)
{
	CURLMcode rc = curl_multi_socket_action(ce->multi, fd, flags,
	    &ce->running);

	if (rc != CURLM_OK)
		log_warn(LOG_SRC_ARC, "curl_multi_socket_action: %s",
		    curl_multi_strerror(rc));
	drain(ce);
}

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct curl_ev *ce = arg;
	int flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	action(ce, fd, flags);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: only re-arms the timer, never calls curl. */
static int
timerfunc_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct curl_ev *ce = arg;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(ce->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(ce->timer, &tv);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one event per socket, kept by curl. */
static int
sockfunc_cb(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct curl_ev *ce = arg;
	struct sockinfo *si = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (si != NULL) {
			event_free(si->ev);
			free(si);
			(void)curl_multi_assign(ce->multi, fd, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (si == NULL) {
		si = xcalloc(1, sizeof(*si));
		si->ce = ce;
		(void)curl_multi_assign(ce->multi, fd, si);
	} else
		event_free(si->ev);
	si->ev = event_new(ce->base, fd, kind, event_cb, ce);
	event_add(si->ev, NULL);
	return 0;
}

struct curl_ev *
curl_ev_new(struct event_base *base)
{
	struct curl_ev *ce = xcalloc(1, sizeof(*ce));

	ce->base = base;
	ce->multi = curl_multi_init();
	if (ce->multi == NULL) {
		fprintf(stderr, "curl_multi_init failed\n");
		abort();
	}
	ce->timer = evtimer_new(base, timer_cb, ce);
	(void)curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION, sockfunc_cb);
	(void)curl_multi_setopt(ce->multi, CURLMOPT_SOCKETDATA, ce);
	(void)curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, timerfunc_cb);
	(void)curl_multi_setopt(ce->multi, CURLMOPT_TIMERDATA, ce);
	return ce;
}

void
curl_ev_cancel(struct curl_ev *ce, CURL *easy)
{
	struct xfer *x = NULL;

	(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (x != NULL)
		xfer_drop(ce, x);
}

void
curl_ev_free(struct curl_ev *ce)
{
	if (ce == NULL)
		return;
	while (ce->xfers != NULL)
		xfer_drop(ce, ce->xfers);
	(void)curl_multi_cleanup(ce->multi);
	event_free(ce->timer);
	free(ce);
}

int
curl_ev_add(struct curl_ev *ce, CURL *easy, curl_ev_done_cb cb, void *arg)
{
	struct xfer *x = xcalloc(1, sizeof(*x));

	x->easy = easy;
	x->cb = cb;
	x->arg = arg;
	if (curl_easy_setopt(easy, CURLOPT_PRIVATE, x) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_multi_add_handle(ce->multi, easy) != CURLM_OK) {
		(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return ERR_INVAL;
	}
	x->next = ce->xfers;
	if (ce->xfers != NULL)
		ce->xfers->prev = x;
	ce->xfers = x;
	return 0;
}

int
curl_ev_running(const struct curl_ev *ce)
{
	int n = 0;

	/* the list, not curl's count: that one lags behind a cancel */
	for (const struct xfer *x = ce->xfers; x != NULL; x = x->next)
		n++;
	return n;
}
