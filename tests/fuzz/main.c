/*
 * main.c -- replay driver for the fuzz targets when they are not built
 * with libFuzzer: feeds every file of the seed corpus to
 * LLVMFuzzerTestOneInput() and prints TAP, so that "make check" runs every
 * harness with gcc too (after CZ-NIC/knot's tests-fuzz/main.c).
 *
 * Usage: fuzz_<target> [FILE|DIR ...]. Without arguments it replays
 * FUZZ_CORPUS_DIR/<target>/, where <target> is the program name without
 * "fuzz_". A crash (abort, sanitizer report) ends the run: the TAP plan
 * is then not met and the test fails.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct files {
	char	**path;
	size_t	 n;
};

static void
add_file(struct files *f, const char *path)
{
	char **p = realloc(f->path, (f->n + 1) * sizeof(*f->path));

	if (p == NULL || (p[f->n] = strdup(path)) == NULL) {
		perror("replay");
		exit(1);
	}
	f->path = p;
	f->n++;
}

/* A file, or every file of a directory (sorted, dot files skipped). */
static int
collect(struct files *f, const char *path)
{
	struct dirent **ents;
	struct stat st;
	int n;

	if (stat(path, &st) != 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		add_file(f, path);
		return 0;
	}
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			size_t len = strlen(path) + strlen(ents[i]->d_name) + 2;
			char *full = malloc(len);

			if (full == NULL)
				exit(1);
			snprintf(full, len, "%s/%s", path, ents[i]->d_name);
			add_file(f, full);
			free(full);
		}
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static int
replay(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if (fp == NULL)
		return -1;
	for (;;) {
		size_t n;

		if (len == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (nb == NULL)
				exit(1);
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	fclose(fp);
	/* The exact size, so that over-reads are caught by ASan. */
	{
		uint8_t *exact = malloc(len > 0 ? len : 1);

		if (exact == NULL)
			exit(1);
		memcpy(exact, buf, len);
		free(buf);
		(void)LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct files f = {NULL, 0};
	const char *base = strrchr(argv[0], '/');
	int failed = 0;

	base = base != NULL ? base + 1 : argv[0];
	if (strncmp(base, "fuzz_", 5) == 0)
		base += 5;
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			if (collect(&f, argv[i]) != 0)
				return 1;
	} else {
		size_t len = strlen(FUZZ_CORPUS_DIR) + strlen(base) + 2;
		char *dir = malloc(len);

		if (dir == NULL)
			return 1;
		snprintf(dir, len, "%s/%s", FUZZ_CORPUS_DIR, base);
		if (collect(&f, dir) != 0)
			return 1;
		free(dir);
	}
	if (f.n == 0) {
		printf("Bail out! no corpus files\n");
		return 1;
	}
	printf("1..%zu\n", f.n);
	fflush(stdout);
	for (size_t i = 0; i < f.n; i++) {
		/* Name the input first: if it crashes, the log says which. */
		fprintf(stderr, "replaying %s\n", f.path[i]);
		if (replay(f.path[i]) != 0) {
			printf("not ok %zu - %s: %s\n", i + 1, f.path[i],
			    strerror(errno));
			failed = 1;
		} else
			printf("ok %zu - %s\n", i + 1, f.path[i]);
		fflush(stdout);
		free(f.path[i]);
	}
	free(f.path);
	return failed;
}
