/* SPDX-License-Identifier: MIT */
/*
 * People signed in (`aoai login`): per profile, the refresh token (sodium
 * memory: it never leaves the agent), who signed in (display only) and
 * whether a sign-in is required.  The token sources read and rotate the
 * refresh token; logout, lock and exit wipe it.  A sign-in is bound to the
 * credential it was made with: a reload that changes the profile's
 * credential makes it unusable.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGNINS_MAX        1024 /* profiles */
#define SIGNIN_MAX_ACCOUNT 255
#define SIGNIN_MAX_BINDING 2048
#define SIGNIN_MAX_MESSAGE 384

struct signins;

/* One person's sign-in; read through signins_find(), never kept. */
struct signin {
	char *refresh_token; /* sodium memory; NULL: sign-in required */
	size_t len;
	char account[SIGNIN_MAX_ACCOUNT + 1];
	char binding[SIGNIN_MAX_BINDING]; /* the credential it was made with */
	char why[SIGNIN_MAX_MESSAGE];     /* why a sign-in is required again, or "" */
	bool persisted;                   /* kept in the persistent store too (--persist) */
};

/*
 * Called after a persisted sign-in changed: its refresh token rotated, was
 * refused (sign-in required) or was forgotten (logout, reload), so that
 * the persistent store follows.  Not called by signins_forget_all() (lock):
 * the store keeps what a lock forgets.
 */
typedef void (*signins_hook_fn)(void *data);
void signins_set_hook(struct signins *s, signins_hook_fn fn, void *data);
/* Marks @profile's sign-in as persisted or not; calls the hook when it was or
 * now is.  -ENOENT when there is none. */
int signins_persist(struct signins *s, const char *profile, bool persisted);
/* Calls @fn for every sign-in (the store collects the persisted ones). */
void signins_foreach(const struct signins *s,
		     void (*fn)(void *data, const char *profile, const struct signin *in),
		     void *data);

/* 0 and *ret, or -ENOMEM. */
int signins_new(struct signins **ret);
/* Wipes every refresh token and frees.  Accepts NULL; returns NULL. */
struct signins *signins_free(struct signins *s);
/*
 * Keeps @rt (@len bytes, copied) as @profile's refresh token made with the
 * credential @binding, replacing the one before (rotation); @account
 * replaces the shown account unless empty.  0, -ENOMEM or -ENOSPC.
 */
int signins_put(struct signins *s, const char *profile, const char *binding, const char *rt,
		size_t len, const char *account);
/* @profile's sign-in when it holds a refresh token made with @binding, else NULL. */
const struct signin *signins_find(const struct signins *s, const char *profile,
				  const char *binding);
/* @profile's entry whatever its state (for list), or NULL. */
const struct signin *signins_peek(const struct signins *s, const char *profile);
/* Makes the refresh token of @in readable around one use, then inaccessible again. */
void signin_reveal(const struct signin *in);
void signin_conceal(const struct signin *in);
/* The refresh token is no longer accepted: wiped, and @why kept for list. */
void signins_require(struct signins *s, const char *profile, const char *why);
/* Forgets @profile's sign-in (logout).  True when there was one. */
bool signins_forget(struct signins *s, const char *profile);
/* Forgets every sign-in for which @keep(profile, binding, @data) is false
 * (after a reload: the profile is gone or signs in elsewhere).  Returns how many. */
unsigned signins_prune(struct signins *s,
		       bool (*keep)(const char *profile, const char *binding, void *data),
		       void *data);
/* Forgets every sign-in (lock).  Returns how many there were. */
unsigned signins_forget_all(struct signins *s);
