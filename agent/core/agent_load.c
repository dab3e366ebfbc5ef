/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_load.h"
#include "clock.h"
#include "added_profiles.h"
#include "keyvault.h"
#include "agent.h"
#include "log.h"
#include "profiles.h"
#include "secret_files.h"
#include "secrets.h"
#include "store.h"
#include "tokens.h"
#include "person.h"
#include "signins.h"

static int on_expiry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct agent *a = userdata;
	char err[1024];
	size_t n;

	(void)s;
	n = secrets_expire(a->secrets, usec);
	if (n > 0)
		log_info("%zu secret(s) expired and were wiped", n);
	/* An expired secret leaves the store's file too (failures are logged). */
	(void)store_sync(a, err, sizeof(err));
	agent_schedule_expiry(a);
	return 0;
}

void agent_schedule_expiry(struct agent *a)
{
	uint64_t next = secrets_next_expiry(a->secrets);
	int r;

	if (!a->event) /* before the loop exists; main() calls again once it does */
		return;
	if (next == 0) {
		if (a->expiry_timer)
			sd_event_source_set_enabled(a->expiry_timer, SD_EVENT_OFF);
		return;
	}
	if (!a->expiry_timer)
		r = sd_event_add_time(a->event, &a->expiry_timer, CLOCK_BOOTTIME, next, 0,
				      on_expiry, a);
	else
		r = sd_event_source_set_time(a->expiry_timer, next);
	if (r >= 0)
		r = sd_event_source_set_enabled(a->expiry_timer, SD_EVENT_ONESHOT);
	if (r < 0) /* lookups still refuse expired secrets; only the wipe is late */
		log_error("cannot arm the expiry timer: %s", strerror(-r));
}

/* Profiles added at runtime give way to the configuration: drop those
 * whose name or host the new file now claims. */
static void drop_shadowed_added(struct agent *a)
{
	for (size_t i = added_profiles_count(a->added); i-- > 0;) {
		const struct profile *p = added_profiles_at(a->added, i);
		bool shadowed = config_find_profile(a->config, p->name) != NULL;

		for (size_t c = 0; !shadowed && c < a->config->n_profiles; c++)
			for (size_t h = 0; h < a->config->profiles[c].n_hosts; h++)
				shadowed =
				    shadowed || host_pattern_equal(&a->config->profiles[c].hosts[h],
								   &p->hosts[0]);
		if (shadowed) {
			log_warn("profile \"%s\" added at runtime is now defined by the "
				 "configuration; the configuration wins",
				 p->name);
			added_profiles_remove(a->added, p->name);
		}
	}
}

static void record_reload_error(struct agent *a, const char *err)
{
	free(a->last_reload_error);
	a->last_reload_error = err ? strdup(err) : NULL;
}

/* A sign-in outlives a reload only for the same profile signing in the same way. */
struct signin_check {
	const struct agent *a;
	const struct config *c;
};

static bool signin_still_valid(const char *profile, const char *binding, void *data)
{
	const struct signin_check *chk = data;
	const struct profile *p = config_find_profile(chk->c, profile);
	char now[SIGNIN_MAX_BINDING];

	if (!p || !credential_is_person(&p->cred))
		return false;
	person_binding(&p->cred, &chk->a->env, now, sizeof(now));
	return strcmp(now, binding) == 0;
}

unsigned agent_prune_signins(struct agent *a, const struct config *c)
{
	if (!a->source_ctx.signins)
		return 0;
	return signins_prune(a->source_ctx.signins, signin_still_valid,
			     &(struct signin_check){ a, c });
}

/*
 * Parsing a configuration builds and frees a JSON tree several times the
 * size of what is kept (1.4 MB for 1,000 profiles), interleaved with the
 * profiles kept: free() cannot shrink the heap past them, so the freed
 * pages would stay resident for the agent's lifetime.  malloc_trim()
 * returns every whole free page (jansson's allocator wiped them already).
 */
static void give_back_parse_memory(void)
{
	(void)malloc_trim(0);
}

int agent_load_config(struct agent *a, char *err, size_t errlen)
{
	struct config *c = NULL;
	bool reloading = a->config != NULL;
	int r = a->config_path ? config_load(a->config_path, &c, err, errlen) : -ENOENT;

	if (r == -ENOENT && !a->config_required) {
		c = config_new_empty();
		r = c ? 0 : -ENOMEM;
	} else if (r == -ENOENT) {
		snprintf(err, errlen, "%s: %s", a->config_path, strerror(ENOENT));
	}
	if (r < 0) {
		record_reload_error(a, err);
		give_back_parse_memory();
		return r;
	}
	if (a->tokens)
		tokens_reconfigure(a->tokens, c); /* compares with the old profiles */
	agent_prune_signins(a, c);
	config_free(a->config);
	a->config = c;
	drop_shadowed_added(a);
	secret_files_load(a->secrets, a->config);
	if (a->keyvault)
		keyvault_reconfigure(a->keyvault);
	agent_schedule_expiry(a);
	record_reload_error(a, NULL);
	a->reloads += reloading;
	give_back_parse_memory();
	return 0;
}
