/* SPDX-License-Identifier: MIT */
/*
 * Header value templates (agent/config/template.c): the input is a header value
 * from the configuration ("Bearer {token}", "{secret:other}" …).  A
 * template that template_check() accepts is expanded with fixed values:
 * a present secret, a missing one, and one holding a line break, so every
 * outcome of template_expand() is reached.  Expanded values must be
 * header-safe, and a template without placeholders must expand to itself.
 */
#include <errno.h>

#include "fuzz.h"
#include "template.h"

#define TEMPLATE_ERR_LEN 256

/* Each value holds a space, which a NAME cannot: @missing can never spell one by chance. */
static const char own_secret[] = "own secret";
static const char named_secret[] = "named secret";
static const char broken_secret[] = "line\r\nInjected: yes";
static const char token[] = "eyJ0eXAiOiJKV1QifQ.e30.sig token";

/*
 * {secret} is present; {secret:NAME} is present when NAME starts with 'a'
 * to 'm', holds CR LF when it starts with 'x', and is missing otherwise.
 */
static const char *lookup(void *userdata, const char *name, size_t *ret_len)
{
	const char *v;

	(void)userdata;
	if (!name)
		v = own_secret;
	else if (name[0] >= 'a' && name[0] <= 'm')
		v = named_secret;
	else if (name[0] == 'x')
		v = broken_secret;
	else
		return NULL;
	*ret_len = strlen(v);
	return v;
}

static void check_value(const char *tmpl, const struct template_refs *refs, const char *value,
			size_t len)
{
	size_t i;

	FUZZ_CHECK(value && strlen(value) == len && len <= TEMPLATE_MAX_VALUE);
	for (i = 0; i < len; i++)
		FUZZ_CHECK(value[i] != '\r' && value[i] != '\n');
	if (!refs->secret && !refs->token && refs->n_named == 0)
		FUZZ_CHECK(strcmp(value, tmpl) == 0);
	if (refs->token)
		FUZZ_CHECK(strstr(value, token));
	if (refs->secret)
		FUZZ_CHECK(strstr(value, own_secret));
}

static void expand(const char *tmpl, const struct template_refs *refs, bool with_token)
{
	struct template_vars vars = { .secret = lookup,
				      .token = with_token ? token : NULL,
				      .token_len = with_token ? strlen(token) : 0 };
	char missing[TEMPLATE_ERR_LEN];
	char *value = NULL;
	size_t len = 0;
	int r;

	missing[0] = '\0';
	r = template_expand(tmpl, &vars, &value, &len, missing, sizeof(missing));
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL || r == -E2BIG);
	/* @missing names a placeholder (a NAME comes from the template), never a value. */
	FUZZ_CHECK(fuzz_terminated(missing, sizeof(missing)));
	FUZZ_CHECK(!strstr(missing, own_secret) && !strstr(missing, named_secret));
	FUZZ_CHECK(!strstr(missing, token) && !strstr(missing, broken_secret));
	if (r == 0)
		check_value(tmpl, refs, value, len);
	else
		FUZZ_CHECK(!value);
	if (r == -ENOENT || r == -EINVAL)
		FUZZ_CHECK(missing[0] != '\0');
	value = template_value_free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *tmpl = fuzz_strndup(data, size), err[TEMPLATE_ERR_LEN];
	struct template_refs refs = { .n_named = 0 };
	int r;

	memset(err, 'x', sizeof(err));
	r = template_check(tmpl, &refs, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(r == 0 || (fuzz_message_ok(err, sizeof(err)) && err[0] != '\0'));
	if (r == 0) {
		expand(tmpl, &refs, true);
		expand(tmpl, &refs, false);
	}
	free(tmpl);
	return 0;
}
