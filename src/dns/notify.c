#include "dns/notify.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf/conf.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "log/log.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/xalloc.h"

#define OPCODE_NOTIFY	4
#define TYPE_SOA	6
#define CLASS_IN	1
#define SOA_RDATA_MAX	(2 * DNAME_MAXLEN + 20)
#define NOTIFY_MSG_MAX	(WIRE_HDRLEN + DNAME_MAXLEN + 4 + 12 + SOA_RDATA_MAX + \
			    TSIG_RR_MAX)
#define REPLY_MAX	4096

struct notifier;

/* One NOTIFY in flight: a (zone, target) pair. */
struct pending {
	struct notifier	*n;
	struct pending	*next;
	uint8_t		 origin[DNAME_MAXLEN];	/* lower case */
	size_t		 originlen;
	struct netaddr	 target;
	uint32_t	 serial;
	uint8_t		 soa[SOA_RDATA_MAX];	/* the answer section's */
	size_t		 soalen;		/* 0: none */
	uint32_t	 soattl;
	uint16_t	 id;
	unsigned	 tries;		/* sent so far */
	uint32_t	 wait_ms;	/* before the next try */
	uint8_t		 msg[NOTIFY_MSG_MAX];
	size_t		 len;
	/* With a key: the key (copy) and the state after signing. */
	struct conf_key	 key;
	bool		 signed_;
	struct tsig_ctx	 tsig;
	struct event	*timer;
};

struct notifier {
	struct event_base	*base;
	int			 fd[2];		/* AF_INET, AF_INET6 */
	struct event		*ev[2];
	struct pending		*list;
	uint32_t		 first_ms, max_ms;
	unsigned		 tries;
};

struct notifier *
notifier_new(struct event_base *base)
{
	struct notifier *n = xcalloc(1, sizeof(*n));

	n->base = base;
	n->fd[0] = n->fd[1] = -1;
	n->first_ms = NOTIFY_FIRST_MS;
	n->max_ms = NOTIFY_MAX_MS;
	n->tries = NOTIFY_TRIES;
	return n;
}

void
notifier_set_timing(struct notifier *n, uint32_t first_ms, uint32_t max_ms,
    unsigned tries)
{
	n->first_ms = first_ms;
	n->max_ms = max_ms;
	n->tries = tries == 0 ? 1 : tries;
}

static void
key_clear(struct conf_key *k)
{
	free(k->wire);
	free(k->algorithm);
	if (k->secret != NULL)
		memset(k->secret, 0, k->secret_len);
	free(k->secret);
	memset(k, 0, sizeof(*k));
}

static void
pending_free(struct pending *p)
{
	event_free(p->timer);
	if (p->signed_)
		key_clear(&p->key);
	free(p);
}

static void
pending_remove(struct notifier *n, struct pending *p)
{
	for (struct pending **pp = &n->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	pending_free(p);
}

void
notifier_free(struct notifier *n)
{
	if (n == NULL)
		return;
	while (n->list != NULL)
		pending_remove(n, n->list);
	for (int i = 0; i < 2; i++) {
		if (n->ev[i] != NULL)
			event_free(n->ev[i]);
		if (n->fd[i] >= 0)
			close(n->fd[i]);
	}
	free(n);
}

size_t
notifier_pending(const struct notifier *n)
{
	size_t c = 0;

	for (const struct pending *p = n->list; p != NULL; p = p->next)
		c++;
	return c;
}

static void
describe(const struct pending *p, char *zone, size_t zsize, char *addr,
    size_t asize)
{
	dname_to_str(p->origin, zone, zsize);
	netaddr_format(&p->target, addr, asize);
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	    memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* An answer: find its NOTIFY, check it, settle it. */
static void
handle_reply(struct notifier *n, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *from)
{
	char zone[DNAME_MAXLEN * 4 + 1], addr[80];
	struct pending *p;
	uint16_t flags, rcode;

	if (len < WIRE_HDRLEN)
		return;
	flags = wire_get16(buf + 2);
	if (!(flags & WIRE_QR) ||
	    (flags & WIRE_OPCODE_MASK) >> 11 != OPCODE_NOTIFY)
		return;
	for (p = n->list; p != NULL; p = p->next)
		if (p->id == wire_get16(buf) && same_addr(&p->target.ss, from))
			break;
	if (p == NULL)
		return;
	describe(p, zone, sizeof(zone), addr, sizeof(addr));
	if (p->signed_) {
		struct tsig_ctx ctx = p->tsig;	/* the request MAC */

		if (tsig_verify(&ctx, buf, len, (uint64_t)time(NULL)) != 0) {
			log_debug(LOG_SRC_DNS, "notify: %s serial %u: answer "
			    "from %s without a valid TSIG, ignored", zone,
			    p->serial, addr);
			return;
		}
	}
	rcode = flags & WIRE_RCODE_MASK;
	if (rcode == WIRE_NOERROR)
		log_info(LOG_SRC_DNS, "notify: %s serial %u acknowledged by "
		    "%s", zone, p->serial, addr);
	else
		log_notice(LOG_SRC_DNS, "notify: %s serial %u: %s answered "
		    "rcode %u, not retrying", zone, p->serial, addr, rcode);
	pending_remove(n, p);
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notifier *n = arg;
	uint8_t buf[REPLY_MAX];

	(void)what;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fromlen);

		if (r < 0)
			return;
		handle_reply(n, buf, (size_t)r, &from);
	}
}

/* The socket for family, opened on first use; -1 when it cannot be. */
static int
socket_for(struct notifier *n, int family)
{
	int i = family == AF_INET ? 0 : 1;

	if (n->fd[i] >= 0)
		return n->fd[i];
	n->fd[i] = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (n->fd[i] < 0) {
		log_warn(LOG_SRC_DNS, "notify: socket: %s", strerror(errno));
		return -1;
	}
	n->ev[i] = event_new(n->base, n->fd[i], EV_READ | EV_PERSIST, read_cb,
	    n);
	event_add(n->ev[i], NULL);
	return n->fd[i];
}

static void
transmit(struct pending *p)
{
	int fd = socket_for(p->n, p->target.ss.ss_family);
	struct timeval tv;

	if (fd >= 0 && sendto(fd, p->msg, p->len, 0,
	    (const struct sockaddr *)&p->target.ss, p->target.len) < 0) {
		char zone[DNAME_MAXLEN * 4 + 1], addr[80];

		describe(p, zone, sizeof(zone), addr, sizeof(addr));
		log_debug(LOG_SRC_DNS, "notify: %s to %s: %s", zone, addr,
		    strerror(errno));
	}
	p->tries++;
	tv.tv_sec = p->wait_ms / 1000;
	tv.tv_usec = (p->wait_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct notifier *n = p->n;

	(void)fd;
	(void)what;
	if (p->tries >= n->tries) {
		char zone[DNAME_MAXLEN * 4 + 1], addr[80];

		describe(p, zone, sizeof(zone), addr, sizeof(addr));
		log_notice(LOG_SRC_DNS, "notify: %s serial %u: no answer from "
		    "%s after %u tries, giving up", zone, p->serial, addr,
		    p->tries);
		pending_remove(n, p);
		return;
	}
	p->wait_ms = p->wait_ms * 2 > n->max_ms ? n->max_ms : p->wait_ms * 2;
	transmit(p);
}

static uint16_t
new_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)rand();
	return id;
}

/* The message: header, question, and a TSIG with a key. */
static void
build(struct pending *p)
{
	uint8_t *m = p->msg;
	size_t len = WIRE_HDRLEN;

	memset(m, 0, WIRE_HDRLEN);
	wire_put16(m, p->id);
	wire_put16(m + 2, (uint16_t)(OPCODE_NOTIFY << 11 | WIRE_AA));
	wire_put16(m + 4, 1);
	memcpy(m + len, p->origin, p->originlen);
	len += p->originlen;
	wire_put16(m + len, TYPE_SOA);
	wire_put16(m + len + 2, CLASS_IN);
	len += 4;
	if (p->soalen > 0) {
		/* The SOA, its owner a pointer to the question name. */
		wire_put16(m + 6, 1);
		wire_put16(m + len, 0xc000 | WIRE_HDRLEN);
		wire_put16(m + len + 2, TYPE_SOA);
		wire_put16(m + len + 4, CLASS_IN);
		wire_put16(m + len + 6, (uint16_t)(p->soattl >> 16));
		wire_put16(m + len + 8, (uint16_t)p->soattl);
		wire_put16(m + len + 10, (uint16_t)p->soalen);
		memcpy(m + len + 12, p->soa, p->soalen);
		len += 12 + p->soalen;
	}
	if (p->signed_) {
		tsig_init(&p->tsig, &p->key);
		len = tsig_sign(&p->tsig, m, len, sizeof(p->msg),
		    (uint64_t)time(NULL));
	}
	p->len = len;
}

static void
set_key(struct pending *p, const struct conf_key *key)
{
	if (p->signed_)
		key_clear(&p->key);
	p->signed_ = key != NULL && tsig_algorithm_known(key->algorithm);
	if (!p->signed_)
		return;
	size_t wl = dname_len(key->wire);

	p->key.wire = xmalloc(wl);
	memcpy(p->key.wire, key->wire, wl);
	p->key.algorithm = xstrdup(key->algorithm);
	p->key.secret = xmalloc(key->secret_len + 1);
	memcpy(p->key.secret, key->secret, key->secret_len);
	p->key.secret_len = key->secret_len;
}

static void
send_all(struct notifier *n, const uint8_t *origin_wire, uint32_t serial,
    const uint8_t *soa, size_t soalen, uint32_t ttl,
    const struct netaddr *targets, size_t ntargets,
    const struct conf_key *key)
{
	uint8_t origin[DNAME_MAXLEN];
	size_t olen = dname_len(origin_wire);

	dname_lower(origin, origin_wire, olen);
	for (size_t i = 0; i < ntargets; i++) {
		struct pending *p;

		for (p = n->list; p != NULL; p = p->next)
			if (p->originlen == olen &&
			    memcmp(p->origin, origin, olen) == 0 &&
			    same_addr(&p->target.ss, &targets[i].ss))
				break;
		if (p == NULL) {
			p = xcalloc(1, sizeof(*p));
			p->n = n;
			memcpy(p->origin, origin, olen);
			p->originlen = olen;
			p->target = targets[i];
			p->timer = evtimer_new(n->base, timer_cb, p);
			p->next = n->list;
			n->list = p;
		} else
			evtimer_del(p->timer);	/* replaced: a newer serial */
		p->serial = serial;
		if (soalen > 0)
			memcpy(p->soa, soa, soalen);
		p->soalen = soalen;
		p->soattl = ttl;
		p->id = new_id();
		p->tries = 0;
		p->wait_ms = n->first_ms;
		set_key(p, key);
		build(p);
		transmit(p);
	}
}

void
notifier_send(struct notifier *n, const uint8_t *origin_wire,
    uint32_t serial, const struct netaddr *targets, size_t ntargets,
    const struct conf_key *key)
{
	send_all(n, origin_wire, serial, NULL, 0, 0, targets, ntargets, key);
}

/* Length of the uncompressed name at rd[off..len), or 0. */
static size_t
soa_name(const uint8_t *rd, size_t len, size_t off)
{
	size_t start = off;

	for (;;) {
		uint8_t l;

		if (off >= len || rd[off] > DNAME_MAXLABEL)
			return 0;
		l = rd[off];
		off += 1 + (size_t)l;
		if (off > len || off - start > DNAME_MAXLEN)
			return 0;
		if (l == 0)
			return off - start;
	}
}

int
notifier_send_soa(struct notifier *n, const uint8_t *origin_wire,
    uint32_t ttl, const uint8_t *soa, size_t soalen,
    const struct netaddr *targets, size_t ntargets,
    const struct conf_key *key)
{
	size_t a = soa_name(soa, soalen, 0);
	size_t b = a == 0 ? 0 : soa_name(soa, soalen, a);
	uint32_t serial;

	if (b == 0 || a + b + 20 != soalen)
		return ERR_INVAL;
	serial = (uint32_t)wire_get16(soa + a + b) << 16 |
	    wire_get16(soa + a + b + 2);
	send_all(n, origin_wire, serial, soa, soalen, ttl, targets, ntargets,
	    key);
	return 0;
}
