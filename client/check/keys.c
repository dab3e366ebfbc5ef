/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aoai.h"
#include "check_fetch.h"
#include "keys.h"
#include "proto.h"

static int take_keys(struct check_keys *k, const json_t *set, const char *where)
{
	char why[KEYS_MAX_ERROR / 2];
	int r = jwk_set_from_json(set, &k->set, why, sizeof(why));

	if (r < 0)
		snprintf(k->error, sizeof(k->error), "JSON Web Key Set from %s: %s", where, why);
	return r;
}

static int dup_or_null(char **dst, const char *s)
{
	*dst = s ? strdup(s) : NULL;
	return s && !*dst ? -ENOMEM : 0;
}

/* 1 when the agent answered (well or not), 0 when there is none to ask. */
static int from_agent(struct check_keys *k, const char *socket, bool refresh)
{
	struct aoai_conn *conn = NULL;
	json_t *req = json_pack("{s:s, s:s}", "op", "jwks", "openid_config", k->openid_config);
	json_t *reply = NULL;
	char *req_text = NULL, *reply_text = NULL;
	int r;

	if (req && refresh)
		json_object_set_new(req, "refresh", json_true());
	req_text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!req_text || aoai_connect(socket, &conn) < 0) {
		free(req_text);
		return 0;
	}
	r = aoai_request(conn, req_text, &reply_text);
	free(req_text);
	/* An agent older than the operation: fetch here, as without one. */
	if (r < 0 && !strcmp(aoai_conn_error_code(conn), "unknown_op")) {
		aoai_close(conn);
		return 0;
	}
	if (r < 0)
		snprintf(k->error, sizeof(k->error), "the agent: %s", aoai_conn_message(conn));
	aoai_close(conn);
	if (r < 0)
		return 1;
	k->from_agent = true;
	reply = proto_json_parse((const uint8_t *)reply_text, strlen(reply_text), NULL, NULL);
	free(reply_text);
	if (!reply || !json_is_string(json_object_get(reply, "jwks_uri"))) {
		snprintf(k->error, sizeof(k->error), "the agent sent a malformed jwks reply");
	} else if (dup_or_null(&k->issuer, json_string_value(json_object_get(reply, "issuer"))) <
		       0 ||
		   dup_or_null(&k->jwks_uri,
			       json_string_value(json_object_get(reply, "jwks_uri"))) < 0) {
		snprintf(k->error, sizeof(k->error), "out of memory");
	} else {
		k->cached = json_is_true(json_object_get(reply, "cached"));
		take_keys(k, json_object_get(reply, "keys"), "the agent");
	}
	json_decref(reply);
	return 1;
}

static void direct(struct check_keys *k)
{
	json_t *config = NULL, *set = NULL;
	const char *uri;

	if (fetch_json(k->openid_config, "OpenID configuration", &config, k->error,
		       sizeof(k->error)) < 0)
		return;
	uri = json_string_value(json_object_get(config, "jwks_uri"));
	if (!uri) {
		snprintf(k->error, sizeof(k->error),
			 "OpenID configuration: no \"jwks_uri\" string");
	} else if (dup_or_null(&k->issuer, json_string_value(json_object_get(config, "issuer"))) <
		       0 ||
		   dup_or_null(&k->jwks_uri, uri) < 0) {
		snprintf(k->error, sizeof(k->error), "out of memory");
	} else if (fetch_json(uri, "JSON Web Key Set", &set, k->error, sizeof(k->error)) == 0) {
		take_keys(k, set, "jwks_uri");
	}
	json_decref(set);
	json_decref(config);
}

void keys_get(const char *url, const char *socket, bool refresh, struct check_keys *ret)
{
	*ret = (struct check_keys){ .openid_config = strdup(url) };
	if (!ret->openid_config) {
		snprintf(ret->error, sizeof(ret->error), "out of memory");
		return;
	}
	if (!from_agent(ret, socket, refresh))
		direct(ret);
}

void keys_done(struct check_keys *k)
{
	free(k->openid_config);
	free(k->issuer);
	free(k->jwks_uri);
	jwk_set_free(k->set);
	*k = (struct check_keys){ 0 };
}
