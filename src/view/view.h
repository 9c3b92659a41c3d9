/*
 * view.h -- split horizon: which view a client address belongs to.
 *
 * A viewset is built from the config's views (in match order) and is
 * immutable afterwards; view_select() runs on the query path, so it does
 * no allocation and takes no lock. The first view with a matching prefix
 * wins, as in BIND's match-clients.
 */
#ifndef VIEW_VIEW_H
#define VIEW_VIEW_H

#include <stddef.h>
#include <sys/socket.h>

struct conf;
struct viewset;

/* New viewset from conf's views. conf is only read during the call. */
struct viewset	*viewset_new(const struct conf *conf);
/* NULL-safe. */
void		 viewset_free(struct viewset *vs);

size_t		 viewset_count(const struct viewset *vs);
/* Borrowed name of view i. */
const char	*viewset_name(const struct viewset *vs, size_t i);

/* Index of the first view matching client, or -1 when none does. */
int		 view_select(const struct viewset *vs,
		    const struct sockaddr *client);

#endif
