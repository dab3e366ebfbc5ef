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
 *
 * Any local user can connect to 127.0.0.1, and 32 idle connections would
 * starve the owner's SDK; so a connection is admitted only from a socket of
 * our own uid or root's (loopback_listen.c), and one that has not delivered
 * its request head within IDENTITY_HEAD_DEADLINE_SEC is shut down
 * (head_deadline.c) however it drips.
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
#include "head_deadline_watch.h"
#include "identity_http.h"
#include "loopback_listen.h"

#define IDENTITY_MAX_CONNECTIONS 32
#define IDENTITY_TIMEOUT_SEC     30
#define IDENTITY_MEMORY_LIMIT    (32 * 1024) /* request line + headers, per connection */
/*
 * From accept (or the end of the previous response) to a complete request
 * head.  An SDK writes its head in one go right after connecting; 5 s is
 * ample on a loaded machine, and frees the slot of a client that connects
 * and stalls (or drips, which the inactivity timeout never ends) six times
 * sooner than IDENTITY_TIMEOUT_SEC would.
 */
#define IDENTITY_HEAD_DEADLINE_SEC 5

struct identity {
	struct MHD_Daemon *daemon;
	int fd;
	struct loopback_admit admit;
	struct head_deadline *deadline;
	struct identity_config config;
	char url[64];
};

/* A response sent: a kept-alive connection has IDENTITY_HEAD_DEADLINE_SEC for its next head. */
static void request_done(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode why)
{
	struct identity *id = cls;

	(void)req_cls;
	if (why == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		head_deadline_rearm(id->deadline, head_deadline_entry_of(c));
}

/* libmicrohttpd calls the handler once the whole head is in: the deadline is met. */
static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload_data,
			     size_t *upload_data_size, void **req_cls)
{
	struct identity *id = cls;

	head_deadline_disarm(id->deadline, head_deadline_entry_of(c));
	return identity_http_handle(&id->config, c, url, method, version, upload_data,
				    upload_data_size, req_cls);
}

static struct MHD_Daemon *start_daemon(struct identity *id)
{
	return MHD_start_daemon(
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC, 0,
	    loopback_admit, &id->admit, serve, id, MHD_OPTION_LISTEN_SOCKET, id->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)IDENTITY_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDENTITY_TIMEOUT_SEC,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)IDENTITY_MEMORY_LIMIT,
	    MHD_OPTION_NOTIFY_CONNECTION, head_deadline_watch, id->deadline,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, id, MHD_OPTION_END);
}

int identity_start(struct agent_link *agent, const char *profile, struct identity **ret)
{
	struct identity *id = calloc(1, sizeof(*id));
	unsigned port;
	int r;

	if (!id)
		return -ENOMEM;
	id->config.agent = agent;
	snprintf(id->config.profile, sizeof(id->config.profile), "%s", profile);
	r = loopback_secret_new(id->config.header);
	if (r < 0)
		goto fail;
	r = head_deadline_new(IDENTITY_MAX_CONNECTIONS, IDENTITY_HEAD_DEADLINE_SEC * 1000,
			      &id->deadline);
	if (r < 0)
		goto fail;
	id->fd = r = loopback_listen();
	if (r < 0)
		goto fail;
	r = loopback_admit_init(&id->admit, id->fd, "identity endpoint", exec_warn);
	if (r < 0) {
		close(id->fd);
		goto fail;
	}
	port = ntohs(id->admit.local.sin_port);
	snprintf(id->config.host, sizeof(id->config.host), "127.0.0.1:%u", port);
	snprintf(id->url, sizeof(id->url), "http://127.0.0.1:%u%s", port, IDENTITY_PATH);
	id->daemon = start_daemon(id);
	if (!id->daemon) {
		r = -EIO;
		close(id->fd);
		goto fail;
	}
	*ret = id;
	return 0;
fail:
	head_deadline_free(id->deadline);
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
	MHD_stop_daemon(id->daemon); /* every connection closed: the watchdog has none left */
	head_deadline_free(id->deadline);
	explicit_bzero(id, sizeof(*id));
	free(id);
	return NULL;
}
