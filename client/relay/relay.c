/* SPDX-License-Identifier: MIT */
/*
 * The relay's listener (relay.h).  libmicrohttpd parses HTTP on 127.0.0.1,
 * one thread per connection (at most RELAY_MAX_CONNECTIONS, each request
 * head bounded by RELAY_MEMORY_LIMIT), admitting only its owner's
 * connections (loopback_listen.c) and ending those slow to send a request
 * head (head_deadline.c); one more thread drives every upstream transfer
 * with libcurl (relay_upstream.c).  relay_request.c serves each request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hosts.h"
#include "relay_server.h"

#define RELAY_MAX_CONNECTIONS 256
#define RELAY_IDLE_TIMEOUT_S  300 /* a connection silent this long mid-request (a stalled upload) */
#define RELAY_MEMORY_LIMIT    (64 * 1024)
#define RELAY_STACK_SIZE      (256 * 1024)
#define RELAY_HEAD_DEADLINE_S 10

static void request_done(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct relay *r = cls;

	relay_request_end(*req_cls);
	*req_cls = NULL;
	if (why == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		head_deadline_rearm(r->deadline, head_deadline_entry_of(c));
}

/* The handler runs once the head is in: its deadline is met. */
static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload_data,
			     size_t *upload_data_size, void **req_cls)
{
	struct relay *r = cls;

	head_deadline_disarm(r->deadline, head_deadline_entry_of(c));
	return relay_request_handle(r, c, url, method, version, upload_data, upload_data_size,
				    req_cls);
}

static struct MHD_Daemon *start_daemon(struct relay *r)
{
	return MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC, 0,
	    loopback_admit, &r->admit, serve, r, MHD_OPTION_LISTEN_SOCKET, r->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)RELAY_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)RELAY_IDLE_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)RELAY_MEMORY_LIMIT,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)RELAY_STACK_SIZE, MHD_OPTION_URI_LOG_CALLBACK,
	    relay_request_begin, r, MHD_OPTION_NOTIFY_CONNECTION, head_deadline_watch, r->deadline,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, r, MHD_OPTION_END);
}

/*
 * scheme://authority of @upstream into r->base, read by the URL rule the
 * agent and the hook use (common/hosts.c): https, or http to a loopback
 * host only.
 */
static int set_upstream(struct relay *r, const char *upstream)
{
	const char *authority = strstr(upstream, "://");
	struct url_target t;
	char err[256];
	size_t n;

	if (!authority || url_target_parse(upstream, &t, err, sizeof(err)) < 0 ||
	    !url_target_secure(&t))
		return -EINVAL;
	n = (size_t)(authority + 3 - upstream) + strcspn(authority + 3, "/?#");
	if (upstream[n] && strcmp(upstream + n, "/") != 0)
		return -EINVAL; /* a path would be dropped: better say so */
	if (n >= sizeof(r->base))
		return -EINVAL;
	memcpy(r->base, upstream, n);
	r->base[n] = '\0';
	r->plain_http = !t.https;
	return 0;
}

static int set_placeholder(struct relay *r, const char *given)
{
	char hex[LOOPBACK_SECRET_HEX + 1];
	int err;

	if (given) {
		if (strlen(given) != strlen(RELAY_KEY_PREFIX) + LOOPBACK_SECRET_HEX ||
		    strncmp(given, RELAY_KEY_PREFIX, strlen(RELAY_KEY_PREFIX)) != 0)
			return -EINVAL;
		snprintf(r->placeholder, sizeof(r->placeholder), "%s", given);
		return 0;
	}
	err = loopback_secret_new(hex);
	if (err < 0)
		return err;
	snprintf(r->placeholder, sizeof(r->placeholder), "%s%s", RELAY_KEY_PREFIX, hex);
	explicit_bzero(hex, sizeof(hex));
	return 0;
}

/* Where curl(1) finds its CA bundle when told by the environment. */
static void set_cainfo(struct relay *r)
{
	const char *path = getenv("CURL_CA_BUNDLE");

	if (!path || !*path)
		path = getenv("SSL_CERT_FILE");
	if (path && *path)
		snprintf(r->cainfo, sizeof(r->cainfo), "%s", path);
}

static struct relay *relay_free(struct relay *r)
{
	upstream_stop(r->upstream);
	head_deadline_free(r->deadline);
	explicit_bzero(r, sizeof(*r));
	free(r);
	return NULL;
}

static int listen_on(struct relay *r, int fd)
{
	char addr[INET_ADDRSTRLEN];
	int err;

	r->fd = fd >= 0 ? fd : loopback_listen();
	if (r->fd < 0)
		return r->fd;
	err = loopback_admit_init(&r->admit, r->fd, "relay", r->warn);
	if (err < 0)
		return err;
	r->port = ntohs(r->admit.local.sin_port);
	/* Any 127.x.y.z aoai-relay was configured with, not only 127.0.0.1. */
	if (!inet_ntop(AF_INET, &r->admit.local.sin_addr, addr, sizeof(addr)))
		return -errno;
	snprintf(r->host_ip, sizeof(r->host_ip), "%s:%u", addr, r->port);
	snprintf(r->host_name, sizeof(r->host_name), "localhost:%u", r->port);
	return 0;
}

int relay_start(const struct relay_config *cfg, struct relay **ret)
{
	struct relay *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->agent = cfg->agent;
	r->warn = cfg->warn;
	snprintf(r->profile, sizeof(r->profile), "%s", cfg->profile);
	set_cainfo(r);
	err = set_upstream(r, cfg->upstream);
	if (err == 0)
		err = set_placeholder(r, cfg->placeholder);
	if (err == 0)
		err = head_deadline_new(RELAY_MAX_CONNECTIONS, RELAY_HEAD_DEADLINE_S * 1000,
					&r->deadline);
	if (err == 0)
		err = upstream_start(&r->upstream);
	if (err == 0)
		err = listen_on(r, cfg->listen_fd);
	if (err == 0) {
		r->daemon = start_daemon(r);
		err = r->daemon ? 0 : -EIO;
	}
	if (err < 0) {
		if (r->fd >= 0 && r->fd != cfg->listen_fd)
			close(r->fd);
		relay_free(r);
		return err;
	}
	*ret = r;
	return 0;
}

unsigned relay_port(const struct relay *r)
{
	return r->port;
}

const char *relay_placeholder(const struct relay *r)
{
	return r->placeholder;
}

struct relay *relay_stop(struct relay *r)
{
	int fd;

	if (!r)
		return NULL;
	fd = MHD_quiesce_daemon(r->daemon);
	if (fd >= 0)
		close(fd);
	MHD_stop_daemon(r->daemon); /* every request ended: their transfers are cancelled */
	return relay_free(r);
}
