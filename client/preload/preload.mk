# SPDX-License-Identifier: MIT
# client/preload/: the LD_PRELOAD hook (libc and protocol/frame.c only) (docs/ARCHITECTURE.md).
PRELOAD_SRC := $(wildcard client/preload/*.c)
