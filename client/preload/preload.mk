# SPDX-License-Identifier: MIT
# client/preload/: the LD_PRELOAD hook (libc, protocol/frame.c and json_mini.c only) (docs/ARCHITECTURE.md).
PRELOAD_SRC := $(wildcard client/preload/*.c)
