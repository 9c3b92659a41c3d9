/*
 * table.h -- precompiled answers: (view, name, type) -> response template.
 *
 * table_build() resolves every answer the configured zones can give, at
 * build time: exact names and types, NODATA, CNAME chains, referrals with
 * glue, wildcard synthesis, NXDOMAIN, CHAOS identity. Each answer is a
 * template: the answer, authority and additional sections in wire format,
 * ready to copy behind the client's own question. Only compression
 * pointers depend on the query (the question name's length), so a
 * template carries a short list of patches to apply while copying.
 *
 * A built table is immutable and shared by every worker thread; a reload
 * or an ARC change builds a new one and swaps the pointer (runtime.h).
 * table_lookup() does no allocation and takes no lock.
 */
#ifndef DNS_TABLE_H
#define DNS_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct conf;
struct mirror;
struct zone;
struct table;
struct xfr;

/*
 * A compression pointer to write at pos (offset in data) when the
 * template is copied into a response:
 * - TMPL_PATCH_INTERNAL set: to offset (val & 0x7fff) of the template
 *   itself, that is 12 + question length + val in the response;
 * - otherwise to the suffix of the question name that is val bytes long
 *   (TMPL_QNAME_FULL: the whole question name), that is
 *   12 + qname length - val.
 */
#define TMPL_PATCH_INTERNAL	0x8000
#define TMPL_QNAME_FULL		0x7fff

struct tmpl_patch {
	uint16_t	pos;
	uint16_t	val;
};

struct tmpl {
	uint16_t		 flags;	/* AA bit and RCODE (low 4 bits) */
	uint16_t		 an, ns, ar;
	uint16_t		 len;	/* bytes in data */
	uint16_t		 ar_off; /* where the additional section starts */
	uint16_t		 npatch;
	uint16_t		 npatch_noar; /* patches before ar_off */
	bool			 need_ar; /* glue that must not be dropped */
	/* then npatch patches, sorted by pos, then len bytes of data */
};

static inline const struct tmpl_patch *
tmpl_patches(const struct tmpl *t)
{
	return (const struct tmpl_patch *)(t + 1);
}

static inline const uint8_t *
tmpl_data(const struct tmpl *t)
{
	return (const uint8_t *)(tmpl_patches(t) + t->npatch);
}

/*
 * Build the table for conf, whose zone blocks i are zones[i] (finished,
 * borrowed only during the call). Returns 0 and a new table in *out, or
 * ERR_INVAL with a new message in *errmsg.
 */
int	table_build(const struct conf *conf, struct zone *const *zones,
	    struct table **out, char **errmsg)
	    __attribute__((warn_unused_result));
/* NULL-safe. Only once no thread can read t any more. */
void	table_free(struct table *t);

/* The view for a client address, or -1 (REFUSED). */
int	table_view(const struct table *t, const struct sockaddr *client);

/*
 * The template answering lname (lower-case wire, len bytes) and qtype in
 * view, or NULL when no zone of the view holds the name (REFUSED).
 * Borrowed from t.
 */
const struct tmpl	*table_lookup(const struct table *t, int view,
			    const uint8_t *lname, size_t len, uint16_t qtype);

/*
 * CHAOS class: the template for id.server., hostname.bind., version.bind.
 * and version.server., or NULL (REFUSED).
 */
const struct tmpl	*table_chaos(const struct table *t,
			    const uint8_t *lname, size_t len, uint16_t qtype);

/*
 * CHAOS TXT state.arcdns.: one string per control ("NAME On age=12s
 * endpoint=us-east-1", "NAME unknown"), one with the mirror's freshness
 * ("mirror fresh last-success=0.4s", "mirror stale ...", "mirror
 * never", "mirror off") and one "hash=<12 hex> controls=N" over the
 * local names and states only, so that instances mirroring the same
 * cluster with the same controls show the same hash.
 *
 * table_set_state() copies what it needs from m (NULL: no ARC mirror)
 * into t once, after table_build() and before t is published; freshness
 * is read live from *last_success_ms (wall-clock ms; owned by the caller
 * and outliving t) against stale_after_ms.
 */
void	table_set_state(struct table *t, const struct mirror *m,
	    const _Atomic uint64_t *last_success_ms, uint64_t stale_after_ms);
/*
 * More strings for state.arcdns, after the controls (the fences' phases);
 * copied. Like table_set_state(), before t is published.
 */
void	table_set_extra(struct table *t, const char *const *lines, size_t n);

/*
 * The 12 hex digits of the state hash that state.arcdns shows ("" before
 * table_set_state()); HTTP /v1/state shows the same. Borrowed from t.
 */
const char	*table_state_hash(const struct table *t);
/* Is lname (lower case, len bytes) "state.arcdns."? */
bool	table_is_state_name(const uint8_t *lname, size_t len);
/* May client read it (server.chaos-clients)? */
bool	table_state_allowed(const struct table *t,
	    const struct sockaddr *client);
/*
 * Write its TXT records (owner: a pointer to the question name, class CH,
 * TTL 0) at out, at most cap bytes, for the wall-clock time now_ms.
 * Returns the bytes written and the count in *count, or 0 when they do
 * not fit. No allocation (query path).
 */
size_t	table_state_rrs(const struct table *t, uint64_t now_ms, uint8_t *out,
	    size_t cap, uint16_t *count);

/*
 * The zone transfer of view's copy of the zone whose origin is lname
 * (lower case, len bytes), or NULL: no such zone in the view, or its
 * zone block has no allow-transfer (REFUSED). Borrowed from t.
 */
const struct xfr	*table_xfr(const struct table *t, int view,
			    const uint8_t *lname, size_t len);

/* Our largest UDP payload (server.edns-buffer-size). */
uint16_t	table_edns_size(const struct table *t);
/* Number of names indexed in view (for logs and tests). */
size_t		table_view_names(const struct table *t, int view);

#endif
