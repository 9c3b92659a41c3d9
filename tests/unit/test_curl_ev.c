/*
 * test_curl_ev.c -- curl multi on libevent against a loopback evhttp
 * server in the same base: transfers complete, a callback may start the
 * next one, a cancelled transfer never calls back, and freeing the driver
 * with transfers running is clean.
 */
#include "arc/curl_ev.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

struct fixture {
	struct event_base	*base;
	struct evhttp		*http;
	int			 port;
	int			 hung;		/* requests left unanswered */
	struct curl_ev		*ce;
};

static struct fixture F;

static void
ok_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "hello %s", evhttp_request_get_uri(req));
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
hang_cb(struct evhttp_request *req, void *arg)
{
	F.hung++;	/* never answered; evhttp_free closes it */
}

static void
setup(void)
{
	struct evhttp_bound_socket *s;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	memset(&F, 0, sizeof(F));
	F.base = event_base_new();
	F.http = evhttp_new(F.base);
	evhttp_set_cb(F.http, "/ok", ok_cb, NULL);
	evhttp_set_cb(F.http, "/hang", hang_cb, NULL);
	s = evhttp_bind_socket_with_handle(F.http, "127.0.0.1", 0);
	cr_assert_not_null(s);
	cr_assert_eq(getsockname(evhttp_bound_socket_get_fd(s),
	    (struct sockaddr *)&ss, &len), 0);
	F.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	F.ce = curl_ev_new(F.base);
}

static void
teardown(void)
{
	curl_ev_free(F.ce);
	evhttp_free(F.http);
	event_base_free(F.base);
	curl_global_cleanup();
}

struct result {
	int	 calls;
	int	 code;
	long	 status;
	char	 body[128];
	size_t	 len;
	int	 again;		/* re-add the handle this many times */
};

static size_t
write_cb(char *d, size_t size, size_t n, void *arg)
{
	struct result *r = arg;
	size_t k = size * n;

	if (r->len + k < sizeof(r->body)) {
		memcpy(r->body + r->len, d, k);
		r->len += k;
		r->body[r->len] = '\0';
	}
	return k;
}

static CURL *
easy_for(const char *path, struct result *r, long timeout_ms)
{
	CURL *e = curl_easy_init();
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", F.port, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	return e;
}

static void
done_cb(CURL *easy, int result, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->code = result;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->again > 0) {
		r->again--;
		r->len = 0;
		cr_assert_eq(curl_ev_add(F.ce, easy, done_cb, r), 0);
		return;
	}
	event_base_loopexit(F.base, NULL);
}

static void
run_for(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(F.base, &tv);
	event_base_dispatch(F.base);
}

TestSuite(curl_ev, .init = setup, .fini = teardown, .timeout = 20);

Test(curl_ev, transfer_completes)
{
	struct result r = {0};
	CURL *e = easy_for("/ok", &r, 5000);

	cr_assert_eq(curl_ev_add(F.ce, e, done_cb, &r), 0);
	cr_assert_eq(curl_ev_running(F.ce) >= 0, 1);
	run_for(5000);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.code, CURLE_OK);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "hello /ok");
	cr_assert_eq(curl_ev_running(F.ce), 0);
	curl_easy_cleanup(e);
}

Test(curl_ev, callback_adds_again_keepalive)
{
	struct result r = { .again = 3 };
	CURL *e = easy_for("/ok", &r, 5000);
	long conns = -1;

	cr_assert_eq(curl_ev_add(F.ce, e, done_cb, &r), 0);
	run_for(5000);
	cr_assert_eq(r.calls, 4);
	cr_assert_eq(r.code, CURLE_OK);
	cr_assert_str_eq(r.body, "hello /ok");
	curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
	cr_assert_eq(conns, 0, "the last transfer reused the connection");
	curl_easy_cleanup(e);
}

Test(curl_ev, parallel_transfers)
{
	struct result r[3] = {{0}};
	CURL *e[3];

	for (int i = 0; i < 3; i++) {
		e[i] = easy_for(i == 1 ? "/hang" : "/ok", &r[i], 300);
		cr_assert_eq(curl_ev_add(F.ce, e[i], done_cb, &r[i]), 0);
	}
	for (int k = 0; k < 10 && (r[0].calls + r[1].calls + r[2].calls) < 3;
	    k++)
		run_for(1000);
	cr_assert_eq(r[0].calls, 1);
	cr_assert_eq(r[2].calls, 1);
	cr_assert_eq(r[0].code, CURLE_OK);
	cr_assert_eq(r[1].calls, 1);
	cr_assert_eq(r[1].code, CURLE_OPERATION_TIMEDOUT, "timeout honoured");
	for (int i = 0; i < 3; i++)
		curl_easy_cleanup(e[i]);
}

Test(curl_ev, connection_refused)
{
	struct result r = {0};
	CURL *e = curl_easy_init();

	/* port 1 on loopback: nothing listens there */
	curl_easy_setopt(e, CURLOPT_URL, "http://127.0.0.1:1/");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
	cr_assert_eq(curl_ev_add(F.ce, e, done_cb, &r), 0);
	run_for(3000);
	cr_assert_eq(r.calls, 1);
	cr_assert_neq(r.code, CURLE_OK);
	curl_easy_cleanup(e);
}

Test(curl_ev, cancel_never_calls_back)
{
	struct result r = {0};
	CURL *e = easy_for("/hang", &r, 5000);

	cr_assert_eq(curl_ev_add(F.ce, e, done_cb, &r), 0);
	for (int k = 0; k < 50 && F.hung == 0; k++)
		run_for(20);
	cr_assert_eq(F.hung, 1, "the request reached the server");
	curl_ev_cancel(F.ce, e);
	curl_ev_cancel(F.ce, e);	/* twice is harmless */
	run_for(300);
	cr_assert_eq(r.calls, 0);
	cr_assert_eq(curl_ev_running(F.ce), 0);
	/* and the driver goes on */
	curl_easy_cleanup(e);
	e = easy_for("/ok", &r, 5000);
	cr_assert_eq(curl_ev_add(F.ce, e, done_cb, &r), 0);
	run_for(5000);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.status, 200);
	curl_easy_cleanup(e);
}

Test(curl_ev, free_with_running_transfers)
{
	struct result r[2] = {{0}};
	CURL *e[2];

	for (int i = 0; i < 2; i++) {
		e[i] = easy_for("/hang", &r[i], 5000);
		cr_assert_eq(curl_ev_add(F.ce, e[i], done_cb, &r[i]), 0);
	}
	for (int k = 0; k < 50 && F.hung < 2; k++)
		run_for(20);
	cr_assert_eq(F.hung, 2);
	curl_ev_free(F.ce);
	F.ce = NULL;
	run_for(100);
	cr_assert_eq(r[0].calls + r[1].calls, 0);
	for (int i = 0; i < 2; i++)
		curl_easy_cleanup(e[i]);
}
