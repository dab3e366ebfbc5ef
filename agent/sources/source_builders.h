/* SPDX-License-Identifier: MIT */
/*
 * The request builders, one per family of sources, called by source.c.
 * Each fills the fetch through fetch.h; fetch.c knows none of them.
 * Return 0 or -errno with @err filled.
 */
#pragma once

#include "fetch.h"

int managed_identity_prepare(struct source_fetch *f, const struct profile *p, const char *resource,
			     struct source_error *err);
int entra_prepare(struct source_fetch *f, const struct profile *p, const char *scope,
		  struct source_error *err);
/* Runs az at once; sets f->cancel, which fetch_finish() and source_cancel() call. */
int azure_cli_start(struct source_fetch *f, const struct profile *p, const char *resource,
		    struct source_error *err);
