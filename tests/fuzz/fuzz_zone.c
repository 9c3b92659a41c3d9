/*
 * fuzz_zone.c -- bytes -> zone file text -> zone_load() (through a
 * mkstemp file, since zone_load takes a path) for origin example.test.
 * A zone that loads is compiled into an answer table and asked a few
 * questions, whose responses must pass fuzz_check_response(); a zone that
 * does not load must say why, as "file:...".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "dns/answer.h"
#include "dns/table.h"
#include "fuzz_check.h"
#include "util/dname.h"
#include "zone/zone.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];
static struct conf *conf;
static uint8_t out[FUZZ_MAXMSG];

static void
cleanup(void)
{
	if (path[0] != '\0')
		(void)unlink(path);
	conf_free(conf);
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	static const char yaml[] =
	    "zones: [{ id: z, origin: example.test., file: fuzz.zone }]\n";
	char *err = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/fuzz-zone-XXXXXX",
	    tmp != NULL && strlen(tmp) < 200 ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	if (conf_load_string("fuzz.yaml", yaml, sizeof(yaml) - 1, &conf,
	    &err) != 0)
		abort();
	atexit(cleanup);
}

/* A query for name/type, answered from t and checked. */
static void
ask(const struct table *t, const char *name, uint16_t type, bool tcp)
{
	uint8_t q[512];
	size_t qlen = WIRE_HDRLEN, wl;
	struct sockaddr_in sin;
	size_t len;

	memset(q, 0, WIRE_HDRLEN);
	q[0] = 0xab;
	q[5] = 1;
	if (dname_from_str(name, NULL, q + qlen, &wl) != 0)
		abort();
	qlen += wl;
	wire_put16(q + qlen, type);
	wire_put16(q + qlen + 2, 1);
	qlen += 4;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(0x7f000001);
	len = answer_query(t, q, qlen, (const struct sockaddr *)&sin, tcp, out,
	    tcp ? FUZZ_MAXMSG : 4096, NULL);
	fuzz_check_response(q, qlen, out, len, tcp, table_edns_size(t));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"example.test.",
		"www.example.test.", "a.b.c.example.test.", "*.example.test.",
		"x.y.z.www.example.test.", "example.com."};
	static const uint16_t types[] = {1, 2, 5, 6, 15, 16, 28, 33, 43, 255};
	struct zone *z = NULL;
	struct table *t = NULL;
	char *err = NULL;
	FILE *fp;
	int ret;

	if (conf == NULL)
		setup();
	fp = fopen(path, "w");
	if (fp == NULL || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	ret = zone_load(path, "example.test.", &z, &err);
	if (ret != 0) {
		if (z != NULL || err == NULL ||
		    strncmp(err, path, strlen(path)) != 0) {
			fprintf(stderr, "bad failure: %d %s\n", ret,
			    err != NULL ? err : "(no message)");
			abort();
		}
		free(err);
		return 0;
	}
	if (z == NULL || err != NULL || !z->finished || zone_soa(z) == NULL)
		abort();
	if (table_build(conf, &z, &t, &err) == 0) {
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			for (size_t j = 0; j < sizeof(types) / sizeof(types[0]);
			    j++) {
				ask(t, names[i], types[j], false);
				ask(t, names[i], types[j], true);
			}
		table_free(t);
	} else
		free(err);
	zone_free(z);
	return 0;
}
