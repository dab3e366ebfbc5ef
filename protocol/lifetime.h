/* SPDX-License-Identifier: MIT */
/* Lifetimes as people type them (ssh-add -t): "3600", "90s", "30m", "8h",
 * "2d", "1w".  Shared by aoai-agent -t and aoai add -t. */
#pragma once

/*
 * Parses @text into seconds (0 = forever) within 0..PROTO_MAX_LIFETIME.
 * Returns 0 and sets *ret, or -EINVAL.
 */
int lifetime_parse(const char *text, long long *ret);
