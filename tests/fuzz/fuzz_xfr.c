/*
 * fuzz_xfr.c -- bytes -> xfr_reply() (and so tsig_verify()) on a zone
 * transfer of tests/data/unit/answer.zone, with and without a TSIG key,
 * for a client inside and one outside the ACL; and bytes -> tsig_verify()
 * as the answer to a request we signed (NOTIFY's path).
 *
 * Every reply stream must be whole length-prefixed messages, each one
 * passing fuzz_check_response() as a TCP answer to the query.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "dns/tsig.h"
#include "dns/wire.h"
#include "dns/xfr.h"
#include "fuzz_check.h"
#include "util/dname.h"
#include "util/netaddr.h"
#include "zone/zone.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET	"0123456789abcdef0123456789abcdef"	/* the seeds' key */

static struct conf_key key = {
	.name = "xfr-key",
	.wire = (uint8_t *)"\x07xfr-key",
	.algorithm = "hmac-sha256",
	.secret = (uint8_t *)SECRET,
	.secret_len = sizeof(SECRET) - 1,
};
static struct xfr *xfrs[2];
static struct sockaddr_in clients[2];
static struct tsig_ctx notify_ctx;	/* after signing a request */

static void
cleanup(void)
{
	xfr_free(xfrs[0]);
	xfr_free(xfrs[1]);
}

static void
setup(void)
{
	struct netprefix acl;
	struct zone *z = NULL;
	char *err = NULL;
	uint8_t req[512] = {0x12, 0x34, 0x20, 0, 0, 1};
	size_t len = WIRE_HDRLEN;

	if (zone_load(TEST_DATA_DIR "/unit/answer.zone", "example.test.", &z,
	    &err) != 0) {
		fprintf(stderr, "fuzz_xfr: %s\n", err);
		abort();
	}
	if (netprefix_parse("127.0.0.0/8", &acl) != 0)
		abort();
	xfrs[0] = xfr_build(z, &acl, 1, NULL);
	xfrs[1] = xfr_build(z, &acl, 1, &key);
	zone_free(z);
	for (int i = 0; i < 2; i++) {
		clients[i].sin_family = AF_INET;
		if (inet_pton(AF_INET, i == 0 ? "127.0.0.1" : "192.0.2.1",
		    &clients[i].sin_addr) != 1)
			abort();
	}
	/* A NOTIFY-like request signed at a fixed time. */
	memcpy(req + len, "\7example\4test\0\0\6\0\1", 18);
	len += 18;
	tsig_init(&notify_ctx, &key);
	if (tsig_sign(&notify_ctx, req, len, sizeof(req), 1700000000) == 0)
		abort();
	atexit(cleanup);
}

static void
check_stream(const uint8_t *q, size_t qlen, const uint8_t *s, size_t len)
{
	size_t pos = 0;

	if (len == 0)
		fuzz_fail("empty reply", 0);
	while (pos < len) {
		size_t n;

		if (pos + 2 > len)
			fuzz_fail("length prefix cut", pos);
		n = wire_get16(s + pos);
		if (n < WIRE_HDRLEN || pos + 2 + n > len)
			fuzz_fail("message cut", pos);
		if (memcmp(s + pos + 2, q, 2) != 0)
			fuzz_fail("ID not echoed", pos);
		fuzz_check_response(q, qlen, s + pos + 2, n, true, 1232);
		pos += 2 + n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t lname[DNAME_MAXLEN], *in, *out;
	size_t llen, outlen;
	struct tsig_ctx ctx;

	if (xfrs[0] == NULL)
		setup();
	/* An exact-size copy: ASan sees any read past the message. */
	in = malloc(size > 0 ? size : 1);
	if (in == NULL)
		abort();
	memcpy(in, data, size);
	/* The caller's side of the contract: the name is the origin. */
	if (xfr_is_query(in, size, lname, &llen) &&
	    llen == dname_len(xfr_origin(xfrs[0])) &&
	    memcmp(lname, xfr_origin(xfrs[0]), llen) == 0) {
		for (int x = 0; x < 2; x++)
			for (int c = 0; c < 2; c++) {
				if (xfr_reply(xfrs[x], in, size,
				    (const struct sockaddr *)&clients[c],
				    1700000000, &out, &outlen) != 0)
					continue;
				check_stream(in, size, out, outlen);
				free(out);
			}
	}
	ctx = notify_ctx;
	if (tsig_verify(&ctx, in, size, 1700000000) == 0 &&
	    ctx.error != TSIG_NOERROR)
		fuzz_fail("verified with an error set", 0);
	free(in);
	return 0;
}
