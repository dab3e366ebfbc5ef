/* SPDX-License-Identifier: MIT */
/*
 * Azure Arc's challenge.  Whoever answers on the Arc endpoint names the
 * file the agent will read and send back, so the name is held to the one
 * directory the Arc agent uses, lexically (nothing is resolved), and the
 * file itself must be a regular file of bounded size, not a symbolic link.
 * The header came from the network: messages quote at most a parameter's
 * name (a token of up to 31 characters) and the key path once validated,
 * never a parameter's value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "read_full.h"
#include "errmsg.h"
#include "arc_challenge.h"

#define ARC_SCHEME     "Basic"
#define ARC_REALM      "realm"
#define ARC_KEY_SUFFIX ".key"
#define ARC_MAX_DIR    1024
#define ARC_MAX_REALM  (ARC_MAX_DIR + 1 + ARC_MAX_KEY_NAME)
#define ARC_MAX_PARAM  32 /* bytes of an auth-param name */
#define ARC_GROUP_HINT "the user must be in the himds group"

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
	while (is_ows(*p))
		p++;
	return p;
}

/* Reads an auth-param value (a quoted-string or a bare word) at *@p into @out. */
static int scan_value(const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	bool quoted = *s == '"';
	size_t n = 0;

	for (s += quoted; *s; s++) {
		if (quoted && *s == '"')
			break;
		if (!quoted && (*s == ',' || is_ows(*s)))
			break;
		if (quoted && *s == '\\' && s[1])
			s++; /* quoted-pair */
		if (n + 1 >= outlen)
			return -EINVAL;
		out[n++] = *s;
	}
	if (quoted && *s != '"')
		return -EINVAL;
	out[n] = '\0';
	*p = s + quoted;
	return 0;
}

/* Reads an auth-param name followed by '=' at *@p.  False when there is none. */
static bool scan_name(const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n = strcspn(s, "=, \t\"");

	if (n == 0 || n >= outlen || skip_ows(s + n)[0] != '=')
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = skip_ows(skip_ows(s + n) + 1);
	return true;
}

/* Finds the one realm among the challenge's parameters (those after the scheme). */
static int find_realm(const char *p, char *realm, size_t realmlen, char *err, size_t errlen)
{
	char name[ARC_MAX_PARAM], value[ARC_MAX_REALM + 1];
	bool found = false;

	for (;;) {
		p = skip_ows(p);
		while (*p == ',' || is_ows(*p))
			p++;
		if (!*p || !scan_name(&p, name, sizeof(name)))
			break; /* the end, or the next challenge's scheme */
		if (scan_value(&p, value, sizeof(value)) < 0)
			return errmsg(err, errlen, -EINVAL,
				      "challenge parameter \"%s\" is malformed or too long", name);
		if (strcasecmp(name, ARC_REALM) == 0) {
			if (found)
				return errmsg(err, errlen, -EINVAL,
					      "challenge has more than one realm");
			snprintf(realm, realmlen, "%s", value);
			found = true;
		}
		p = skip_ows(p);
		if (*p && *p != ',')
			return errmsg(err, errlen, -EINVAL, "challenge parameters are malformed");
	}
	if (!found)
		return errmsg(err, errlen, -EINVAL, "challenge has no realm (the key file path)");
	return 0;
}

static bool key_name_valid(const char *name)
{
	size_t n = strlen(name), suffix = strlen(ARC_KEY_SUFFIX);

	if (n <= suffix || n > ARC_MAX_KEY_NAME)
		return false;
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return false;
	return strcmp(name + n - suffix, ARC_KEY_SUFFIX) == 0;
}

/* @realm must be "@dir/NAME.key", compared byte for byte. */
static int check_realm(const char *realm, const char *dir, char *err, size_t errlen)
{
	size_t dirlen = strlen(dir);
	const char *slash = strrchr(realm, '/');

	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dirlen--; /* "/var/opt/azcmagent/tokens/" names the same directory */
	if (realm[0] != '/')
		return errmsg(err, errlen, -EINVAL, "key file path is not absolute");
	if (strstr(realm, ".."))
		return errmsg(err, errlen, -EINVAL, "key file path contains \"..\"");
	if (dirlen == 1 && dir[0] == '/')
		dirlen = 0; /* the root: the slash before NAME is the only one */
	if ((size_t)(slash - realm) != dirlen || memcmp(realm, dir, dirlen) != 0)
		return errmsg(err, errlen, -EINVAL, "key file is not directly in %s", dir);
	if (!key_name_valid(slash + 1))
		return errmsg(
		    err, errlen, -EINVAL,
		    "key file name must be 1 to %d letters, digits, '.', '_' or '-' ending "
		    "in \"%s\"",
		    ARC_MAX_KEY_NAME, ARC_KEY_SUFFIX);
	return 0;
}

int arc_challenge_key_path(const char *www_authenticate, const char *allowed_dir, char *out,
			   size_t outlen, char *err, size_t errlen)
{
	const char *dir = allowed_dir ? allowed_dir : ARC_DEFAULT_KEY_DIR;
	const char *p = www_authenticate ? skip_ows(www_authenticate) : "";
	size_t scheme = strlen(ARC_SCHEME);
	char realm[ARC_MAX_REALM + 1];
	int r;

	if (dir[0] != '/' || strlen(dir) > ARC_MAX_DIR)
		return errmsg(err, errlen, -EINVAL, "key directory must be an absolute path");
	if (!*p)
		return errmsg(err, errlen, -EINVAL, "empty challenge");
	if (strncasecmp(p, ARC_SCHEME, scheme) != 0 || (p[scheme] && !is_ows(p[scheme])))
		return errmsg(err, errlen, -EINVAL, "challenge scheme is not %s", ARC_SCHEME);
	r = find_realm(p + scheme, realm, sizeof(realm), err, errlen);
	if (r == 0)
		r = check_realm(realm, dir, err, errlen);
	if (r == 0 && strlen(realm) >= outlen)
		r = errmsg(err, errlen, -EINVAL, "key file path is too long");
	if (r == 0)
		memcpy(out, realm, strlen(realm) + 1);
	return r;
}

static int open_key(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	int e = errno;

	if (fd >= 0)
		return fd;
	if (e == ELOOP)
		return errmsg(err, errlen, -ELOOP, "%s: is a symbolic link", path);
	if (e == EACCES)
		return errmsg(err, errlen, -EACCES, "%s: permission denied (%s)", path,
			      ARC_GROUP_HINT);
	return errmsg(err, errlen, -e, "%s: %s", path, strerror(e));
}

static int check_key_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return errmsg(err, errlen, -EINVAL, "%s: not a regular file", path);
	if (st.st_size == 0)
		return errmsg(err, errlen, -EINVAL, "%s: empty", path);
	if (st.st_size > ARC_MAX_KEY)
		return errmsg(err, errlen, -EFBIG, "%s: larger than %d bytes", path, ARC_MAX_KEY);
	return 0;
}

/* Checks what was read (the file may have changed since fstat); drops one trailing newline. */
static int check_key(char *buf, size_t *len, const char *path, char *err, size_t errlen)
{
	size_t n = *len;

	if (n > ARC_MAX_KEY)
		return errmsg(err, errlen, -EFBIG, "%s: larger than %d bytes", path, ARC_MAX_KEY);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0)
		return errmsg(err, errlen, -EINVAL, "%s: empty", path);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return errmsg(err, errlen, -EINVAL, "%s: holds control characters", path);
	buf[n] = '\0';
	*len = n;
	return 0;
}

int arc_challenge_read_key(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	fd = open_key(path, err, errlen);
	if (fd < 0)
		return fd;
	r = check_key_file(fd, path, err, errlen);
	/* One byte more than allowed to notice growth, one for the NUL. */
	if (r == 0 && !(buf = sodium_malloc(ARC_MAX_KEY + 2)))
		r = errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	if (r == 0) {
		n = read_full(fd, buf, ARC_MAX_KEY + 1);
		if (n < 0)
			r = errmsg(err, errlen, (int)n, "%s: %s", path, strerror((int)-n));
		len = n < 0 ? 0 : (size_t)n;
	}
	if (r == 0)
		r = check_key(buf, &len, path, err, errlen);
	close(fd);
	if (r < 0) {
		sodium_free(buf); /* wipes */
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}
