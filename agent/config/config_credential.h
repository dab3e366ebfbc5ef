/* SPDX-License-Identifier: MIT */
/*
 * Private to the config module: the parser of a "credential" object
 * (config_credential.c), called by the profile and secrets parsers.
 */
#pragma once

#include <jansson.h>

#include "config.h"
#include "config_keys.h"

/* Fills p->cred from @v ("credential"); may append a secret source to @c (api-key
 * "file" only: callers without a reserved slot refuse api-key first). */
int cfg_parse_credential(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p);
