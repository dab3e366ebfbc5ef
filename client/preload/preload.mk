# SPDX-License-Identifier: MIT
# client/preload/: the LD_PRELOAD hook (libc, protocol/frame.c, json_mini.c and headers_reply.c only) (docs/ARCHITECTURE.md).
PRELOAD_SRC := $(wildcard client/preload/*.c)
