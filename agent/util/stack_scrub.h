/* SPDX-License-Identifier: MIT */
/*
 * Overwriting the stack below the caller, where deeper calls that were
 * handed a secret (libcurl and OpenSSL sending a token request, libc
 * formatting its body) may have left copies: the agent's memory holds no
 * secret outside its locked store once a request is done (docs/SECURITY.md).
 */
#pragma once

/* Bytes scrubbed: deeper than any call chain the agent's loop runs. */
#define STACK_SCRUB_BYTES (64 * 1024)

void stack_scrub(void);
