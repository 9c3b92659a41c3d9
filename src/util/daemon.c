#include "util/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

int
daemon_detach(bool chdir_root, char **errmsg)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		*errmsg = xstrfmt("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() < 0) {
		*errmsg = xstrfmt("setsid: %s", strerror(errno));
		return -1;
	}
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (chdir_root && chdir("/") != 0) {
		*errmsg = xstrfmt("chdir /: %s", strerror(errno));
		return -1;
	}
	return 0;
}
