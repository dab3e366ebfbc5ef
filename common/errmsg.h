/* SPDX-License-Identifier: MIT */
/* Failures reported as -errno plus a reason for the user, in the caller's buffer. */
#pragma once

#include <stddef.h>

/* Formats the reason into @err (when @err and @errlen allow) and returns @r. */
int errmsg(char *err, size_t errlen, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
