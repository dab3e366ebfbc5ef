/* SPDX-License-Identifier: MIT */
/*
 * The placeholder file (relay_key.h): refused unless it is a regular file
 * of ours that no one else can read, so that another user cannot choose
 * the key our relay accepts, nor read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay_key.h"

#define RELAY_KEY_DIR  "aoai"
#define RELAY_KEY_FILE "relay.key"

int relay_key_path(char *buf, size_t len)
{
	const char *xdg = secure_getenv("XDG_CONFIG_HOME"), *home = secure_getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/%s/%s", xdg, RELAY_KEY_DIR, RELAY_KEY_FILE);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.config/%s/%s", home, RELAY_KEY_DIR, RELAY_KEY_FILE);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int key_valid(const char *s, size_t n)
{
	size_t plen = strlen(RELAY_KEY_PREFIX);

	if (n != RELAY_KEY_LEN || strncmp(s, RELAY_KEY_PREFIX, plen) != 0)
		return 0;
	return strspn(s + plen, "0123456789abcdef") == RELAY_KEY_HEX;
}

int relay_key_read(const char *path, char key[RELAY_KEY_LEN + 1])
{
	char buf[RELAY_KEY_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
		r = -EPERM;
	n = r == 0 ? read(fd, buf, sizeof(buf)) : 0;
	if (r == 0 && n < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (!key_valid(buf, (size_t)n))
		return -EINVAL;
	memcpy(key, buf, RELAY_KEY_LEN);
	key[RELAY_KEY_LEN] = '\0';
	return 0;
}

/* The directory of @path (…/aoai) and its parent (…/.config), made 0700 where missing. */
static int make_dirs(const char *path)
{
	char dir[RELAY_KEY_PATH];
	char *parent_end, *dir_end;

	snprintf(dir, sizeof(dir), "%s", path);
	dir_end = strrchr(dir, '/');
	if (!dir_end || dir_end == dir)
		return 0;
	*dir_end = '\0';
	parent_end = strrchr(dir, '/');
	if (parent_end && parent_end != dir) {
		*parent_end = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*parent_end = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int relay_key_create(const char *path, const char *hex)
{
	char line[RELAY_KEY_LEN + 2];
	int fd, r, n;

	r = make_dirs(path);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "%s%.*s\n", RELAY_KEY_PREFIX, RELAY_KEY_HEX, hex);
	r = write(fd, line, (size_t)n) == n ? 0 : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}
