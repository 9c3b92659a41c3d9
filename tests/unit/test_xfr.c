/*
 * test_xfr.c -- zone transfer replies (dns/xfr.h) and TSIG (dns/tsig.h).
 *
 * A zone file written to a temporary folder is loaded with zone_load()
 * and transferred; every reply is split into its messages and parsed with
 * ldns, which is also the independent TSIG implementation: it signs the
 * requests and verifies every signed reply message (RFC 8945 5.3.1).
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "dns/answer.h"
#include "dns/table.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "dns/xfr.h"
#include "util/dname.h"
#include "util/err.h"
#include "util/netaddr.h"
#include "util/xalloc.h"
#include "zone/zone.h"

#define SECRET		"0123456789abcdef0123456789abcdef"
#define SECRET_B64	"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define NBULK		3000	/* A records: several messages */

static char tmpdir[64];
static char zonefile[128];
static struct zone *zone;
static struct conf_key key = {
	.name = "xfr-key",
	.wire = (uint8_t *)"\x07xfr-key",
	.algorithm = "hmac-sha256",
	.secret = (uint8_t *)SECRET,
	.secret_len = sizeof(SECRET) - 1,
};

static void
write_zone(size_t nbulk)
{
	FILE *f;

	snprintf(zonefile, sizeof(zonefile), "%s/x.zone", tmpdir);
	f = fopen(zonefile, "w");
	cr_assert_not_null(f);
	fprintf(f,
	    "$ORIGIN svc.example.test.\n"
	    "$TTL 300\n"
	    "@ IN SOA ns1 hostmaster 2024010101 3600 600 86400 60\n"
	    "@ IN NS ns1\n"
	    "@ IN NS ns2.other.test.\n"
	    "@ IN MX 10 mail\n"
	    "@ IN TXT \"v=spf1 -all\"\n"
	    "ns1 IN A 127.0.0.1\n"
	    "mail IN AAAA ::1\n"
	    "www IN CNAME api\n"
	    "api 5 IN A 10.0.1.10\n"
	    "api 5 IN A 10.0.1.11\n"
	    "*.wild IN TXT \"wild\"\n"
	    "child IN NS ns.child\n"
	    "ns.child IN A 192.0.2.53\n"
	    "deep.below.child IN A 192.0.2.54\n"
	    "srv._tcp IN SRV 0 5 443 api\n");
	for (size_t i = 0; i < nbulk; i++)
		fprintf(f, "host%zu IN A 10.%zu.%zu.%zu\n", i, i >> 16,
		    (i >> 8) & 255, i & 255);
	fclose(f);
}

static void
setup(void)
{
	char *err = NULL;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_xfr.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	write_zone(NBULK);
	cr_assert_eq(zone_load(zonefile, "svc.example.test.", &zone, &err), 0,
	    "%s", err);
}

static void
teardown(void)
{
	zone_free(zone);
	unlink(zonefile);
	rmdir(tmpdir);
}

TestSuite(xfr, .init = setup, .fini = teardown);

static struct netprefix
prefix(const char *s)
{
	struct netprefix p;

	cr_assert_eq(netprefix_parse(s, &p), 0, "%s", s);
	return p;
}

static struct sockaddr_storage
client(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s4->sin_family = AF_INET;
	s4->sin_port = htons(40000);
	cr_assert_eq(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	return ss;
}

static uint32_t ixfr_serial = 1;	/* the SOA an IXFR query carries */

/* A query built by ldns; signed with keyname/secret when not NULL. */
static uint8_t *
query(const char *qname, ldns_rr_type type, const char *keyname,
    const char *secret, size_t *len, ldns_rdf **mac)
{
	ldns_rdf *name = ldns_dname_new_frm_str(qname);
	ldns_pkt *p = ldns_pkt_query_new(name, type, LDNS_RR_CLASS_IN, 0);
	uint8_t *wire = NULL;

	ldns_pkt_set_id(p, 0x4242);
	if (type == LDNS_RR_TYPE_IXFR) {
		ldns_rr *soa = NULL;
		char text[160];

		snprintf(text, sizeof(text), "svc.example.test. 300 IN SOA "
		    "ns1.svc.example.test. h.svc.example.test. %u 1 1 1 1",
		    ixfr_serial);
		cr_assert_eq(ldns_rr_new_frm_str(&soa, text, 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, soa);
	}
	if (keyname != NULL) {
		cr_assert_eq(ldns_pkt_tsig_sign(p, keyname, secret, 300,
		    "hmac-sha256.", NULL), LDNS_STATUS_OK);
		if (mac != NULL)
			*mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(p), 3));
	}
	cr_assert_eq(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return wire;
}

struct reply {
	size_t		 n;
	ldns_pkt	*pkt[64];
	uint8_t		*wire[64];
	size_t		 len[64];
};

/* Split a length-prefixed stream into parsed messages. */
static void
split(const uint8_t *s, size_t len, struct reply *r)
{
	size_t pos = 0;

	memset(r, 0, sizeof(*r));
	while (pos < len) {
		size_t n;

		cr_assert_leq(pos + 2, len);
		n = wire_get16(s + pos);
		cr_assert_leq(pos + 2 + n, len);
		cr_assert_lt(r->n, 64);
		r->wire[r->n] = xmalloc(n);
		memcpy(r->wire[r->n], s + pos + 2, n);
		r->len[r->n] = n;
		cr_assert_eq(ldns_wire2pkt(&r->pkt[r->n], s + pos + 2, n),
		    LDNS_STATUS_OK, "message %zu does not parse", r->n);
		r->n++;
		pos += 2 + n;
	}
}

static void
reply_free(struct reply *r)
{
	for (size_t i = 0; i < r->n; i++) {
		ldns_pkt_free(r->pkt[i]);
		free(r->wire[i]);
	}
}

static void
transfer(const struct xfr *x, const uint8_t *q, size_t qlen,
    const char *from, uint64_t now, struct reply *r)
{
	struct sockaddr_storage ss = client(from);
	uint8_t *out = NULL;
	size_t outlen = 0;

	cr_assert_eq(xfr_reply(x, q, qlen, (struct sockaddr *)&ss, now, &out,
	    &outlen), 0);
	split(out, outlen, r);
	free(out);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every record of the zone file, as sorted text. */
static char **
file_records(size_t *n)
{
	FILE *f = fopen(zonefile, "r");
	ldns_zone *z = NULL;
	char **v;
	size_t cnt;

	cr_assert_eq(ldns_zone_new_frm_fp(&z, f, NULL, 300, LDNS_RR_CLASS_IN),
	    LDNS_STATUS_OK);
	fclose(f);
	cnt = ldns_rr_list_rr_count(ldns_zone_rrs(z)) + 1;
	v = xcalloc(cnt, sizeof(*v));
	v[0] = ldns_rr2str(ldns_zone_soa(z));
	for (size_t i = 1; i < cnt; i++)
		v[i] = ldns_rr2str(ldns_rr_list_rr(ldns_zone_rrs(z), i - 1));
	ldns_zone_deep_free(z);
	qsort(v, cnt, sizeof(*v), cmpstr);
	*n = cnt;
	return v;
}

/* Check a full transfer reply to query q (ID 0x4242, question qname). */
static void
check_full(const struct reply *r, const char *qname, ldns_rr_type qtype)
{
	size_t nfile, nrr = 0, k = 0;
	char **want = file_records(&nfile);
	char **got;
	ldns_rr *first = NULL, *last = NULL;

	for (size_t i = 0; i < r->n; i++)
		nrr += ldns_pkt_ancount(r->pkt[i]);
	got = xcalloc(nrr, sizeof(*got));
	for (size_t i = 0; i < r->n; i++) {
		ldns_pkt *p = r->pkt[i];
		ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
		char *qn = ldns_rdf2str(ldns_rr_owner(q));

		cr_expect_eq(ldns_pkt_id(p), 0x4242);
		cr_expect(ldns_pkt_qr(p));
		cr_expect(ldns_pkt_aa(p));
		cr_expect_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		cr_expect_eq(ldns_pkt_qdcount(p), 1);
		cr_expect_str_eq(qn, qname, "question echoed as sent");
		cr_expect_eq(ldns_rr_get_type(q), qtype);
		free(qn);
		cr_expect(ldns_pkt_ancount(p) > 0);
		cr_expect_eq(ldns_pkt_nscount(p), 0);
		/* Soft limit: a message is cut before it would pass it. */
		cr_expect_leq(r->len[i], XFR_MSG_SIZE + TSIG_RR_MAX);
		for (size_t j = 0; j < ldns_pkt_ancount(p); j++) {
			ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), j);

			if (first == NULL)
				first = rr;
			last = rr;
			got[k++] = ldns_rr2str(rr);
		}
	}
	cr_assert_not_null(first);
	cr_expect_eq(ldns_rr_get_type(first), LDNS_RR_TYPE_SOA);
	cr_expect_eq(ldns_rr_get_type(last), LDNS_RR_TYPE_SOA);
	cr_expect_str_eq(got[0], got[nrr - 1], "the same SOA first and last");
	/* The records between the SOAs are the zone file's, each once. */
	free(got[nrr - 1]);
	qsort(got, nrr - 1, sizeof(*got), cmpstr);
	cr_assert_eq(nrr - 1, nfile, "%zu records sent, %zu in the file",
	    nrr - 1, nfile);
	for (size_t i = 0; i < nfile; i++)
		cr_expect_str_eq(got[i], want[i]);
	for (size_t i = 0; i < nfile; i++) {
		free(got[i]);
		free(want[i]);
	}
	free(got);
	free(want);
}

Test(xfr, full_transfer_split_and_complete)
{
	struct netprefix acl = prefix("127.0.0.0/8");
	struct xfr *x = xfr_build(zone, &acl, 1, NULL);
	struct reply r;
	size_t qlen;
	uint8_t *q = query("SvC.Example.TEST.", LDNS_RR_TYPE_AXFR, NULL, NULL,
	    &qlen, NULL);

	cr_expect_eq(xfr_serial(x), 2024010101u);
	cr_expect_eq(xfr_records(x), NBULK + 15 + 1, "%zu", xfr_records(x));
	cr_expect_gt(xfr_messages(x), 2, "%zu messages", xfr_messages(x));
	transfer(x, q, qlen, "127.0.0.1", 1000, &r);
	cr_expect_eq(r.n, xfr_messages(x));
	check_full(&r, "SvC.Example.TEST.", LDNS_RR_TYPE_AXFR);
	/* Compression: far below the uncompressed size of 3000 A records
	 * with 30-byte owners. */
	cr_expect_lt(r.len[1], XFR_MSG_SIZE);
	reply_free(&r);
	free(q);
	xfr_free(x);
}

Test(xfr, ixfr_gets_the_full_transfer)
{
	struct netprefix acl = prefix("any");
	struct xfr *x = xfr_build(zone, &acl, 1, NULL);
	struct reply r;
	size_t qlen;
	uint8_t *q = query("svc.example.test.", LDNS_RR_TYPE_IXFR, NULL, NULL,
	    &qlen, NULL);

	transfer(x, q, qlen, "127.0.0.1", 1000, &r);
	check_full(&r, "svc.example.test.", LDNS_RR_TYPE_IXFR);
	reply_free(&r);
	free(q);
	xfr_free(x);
}

Test(xfr, small_zone_one_message)
{
	struct netprefix acl = prefix("127.0.0.1");
	struct xfr *x;
	struct reply r;
	size_t qlen;
	uint8_t *q;
	char *err = NULL;

	zone_free(zone);
	write_zone(0);
	cr_assert_eq(zone_load(zonefile, "svc.example.test.", &zone, &err), 0,
	    "%s", err);
	x = xfr_build(zone, &acl, 1, NULL);
	cr_expect_eq(xfr_messages(x), 1);
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, NULL, NULL, &qlen,
	    NULL);
	transfer(x, q, qlen, "127.0.0.1", 1000, &r);
	cr_assert_eq(r.n, 1);
	check_full(&r, "svc.example.test.", LDNS_RR_TYPE_AXFR);
	reply_free(&r);
	free(q);
	xfr_free(x);
}

static void
check_error(const struct reply *r, ldns_pkt_rcode rcode, bool tsig,
    uint16_t tsig_error)
{
	ldns_pkt *p;

	cr_assert_eq(r->n, 1, "one message");
	p = r->pkt[0];
	cr_expect_eq(ldns_pkt_get_rcode(p), rcode, "rcode %d",
	    ldns_pkt_get_rcode(p));
	cr_expect_eq(ldns_pkt_id(p), 0x4242);
	cr_expect(ldns_pkt_qr(p));
	cr_expect_eq(ldns_pkt_qdcount(p), 1);
	cr_expect_eq(ldns_pkt_ancount(p), 0);
	if (!tsig) {
		cr_expect_null(ldns_pkt_tsig(p));
		return;
	}
	cr_assert_not_null(ldns_pkt_tsig(p));
	cr_expect_eq(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p), 5)),
	    tsig_error);
}

Test(xfr, acl_refused)
{
	struct netprefix acl[2] = {prefix("10.0.0.0/8"), prefix("::1/128")};
	struct xfr *x = xfr_build(zone, acl, 2, NULL);
	struct xfr *none = xfr_build(zone, NULL, 0, NULL);
	struct reply r;
	size_t qlen;
	uint8_t *q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, NULL, NULL,
	    &qlen, NULL);

	transfer(x, q, qlen, "127.0.0.1", 1000, &r);
	check_error(&r, LDNS_RCODE_REFUSED, false, 0);
	reply_free(&r);
	transfer(none, q, qlen, "127.0.0.1", 1000, &r);
	check_error(&r, LDNS_RCODE_REFUSED, false, 0);
	reply_free(&r);
	transfer(x, q, qlen, "10.9.8.7", 1000, &r);
	cr_expect_gt(r.n, 1);
	reply_free(&r);
	free(q);
	xfr_free(x);
	xfr_free(none);
}

Test(xfr, tsig_signed_every_message)
{
	struct netprefix acl = prefix("127.0.0.0/8");
	struct xfr *x = xfr_build(zone, &acl, 1, &key);
	ldns_rdf *mac = NULL;
	struct reply r;
	size_t qlen;
	uint8_t *q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, "xfr-key.",
	    SECRET_B64, &qlen, &mac);

	transfer(x, q, qlen, "127.0.0.1", (uint64_t)time(NULL), &r);
	cr_assert_gt(r.n, 1);
	for (size_t i = 0; i < r.n; i++) {
		ldns_rr *t = ldns_pkt_tsig(r.pkt[i]);

		cr_assert_not_null(t, "message %zu signed", i);
		cr_expect(ldns_pkt_tsig_verify_next(r.pkt[i], r.wire[i],
		    r.len[i], "xfr-key.", SECRET_B64, mac, i > 0),
		    "message %zu verifies", i);
		ldns_rdf_deep_free(mac);
		mac = ldns_rdf_clone(ldns_rr_rdf(t, 3));
	}
	ldns_rdf_deep_free(mac);
	/* The records are the same with the TSIGs taken off. */
	for (size_t i = 0; i < r.n; i++) {
		ldns_rr_free(ldns_pkt_tsig(r.pkt[i]));
		ldns_pkt_set_tsig(r.pkt[i], NULL);
	}
	check_full(&r, "svc.example.test.", LDNS_RR_TYPE_AXFR);
	reply_free(&r);
	free(q);
	xfr_free(x);
}

Test(xfr, tsig_errors)
{
	struct netprefix acl = prefix("127.0.0.0/8");
	struct xfr *x = xfr_build(zone, &acl, 1, &key);
	struct xfr *nokey = xfr_build(zone, &acl, 1, NULL);
	uint64_t now = (uint64_t)time(NULL);
	ldns_rdf *mac = NULL;
	struct reply r;
	size_t qlen;
	uint8_t *q;

	/* Unsigned: NOTAUTH, nothing to sign with. */
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, NULL, NULL, &qlen,
	    NULL);
	transfer(x, q, qlen, "127.0.0.1", now, &r);
	check_error(&r, LDNS_RCODE_NOTAUTH, false, 0);
	reply_free(&r);
	/* Outside the ACL, signed or not: REFUSED first. */
	transfer(x, q, qlen, "192.0.2.1", now, &r);
	check_error(&r, LDNS_RCODE_REFUSED, false, 0);
	reply_free(&r);
	free(q);

	/* Another key name: BADKEY, unsigned TSIG. */
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, "other-key.",
	    SECRET_B64, &qlen, NULL);
	transfer(x, q, qlen, "127.0.0.1", now, &r);
	check_error(&r, LDNS_RCODE_NOTAUTH, true, TSIG_BADKEY);
	cr_expect_eq(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(r.pkt[0]), 3)),
	    2, "no MAC");
	reply_free(&r);
	/* A signed query for a zone without a key: BADKEY too. */
	transfer(nokey, q, qlen, "127.0.0.1", now, &r);
	check_error(&r, LDNS_RCODE_NOTAUTH, true, TSIG_BADKEY);
	reply_free(&r);
	free(q);

	/* Wrong secret: BADSIG. */
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, "xfr-key.",
	    "b3RoZXIgc2VjcmV0", &qlen, NULL);
	transfer(x, q, qlen, "127.0.0.1", now, &r);
	check_error(&r, LDNS_RCODE_NOTAUTH, true, TSIG_BADSIG);
	reply_free(&r);
	free(q);

	/* Our clock 20 minutes ahead: BADTIME, signed, our time inside. */
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, "xfr-key.",
	    SECRET_B64, &qlen, &mac);
	transfer(x, q, qlen, "127.0.0.1", now + 1200, &r);
	check_error(&r, LDNS_RCODE_NOTAUTH, true, TSIG_BADTIME);
	cr_expect(ldns_pkt_tsig_verify(r.pkt[0], r.wire[0], r.len[0],
	    "xfr-key.", SECRET_B64, mac), "BADTIME reply is signed");
	cr_expect_eq(ldns_rdf_size(ldns_rr_rdf(ldns_pkt_tsig(r.pkt[0]), 6)),
	    8, "other data: 48-bit time");
	reply_free(&r);
	/* The same query within the fudge: fine. */
	transfer(x, q, qlen, "127.0.0.1", now + 200, &r);
	cr_expect_gt(r.n, 1);
	cr_expect_eq(ldns_pkt_get_rcode(r.pkt[0]), LDNS_RCODE_NOERROR);
	reply_free(&r);
	ldns_rdf_deep_free(mac);
	free(q);
	xfr_free(x);
	xfr_free(nokey);
}

Test(xfr, malformed_tsig_formerr)
{
	struct netprefix acl = prefix("127.0.0.0/8");
	struct xfr *x = xfr_build(zone, &acl, 1, &key);
	struct reply r;
	size_t qlen;
	uint8_t *q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, "xfr-key.",
	    SECRET_B64, &qlen, NULL);

	/* Cut the TSIG short: its rdata runs past the end. */
	transfer(x, q, qlen - 3, "127.0.0.1", (uint64_t)time(NULL), &r);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(ldns_pkt_get_rcode(r.pkt[0]), LDNS_RCODE_FORMERR);
	reply_free(&r);
	free(q);
	xfr_free(x);
}

Test(xfr, is_query)
{
	uint8_t lname[DNAME_MAXLEN];
	size_t n = 0, qlen;
	uint8_t *q = query("SVC.example.test.", LDNS_RR_TYPE_IXFR, NULL, NULL,
	    &qlen, NULL);

	cr_expect(xfr_is_query(q, qlen, lname, &n));
	cr_expect_eq(n, 18);
	cr_expect_arr_eq(lname, "\x03svc\x07" "example\x04test", 18);
	cr_expect_not(xfr_is_query(q, 20, lname, &n));
	free(q);
	q = query("svc.example.test.", LDNS_RR_TYPE_SOA, NULL, NULL, &qlen,
	    NULL);
	cr_expect_not(xfr_is_query(q, qlen, lname, &n));
	free(q);
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, NULL, NULL, &qlen,
	    NULL);
	cr_expect(xfr_is_query(q, qlen, lname, &n));
	q[2] |= 0x80;		/* a response */
	cr_expect_not(xfr_is_query(q, qlen, lname, &n));
	free(q);
}

/* tsig.c on its own: what it signs, it verifies; and ldns agrees. */
Test(xfr, tsig_request_reply_roundtrip)
{
	struct tsig_ctx client, server;
	uint8_t msg[512];
	size_t len, qlen;
	uint8_t *q = query("svc.example.test.", LDNS_RR_TYPE_SOA, NULL, NULL,
	    &qlen, NULL);
	ldns_pkt *p = NULL;

	cr_assert_leq(qlen + TSIG_RR_MAX, sizeof(msg));
	memcpy(msg, q, qlen);
	tsig_init(&client, &key);
	len = tsig_sign(&client, msg, qlen, sizeof(msg), 5000);
	cr_assert_gt(len, qlen);
	cr_assert_eq(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
	cr_expect(ldns_pkt_tsig_verify(p, msg, len, "xfr-key.", SECRET_B64,
	    NULL));
	ldns_pkt_free(p);
	tsig_init(&server, &key);
	cr_expect_eq(tsig_verify(&server, msg, len, 5100), 0);
	/* The reply: signed over the request MAC, verified by the client. */
	msg[2] |= 0x80;
	wire_put16(msg + 10, 0);
	len = tsig_sign(&server, msg, qlen, sizeof(msg), 5101);
	cr_assert_gt(len, qlen);
	cr_expect_eq(tsig_verify(&client, msg, len, 5102), 0);
	/* One bit off: BADSIG. */
	tsig_init(&server, &key);
	msg[len - 20] ^= 1;
	cr_expect_eq(tsig_verify(&server, msg, len, 5102), ERR_INVAL);
	cr_expect_eq(server.error, TSIG_BADSIG);
	cr_expect(tsig_algorithm_known("HMAC-SHA512"));
	cr_expect(tsig_algorithm_known("hmac-md5.sig-alg.reg.int."));
	cr_expect_not(tsig_algorithm_known("hmac-sha3"));
	free(q);
}

/* --- answer.c: transfers over UDP, and where there is no transfer ------- */

static uint16_t
udp_rcode(const struct table *t, const uint8_t *q, size_t qlen, bool tcp,
    ldns_pkt **out)
{
	struct sockaddr_storage ss = client("127.0.0.1");
	uint8_t buf[4096];
	size_t n = answer_query(t, q, qlen, (struct sockaddr *)&ss, tcp, buf,
	    sizeof(buf), NULL);
	ldns_pkt *p = NULL;
	uint16_t rcode;

	cr_assert_gt(n, 0);
	cr_assert_eq(ldns_wire2pkt(&p, buf, n), LDNS_STATUS_OK);
	rcode = (uint16_t)ldns_pkt_get_rcode(p);
	if (out != NULL)
		*out = p;
	else
		ldns_pkt_free(p);
	return rcode;
}

Test(xfr, answer_paths)
{
	char path[160], other[160], *yaml, *err = NULL;
	struct conf *c = NULL;
	struct zone *zones[2];
	struct table *t = NULL;
	ldns_pkt *p = NULL;
	uint8_t *q;
	size_t qlen;
	FILE *f;

	snprintf(other, sizeof(other), "%s/other.zone", tmpdir);
	f = fopen(other, "w");
	cr_assert_not_null(f);
	fprintf(f, "$ORIGIN other.test.\n@ 60 IN SOA ns h 1 1 1 1 1\n"
	    "@ 60 IN NS ns\nns 60 IN A 127.0.0.1\n");
	fclose(f);
	yaml = xstrfmt("zones:\n"
	    "  - { id: a, origin: svc.example.test., file: %s,\n"
	    "      allow-transfer: [\"127.0.0.0/8\"] }\n"
	    "  - { id: b, origin: other.test., file: %s }\n", zonefile, other);
	snprintf(path, sizeof(path), "%s/c.yaml", tmpdir);
	cr_assert_eq(conf_load_string(path, yaml, strlen(yaml), &c, &err), 0,
	    "%s", err);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(zone_load(c->zones[i].file, c->zones[i].origin,
		    &zones[i], &err), 0, "%s", err);
	cr_assert_eq(table_build(c, zones, &t, &err), 0, "%s", err);
	cr_expect_not_null(table_xfr(t, 0, (const uint8_t *)
	    "\x03svc\x07" "example\x04test", 18));
	cr_expect_null(table_xfr(t, 0, (const uint8_t *)"\x05other\x04test",
	    12));

	/* UDP IXFR: the SOA alone (RFC 1995 4), question echoed. */
	q = query("svc.EXAMPLE.test.", LDNS_RR_TYPE_IXFR, NULL, NULL, &qlen,
	    NULL);
	cr_expect_eq(udp_rcode(t, q, qlen, false, &p), LDNS_RCODE_NOERROR);
	cr_expect(ldns_pkt_aa(p));
	cr_assert_eq(ldns_pkt_ancount(p), 1);
	cr_expect_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    LDNS_RR_TYPE_SOA);
	cr_expect_eq(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(p),
	    0)), LDNS_RR_TYPE_IXFR);
	ldns_pkt_free(p);
	free(q);
	/* Without its SOA in the authority section: FORMERR. */
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, NULL, NULL, &qlen,
	    NULL);
	q[qlen - 3] = (uint8_t)LDNS_RR_TYPE_IXFR;
	cr_expect_eq(udp_rcode(t, q, qlen, false, NULL), LDNS_RCODE_FORMERR);
	/* UDP AXFR: NOTIMP, as NSD answers. */
	q[qlen - 3] = (uint8_t)LDNS_RR_TYPE_AXFR;
	cr_expect_eq(udp_rcode(t, q, qlen, false, NULL), LDNS_RCODE_NOTIMPL);
	free(q);
	/* No allow-transfer: REFUSED over UDP and TCP. */
	q = query("other.test.", LDNS_RR_TYPE_IXFR, NULL, NULL, &qlen, NULL);
	cr_expect_eq(udp_rcode(t, q, qlen, false, NULL), LDNS_RCODE_REFUSED);
	cr_expect_eq(udp_rcode(t, q, qlen, true, NULL), LDNS_RCODE_REFUSED);
	free(q);
	q = query("other.test.", LDNS_RR_TYPE_AXFR, NULL, NULL, &qlen, NULL);
	cr_expect_eq(udp_rcode(t, q, qlen, true, NULL), LDNS_RCODE_REFUSED);
	free(q);

	table_free(t);
	zone_free(zones[0]);
	zone_free(zones[1]);
	conf_free(c);
	free(yaml);
	unlink(path);
	unlink(other);
}

/* An ARC-driven name whose state is unknown: no transfer, SERVFAIL. */
Test(xfr, unknown_state_not_transferred)
{
	static const uint8_t origin[] = "\3svc\7example\4test";
	static const uint8_t ns[] = "\3ns1\3svc\7example\4test";
	static const uint8_t api[] = "\3api\3svc\7example\4test";
	struct netprefix acl = prefix("127.0.0.0/8");
	uint8_t soa[2 * sizeof(ns) + 20] = {0};
	struct zone *z = zone_new(origin, NULL);
	struct xfr *x, *signd;
	ldns_rdf *mac = NULL;
	struct reply r;
	char *err = NULL;
	size_t qlen;
	uint8_t *q;

	memcpy(soa, ns, sizeof(ns));
	memcpy(soa + sizeof(ns), ns, sizeof(ns));
	soa[sizeof(soa) - 17] = 7;		/* serial 7 */
	cr_assert_eq(zone_add_rr(z, origin, LDNS_RR_TYPE_SOA, 60, soa,
	    sizeof(soa), 0, &err), 0, "%s", err);
	cr_assert_eq(zone_add_rr(z, origin, LDNS_RR_TYPE_NS, 60, ns,
	    sizeof(ns), 0, &err), 0, "%s", err);
	cr_assert_eq(zone_add_rr(z, ns, LDNS_RR_TYPE_A, 60,
	    (const uint8_t *)"\177\0\0\1", 4, 0, &err), 0, "%s", err);
	cr_assert_eq(zone_add_servfail(z, api, LDNS_RR_TYPE_A, &err), 0, "%s",
	    err);
	cr_assert_eq(zone_finish(z, &err), 0, "%s", err);
	x = xfr_build(z, &acl, 1, NULL);
	signd = xfr_build(z, &acl, 1, &key);
	zone_free(z);

	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, NULL, NULL, &qlen,
	    NULL);
	transfer(x, q, qlen, "127.0.0.1", 1000, &r);
	check_error(&r, LDNS_RCODE_SERVFAIL, false, 0);
	reply_free(&r);
	/* The ACL and the key still come first. */
	transfer(x, q, qlen, "192.0.2.1", 1000, &r);
	check_error(&r, LDNS_RCODE_REFUSED, false, 0);
	reply_free(&r);
	transfer(signd, q, qlen, "127.0.0.1", 1000, &r);
	check_error(&r, LDNS_RCODE_NOTAUTH, false, 0);
	reply_free(&r);
	free(q);
	/* Signed: a signed SERVFAIL. */
	q = query("svc.example.test.", LDNS_RR_TYPE_AXFR, "xfr-key.",
	    SECRET_B64, &qlen, &mac);
	transfer(signd, q, qlen, "127.0.0.1", (uint64_t)time(NULL), &r);
	check_error(&r, LDNS_RCODE_SERVFAIL, true, TSIG_NOERROR);
	cr_expect(ldns_pkt_tsig_verify(r.pkt[0], r.wire[0], r.len[0],
	    "xfr-key.", SECRET_B64, mac));
	reply_free(&r);
	ldns_rdf_deep_free(mac);
	free(q);
	xfr_free(x);
	xfr_free(signd);
}

/* RFC 1995 2: an IXFR from a secondary that is up to date: our SOA. */
Test(xfr, ixfr_up_to_date_gets_the_soa)
{
	static const struct {
		uint32_t	serial;
		bool		full;
	} cases[] = {
		{2024010101u, false},			/* equal */
		{2024010106u, false},			/* ahead */
		{2024010100u, true},			/* behind */
		{2024010101u + 0x80000001u, true},	/* behind, RFC 1982 */
		{2024010101u + 0x7fffffffu, false},	/* ahead, RFC 1982 */
	};
	struct netprefix acl = prefix("127.0.0.0/8");
	struct xfr *x = xfr_build(zone, &acl, 1, &key);
	size_t n = sizeof(cases) / sizeof(cases[0]);

	for (size_t i = 0; i < n; i++) {
		ldns_rdf *mac = NULL;
		struct reply r;
		size_t qlen;
		uint8_t *q;
		ldns_rr *soa;

		ixfr_serial = cases[i].serial;
		q = query("svc.example.test.", LDNS_RR_TYPE_IXFR, "xfr-key.",
		    SECRET_B64, &qlen, &mac);
		transfer(x, q, qlen, "127.0.0.1", (uint64_t)time(NULL), &r);
		if (cases[i].full) {
			cr_expect_eq(r.n, xfr_messages(x), "serial %u: full",
			    cases[i].serial);
		} else {
			cr_assert_eq(r.n, 1, "serial %u: one message",
			    cases[i].serial);
			cr_expect_eq(ldns_pkt_get_rcode(r.pkt[0]),
			    LDNS_RCODE_NOERROR);
			cr_expect(ldns_pkt_aa(r.pkt[0]));
			cr_assert_eq(ldns_pkt_ancount(r.pkt[0]), 1);
			soa = ldns_rr_list_rr(ldns_pkt_answer(r.pkt[0]), 0);
			cr_expect_eq(ldns_rr_get_type(soa), LDNS_RR_TYPE_SOA);
			cr_expect_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)),
			    2024010101u);
			cr_expect(ldns_pkt_tsig_verify(r.pkt[0], r.wire[0],
			    r.len[0], "xfr-key.", SECRET_B64, mac));
		}
		reply_free(&r);
		ldns_rdf_deep_free(mac);
		free(q);
	}
	cr_expect_eq(xfr_records(x), NBULK + 15 + 1, "the SOA-only message "
	    "is not counted");
	xfr_free(x);
}
