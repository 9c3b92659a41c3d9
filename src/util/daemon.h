/*
 * daemon.h -- leaving the terminal, for arcdnsd and arcsim without -f.
 */
#ifndef UTIL_DAEMON_H
#define UTIL_DAEMON_H

#include <stdbool.h>

/*
 * Fork (the parent exits 0), start a new session, point stdin, stdout and
 * stderr at /dev/null, and with chdir_root move to "/". Call before any
 * thread starts. Returns 0, or -1 with a new message in *errmsg.
 */
int	daemon_detach(bool chdir_root, char **errmsg)
	    __attribute__((warn_unused_result));

#endif
