/*
 * main.c -- arcdnsd: argv, startup order, privilege drop, run loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "log/log.h"
#include "runtime.h"
#include "util/daemon.h"
#include "util/xalloc.h"

#define DEFAULT_CONF SYSCONFDIR "/arcdns/arcdns.yaml"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: arcdnsd [-fhtV] [-c file]\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "  -f, --foreground    stay in the foreground, log to stderr\n"
	    "  -t, --check         check the configuration and zones, exit\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this text\n", DEFAULT_CONF);
}

static int
drop_privileges(const char *user, char **errmsg)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		*errmsg = xstrfmt("server.user: no such user '%s'", user);
		return -1;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0;
	if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		*errmsg = xstrfmt("cannot become user '%s': %s", user,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_pid_file(const char *path, char **errmsg)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fprintf(fp, "%ld\n", (long)getpid()) < 0 ||
	    fclose(fp) != 0) {
		*errmsg = xstrfmt("pid-file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}


int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"foreground", no_argument, NULL, 'f'},
		{"check", no_argument, NULL, 't'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *path = DEFAULT_CONF;
	bool foreground = false, check = false;
	struct runtime *rt = NULL;
	struct loaded loaded;
	char *err = NULL;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:fhtV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 't':
			check = true;
			break;
		case 'V':
			printf("arcdnsd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "arcdnsd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 1;
	}
	log_setup("arcdnsd", LOG_FORMAT_TEXT, LOG_TARGET_STDERR,
	    LOG_LEVEL_INFO);
	if (runtime_load(path, &loaded, &err) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 1;
	}
	if (check) {
		printf("%s: OK\n", path);
		runtime_unload(&loaded);
		return 0;
	}
	log_setup("arcdnsd", loaded.conf->server.log_format,
	    foreground ? loaded.conf->server.log_target : LOG_TARGET_SYSLOG,
	    loaded.conf->server.log_level);
	rt = runtime_new(path, &loaded);
	if (runtime_bind(rt, &err) != 0)
		goto fatal;
	if (!foreground && daemon_detach(true, &err) != 0)
		goto fatal;
	if (rt->cur.conf->server.pid_file != NULL &&
	    write_pid_file(rt->cur.conf->server.pid_file, &err) != 0)
		goto fatal;
	if (rt->cur.conf->server.user != NULL &&
	    drop_privileges(rt->cur.conf->server.user, &err) != 0)
		goto fatal;
	if (runtime_start(rt, &err) != 0)
		goto fatal;
	runtime_run(rt);
	runtime_free(rt);
	log_notice(LOG_SRC_MAIN, "stopped");
	return 0;
fatal:
	log_err(LOG_SRC_MAIN, "%s", err);
	free(err);
	runtime_free(rt);
	return 1;
}
