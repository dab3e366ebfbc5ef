/* SPDX-License-Identifier: MIT */
/*
 * Error codes: the agent's stable wire codes (PROTOCOL.md, "Error codes")
 * folded into the few AOAI_E_* values a caller acts on, and their text.
 */
#include <string.h>

#include "aoai.h"
#include "aoai_conn.h"

static const struct {
	const char *code;
	int err;
} wire_codes[] = {
	{ "no_match", AOAI_E_NOMATCH },        { "insecure_url", AOAI_E_NOMATCH },
	{ "locked", AOAI_E_LOCKED },           { "missing_secret", AOAI_E_UNAVAILABLE },
	{ "unavailable", AOAI_E_UNAVAILABLE }, { "denied", AOAI_E_DENIED },
	{ "not_found", AOAI_E_NOTFOUND },      { "bad_passphrase", AOAI_E_PASSPHRASE },
	{ "not_locked", AOAI_E_NOTLOCKED },    { "bad_config", AOAI_E_CONFIG },
};

int errors_from_code(const char *code)
{
	size_t i;

	for (i = 0; i < sizeof(wire_codes) / sizeof(wire_codes[0]); i++)
		if (strcmp(wire_codes[i].code, code) == 0)
			return wire_codes[i].err;
	/* bad_request, conflict, limit, internal, and codes newer than us. */
	return AOAI_E_REFUSED;
}

const char *aoai_strerror(int err)
{
	switch (err) {
	case AOAI_OK:
		return "success";
	case AOAI_E_INVALID:
		return "invalid argument";
	case AOAI_E_NOAGENT:
		return "no agent reachable";
	case AOAI_E_PROTOCOL:
		return "the agent sent an invalid reply";
	case AOAI_E_IO:
		return "the connection to the agent broke";
	case AOAI_E_NOMEM:
		return "out of memory";
	case AOAI_E_NOMATCH:
		return "no profile matches";
	case AOAI_E_LOCKED:
		return "the agent is locked";
	case AOAI_E_UNAVAILABLE:
		return "the credential is not available";
	case AOAI_E_DENIED:
		return "the profile does not allow this client";
	case AOAI_E_NOTFOUND:
		return "no such secret or profile";
	case AOAI_E_PASSPHRASE:
		return "wrong passphrase";
	case AOAI_E_NOTLOCKED:
		return "the agent is not locked";
	case AOAI_E_CONFIG:
		return "invalid configuration";
	case AOAI_E_REFUSED:
		return "the agent refused the request";
	}
	return "unknown error";
}
