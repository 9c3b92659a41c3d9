#include "view/view.h"

#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "util/netaddr.h"
#include "util/xalloc.h"

struct view_entry {
	char			*name;
	struct netprefix	*match;
	size_t			 nmatch;
};

struct viewset {
	struct view_entry	*views;
	size_t			 nviews;
};

struct viewset *
viewset_new(const struct conf *conf)
{
	struct viewset *vs = xcalloc(1, sizeof(*vs));

	vs->nviews = conf->nviews;
	vs->views = xcalloc(conf->nviews, sizeof(*vs->views));
	for (size_t i = 0; i < conf->nviews; i++) {
		const struct conf_view *cv = &conf->views[i];
		struct view_entry *v = &vs->views[i];

		v->name = xstrdup(cv->name);
		v->nmatch = cv->nmatch;
		v->match = xcalloc(cv->nmatch, sizeof(*v->match));
		memcpy(v->match, cv->match, cv->nmatch * sizeof(*v->match));
	}
	return vs;
}

void
viewset_free(struct viewset *vs)
{
	if (vs == NULL)
		return;
	for (size_t i = 0; i < vs->nviews; i++) {
		free(vs->views[i].name);
		free(vs->views[i].match);
	}
	free(vs->views);
	free(vs);
}

size_t
viewset_count(const struct viewset *vs)
{
	return vs->nviews;
}

const char *
viewset_name(const struct viewset *vs, size_t i)
{
	return vs->views[i].name;
}

int
view_select(const struct viewset *vs, const struct sockaddr *client)
{
	for (size_t i = 0; i < vs->nviews; i++) {
		const struct view_entry *v = &vs->views[i];

		for (size_t j = 0; j < v->nmatch; j++)
			if (netprefix_match(&v->match[j], client))
				return (int)i;
	}
	return -1;
}
