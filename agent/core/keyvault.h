/* SPDX-License-Identifier: MIT */
/*
 * Named secrets from Azure Key Vault (config "secrets": {"NAME": {"keyvault":
 * URL, "via": PROFILE | "credential": {…}, "refresh": SECONDS}}).  Each is
 * fetched with `GET URL?api-version=7.4` and a bearer token for
 * https://vault.azure.net from the `via` token profile, or from the
 * secret's own credential (a token only this module ever sees), held in
 * the secret store (origin keyvault),
 * and fetched again every `refresh` seconds.  A failed fetch is retried with
 * a growing delay while the cached value keeps being served; its error is
 * what `aoai list` shows.  Everything runs on the event loop.
 */
#pragma once

struct agent;
struct keyvault;

int keyvault_new(struct agent *a, struct keyvault **ret);
/* Cancels every fetch and frees (the values stay in the secret store). */
struct keyvault *keyvault_free(struct keyvault *kv);

/*
 * After the configuration was (re)loaded: starts fetching every keyvault
 * secret it names now (those already held keep being served until the
 * fetch answers), and forgets those it no longer names.
 */
void keyvault_reconfigure(struct keyvault *kv);

/* The last failure for secret @name, NULL when its last fetch succeeded or
 * it is not a keyvault secret. */
const char *keyvault_last_error(const struct keyvault *kv, const char *name);
