#include "dns/listen.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "conf/conf.h"
#include "dns/answer.h"
#include "dns/snapshot.h"
#include "dns/table.h"
#include "dns/wire.h"
#include "dns/xfr.h"
#include "log/log.h"
#include "util/clock.h"
#include "util/dname.h"
#include "util/netaddr.h"
#include "util/xalloc.h"

#define UDP_BATCH	32
#define UDP_INBUF	4096		/* larger queries are not queries */
#define UDP_OUTBUF	4096		/* >= the largest edns-buffer-size */
#define TCP_MAXQUERY	4096
#define TCP_OUTBUF	(2 + 65535)
#define ACCEPT_BURST	16
#define ACCEPT_PAUSE_MS	100
#define CMSG_BUFSIZE	64

struct dns_worker;

struct tcpconn {
	struct dns_worker	*w;
	int			 fd;
	bool			 in_use;
	struct event		*rev, *wev, *tev;
	struct sockaddr_storage	 peer;
	uint64_t		 last_active;	/* ms, monotonic */
	size_t			 inlen;
	size_t			 outlen, outoff;
	uint8_t			*heap;		/* instead of out: a zone
						   transfer being sent */
	struct tcpconn		*next_free;
	uint8_t			 in[2 + TCP_MAXQUERY];
	uint8_t			 out[TCP_OUTBUF];
};

/*
 * One UDP socket and the thread that serves it: a blocking recvmmsg()
 * (MSG_WAITFORONE) takes whatever has arrived, answers it in one batch and
 * sends it with one sendmmsg(); no poll in between, as gdnsd does.
 */
#define NSTATS (sizeof(struct dns_stats) / sizeof(uint64_t))
struct udpsock {
	struct dns_worker	*w;
	int			 fd;
	bool			 pktinfo;	/* bound to a wildcard address */
	size_t			 slot;		/* snapshot reader slot */
	pthread_t		 thread;
	bool			 running;
	_Atomic uint64_t	 stats[NSTATS];
	_Atomic uint64_t	 qm[DNS_QM_CELLS];	/* queries, listen.h */
	struct mmsghdr		 rmsg[UDP_BATCH], smsg[UDP_BATCH];
	struct iovec		 riov[UDP_BATCH], siov[UDP_BATCH];
	struct sockaddr_storage	 peer[UDP_BATCH];
	uint8_t			 rctl[UDP_BATCH][CMSG_BUFSIZE];
	uint8_t			 sctl[UDP_BATCH][CMSG_BUFSIZE];
	uint8_t			 inbuf[UDP_BATCH][UDP_INBUF];
	uint8_t			 outbuf[UDP_BATCH][UDP_OUTBUF];
};

struct tcplistener {
	struct dns_worker	*w;
	int			 fd;
	struct event		*ev;
};

struct dns_worker {
	struct dns_listener	*l;
	size_t			 idx;
	struct event_base	*base;
	pthread_t		 thread;
	bool			 running;
	struct udpsock		**udp;		/* one per listen address */
	struct tcplistener	*tcp;
	struct event		*accept_pause;
	struct tcpconn		*conns;
	size_t			 nconns;
	struct tcpconn		*free_conns;
	struct timeval		 idle;
	_Atomic uint64_t	 stats[NSTATS];	/* TCP side */
	_Atomic uint64_t	 qm[DNS_QM_CELLS];	/* TCP side */
};

struct dns_listener {
	struct snapshot		*snap;
	struct dns_worker	**workers;
	size_t			 nworkers;
	size_t			 naddrs;
	bool			 started;
	_Atomic bool		 stopping;	/* UDP threads: leave */
};

/* Counters: one writer (the thread), relaxed readers. */
#define STAT_INDEX(field) (offsetof(struct dns_stats, field) / sizeof(uint64_t))
static inline void
stat_add(_Atomic uint64_t *stats, size_t i, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&stats[i], memory_order_relaxed);

	atomic_store_explicit(&stats[i], v + n, memory_order_relaxed);
}
#define STAT_INC(w, field) stat_add((w)->stats, STAT_INDEX(field), 1)

static void
count_answer(_Atomic uint64_t *stats, _Atomic uint64_t *qm,
    const struct answer_info *info)
{
	if (info->dropped) {
		stat_add(stats, STAT_INDEX(dropped), 1);
		return;
	}
	stat_add(qm, dns_qm_cell(info->view, info->qtype, info->rcode), 1);
	if (info->rcode < 6)
		stat_add(stats, STAT_INDEX(rcode) + info->rcode, 1);
	else
		stat_add(stats, STAT_INDEX(badvers), 1);
	if (info->truncated)
		stat_add(stats, STAT_INDEX(truncated), 1);
}

/* --- UDP -------------------------------------------------------------------- */

/* Reply from the address the query came to (wildcard sockets). */
static void
set_reply_source(struct msghdr *rm, struct msghdr *sm, uint8_t *ctl)
{
	struct cmsghdr *c, *out;

	sm->msg_control = NULL;
	sm->msg_controllen = 0;
	for (c = CMSG_FIRSTHDR(rm); c != NULL; c = CMSG_NXTHDR(rm, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			sm->msg_control = ctl;
			sm->msg_controllen = CMSG_SPACE(sizeof(pi));
			out = CMSG_FIRSTHDR(sm);
			out->cmsg_level = IPPROTO_IP;
			out->cmsg_type = IP_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(out), &pi, sizeof(pi));
			return;
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi6_ifindex = 0;
			sm->msg_control = ctl;
			sm->msg_controllen = CMSG_SPACE(sizeof(pi));
			out = CMSG_FIRSTHDR(sm);
			out->cmsg_level = IPPROTO_IPV6;
			out->cmsg_type = IPV6_PKTINFO;
			out->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(out), &pi, sizeof(pi));
			return;
		}
	}
}

/* Answer the n messages received; send what has answers. */
static void
udp_answer(struct udpsock *us, int n)
{
	struct dns_listener *l = us->w->l;
	const struct table *t = snapshot_enter(l->snap, us->slot);
	struct answer_info info;
	int nsend = 0, sent = 0;

	for (int i = 0; i < n; i++) {
		struct msghdr *rm = &us->rmsg[i].msg_hdr;
		struct msghdr *sm = &us->smsg[nsend].msg_hdr;
		size_t len;

		if (t == NULL || (rm->msg_flags & MSG_TRUNC))
			continue;
		len = answer_query(t, us->inbuf[i], us->rmsg[i].msg_len,
		    (const struct sockaddr *)&us->peer[i], false,
		    us->outbuf[i], UDP_OUTBUF, &info);
		count_answer(us->stats, us->qm, &info);
		if (len == 0)
			continue;
		us->siov[nsend].iov_base = us->outbuf[i];
		us->siov[nsend].iov_len = len;
		memset(sm, 0, sizeof(*sm));
		sm->msg_name = &us->peer[i];
		sm->msg_namelen = rm->msg_namelen;
		sm->msg_iov = &us->siov[nsend];
		sm->msg_iovlen = 1;
		if (us->pktinfo)
			set_reply_source(rm, sm, us->sctl[nsend]);
		nsend++;
	}
	snapshot_leave(l->snap, us->slot);
	stat_add(us->stats, STAT_INDEX(udp_queries), (uint64_t)n);
	while (sent < nsend) {
		int r = sendmmsg(us->fd, us->smsg + sent,
		    (unsigned)(nsend - sent), 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_neterr(LOG_SRC_DNS, "sendmmsg: %s", strerror(errno));
			r = 1;		/* skip the one that failed */
		}
		sent += r;
	}
}

static void *
udp_main(void *arg)
{
	struct udpsock *us = arg;
	struct dns_listener *l = us->w->l;

	while (!atomic_load_explicit(&l->stopping, memory_order_relaxed)) {
		int n;

		for (int i = 0; i < UDP_BATCH; i++) {
			struct msghdr *m = &us->rmsg[i].msg_hdr;

			us->riov[i].iov_base = us->inbuf[i];
			us->riov[i].iov_len = UDP_INBUF;
			m->msg_name = &us->peer[i];
			m->msg_namelen = sizeof(us->peer[i]);
			m->msg_iov = &us->riov[i];
			m->msg_iovlen = 1;
			m->msg_control = us->pktinfo ? us->rctl[i] : NULL;
			m->msg_controllen = us->pktinfo ? CMSG_BUFSIZE : 0;
			m->msg_flags = 0;
		}
		/*
		 * Blocks for one, then takes what is there. No receive
		 * timeout (a timer armed at every wait): dns_listener_stop()
		 * wakes the thread with shutdown(SHUT_RD), after which this
		 * returns 0 and the loop sees the stop flag.
		 */
		n = recvmmsg(us->fd, us->rmsg, UDP_BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_neterr(LOG_SRC_DNS, "recvmmsg: %s",
				    strerror(errno));
			continue;
		}
		udp_answer(us, n);
	}
	return NULL;
}

/* --- TCP -------------------------------------------------------------------- */

static void
tcp_close(struct tcpconn *c)
{
	struct dns_worker *w = c->w;

	event_del(c->rev);
	event_del(c->wev);
	event_del(c->tev);
	close(c->fd);
	free(c->heap);
	c->heap = NULL;
	c->fd = -1;
	c->in_use = false;
	c->next_free = w->free_conns;
	w->free_conns = c;
}

static void tcp_process(struct tcpconn *c);

/* Write what is pending; false when the connection was closed. */
static bool
tcp_flush(struct tcpconn *c)
{
	const uint8_t *out = c->heap != NULL ? c->heap : c->out;

	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				/* Backpressure: stop reading until drained. */
				event_del(c->rev);
				event_add(c->wev, NULL);
				return true;
			}
			tcp_close(c);
			return false;
		}
		c->outoff += (size_t)n;
	}
	free(c->heap);
	c->heap = NULL;
	c->outlen = c->outoff = 0;
	return true;
}

static void
tcp_touch(struct tcpconn *c)
{
	c->last_active = clock_mono_ms();
	event_add(c->tev, &c->w->idle);
}

/*
 * An AXFR or IXFR of a zone the client's view transfers: the whole reply
 * stream goes to c->heap (the table may be gone once the caller leaves
 * the snapshot). False when it is no such query: answer_query() says
 * REFUSED or FORMERR.
 */
static bool
tcp_xfr(struct tcpconn *c, const struct table *t, size_t mlen)
{
	const struct sockaddr *peer = (const struct sockaddr *)&c->peer;
	uint8_t lname[DNAME_MAXLEN];
	char zone[DNAME_MAXLEN * 4 + 1], addr[80];
	const struct xfr *x;
	struct netaddr na;
	size_t llen;
	int view;

	if (!xfr_is_query(c->in + 2, mlen, lname, &llen))
		return false;
	view = table_view(t, peer);
	x = view < 0 ? NULL : table_xfr(t, view, lname, llen);
	if (x == NULL || xfr_reply(x, c->in + 2, mlen, peer,
	    (uint64_t)time(NULL), &c->heap, &c->outlen) != 0)
		return false;
	c->outoff = 0;
	if ((c->heap[5] & WIRE_RCODE_MASK) < 6)
		stat_add(c->w->stats, STAT_INDEX(rcode) + (c->heap[5] &
		    WIRE_RCODE_MASK), 1);
	stat_add(c->w->qm, dns_qm_cell(view, wire_get16(c->in + 2 +
	    WIRE_HDRLEN + llen), c->heap[5] & WIRE_RCODE_MASK), 1);
	dname_to_str(lname, zone, sizeof(zone));
	na.ss = c->peer;
	na.len = sizeof(c->peer);
	netaddr_format(&na, addr, sizeof(addr));
	if ((c->heap[5] & WIRE_RCODE_MASK) == WIRE_NOERROR)
		log_info(LOG_SRC_DNS, "xfr: %s serial %u to %s (%zu messages, "
		    "%zu bytes)", zone, xfr_serial(x), addr, xfr_messages(x),
		    c->outlen);
	else
		log_neterr(LOG_SRC_DNS, "xfr: %s to %s refused (rcode %u)",
		    zone, addr, c->heap[5] & WIRE_RCODE_MASK);
	return true;
}

/* Answer every complete query in the input buffer, in order. */
static void
tcp_process(struct tcpconn *c)
{
	struct dns_worker *w = c->w;

	while (c->outlen == 0 && c->inlen >= 2) {
		size_t mlen = wire_get16(c->in), len;
		struct answer_info info;
		const struct table *t;
		bool xfr;

		if (mlen < WIRE_HDRLEN || mlen > TCP_MAXQUERY) {
			log_debug(LOG_SRC_DNS, "tcp: message of %zu bytes, "
			    "closing", mlen);
			STAT_INC(w, dropped);
			tcp_close(c);
			return;
		}
		if (c->inlen < 2 + mlen)
			return;
		STAT_INC(w, tcp_queries);
		t = snapshot_enter(w->l->snap, w->idx);
		xfr = t != NULL && tcp_xfr(c, t, mlen);
		len = t == NULL || xfr ? 0 : answer_query(t, c->in + 2, mlen,
		    (const struct sockaddr *)&c->peer, true, c->out + 2,
		    TCP_OUTBUF - 2, &info);
		snapshot_leave(w->l->snap, w->idx);
		memmove(c->in, c->in + 2 + mlen, c->inlen - 2 - mlen);
		c->inlen -= 2 + mlen;
		if (xfr) {
			if (!tcp_flush(c))
				return;
			continue;
		}
		if (len == 0) {
			STAT_INC(w, dropped);
			tcp_close(c);		/* garbage: hang up */
			return;
		}
		count_answer(w->stats, w->qm, &info);
		wire_put16(c->out, (uint16_t)len);
		c->outlen = len + 2;
		c->outoff = 0;
		if (!tcp_flush(c))
			return;
	}
}

static void
tcp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcpconn *c = arg;
	ssize_t n;

	n = recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		tcp_close(c);
		return;
	}
	c->inlen += (size_t)n;
	tcp_touch(c);
	tcp_process(c);
}

static void
tcp_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcpconn *c = arg;

	if (!tcp_flush(c))
		return;
	tcp_touch(c);		/* sending a long transfer is not idle */
	if (c->outlen == 0) {
		event_del(c->wev);
		event_add(c->rev, NULL);
		tcp_process(c);
	}
}

static void
tcp_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcpconn *c = arg;

	STAT_INC(c->w, tcp_timeouts);
	tcp_close(c);
}

/*
 * Before a connection is shed, answer what it has already sent (RFC 7766
 * 6.2.3: a connection with a query in flight is not idle) and empty its
 * receive queue, so that close() sends a FIN after the answers rather than
 * a reset. True when it may be closed now.
 */
static bool
tcp_drain(struct tcpconn *c)
{
	for (int i = 0; i < 4 && c->in_use; i++) {
		ssize_t n = recv(c->fd, c->in + c->inlen,
		    sizeof(c->in) - c->inlen, MSG_DONTWAIT);

		if (n <= 0)
			break;
		c->inlen += (size_t)n;
		tcp_process(c);
	}
	return !c->in_use || c->outlen == 0;
}

#define SHED_TRIES 4

/*
 * A free connection slot. At the cap, the connection idle the longest is
 * closed for the new one, once what it sent is answered; a connection
 * still writing an answer is never cut. NULL when none can go.
 */
static struct tcpconn *
tcp_slot(struct dns_worker *w)
{
	struct tcpconn *c;

	for (int tries = 0; w->free_conns == NULL && tries < SHED_TRIES;
	    tries++) {
		struct tcpconn *oldest = NULL;

		for (size_t i = 0; i < w->nconns; i++) {
			c = &w->conns[i];
			if (c->in_use && c->outlen == 0 && (oldest == NULL ||
			    c->last_active < oldest->last_active))
				oldest = c;
		}
		if (oldest == NULL)
			break;
		if (!tcp_drain(oldest))
			continue;	/* busy writing: try the next one */
		if (oldest->in_use) {
			STAT_INC(w, tcp_shed);
			tcp_close(oldest);
		}
	}
	c = w->free_conns;
	if (c != NULL)
		w->free_conns = c->next_free;
	return c;
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_worker *w = arg;

	for (size_t i = 0; i < w->l->naddrs; i++)
		event_add(w->tcp[i].ev, NULL);
}

static void
tcp_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct tcplistener *tl = arg;
	struct dns_worker *w = tl->w;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		struct tcpconn *c;
		int fd;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};

				log_neterr(LOG_SRC_DNS, "accept: %s; pausing",
				    strerror(errno));
				for (size_t j = 0; j < w->l->naddrs; j++)
					event_del(w->tcp[j].ev);
				evtimer_add(w->accept_pause, &tv);
			}
			return;
		}
		c = tcp_slot(w);
		if (c == NULL) {
			close(fd);
			continue;
		}
		STAT_INC(w, tcp_accepted);
		c->fd = fd;
		c->in_use = true;
		c->peer = ss;
		c->inlen = c->outlen = c->outoff = 0;
		event_assign(c->rev, w->base, fd, EV_READ | EV_PERSIST,
		    tcp_read_cb, c);
		event_assign(c->wev, w->base, fd, EV_WRITE | EV_PERSIST,
		    tcp_write_cb, c);
		event_add(c->rev, NULL);
		tcp_touch(c);
	}
}

/* --- setup ------------------------------------------------------------------ */

static bool
is_wildcard(const struct netaddr *a)
{
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	const struct sockaddr_in6 *sin6 = (const void *)&a->ss;

	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

/*
 * Our workers share each address through SO_REUSEPORT (and, over UDP,
 * SO_REUSEADDR), which the kernel also grants to other processes: a
 * second daemon bound to the same address would silently take part of
 * the queries. So before binding, look in /proc/net for a socket bound to
 * exactly this address and port (over TCP: listening). A socket on
 * another address with the same port, such as a wildcard one or
 * systemd-resolved's 127.0.0.53, is no conflict: each address reaches
 * its own socket. Without /proc/net, nothing is known and nothing found.
 */
static bool
address_taken(const struct netaddr *a, int type)
{
	const char *path;
	char want[40], line[512], local[40];
	unsigned port;
	bool found = false;
	FILE *fp;

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&a->ss;

		/* the kernel prints the address word as it is in memory */
		snprintf(want, sizeof(want), "%08X",
		    (unsigned)sin->sin_addr.s_addr);
		port = ntohs(sin->sin_port);
		path = type == SOCK_DGRAM ? "/proc/net/udp" : "/proc/net/tcp";
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)&a->ss;
		uint32_t w[4];

		memcpy(w, &sin6->sin6_addr, sizeof(w));
		snprintf(want, sizeof(want), "%08X%08X%08X%08X", (unsigned)w[0],
		    (unsigned)w[1], (unsigned)w[2], (unsigned)w[3]);
		port = ntohs(sin6->sin6_port);
		path = type == SOCK_DGRAM ? "/proc/net/udp6" : "/proc/net/tcp6";
	}
	if ((fp = fopen(path, "re")) == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		unsigned p, st;

		if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %*s %x", local, &p,
		    &st) != 3)
			continue;
		found = p == port && strcasecmp(local, want) == 0 &&
		    (type == SOCK_DGRAM || st == 0x0A);	/* TCP_LISTEN */
	}
	fclose(fp);
	return found;
}

static int
open_socket(const struct netaddr *a, int type, char **errmsg)
{
	int fd, on = 1, err;
	char text[80];

	netaddr_format(a, text, sizeof(text));
	/* UDP sockets block: their thread waits in recvmmsg(). */
	fd = socket(a->ss.ss_family, type | SOCK_CLOEXEC |
	    (type == SOCK_STREAM ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
		goto fail;
	if (a->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) != 0)
		goto fail;
	if (type == SOCK_DGRAM && is_wildcard(a)) {
		if (a->ss.ss_family == AF_INET ? setsockopt(fd, IPPROTO_IP,
		    IP_PKTINFO, &on, sizeof(on)) : setsockopt(fd, IPPROTO_IPV6,
		    IPV6_RECVPKTINFO, &on, sizeof(on)))
			goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0)
		goto fail;
	if (type == SOCK_STREAM && listen(fd, 1024) != 0)
		goto fail;
	return fd;
fail:
	err = errno;
	*errmsg = xstrfmt("cannot listen on %s (%s): %s", text,
	    type == SOCK_DGRAM ? "udp" : "tcp", strerror(err));
	if (fd >= 0)
		close(fd);
	return -err;
}

static int
worker_init(struct dns_listener *l, struct dns_worker *w,
    const struct conf_server *srv, char **errmsg)
{
	size_t per = (srv->tcp_max_conn + l->nworkers - 1) / l->nworkers;

	w->base = event_base_new();
	if (w->base == NULL) {
		*errmsg = xstrdup("cannot create an event base");
		return -ENOMEM;
	}
	w->idle.tv_sec = srv->tcp_idle_ms / 1000;
	w->idle.tv_usec = (srv->tcp_idle_ms % 1000) * 1000;
	w->udp = xcalloc(l->naddrs, sizeof(*w->udp));
	w->tcp = xcalloc(l->naddrs, sizeof(*w->tcp));
	for (size_t i = 0; i < l->naddrs; i++) {
		w->udp[i] = xcalloc(1, sizeof(*w->udp[i]));
		w->udp[i]->fd = w->tcp[i].fd = -1;
	}
	for (size_t i = 0; i < l->naddrs; i++) {
		const struct netaddr *a = &srv->listen[i];
		struct udpsock *us = w->udp[i];
		int fd = open_socket(a, SOCK_DGRAM, errmsg);

		if (fd < 0)
			return fd;
		us->w = w;
		us->fd = fd;
		us->pktinfo = is_wildcard(a);
		/* Slot 0..nworkers-1: the TCP loops; then the UDP threads. */
		us->slot = l->nworkers + w->idx * l->naddrs + i;
		fd = open_socket(a, SOCK_STREAM, errmsg);
		if (fd < 0)
			return fd;
		w->tcp[i] = (struct tcplistener){w, fd, NULL};
		w->tcp[i].ev = event_new(w->base, fd, EV_READ | EV_PERSIST,
		    tcp_accept_cb, &w->tcp[i]);
		event_add(w->tcp[i].ev, NULL);
	}
	w->accept_pause = evtimer_new(w->base, accept_resume_cb, w);
	w->nconns = per == 0 ? 1 : per;
	/* calloc: pages of buffers stay untouched until a client comes. */
	w->conns = xcalloc(w->nconns, sizeof(*w->conns));
	for (size_t i = w->nconns; i-- > 0;) {
		struct tcpconn *c = &w->conns[i];

		c->w = w;
		c->fd = -1;
		c->rev = event_new(w->base, -1, 0, tcp_read_cb, c);
		c->wev = event_new(w->base, -1, 0, tcp_write_cb, c);
		c->tev = evtimer_new(w->base, tcp_timeout_cb, c);
		c->next_free = w->free_conns;
		w->free_conns = c;
	}
	return 0;
}

static void
worker_free(struct dns_listener *l, struct dns_worker *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nconns; i++) {
		struct tcpconn *c = &w->conns[i];

		if (c->in_use)
			close(c->fd);
		free(c->heap);
		event_free(c->rev);
		event_free(c->wev);
		event_free(c->tev);
	}
	free(w->conns);
	for (size_t i = 0; w->udp != NULL && i < l->naddrs; i++) {
		if (w->tcp[i].ev != NULL)
			event_free(w->tcp[i].ev);
		if (w->udp[i] != NULL && w->udp[i]->fd >= 0)
			close(w->udp[i]->fd);
		if (w->tcp[i].fd >= 0)
			close(w->tcp[i].fd);
		free(w->udp[i]);
	}
	free(w->udp);
	free(w->tcp);
	if (w->accept_pause != NULL)
		event_free(w->accept_pause);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w);
}

size_t
dns_listener_nreaders(const struct conf_server *srv)
{
	size_t workers = srv->workers == 0 ? 1 : srv->workers;

	return workers * (1 + srv->nlisten);
}

int
dns_listener_new(const struct conf_server *srv, struct snapshot *snap,
    struct dns_listener **out, char **errmsg)
{
	struct dns_listener *l = xcalloc(1, sizeof(*l));
	int ret = 0;

	if (evthread_use_pthreads() != 0) {
		*errmsg = xstrdup("libevent has no pthreads support");
		free(l);
		return -ENOSYS;
	}
	l->snap = snap;
	l->nworkers = srv->workers == 0 ? 1 : srv->workers;
	l->naddrs = srv->nlisten;
	l->workers = xcalloc(l->nworkers, sizeof(*l->workers));
	for (size_t i = 0; i < l->naddrs && ret == 0; i++) {
		static const int types[2] = {SOCK_DGRAM, SOCK_STREAM};

		for (size_t k = 0; k < 2 && ret == 0; k++) {
			char text[80];

			if (!address_taken(&srv->listen[i], types[k]))
				continue;
			netaddr_format(&srv->listen[i], text, sizeof(text));
			*errmsg = xstrfmt("cannot listen on %s (%s): %s (another "
			    "process has it)", text, k == 0 ? "udp" : "tcp",
			    strerror(EADDRINUSE));
			ret = -EADDRINUSE;
		}
	}
	for (size_t i = 0; i < l->nworkers && ret == 0; i++) {
		l->workers[i] = xcalloc(1, sizeof(*l->workers[i]));
		l->workers[i]->l = l;
		l->workers[i]->idx = i;
		ret = worker_init(l, l->workers[i], srv, errmsg);
	}
	if (ret != 0) {
		dns_listener_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

static void *
worker_main(void *arg)
{
	struct dns_worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

int
dns_listener_start(struct dns_listener *l)
{
	for (size_t i = 0; i < l->nworkers; i++) {
		struct dns_worker *w = l->workers[i];
		int err = pthread_create(&w->thread, NULL, worker_main, w);

		if (err != 0) {
			dns_listener_stop(l);
			return -err;
		}
		w->running = true;
		for (size_t j = 0; j < l->naddrs; j++) {
			err = pthread_create(&w->udp[j]->thread, NULL, udp_main,
			    w->udp[j]);
			if (err != 0) {
				dns_listener_stop(l);
				return -err;
			}
			w->udp[j]->running = true;
		}
	}
	l->started = true;
	return 0;
}

void
dns_listener_stop(struct dns_listener *l)
{
	atomic_store(&l->stopping, true);
	for (size_t i = 0; i < l->nworkers; i++) {
		struct dns_worker *w = l->workers[i];

		for (size_t j = 0; w != NULL && w->udp != NULL &&
		    j < l->naddrs; j++) {
			struct udpsock *us = w->udp[j];

			if (us == NULL || !us->running)
				continue;
			/* Wakes a blocked recvmmsg now, not at the timeout. */
			(void)shutdown(us->fd, SHUT_RD);
			pthread_join(us->thread, NULL);
			us->running = false;
		}
	}
	for (size_t i = 0; i < l->nworkers; i++)
		if (l->workers[i] != NULL && l->workers[i]->running)
			event_base_loopexit(l->workers[i]->base, NULL);
	for (size_t i = 0; i < l->nworkers; i++) {
		if (l->workers[i] != NULL && l->workers[i]->running) {
			pthread_join(l->workers[i]->thread, NULL);
			l->workers[i]->running = false;
		}
	}
	l->started = false;
}

void
dns_listener_free(struct dns_listener *l)
{
	if (l == NULL)
		return;
	dns_listener_stop(l);
	for (size_t i = 0; i < l->nworkers; i++)
		worker_free(l, l->workers[i]);
	free(l->workers);
	free(l);
}

void
dns_listener_stats(const struct dns_listener *l, struct dns_stats *out)
{
	uint64_t *sum = (uint64_t *)out;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < l->nworkers; i++) {
		const struct dns_worker *w = l->workers[i];

		for (size_t j = 0; j < NSTATS; j++) {
			sum[j] += atomic_load_explicit(&w->stats[j],
			    memory_order_relaxed);
			for (size_t k = 0; k < l->naddrs; k++)
				sum[j] += atomic_load_explicit(
				    &w->udp[k]->stats[j], memory_order_relaxed);
		}
	}
}

/* --- queries by view, qtype and rcode ----------------------------------------- */

static const char *const qm_qtypes[DNS_QM_QTYPES] = {
	"A", "AAAA", "CNAME", "MX", "NS", "SOA", "TXT", "SRV", "PTR", "DS",
	"ANY", "AXFR", "IXFR", "other"
};
static const uint16_t qm_qtype_codes[DNS_QM_QTYPES - 1] = {
	1, 28, 5, 15, 2, 6, 16, 33, 12, 43, 255, 252, 251
};
static const char *const qm_rcodes[DNS_QM_RCODES] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"NOTAUTH", "BADVERS", "other"
};

size_t
dns_qm_cell(int view, uint16_t qtype, uint16_t rcode)
{
	size_t v, q = DNS_QM_QTYPES - 1, r;

	v = view < 0 ? DNS_QM_VIEW_NONE : view >= DNS_QM_MAXVIEWS ?
	    DNS_QM_VIEW_OTHER : (size_t)view;
	for (size_t i = 0; i < DNS_QM_QTYPES - 1; i++)
		if (qm_qtype_codes[i] == qtype)
			q = i;
	r = rcode <= WIRE_REFUSED ? rcode : rcode == 9 /* NOTAUTH */ ? 6 :
	    rcode == WIRE_BADVERS ? 7 : DNS_QM_RCODES - 1;
	return (v * DNS_QM_QTYPES + q) * DNS_QM_RCODES + r;
}

const char *
dns_qm_qtype_name(size_t bucket)
{
	return bucket < DNS_QM_QTYPES ? qm_qtypes[bucket] : NULL;
}

const char *
dns_qm_rcode_name(size_t bucket)
{
	return bucket < DNS_QM_RCODES ? qm_rcodes[bucket] : NULL;
}

void
dns_listener_queries(const struct dns_listener *l, bool tcp, uint64_t *out)
{
	memset(out, 0, DNS_QM_CELLS * sizeof(*out));
	for (size_t i = 0; i < l->nworkers; i++) {
		const struct dns_worker *w = l->workers[i];

		for (size_t k = 0; k < (tcp ? 1 : l->naddrs); k++) {
			const _Atomic uint64_t *qm = tcp ? w->qm :
			    w->udp[k]->qm;

			for (size_t j = 0; j < DNS_QM_CELLS; j++)
				out[j] += atomic_load_explicit(&qm[j],
				    memory_order_relaxed);
		}
	}
}
