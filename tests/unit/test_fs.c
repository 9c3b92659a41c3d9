#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

static char dir[] = "/tmp/arcdns-test-fs-XXXXXX";

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

static char *
slurp(const char *path)
{
	static char buf[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int
entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

TestSuite(fs, .init = setup, .fini = teardown);

Test(fs, writes_then_replaces_without_leftovers)
{
	char path[256], *err = NULL;
	struct stat st;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	cr_assert_eq(fs_write_atomic(path, "one\n", 4, 0640, &err), 0, "%s",
	    err ? err : "");
	cr_expect_str_eq(slurp(path), "one\n");
	cr_assert_eq(fs_write_atomic(path, "second", 6, 0640, &err), 0);
	cr_expect_str_eq(slurp(path), "second");
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0640 & ~umask(022));
	cr_expect_eq(entries(), 1, "only the file itself, no temp file");
}

Test(fs, empty_content)
{
	char path[256], *err = NULL;

	snprintf(path, sizeof(path), "%s/empty", dir);
	cr_assert_eq(fs_write_atomic(path, "", 0, 0644, &err), 0);
	cr_expect_str_eq(slurp(path), "");
}

Test(fs, missing_folder_is_an_error_naming_the_file)
{
	char path[256], *err = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/no/such/file", dir);
	ret = fs_write_atomic(path, "x", 1, 0644, &err);
	cr_assert_eq(ret, -ENOENT);
	cr_assert_not_null(err);
	cr_expect(strstr(err, "/no/such/file.") != NULL, "%s", err);
	cr_expect(strstr(err, "No such file or directory") != NULL, "%s", err);
	free(err);
	cr_expect_eq(entries(), 0);
}

Test(fs, a_folder_in_the_way_keeps_it_and_leaves_no_temp)
{
	char path[256], *err = NULL;

	snprintf(path, sizeof(path), "%s/taken", dir);
	cr_assert_eq(mkdir(path, 0755), 0);
	cr_assert_lt(fs_write_atomic(path, "x", 1, 0644, &err), 0);
	cr_assert_not_null(err);
	free(err);
	cr_expect_eq(entries(), 1, "the folder, and no temp file");
}

Test(fs, write_all_to_a_pipe)
{
	int p[2];
	char buf[8] = {0};

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(fs_write_all(p[1], "abcdef", 6), 0);
	close(p[1]);
	cr_assert_eq(read(p[0], buf, sizeof(buf)), 6);
	cr_expect_str_eq(buf, "abcdef");
	close(p[0]);
	cr_expect_eq(fs_write_all(-1, "x", 1), -EBADF);
}

struct dircase {
	char	path[16], dir[16];	/* arrays: params are copied */
};

ParameterizedTestParameters(fs, dirname)
{
	static struct dircase cases[] = {
		{"file", "."}, {"/file", "/"}, {"/a/b/c", "/a/b"},
		{"a/b", "a"}, {"./x", "."}, {"/", "/"},
	};

	return cr_make_param_array(struct dircase, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dircase *c, fs, dirname)
{
	char *d = fs_dirname(c->path);

	cr_expect_str_eq(d, c->dir, "%s", c->path);
	free(d);
}

Test(fs, lock_pid_is_exclusive_names_the_holder_and_ends_with_close)
{
	char path[128], want[32], holder[32], *err = NULL;
	int fd, fd2;

	snprintf(path, sizeof(path), "%s/arcdnsd.lock", dir);
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	fd = fs_lock_pid(path, holder, sizeof(holder), &err);
	cr_assert_geq(fd, 0, "%s", err != NULL ? err : "");
	cr_assert_str_eq(slurp(path), want);
	/* flock() is per open file: a second open conflicts, even here */
	fd2 = fs_lock_pid(path, holder, sizeof(holder), &err);
	cr_assert_eq(fd2, -EWOULDBLOCK);
	want[strlen(want) - 1] = '\0';
	cr_assert_str_eq(holder, want);
	cr_assert_not_null(strstr(err, path));
	cr_assert_not_null(strstr(err, "locked by another process"), "%s", err);
	free(err);
	err = NULL;
	cr_assert_eq(strncmp(slurp(path), want, strlen(want)), 0,
	    "the loser leaves the holder's pid in place");
	close(fd);
	fd2 = fs_lock_pid(path, holder, sizeof(holder), &err);
	cr_assert_geq(fd2, 0, "free again after close: %s", err != NULL ? err : "");
	close(fd2);
}

Test(fs, lock_pid_in_a_missing_folder_is_an_error_naming_the_file)
{
	char path[128], holder[8], *err = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/no/such/arcdnsd.lock", dir);
	fd = fs_lock_pid(path, holder, sizeof(holder), &err);
	cr_assert_eq(fd, -ENOENT);
	cr_assert_str_eq(holder, "");
	cr_assert_not_null(err);
	cr_assert_not_null(strstr(err, path));
	free(err);
}
