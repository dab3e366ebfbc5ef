/* SPDX-License-Identifier: MIT */
/*
 * The local managed-identity endpoint: App Service's protocol, api-version
 * 2019-08-01, which every Azure SDK's ManagedIdentityCredential (and so
 * DefaultAzureCredential) speaks when IDENTITY_ENDPOINT and IDENTITY_HEADER
 * are set:
 *
 *   GET /msi/token?api-version=2019-08-01&resource=R
 *   X-IDENTITY-HEADER: <IDENTITY_HEADER>
 *
 *   200 {"access_token": "…", "expires_on": "<epoch seconds>",
 *        "resource": "R", "token_type": "Bearer"}
 *   4xx/5xx {"statusCode": N, "message": "…"}   (App Service's error shape)
 *
 * libmicrohttpd parses HTTP, on 127.0.0.1 only, one thread per connection
 * (at most IDENTITY_MAX_CONNECTIONS, each request's headers bounded by
 * IDENTITY_MEMORY_LIMIT); the handler asks the agent for the token at every
 * request, so a program running for days gets a fresh one each time its SDK
 * asks, and the agent's cache keeps that cheap.  The threads ask over one
 * agent connection, in turn (agent_link.c says why).  A request is refused unless
 * it carries the per-run header exactly (compared in constant time), names
 * this listener in Host (a web page's DNS-rebinding request names its own
 * host), and carries no X-Forwarded-For / Forwarded (a proxy relaying for
 * someone else).  Neither the token nor the header value is ever logged.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "exec.h"
#include "identity_http.h"

#define IDENTITY_MAX_CONNECTIONS 32
#define IDENTITY_TIMEOUT_SEC     30
#define IDENTITY_MEMORY_LIMIT    (32 * 1024) /* request line + headers, per connection */
#define IDENTITY_BACKLOG         16

struct identity {
	struct MHD_Daemon *daemon;
	int fd;
	struct identity_config config;
	char url[64];
};

/* A listening TCP socket on 127.0.0.1 at a port the kernel picks.  fd or -errno. */
static int listen_loopback(unsigned *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd, r;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, IDENTITY_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

int identity_start(struct agent_link *agent, const char *profile, struct identity **ret)
{
	struct identity *id = calloc(1, sizeof(*id));
	unsigned port = 0;
	int r;

	if (!id)
		return -ENOMEM;
	id->config.agent = agent;
	snprintf(id->config.profile, sizeof(id->config.profile), "%s", profile);
	r = identity_secret_new(id->config.header);
	if (r < 0)
		goto fail;
	id->fd = r = listen_loopback(&port);
	if (r < 0)
		goto fail;
	snprintf(id->config.host, sizeof(id->config.host), "127.0.0.1:%u", port);
	snprintf(id->url, sizeof(id->url), "http://127.0.0.1:%u%s", port, IDENTITY_PATH);
	id->daemon = MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC, 0, NULL,
	    NULL, identity_http_handle, &id->config, MHD_OPTION_LISTEN_SOCKET, id->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)IDENTITY_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDENTITY_TIMEOUT_SEC,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)IDENTITY_MEMORY_LIMIT, MHD_OPTION_END);
	if (!id->daemon) {
		r = -EIO;
		close(id->fd);
		goto fail;
	}
	*ret = id;
	return 0;
fail:
	explicit_bzero(id, sizeof(*id));
	free(id);
	return r;
}

const char *identity_url(const struct identity *id)
{
	return id->url;
}

const char *identity_header(const struct identity *id)
{
	return id->config.header;
}

struct identity *identity_stop(struct identity *id)
{
	int fd;

	if (!id)
		return NULL;
	/* Stop listening first: from now on a connection attempt is refused. */
	fd = MHD_quiesce_daemon(id->daemon);
	if (fd >= 0)
		close(fd);
	MHD_stop_daemon(id->daemon);
	explicit_bzero(id, sizeof(*id));
	free(id);
	return NULL;
}
