/* SPDX-License-Identifier: MIT */
/* Private to the config module: the "secrets" section (config_secrets.c), called by config.c. */
#pragma once

#include <jansson.h>

#include "config.h"
#include "config_keys.h"

/* Appends the top-level "secrets" object @v to c->secrets (room is reserved). */
int cfg_parse_secrets(const struct cfg_ctx *ctx, json_t *v, struct config *c);
/* Checks what needs all profiles: every keyvault "via" names a token profile, and no
 * keyvault secret's token (via or inline "credential") needs that secret itself. */
int cfg_check_secrets(const struct cfg_ctx *ctx, const struct config *c);
