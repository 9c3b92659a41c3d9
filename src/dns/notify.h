/*
 * notify.h -- NOTIFY (RFC 1996) to secondaries when a zone's serial moves.
 *
 * A notifier lives on one libevent base (the main thread's) and is used
 * from that thread only. notifier_send() queues one NOTIFY per target:
 * opcode NOTIFY, AA, the question "origin SOA IN" (and the SOA itself in
 * the answer section with notifier_send_soa()), a fresh ID, signed
 * with TSIG when a key is given (the same bytes are resent on every try,
 * so an answer to any try matches). It is resent after 1 s, 2 s, 4 s ...
 * (at most 30 s apart, 8 tries, about two minutes in all) until an answer
 * arrives from the target's address and port with the same ID, QR and
 * opcode NOTIFY (and, with a key, a TSIG that verifies over ours). A
 * newer serial for the same (zone, target) replaces the one in flight.
 *
 * One unconnected UDP socket per address family, opened on first use.
 * Logs: info when acknowledged, notice when a target gives up or answers
 * with an error. Nothing secret is logged.
 */
#ifndef DNS_NOTIFY_H
#define DNS_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct conf_key;
struct event_base;
struct netaddr;
struct notifier;

#define NOTIFY_FIRST_MS		1000	/* first retry after */
#define NOTIFY_MAX_MS		30000	/* longest wait between tries */
#define NOTIFY_TRIES		8

/* New notifier on base (borrowed: must outlive it). */
struct notifier	*notifier_new(struct event_base *base);
/* NULL-safe. Drops whatever is in flight. */
void		 notifier_free(struct notifier *n);

/*
 * Tell targets[0..ntargets) that the zone origin_wire (wire format, any
 * case) is at serial. Everything is copied: origin, targets and key (NULL:
 * unsigned). Sends at once; retries on the base's timers.
 */
void	notifier_send(struct notifier *n, const uint8_t *origin_wire,
	    uint32_t serial, const struct netaddr *targets, size_t ntargets,
	    const struct conf_key *key);

/*
 * The same, with the zone's SOA in the answer section (RFC 1996 3.7: a
 * secondary that has that serial already need not ask): soa is its
 * uncompressed rdata (soalen bytes, copied; the serial is read from it),
 * ttl its TTL. Returns 0, or ERR_INVAL (nothing sent) when soa is not an
 * SOA rdata.
 */
int	notifier_send_soa(struct notifier *n, const uint8_t *origin_wire,
	    uint32_t ttl, const uint8_t *soa, size_t soalen,
	    const struct netaddr *targets, size_t ntargets,
	    const struct conf_key *key) __attribute__((warn_unused_result));

/* NOTIFYs not yet acknowledged nor given up (for tests and stats). */
size_t	notifier_pending(const struct notifier *n);

/*
 * Tests: first retry after first_ms, waits doubling up to max_ms, tries
 * in all. Applies to NOTIFYs sent afterwards.
 */
void	notifier_set_timing(struct notifier *n, uint32_t first_ms,
	    uint32_t max_ms, unsigned tries);

#endif
