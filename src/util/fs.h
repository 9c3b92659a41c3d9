/*
 * fs.h -- files that must survive a crash whole or not at all.
 */
#ifndef UTIL_FS_H
#define UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path with the len bytes at data, atomically: a temp file in the
 * same folder ("path.PID.tmp", mode), fsync, rename over path, fsync of
 * the folder. On failure the temp file is removed, path is unchanged (or,
 * if only the folder's fsync failed, already replaced), and -errno is
 * returned with a new message "file: reason" in *errmsg.
 */
int	fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, char **errmsg) __attribute__((warn_unused_result));

/* The folder part of path as a new string: "." without a '/', "/" at the root. */
char	*fs_dirname(const char *path);

/* write(2) until done or an error (-errno); EINTR is retried. */
int	fs_write_all(int fd, const void *data, size_t len)
	    __attribute__((warn_unused_result));

/*
 * Take an exclusive lock (flock) on path, created mode 0644 if need be,
 * and write this process's PID into it; the lock lasts as long as the
 * returned descriptor (kept across fork(), dropped by close() or exit).
 * Returns the descriptor, or -EWOULDBLOCK when another process holds the
 * lock (its PID, as the file says, in holder: at most holdersz - 1
 * characters, "" if unknown), or another -errno; on failure *errmsg is a
 * new "path: reason".
 */
int	fs_lock_pid(const char *path, char *holder, size_t holdersz,
	    char **errmsg) __attribute__((warn_unused_result));

#endif
