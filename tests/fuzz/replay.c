/* SPDX-License-Identifier: MIT */
/*
 * Corpus replay without libFuzzer: `fuzz-NAME DIR|FILE...` calls the
 * harness's LLVMFuzzerTestOneInput once per file (directories in name
 * order, not recursive).  Built with the project's compiler and flags, so
 * `make check` (and `make asan`) replays every committed seed and every
 * crash turned into a seed.  Exits 1 if an input cannot be read; a failed
 * invariant or a sanitizer report aborts the process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REPLAY_MAX_INPUT (4 * 1024 * 1024) /* bytes; seeds are far smaller */
#define REPLAY_MAX_PATH  4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Defined only by harnesses that need set-up; weak so the others link. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Reads all of @path into a buffer of exactly its size, so overreads are caught. */
static int read_input(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size > REPLAY_MAX_INPUT) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (off < (size_t)st.st_size && (n = read(fd, buf + off, (size_t)st.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	if (off != (size_t)st.st_size) {
		free(buf);
		return -EIO; /* a read error, or the file shrank under us */
	}
	*ret = buf;
	*ret_len = off;
	return 0;
}

static int run_file(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r = read_input(path, &data, &len);

	if (r < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
		return r;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int skip_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Runs every regular file of @dir; returns how many ran, or a negative errno. */
static int run_dir(const char *dir)
{
	char path[REPLAY_MAX_PATH];
	struct dirent **names;
	struct stat st;
	int i, n, ran = 0, r = 0;

	n = scandir(dir, &names, skip_entry, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (r == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			r = run_file(path);
			ran += r == 0;
		}
		free(names[i]);
	}
	free(names);
	return r < 0 ? r : ran;
}

int main(int argc, char **argv)
{
	struct stat st;
	int i, r, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		r = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -EIO;
		if (r < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
		total += r;
	}
	printf("%s: %d inputs replayed\n", argv[0], total);
	return 0;
}
