/* SPDX-License-Identifier: MIT */
/*
 * Between identity.c (the listener) and identity_http.c (one request): what
 * a request is checked against.  Read-only while the daemon runs (the
 * agent link it points to serializes its own use).
 */
#pragma once

#include <microhttpd.h>

#include "exec.h"
#include "loopback_secret.h"

#define IDENTITY_PATH        "/msi/token"
#define IDENTITY_API_VERSION "2019-08-01"

struct identity_config {
	struct agent_link *agent; /* shared by the threads: it locks itself */
	char profile[65];
	char header[LOOPBACK_SECRET_HEX + 1]; /* X-IDENTITY-HEADER */
	char host[32];                        /* "127.0.0.1:PORT", the only Host accepted */
};

/* libmicrohttpd's access handler; @cls is the struct identity_config. */
enum MHD_Result identity_http_handle(void *cls, struct MHD_Connection *connection, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **req_cls);
