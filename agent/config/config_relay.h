/* SPDX-License-Identifier: MIT */
/* Private to the config module: a profile's "relay" object (config_relay.c). */
#pragma once

#include <jansson.h>

#include "config.h"
#include "config_keys.h"

/*
 * Fills @p->relay_listen from the "relay" object @v (absent: left NULL),
 * checking that no other profile of @c parsed so far listens there.
 */
int cfg_parse_relay(const struct cfg_ctx *ctx, json_t *v, const struct config *c,
		    struct profile *p);
