#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/xalloc.h"

int
fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

char *
fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* fsync the folder holding path, so that a rename into it is durable. */
static int
fsync_dir_of(const char *path)
{
	char *dir = fs_dirname(path);
	int fd, ret = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char **errmsg)
{
	char *tmp = xstrfmt("%s.%ld.tmp", path, (long)getpid());
	const char *what = tmp;
	int fd, ret;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = fs_write_all(fd, data, len);
	if (ret == 0 && fsync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -errno;
	if (ret == 0) {
		what = path;
		ret = fsync_dir_of(path);
	}
out:
	if (ret != 0) {
		*errmsg = xstrfmt("%s: %s", what, strerror(-ret));
		if (what == tmp)
			(void)unlink(tmp);
	}
	free(tmp);
	return ret;
}

int
fs_lock_pid(const char *path, char *holder, size_t holdersz, char **errmsg)
{
	char pid[32];
	ssize_t n;
	int fd, err;

	if (holdersz > 0)
		holder[0] = '\0';
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		err = -errno;
		*errmsg = xstrfmt("%s: %s", path, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		err = -errno;
		if (err == -EWOULDBLOCK && holdersz > 0) {
			n = pread(fd, holder, holdersz - 1, 0);
			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\r\n")] = '\0';
		}
		*errmsg = xstrfmt("%s: %s", path, err == -EWOULDBLOCK ?
		    "locked by another process" : strerror(-err));
		close(fd);
		return err;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	err = ftruncate(fd, 0) != 0 ? -errno :
	    fs_write_all(fd, pid, strlen(pid));
	if (err != 0) {
		*errmsg = xstrfmt("%s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}
