/* SPDX-License-Identifier: MIT */
/* Private to the config module: one profile's parser (config_profile.c), called by config.c. */
#pragma once

#include <jansson.h>

#include "config.h"
#include "config_keys.h"

/* Fills @p (already named) from the profile object @v. */
int cfg_parse_profile(const struct cfg_ctx *ctx, json_t *v, struct config *c, struct profile *p,
		      json_t *hostset);
