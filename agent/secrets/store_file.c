/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "private_dir.h"
#include "store_file.h"
#include "store_format.h"

#define TEMP_PREFIX ".store-"

char *store_file_default_path(void)
{
	const char *xdg = secure_getenv("XDG_DATA_HOME");
	const char *home = secure_getenv("HOME");
	char *path = NULL;

	if (xdg && *xdg == '/')
		return asprintf(&path, "%s/aoai/store", xdg) < 0 ? NULL : path;
	if (home && *home == '/')
		return asprintf(&path, "%s/.local/share/aoai/store", home) < 0 ? NULL : path;
	return NULL;
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = read(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank while being read */
		off += (size_t)n;
	}
	return 0;
}

int store_file_read(const char *path, uint8_t **ret_buf, size_t *ret_len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat st;
	uint8_t *buf;
	int r;

	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot stat: %s", strerror(-r));
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || (uint64_t)st.st_size > STORE_MAX_FILE) {
		snprintf(err, errlen, "%s",
			 !S_ISREG(st.st_mode) ? "not a regular file"
			 : st.st_size == 0    ? "empty file"
					      : "larger than any store");
		close(fd);
		return -EBADMSG;
	}
	buf = malloc((size_t)st.st_size);
	r = buf ? read_all(fd, buf, (size_t)st.st_size) : -ENOMEM;
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "cannot read: %s", strerror(-r));
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = (size_t)st.st_size;
	return 0;
}

int store_file_check_dir(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	int r;

	if (!copy)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	r = private_dir_check(dirname(copy), err, errlen);
	free(copy);
	return r;
}

/* mkdir -p for the store's directory; new directories get mode 0700. */
static int make_dirs(char *dir)
{
	char *slash;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -ENOENT;
	*slash = '\0';
	int r = make_dirs(dir);
	*slash = '/';
	if (r < 0)
		return r;
	return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Temporary files of writes that a crash interrupted hold only ciphertext,
 * but they are clutter: remove them once a write has succeeded. */
static void remove_stale_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0)
			(void)unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static int write_temp(const char *dir, const uint8_t *buf, size_t len, char *tmp, size_t tmplen)
{
	int fd, r;

	snprintf(tmp, tmplen, "%s/%sXXXXXX", dir, TEMP_PREFIX);
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return -errno;
	r = write_all(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

/* Temporary file, rename over @path, sync of @dir: the old file or the new one, whole. */
static int replace_file(const char *dir, const char *path, const uint8_t *buf, size_t len,
			char *err, size_t errlen)
{
	const char *step = "cannot write a temporary file";
	char tmp[4096];
	int r = write_temp(dir, buf, len, tmp, sizeof(tmp));

	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
		step = "cannot rename the temporary file";
		unlink(tmp);
	}
	if (r == 0) {
		step = "cannot sync the directory";
		r = fsync_dir(dir);
		remove_stale_temps(dir);
	}
	if (r < 0)
		snprintf(err, errlen, "%s: %s", step, strerror(-r));
	return r;
}

int store_file_write(const char *path, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	char *copy = strdup(path), *dir;
	int r;

	if (!copy)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	dir = dirname(copy);
	r = make_dirs(dir);
	if (r < 0)
		snprintf(err, errlen, "cannot create the directory: %s", strerror(-r));
	/* Another user who can change the directory can roll the file back. */
	if (r == 0)
		r = private_dir_check(dir, err, errlen);
	if (r == 0)
		r = replace_file(dir, path, buf, len, err, errlen);
	free(copy);
	return r;
}
