/* SPDX-License-Identifier: MIT */
/*
 * Error codes: the wire strings of PROTOCOL.md ("Error codes") and a short
 * description of each.  The strings are the contract; the enum values are
 * internal and may be renumbered.
 */
#include <string.h>

#include "proto.h"

static const struct {
	const char *name;
	const char *text;
} statuses[_PROTO_STATUS_MAX] = {
	[PROTO_OK] = { "ok", "success" },
	[PROTO_E_BAD_REQUEST] = { "bad_request", "malformed request" },
	[PROTO_E_UNSUPPORTED_VERSION] = { "unsupported_version", "unsupported protocol version" },
	[PROTO_E_UNKNOWN_OP] = { "unknown_op", "unknown operation" },
	[PROTO_E_NO_MATCH] = { "no_match", "no profile covers this host" },
	[PROTO_E_INSECURE_URL] = { "insecure_url", "plain http to a host that is not loopback" },
	[PROTO_E_LOCKED] = { "locked", "the agent is locked" },
	[PROTO_E_NOT_LOCKED] = { "not_locked", "the agent is not locked" },
	[PROTO_E_BAD_PASSPHRASE] = { "bad_passphrase", "wrong passphrase" },
	[PROTO_E_MISSING_SECRET] = { "missing_secret", "the profile's secret is not available" },
	[PROTO_E_UNAVAILABLE] = { "unavailable", "the credential cannot be produced" },
	[PROTO_E_NOT_FOUND] = { "not_found", "no such secret" },
	[PROTO_E_CONFLICT] = { "conflict", "the request contradicts the configuration" },
	[PROTO_E_BAD_CONFIG] = { "bad_config", "invalid configuration" },
	[PROTO_E_DENIED] = { "denied", "the profile does not allow this client" },
	[PROTO_E_LIMIT] = { "limit", "a limit was reached" },
	[PROTO_E_INTERNAL] = { "internal", "internal error" },
	[PROTO_E_STORE] = { "store", "the persistent store cannot be used" },
};

static bool status_valid(enum proto_status status)
{
	return (unsigned)status < _PROTO_STATUS_MAX;
}

const char *proto_status_name(enum proto_status status)
{
	if (!status_valid(status))
		status = PROTO_E_INTERNAL;
	return statuses[status].name;
}

/*
 * Only error codes are looked up: "ok" is not an error code, and a reply
 * claiming {"ok":false,"error":"ok"} must not read as success.
 */
enum proto_status proto_status_from_name(const char *name)
{
	unsigned i;

	if (!name)
		return PROTO_E_INTERNAL;
	for (i = PROTO_E_BAD_REQUEST; i < _PROTO_STATUS_MAX; i++)
		if (strcmp(statuses[i].name, name) == 0)
			return (enum proto_status)i;
	return PROTO_E_INTERNAL;
}

const char *proto_strerror(enum proto_status status)
{
	if (!status_valid(status))
		status = PROTO_E_INTERNAL;
	return statuses[status].text;
}
