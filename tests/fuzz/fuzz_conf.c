/*
 * fuzz_conf.c -- bytes -> conf_load_string(): any text either loads into
 * a config (which then builds a viewset and compares equal to itself for
 * reload purposes) or fails with a "fuzz.yaml:..." message. Never a crash,
 * a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "view/view.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	char *err = NULL;
	int ret;

	ret = conf_load_string("fuzz.yaml", (const char *)data, size, &c,
	    &err);
	if (ret == 0) {
		struct viewset *vs;

		if (c == NULL || err != NULL || c->nviews == 0 ||
		    c->server.nlisten == 0)
			abort();
		vs = viewset_new(c);
		if (viewset_count(vs) != c->nviews)
			abort();
		viewset_free(vs);
		if (conf_restart_diff(c, c) != NULL)
			abort();
		conf_free(c);
	} else {
		if (c != NULL || err == NULL || ret >= 0 ||
		    strncmp(err, "fuzz.yaml", 9) != 0) {
			fprintf(stderr, "bad failure: %d %s\n", ret,
			    err != NULL ? err : "(no message)");
			abort();
		}
		free(err);
	}
	return 0;
}
