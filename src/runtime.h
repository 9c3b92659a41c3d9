/*
 * runtime.h -- struct runtime: the only process-wide mutable state.
 *
 * It owns the event base of the main thread, the active configuration, the
 * zones loaded for it, the snapshot of answer tables the DNS workers read,
 * and the listener. Everything here runs on the main thread; the workers
 * only read the published table (dns/snapshot.h).
 *
 * Startup order (main.c): runtime_load() the config -> runtime_new() ->
 * runtime_bind() (sockets, before privileges are dropped) ->
 * runtime_start() (workers, signals, "ready:") -> runtime_run() ->
 * runtime_free().
 */
#ifndef RUNTIME_H
#define RUNTIME_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arc_client;
struct conf;
struct creds;
struct ctlsock;
struct curl_ev;
struct dns_listener;
struct http;
struct mirror;
struct notifier;
struct event;
struct event_base;
struct fences;
struct policy;
struct snapshot;
struct table;
struct zone;

/* What one config file gives: built off to the side, then swapped in. */
struct loaded {
	struct conf	*conf;
	struct zone	**zones;	/* one per conf zone block: the
					   zone files' static data */
	size_t		 nzones;
	struct policy	*policy;	/* records: -> answers, serials */
};

struct runtime {
	struct event_base	*base;
	char			*conf_path;
	struct loaded		 cur;		/* the table is in snap */
	struct snapshot		*snap;		/* struct table for workers */
	struct dns_listener	*dns;
	struct event		*sig_hup, *sig_term, *sig_int, *reclaim;
	unsigned		 reloads;
	/* ARC mirror (conf->arc.enabled): rebuilt on every reload */
	struct curl_ev		*curl;
	struct creds		*creds;
	struct mirror		*mirror;
	struct arc_client	*arc;
	struct notifier		*notifier;	/* NOTIFY to secondaries */
	struct http		*http;		/* server.http, or NULL */
	struct ctlsock		*ctl;		/* server.control, or NULL */
	struct event		*status;	/* copies the mirror's freshness */
	_Atomic uint64_t	 last_success_ms; /* read by CHAOS state.arcdns */
	unsigned		 rebuilds;
	struct fences		*fences;	/* fence state machines, or NULL */
	bool			 stale_withdraw; /* a fence withdraws: stale */
	bool			 fences_fed;	/* told a selection of this run */
	uint64_t		 started_ms;	/* wall clock */
	int			 lock_fd;	/* state-dir/arcdnsd.lock, or -1 */
};

/*
 * Load path: config, every zone file, the answer table. On failure
 * returns non-zero with a new message in *errmsg ("file:line:col: ..."),
 * and *out untouched.
 */
int	runtime_load(const char *path, struct loaded *out, char **errmsg)
	    __attribute__((warn_unused_result));
/* Free what runtime_load gave (NULL members are fine). */
void	runtime_unload(struct loaded *l);

/* A runtime for loaded (taken). Never fails (aborts on OOM). */
struct runtime	*runtime_new(const char *conf_path, struct loaded *loaded);
/* Bind the DNS sockets. Returns 0, or non-zero with *errmsg. */
int	runtime_bind(struct runtime *rt, char **errmsg)
	    __attribute__((warn_unused_result));
/* Publish the table, start workers, hook signals, log "ready:". */
int	runtime_start(struct runtime *rt, char **errmsg)
	    __attribute__((warn_unused_result));
/* Run the main loop until SIGTERM/SIGINT. */
void	runtime_run(struct runtime *rt);
/*
 * Reload the config file: all or nothing. Returns 0, or non-zero with
 * *errmsg, the old state still serving. Main thread only.
 */
int	runtime_reload(struct runtime *rt, char **errmsg)
	    __attribute__((warn_unused_result));
/* NULL-safe: stops the workers and frees everything. */
void	runtime_free(struct runtime *rt);

#endif
