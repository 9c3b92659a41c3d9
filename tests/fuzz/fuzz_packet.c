/*
 * fuzz_packet.c -- bytes -> answer_query() against a fixed table built
 * from tests/data/unit/answer.yaml (answer.zone, child.zone, lab.zone).
 *
 * Every input is asked from four clients (two views, no view, IPv6) over
 * UDP and TCP, and every response must pass fuzz_check_response(): the
 * right size for the transport, the question echoed, compression
 * pointers backwards to labels, counts that match the records.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "dns/answer.h"
#include "dns/table.h"
#include "fuzz_check.h"
#include "zone/zone.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf *conf;
static struct table *table;
static struct sockaddr_storage clients[4];
static uint8_t out[FUZZ_MAXMSG];

static void
cleanup(void)
{
	table_free(table);
	conf_free(conf);
}

static void
client(struct sockaddr_storage *ss, const char *text)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, text, &s6->sin6_addr) != 1)
			abort();
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, text, &s4->sin_addr) != 1)
			abort();
	}
}

static void
setup(void)
{
	struct zone **zones;
	char *err = NULL;

	if (conf_load(TEST_DATA_DIR "/unit/answer.yaml", &conf, &err) != 0) {
		fprintf(stderr, "fuzz_packet: %s\n", err);
		abort();
	}
	zones = calloc(conf->nzones, sizeof(*zones));
	if (zones == NULL)
		abort();
	for (size_t i = 0; i < conf->nzones; i++)
		if (zone_load(conf->zones[i].file, conf->zones[i].origin,
		    &zones[i], &err) != 0) {
			fprintf(stderr, "fuzz_packet: %s\n", err);
			abort();
		}
	if (table_build(conf, zones, &table, &err) != 0) {
		fprintf(stderr, "fuzz_packet: %s\n", err);
		abort();
	}
	for (size_t i = 0; i < conf->nzones; i++)
		zone_free(zones[i]);
	free(zones);
	client(&clients[0], "127.0.0.1");	/* view "default" */
	client(&clients[1], "127.0.0.2");	/* view "lab" */
	client(&clients[2], "192.0.2.7");	/* no view: REFUSED */
	client(&clients[3], "::1");		/* "default" over IPv6 */
	atexit(cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in;

	if (table == NULL)
		setup();
	/* An exact-size copy: ASan sees any read past the message. */
	in = malloc(size > 0 ? size : 1);
	if (in == NULL)
		abort();
	memcpy(in, data, size);
	for (size_t c = 0; c < 4; c++)
		for (int tcp = 0; tcp < 2; tcp++) {
			struct answer_info info;
			size_t outsize = tcp ? FUZZ_MAXMSG : 4096;
			size_t len = answer_query(table, in, size,
			    (const struct sockaddr *)&clients[c], tcp, out,
			    outsize, &info);

			if (len > outsize)
				abort();
			fuzz_check_response(in, size, out, len, tcp,
			    table_edns_size(table));
			/* The header holds the low 4 bits of the rcode. */
			if (len > 0 && (info.rcode & 0x0f) != (out[3] & 0x0f))
				fuzz_fail("answer_info rcode disagrees", 3);
		}
	free(in);
	return 0;
}
