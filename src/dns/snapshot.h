/*
 * snapshot.h -- one immutable object shared by reader threads, replaced
 * by one writer without locks on the read side.
 *
 * The DNS workers read the current answer table through this: a reader
 * brackets its use with snapshot_enter()/snapshot_leave() (two atomic
 * stores and a load, no lock, no allocation). The writer (the main thread)
 * publishes a new object and retires the old one; snapshot_reclaim() frees
 * retired objects once every reader has either left or entered after the
 * swap. A reader that sleeps in epoll between events holds nothing.
 */
#ifndef DNS_SNAPSHOT_H
#define DNS_SNAPSHOT_H

#include <stddef.h>

struct snapshot;

/*
 * New snapshot for nreaders reader slots (0..nreaders-1), with free_fn to
 * destroy objects. Starts with no object (enter returns NULL).
 */
struct snapshot	*snapshot_new(size_t nreaders, void (*free_fn)(void *));
/* Frees the current and every retired object. No reader may be inside. */
void		 snapshot_free(struct snapshot *s);

/* Reader slot r: the current object, valid until snapshot_leave(s, r). */
void		*snapshot_enter(struct snapshot *s, size_t r);
void		 snapshot_leave(struct snapshot *s, size_t r);

/* Writer only: make obj (taken) current; the old one is retired. */
void		 snapshot_publish(struct snapshot *s, void *obj);
/* Writer only: the current object (borrowed). */
void		*snapshot_current(struct snapshot *s);
/* Writer only: free what no reader can see; returns how many remain. */
size_t		 snapshot_reclaim(struct snapshot *s);

#endif
