/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "read_full.h"
#include "log.h"
#include "secret_files.h"

static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: not owned by you", path);
		return -EPERM;
	}
	if (st.st_mode & 0077) {
		snprintf(err, errlen, "%s: readable or writable by others (chmod 600 it)", path);
		return -EPERM;
	}
	if (st.st_size > PROTO_MAX_SECRET + 2) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, PROTO_MAX_SECRET);
		return -EFBIG;
	}
	return 0;
}

static size_t strip_newline(const unsigned char *buf, size_t len)
{
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	return len;
}

int secret_file_read(struct secret_store *store, const char *name, enum secret_origin origin,
		     const char *path, char *err, size_t errlen)
{
	const size_t cap = PROTO_MAX_SECRET + 3;
	unsigned char *buf = NULL;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	r = check_file(fd, path, err, errlen);
	if (r == 0 && !(buf = sodium_malloc(cap)))
		r = -ENOMEM;
	if (r == 0) {
		n = read_full(fd, buf, cap);
		r = n < 0 ? (int)n : 0;
		n = n < 0 ? 0 : (ssize_t)strip_newline(buf, (size_t)n);
		if (r == 0 && (n == 0 || n > PROTO_MAX_SECRET || memchr(buf, '\0', (size_t)n)))
			r = -EINVAL;
		if (r == 0)
			r = secrets_put(store, name, buf, (size_t)n, origin, 0);
		if (r < 0)
			snprintf(err, errlen, "%s: %s", path,
				 r == -EINVAL ? "empty, too large or contains NUL" : strerror(-r));
	}
	sodium_free(buf);
	close(fd);
	return r;
}

static void load_credential(struct secret_store *store, const struct secret_source *src)
{
	const char *dir = secure_getenv("CREDENTIALS_DIRECTORY");
	char path[4096], err[512];

	if (!dir || !*dir) {
		secrets_put_missing(store, src->name, ORIGIN_CREDENTIALS,
				    "$CREDENTIALS_DIRECTORY is not set (not started by systemd "
				    "with LoadCredential=)");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, src->cred);
	if (secret_file_read(store, src->name, ORIGIN_CREDENTIALS, path, err, sizeof(err)) < 0) {
		log_warn("secret \"%s\": %s", src->name, err);
		secrets_put_missing(store, src->name, ORIGIN_CREDENTIALS, err);
	}
}

static void load_source(struct secret_store *store, const struct secret_source *src)
{
	char err[512];

	switch (src->kind) {
	case SOURCE_FILE:
		if (secret_file_read(store, src->name, ORIGIN_FILE, src->path, err, sizeof(err)) <
		    0) {
			log_warn("secret \"%s\": %s", src->name, err);
			secrets_put_missing(store, src->name, ORIGIN_FILE, err);
		}
		break;
	case SOURCE_CREDENTIALS:
		load_credential(store, src);
		break;
	case SOURCE_KEYVAULT:
		break; /* keyvault.c's: fetched on the event loop */
	}
}

void secret_files_load(struct secret_store *store, const struct config *config)
{
	secrets_remove_origin(store, ORIGIN_FILE);
	secrets_remove_origin(store, ORIGIN_CREDENTIALS);
	for (size_t i = 0; i < config->n_secrets; i++)
		load_source(store, &config->secrets[i]);
}
