/*
 * test_notify.c -- the NOTIFY sender (dns/notify.h) against a secondary
 * played by a loopback UDP socket on the same event base: it drops,
 * acknowledges (plain or TSIG-signed by ldns) or answers from the wrong
 * port, and the tests check tries, IDs, the replace rule and give-up.
 * Retry times are shortened to tens of milliseconds; every wait is
 * bounded.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "dns/notify.h"
#include "dns/wire.h"
#include "util/err.h"
#include "util/netaddr.h"

#define SECRET		"0123456789abcdef0123456789abcdef"
#define SECRET_B64	"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define ORIGIN		"\x03svc\x07" "example\x04test"
#define MAXMSG		32

static struct conf_key key = {
	.name = "xfr-key",
	.wire = (uint8_t *)"\x07xfr-key",
	.algorithm = "hmac-sha256",
	.secret = (uint8_t *)SECRET,
	.secret_len = sizeof(SECRET) - 1,
};

/* The secondary: a socket, and what it does with each NOTIFY. */
struct secondary {
	int			 fd;
	struct netaddr		 addr;
	struct event		*ev;
	unsigned		 drops;		/* ignore the first ones */
	bool			 never;		/* ignore all */
	bool			 sign;		/* TSIG-sign acks */
	bool			 unsigned_first; /* one unsigned ack first */
	size_t			 n;		/* NOTIFYs received */
	uint8_t			 msg[MAXMSG][512];
	size_t			 len[MAXMSG];
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	bool			 verified[MAXMSG];
};

static struct event_base *base;
static struct notifier *nt;
static struct event *tick;

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void
setup(void)
{
	struct timeval tv = {0, 5000};

	base = event_base_new();
	cr_assert_not_null(base);
	nt = notifier_new(base);
	/* Keeps the loop turning so that run() sees its deadline. */
	tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(tick, &tv);
}

static void
teardown(void)
{
	notifier_free(nt);
	event_free(tick);
	event_base_free(base);
}

TestSuite(notify, .init = setup, .fini = teardown);

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until done() or ms milliseconds have passed. */
static bool
run(bool (*done)(void *), void *arg, unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		if (done != NULL && done(arg))
			return true;
		event_base_loop(base, EVLOOP_ONCE);
	}
	return done != NULL && done(arg);
}

static bool
none_pending(void *arg)
{
	(void)arg;
	return notifier_pending(nt) == 0;
}

struct count_arg {
	struct secondary	*s;
	size_t			 n;
};

static bool
received(void *arg)
{
	struct count_arg *c = arg;

	return c->s->n >= c->n;
}

/* The answer to message i: header and question, QR set; maybe signed. */
static void
ack(struct secondary *s, size_t i, bool sign, int fd)
{
	size_t qend = WIRE_HDRLEN + sizeof(ORIGIN) + 4;
	uint8_t buf[512];
	size_t len = qend;

	memcpy(buf, s->msg[i], qend);
	buf[2] |= 0x80;
	memset(buf + 6, 0, 6);
	if (sign) {
		ldns_pkt *q = NULL, *a = NULL;
		uint8_t *w = NULL;
		ldns_rdf *mac;

		cr_assert_eq(ldns_wire2pkt(&q, s->msg[i], s->len[i]),
		    LDNS_STATUS_OK);
		mac = ldns_rr_rdf(ldns_pkt_tsig(q), 3);
		cr_assert_eq(ldns_wire2pkt(&a, buf, len), LDNS_STATUS_OK);
		cr_assert_eq(ldns_pkt_tsig_sign(a, "xfr-key.", SECRET_B64, 300,
		    "hmac-sha256.", mac), LDNS_STATUS_OK);
		cr_assert_eq(ldns_pkt2wire(&w, a, &len), LDNS_STATUS_OK);
		memcpy(buf, w, len);
		free(w);
		ldns_pkt_free(a);
		ldns_pkt_free(q);
	}
	cr_assert_eq(sendto(fd, buf, len, 0, (struct sockaddr *)&s->from,
	    s->fromlen), (ssize_t)len);
}

static void
secondary_cb(evutil_socket_t fd, short what, void *arg)
{
	struct secondary *s = arg;
	size_t i = s->n;
	ssize_t r;

	(void)what;
	cr_assert_lt(i, MAXMSG);
	s->fromlen = sizeof(s->from);
	r = recvfrom(fd, s->msg[i], sizeof(s->msg[i]), 0,
	    (struct sockaddr *)&s->from, &s->fromlen);
	if (r <= 0)
		return;
	s->len[i] = (size_t)r;
	s->n++;
	if (s->sign) {
		ldns_pkt *p = NULL;

		cr_assert_eq(ldns_wire2pkt(&p, s->msg[i], s->len[i]),
		    LDNS_STATUS_OK);
		s->verified[i] = ldns_pkt_tsig_verify(p, s->msg[i], s->len[i],
		    "xfr-key.", SECRET_B64, NULL);
		ldns_pkt_free(p);
	}
	if (s->never || s->n <= s->drops)
		return;
	if (s->unsigned_first) {
		s->unsigned_first = false;
		ack(s, i, false, fd);
	}
	ack(s, i, s->sign, fd);
}

static void
secondary_start(struct secondary *s)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->addr.ss;

	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(s->fd, 0);
	memset(&s->addr, 0, sizeof(s->addr));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->addr.len = sizeof(*sin);
	cr_assert_eq(bind(s->fd, (struct sockaddr *)sin, s->addr.len), 0);
	cr_assert_eq(getsockname(s->fd, (struct sockaddr *)sin, &s->addr.len),
	    0);
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, secondary_cb, s);
	event_add(s->ev, NULL);
}

static void
secondary_stop(struct secondary *s)
{
	event_free(s->ev);
	close(s->fd);
}

/* Message i is a NOTIFY for ORIGIN: opcode, AA, question SOA IN. */
static void
check_notify(const struct secondary *s, size_t i)
{
	ldns_pkt *p = NULL;
	ldns_rr *q;
	char *name;

	cr_assert_eq(ldns_wire2pkt(&p, s->msg[i], s->len[i]), LDNS_STATUS_OK);
	cr_expect_eq(ldns_pkt_get_opcode(p), LDNS_PACKET_NOTIFY);
	cr_expect(ldns_pkt_aa(p));
	cr_expect_not(ldns_pkt_qr(p));
	cr_assert_eq(ldns_pkt_qdcount(p), 1);
	q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	name = ldns_rdf2str(ldns_rr_owner(q));
	cr_expect_str_eq(name, "svc.example.test.");
	cr_expect_eq(ldns_rr_get_type(q), LDNS_RR_TYPE_SOA);
	cr_expect_eq(ldns_rr_get_class(q), LDNS_RR_CLASS_IN);
	free(name);
	ldns_pkt_free(p);
}

Test(notify, acknowledged_after_drops)
{
	struct secondary s = {.drops = 2};
	uint64_t start = now_ms();

	secondary_start(&s);
	notifier_set_timing(nt, 20, 1000, 8);
	/* The origin in another case: the NOTIFY says it in lower case. */
	notifier_send(nt, (const uint8_t *)"\x03SVC\x07" "example\x04TEST", 7,
	    &s.addr, 1, NULL);
	cr_expect_eq(notifier_pending(nt), 1);
	cr_assert(run(none_pending, NULL, 3000), "acknowledged");
	cr_expect_eq(s.n, 3, "%zu NOTIFYs", s.n);
	/* Retries at 20 ms, then 40 ms later. */
	cr_expect_geq(now_ms() - start, 50);	/* 20 + 40, timer slack */
	for (size_t i = 0; i < s.n; i++) {
		check_notify(&s, i);
		cr_expect_arr_eq(s.msg[i], s.msg[0], 2, "the same ID");
	}
	secondary_stop(&s);
}

Test(notify, gives_up)
{
	struct secondary s = {.never = true};

	secondary_start(&s);
	notifier_set_timing(nt, 10, 40, 4);
	notifier_send(nt, (const uint8_t *)ORIGIN, 7, &s.addr, 1, NULL);
	cr_assert(run(none_pending, NULL, 3000), "given up");
	cr_expect_eq(s.n, 4, "%zu tries", s.n);
	/* Nothing more comes. */
	run(NULL, NULL, 100);
	cr_expect_eq(s.n, 4);
	secondary_stop(&s);
}

Test(notify, newer_serial_replaces)
{
	struct secondary s = {.never = true};
	struct count_arg c = {&s, 1};

	secondary_start(&s);
	notifier_set_timing(nt, 5000, 5000, 8);
	notifier_send(nt, (const uint8_t *)ORIGIN, 7, &s.addr, 1, NULL);
	cr_assert(run(received, &c, 2000));
	notifier_send(nt, (const uint8_t *)ORIGIN, 8, &s.addr, 1, NULL);
	c.n = 2;
	cr_assert(run(received, &c, 2000));
	cr_expect_eq(notifier_pending(nt), 1, "replaced, not added");
	cr_expect_arr_neq(s.msg[0], s.msg[1], 2, "a new ID");
	/* An answer to the replaced NOTIFY settles nothing. */
	ack(&s, 0, false, s.fd);
	run(NULL, NULL, 100);
	cr_expect_eq(notifier_pending(nt), 1);
	ack(&s, 1, false, s.fd);
	cr_expect(run(none_pending, NULL, 2000));
	secondary_stop(&s);
}

Test(notify, answer_from_another_port_ignored)
{
	struct secondary s = {.never = true}, other = {.never = true};
	struct count_arg c = {&s, 1};

	secondary_start(&s);
	secondary_start(&other);
	notifier_set_timing(nt, 5000, 5000, 8);
	notifier_send(nt, (const uint8_t *)ORIGIN, 7, &s.addr, 1, NULL);
	cr_assert(run(received, &c, 2000));
	ack(&s, 0, false, other.fd);
	run(NULL, NULL, 100);
	cr_expect_eq(notifier_pending(nt), 1);
	ack(&s, 0, false, s.fd);
	cr_expect(run(none_pending, NULL, 2000));
	secondary_stop(&s);
	secondary_stop(&other);
}

Test(notify, tsig_signed_and_checked)
{
	struct secondary s = {.sign = true, .unsigned_first = true};

	secondary_start(&s);
	notifier_set_timing(nt, 2000, 2000, 8);
	notifier_send(nt, (const uint8_t *)ORIGIN, 7, &s.addr, 1, &key);
	cr_assert(run(none_pending, NULL, 1500), "the signed ack settles it");
	cr_expect_eq(s.n, 1, "no retry: the unsigned ack was ignored, the "
	    "signed one taken");
	cr_expect(s.verified[0], "ldns verifies our NOTIFY");
	check_notify(&s, 0);
	secondary_stop(&s);
}

Test(notify, tsig_unsigned_ack_not_enough)
{
	struct secondary s = {.never = true};
	struct count_arg c = {&s, 1};

	secondary_start(&s);
	notifier_set_timing(nt, 5000, 5000, 8);
	notifier_send(nt, (const uint8_t *)ORIGIN, 7, &s.addr, 1, &key);
	cr_assert(run(received, &c, 2000));
	ack(&s, 0, false, s.fd);
	run(NULL, NULL, 100);
	cr_expect_eq(notifier_pending(nt), 1);
	ack(&s, 0, true, s.fd);
	cr_expect(run(none_pending, NULL, 2000));
	secondary_stop(&s);
}

Test(notify, targets_independent)
{
	struct secondary a = {0}, b = {.never = true};
	struct netaddr t[2];
	struct count_arg c = {&b, 1};

	secondary_start(&a);
	secondary_start(&b);
	t[0] = a.addr;
	t[1] = b.addr;
	notifier_set_timing(nt, 5000, 5000, 8);
	notifier_send(nt, (const uint8_t *)ORIGIN, 7, t, 2, NULL);
	cr_expect_eq(notifier_pending(nt), 2);
	cr_assert(run(received, &c, 2000));
	run(NULL, NULL, 50);
	cr_expect_eq(a.n, 1);
	cr_expect_eq(notifier_pending(nt), 1, "b has not answered");
	/* Another zone to the same target is its own NOTIFY. */
	notifier_send(nt, (const uint8_t *)"\x05other\x04test", 3, &t[1], 1,
	    NULL);
	cr_expect_eq(notifier_pending(nt), 2);
	secondary_stop(&a);
	secondary_stop(&b);
}

Test(notify, ipv6_target)
{
	struct secondary s = {.drops = 1};
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s.addr.ss;

	s.fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	memset(&s.addr, 0, sizeof(s.addr));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	s.addr.len = sizeof(*sin6);
	if (s.fd < 0 || bind(s.fd, (struct sockaddr *)sin6, s.addr.len) != 0)
		cr_skip_test("no IPv6 loopback here");
	cr_assert_eq(getsockname(s.fd, (struct sockaddr *)sin6, &s.addr.len),
	    0);
	s.ev = event_new(base, s.fd, EV_READ | EV_PERSIST, secondary_cb, &s);
	event_add(s.ev, NULL);
	notifier_set_timing(nt, 20, 1000, 8);
	notifier_send(nt, (const uint8_t *)ORIGIN, 7, &s.addr, 1, NULL);
	cr_assert(run(none_pending, NULL, 3000), "acknowledged over IPv6");
	cr_expect_eq(s.n, 2);
	check_notify(&s, 1);
	secondary_stop(&s);
}

Test(notify, soa_in_the_answer)
{
	static const uint8_t ns[] = "\3ns1\3svc\7example\4test";
	struct secondary s = {.sign = true};
	uint8_t soa[2 * sizeof(ns) + 20] = {0};
	ldns_pkt *p = NULL;
	ldns_rr *rr;
	char *text;

	memcpy(soa, ns, sizeof(ns));
	memcpy(soa + sizeof(ns), ns, sizeof(ns));
	soa[2 * sizeof(ns) + 1] = 1;		/* serial 65536 + 2 */
	soa[2 * sizeof(ns) + 3] = 2;
	secondary_start(&s);
	notifier_set_timing(nt, 2000, 2000, 8);
	cr_expect_eq(notifier_send_soa(nt, (const uint8_t *)ORIGIN, 60, soa,
	    sizeof(soa) - 1, &s.addr, 1, &key), ERR_INVAL, "cut short");
	cr_expect_eq(notifier_pending(nt), 0);
	cr_assert_eq(notifier_send_soa(nt, (const uint8_t *)ORIGIN, 60, soa,
	    sizeof(soa), &s.addr, 1, &key), 0);
	cr_assert(run(none_pending, NULL, 1500));
	cr_expect(s.verified[0], "signed over the SOA too");
	check_notify(&s, 0);
	cr_assert_eq(ldns_wire2pkt(&p, s.msg[0], s.len[0]), LDNS_STATUS_OK);
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	rr = ldns_rr_list_rr(ldns_pkt_answer(p), 0);
	text = ldns_rr2str(rr);
	cr_expect_str_eq(text, "svc.example.test.\t60\tIN\tSOA\t"
	    "ns1.svc.example.test. ns1.svc.example.test. 65538 0 0 0 0\n");
	free(text);
	ldns_pkt_free(p);
	secondary_stop(&s);
}
