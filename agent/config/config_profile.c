/* SPDX-License-Identifier: MIT */
/*
 * One profile of the configuration (aoai-agent.json(5)): "hosts", "scope", "headers"
 * and "allow".  Its "credential" is read by config_credential.c, its "relay" by
 * config_relay.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_keys.h"
#include "config_credential.h"
#include "config_profile.h"
#include "config_relay.h"
#include "template.h"

#define CFG_MAX_HEADER_NAME  128
#define CFG_MAX_UNIT_NAME    256
#define CFG_MAX_UID          4294967294LL /* (uid_t)-1 is "no user" */
#define CFG_MAX_TEMPLATE_MSG 160
#define CFG_MAX_HOST_MSG     384 /* a URL's refusal names the pattern to write */

/* "hosts[i]": one pattern; @hostset maps every pattern seen so far to its profile. */
static int parse_host(const struct cfg_ctx *ctx, size_t i, json_t *h, struct profile *p,
		      json_t *hostset)
{
	struct host_pattern *hp = &p->hosts[p->n_hosts];
	char key[CFG_MAX_KEY], msg[CFG_MAX_HOST_MSG], canon[HOSTS_MAX_NAME + 16];
	const char *text, *owner;
	int r;

	snprintf(key, sizeof(key), "hosts[%zu]", i);
	r = cfg_string_value(ctx, key, h, &text);
	if (r < 0)
		return r;
	if (host_pattern_parse(text, hp, msg, sizeof(msg)) < 0)
		return cfg_error(ctx, key, "%s", msg);
	host_pattern_format(hp, canon, sizeof(canon));
	owner = json_string_value(json_object_get(hostset, canon));
	if (owner && strcmp(owner, p->name) == 0)
		return cfg_error(ctx, key, "\"%s\" is listed twice", canon);
	if (owner)
		return cfg_error(ctx, key, "\"%s\" is already listed in profile \"%s\"", canon,
				 owner);
	if (json_object_set_new(hostset, canon, json_string(p->name)) < 0)
		return cfg_oom(ctx);
	p->n_hosts++;
	return 0;
}

static int parse_hosts(const struct cfg_ctx *ctx, json_t *hosts, struct profile *p, json_t *hostset)
{
	json_t *h;
	size_t i;
	int r;

	if (!hosts)
		return cfg_error(ctx, "hosts", "is required");
	if (!json_is_array(hosts))
		return cfg_error(ctx, "hosts", "must be an array of host patterns");
	if (json_array_size(hosts) == 0)
		return cfg_error(ctx, "hosts", "must not be empty");
	if (json_array_size(hosts) > CONFIG_MAX_HOSTS)
		return cfg_error(ctx, "hosts", "has more than %d entries", CONFIG_MAX_HOSTS);
	p->hosts = calloc(json_array_size(hosts), sizeof(*p->hosts));
	if (!p->hosts)
		return cfg_oom(ctx);
	json_array_foreach(hosts, i, h)
	{
		r = parse_host(ctx, i, h, p, hostset);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_scope(const struct cfg_ctx *ctx, json_t *v, struct profile *p)
{
	const char *s;
	int r;

	r = cfg_string(ctx, v, NULL, "scope", false, &s);
	if (r < 0)
		return r;
	if (!cred_type_is_token(p->cred.type)) {
		if (s)
			return cfg_error(ctx, "scope",
					 "only token credential types have a scope, not \"%s\"",
					 cred_type_name(p->cred.type));
		return 0;
	}
	/* Another provider has no default: without "scope", none is sent. */
	p->scope = strdup(s ? s : p->cred.type == CRED_OIDC ? "" : CONFIG_DEFAULT_SCOPE);
	return p->scope ? 0 : cfg_oom(ctx);
}

/* RFC 7230 token: 1*tchar. */
static bool header_name_valid(const char *name)
{
	static const char tchar_punct[] = "!#$%&'*+-.^_`|~";
	size_t i;

	for (i = 0; name[i]; i++) {
		char c = name[i];

		if (i >= CFG_MAX_HEADER_NAME)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(tchar_punct, c)))
			return false;
	}
	return i > 0;
}

static int parse_exists_action(const struct cfg_ctx *ctx, const char *key, const char *s,
			       enum exists_action *ret)
{
	enum exists_action a;

	for (a = EXISTS_OVERRIDE; a <= EXISTS_APPEND; a++)
		if (strcmp(s, exists_action_name(a)) == 0) {
			*ret = a;
			return 0;
		}
	return cfg_error(ctx, key, "must be \"override\", \"skip\" or \"append\"");
}

/*
 * A header's value: a template string, or {"value": …, "exists_action": …}.
 * @ret_vkey receives the key the template is shown under.
 */
static int header_spec(const struct cfg_ctx *ctx, const char *key, json_t *v,
		       const char **ret_value, enum exists_action *ret_action, char *ret_vkey)
{
	static const char *const keys[] = { "value", "exists_action", NULL };
	char k[CFG_MAX_KEY];
	const char *action;
	int r;

	*ret_action = EXISTS_OVERRIDE;
	if (json_is_string(v)) {
		cfg_key(ret_vkey, NULL, key);
		return cfg_string_value(ctx, key, v, ret_value);
	}
	if (!json_is_object(v))
		return cfg_error(ctx, key,
				 "must be a template string or an object with \"value\" and "
				 "\"exists_action\"");
	cfg_key(ret_vkey, key, "value");
	r = cfg_check_keys(ctx, v, key, keys, NULL);
	if (r >= 0)
		r = cfg_string(ctx, v, key, "value", true, ret_value);
	if (r >= 0)
		r = cfg_string(ctx, v, key, "exists_action", false, &action);
	if (r >= 0 && action)
		r = parse_exists_action(ctx, cfg_key(k, key, "exists_action"), action, ret_action);
	return r;
}

/* {token} needs a token; {secret} is the api-key profile's own secret. */
static int check_template(const struct cfg_ctx *ctx, const char *key, const char *value,
			  const struct profile *p)
{
	bool token = cred_type_is_token(p->cred.type);
	char msg[CFG_MAX_TEMPLATE_MSG];
	struct template_refs refs;

	if (template_check(value, &refs, msg, sizeof(msg)) < 0)
		return cfg_error(ctx, key, "%s", msg);
	if (refs.token && !token)
		return cfg_error(ctx, key,
				 "{token} is only available to token credential types, not \"%s\"",
				 cred_type_name(p->cred.type));
	if (refs.secret && token)
		return cfg_error(ctx, key,
				 "{secret} is only available to api-key profiles; name the secret, "
				 "as {secret:NAME}");
	return 0;
}

static int parse_header(const struct cfg_ctx *ctx, const char *name, json_t *v, struct profile *p)
{
	char key[CFG_MAX_KEY], vkey[CFG_MAX_KEY];
	enum exists_action action;
	struct header_template *h;
	const char *value;
	size_t i;
	int r;

	cfg_key(key, "headers", name);
	if (!header_name_valid(name))
		return cfg_error(
		    ctx, key, "is not a valid header name (an RFC 7230 token of at most %d bytes)",
		    CFG_MAX_HEADER_NAME);
	for (i = 0; i < p->n_headers; i++)
		if (strcasecmp(p->headers[i].name, name) == 0)
			return cfg_error(
			    ctx, key, "is the same header as \"%s\" (names are case-insensitive)",
			    p->headers[i].name);
	r = header_spec(ctx, key, v, &value, &action, vkey);
	if (r >= 0)
		r = check_template(ctx, vkey, value, p);
	if (r < 0)
		return r;
	h = &p->headers[p->n_headers++];
	h->action = action;
	h->name = strdup(name);
	h->value = strdup(value);
	return h->name && h->value ? 0 : cfg_oom(ctx);
}

static int default_headers(const struct cfg_ctx *ctx, struct profile *p)
{
	bool token = cred_type_is_token(p->cred.type);
	struct header_template *h;

	p->headers = calloc(1, sizeof(*p->headers));
	if (!p->headers)
		return cfg_oom(ctx);
	h = &p->headers[p->n_headers++];
	h->action = EXISTS_OVERRIDE;
	h->name = strdup(token ? "Authorization" : "api-key");
	h->value = strdup(token ? "Bearer {token}" : "{secret}");
	return h->name && h->value ? 0 : cfg_oom(ctx);
}

static int parse_headers(const struct cfg_ctx *ctx, json_t *headers, struct profile *p)
{
	const char *name;
	json_t *v;
	int r;

	if (!headers)
		return default_headers(ctx, p);
	if (!json_is_object(headers))
		return cfg_error(ctx, "headers", "must be an object of header name to value");
	if (json_object_size(headers) == 0)
		return cfg_error(ctx, "headers",
				 "must not be empty (leave it out for the default)");
	if (json_object_size(headers) > CONFIG_MAX_HEADERS)
		return cfg_error(ctx, "headers", "has more than %d entries", CONFIG_MAX_HEADERS);
	p->headers = calloc(json_object_size(headers), sizeof(*p->headers));
	if (!p->headers)
		return cfg_oom(ctx);
	json_object_foreach(headers, name, v)
	{
		r = parse_header(ctx, name, v, p);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A systemd unit name with its type suffix ("app.service"), as sd_pid_get_unit() reports. */
static bool unit_name_valid(const char *s)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789:-_.\\@";
	size_t n = strlen(s);
	const char *dot = strrchr(s, '.');

	return n <= CFG_MAX_UNIT_NAME && strspn(s, chars) == n && dot && dot != s && dot[1];
}

/* "allow.@key": a non-empty array of at most CONFIG_MAX_ALLOW entries, or absent. */
static int allow_list(const struct cfg_ctx *ctx, json_t *allow, const char *key, json_t **ret)
{
	json_t *v = json_object_get(allow, key);
	char k[CFG_MAX_KEY];

	*ret = NULL;
	if (!v)
		return 0;
	cfg_key(k, "allow", key);
	if (!json_is_array(v))
		return cfg_error(ctx, k, "must be an array");
	if (json_array_size(v) == 0)
		return cfg_error(ctx, k, "must not be empty (leave it out to allow anyone)");
	if (json_array_size(v) > CONFIG_MAX_ALLOW)
		return cfg_error(ctx, k, "has more than %d entries", CONFIG_MAX_ALLOW);
	*ret = v;
	return 0;
}

/* "allow.exe" (absolute paths) or "allow.unit" (unit names). */
static int allow_strings(const struct cfg_ctx *ctx, json_t *allow, const char *key, char ***ret,
			 size_t *ret_n)
{
	bool exe = strcmp(key, "exe") == 0;
	char k[CFG_MAX_KEY];
	const char *s;
	json_t *list, *e;
	size_t i;
	int r;

	r = allow_list(ctx, allow, key, &list);
	if (r < 0 || !list)
		return r;
	*ret = calloc(json_array_size(list), sizeof(char *));
	if (!*ret)
		return cfg_oom(ctx);
	json_array_foreach(list, i, e)
	{
		snprintf(k, sizeof(k), "allow.%s[%zu]", key, i);
		r = cfg_string_value(ctx, k, e, &s);
		if (r < 0)
			return r;
		if (exe && s[0] != '/')
			return cfg_error(ctx, k, "must be an absolute path");
		if (!exe && !unit_name_valid(s))
			return cfg_error(ctx, k,
					 "must be a systemd unit name such as \"app.service\"");
		(*ret)[*ret_n] = strdup(s);
		if (!(*ret)[(*ret_n)++])
			return cfg_oom(ctx);
	}
	return 0;
}

static int allow_uids(const struct cfg_ctx *ctx, json_t *allow, struct allow *al)
{
	char k[CFG_MAX_KEY];
	json_t *list, *e;
	json_int_t uid;
	size_t i;
	int r;

	r = allow_list(ctx, allow, "uid", &list);
	if (r < 0 || !list)
		return r;
	al->uid = calloc(json_array_size(list), sizeof(*al->uid));
	if (!al->uid)
		return cfg_oom(ctx);
	json_array_foreach(list, i, e)
	{
		snprintf(k, sizeof(k), "allow.uid[%zu]", i);
		uid = json_is_integer(e) ? json_integer_value(e) : -1;
		if (uid < 0 || uid > CFG_MAX_UID)
			return cfg_error(ctx, k, "must be a user id (an integer from 0 to %lld)",
					 CFG_MAX_UID);
		al->uid[al->n_uid++] = (unsigned)uid;
	}
	return 0;
}

static int parse_allow(const struct cfg_ctx *ctx, json_t *allow, struct allow *al)
{
	static const char *const keys[] = { "exe", "unit", "uid", NULL };
	int r;

	if (!allow)
		return 0;
	if (!json_is_object(allow))
		return cfg_error(ctx, "allow",
				 "must be an object with \"exe\", \"unit\" or \"uid\"");
	r = cfg_check_keys(ctx, allow, "allow", keys, NULL);
	if (r >= 0)
		r = allow_strings(ctx, allow, "exe", &al->exe, &al->n_exe);
	if (r >= 0)
		r = allow_strings(ctx, allow, "unit", &al->unit, &al->n_unit);
	if (r >= 0)
		r = allow_uids(ctx, allow, al);
	return r;
}

int cfg_parse_profile(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p,
		      json_t *hostset)
{
	static const char *const keys[] = { "hosts", "credential", "scope", "headers",
					    "allow", "relay",      NULL };
	int r;

	if (!json_is_object(v))
		return cfg_error(ctx, NULL, "must be an object");
	r = cfg_check_keys(ctx, v, NULL, keys, NULL);
	if (r >= 0)
		r = parse_hosts(ctx, json_object_get(v, "hosts"), p, hostset);
	/* The credential decides what scope and headers may say. */
	if (r >= 0)
		r = cfg_parse_credential(ctx, json_object_get(v, "credential"), c, p);
	if (r >= 0)
		r = parse_scope(ctx, v, p);
	if (r >= 0)
		r = parse_headers(ctx, json_object_get(v, "headers"), p);
	if (r >= 0)
		r = parse_allow(ctx, json_object_get(v, "allow"), &p->allow);
	if (r >= 0)
		r = cfg_parse_relay(ctx, json_object_get(v, "relay"), c, p);
	return r;
}
