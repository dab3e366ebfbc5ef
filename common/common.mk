# SPDX-License-Identifier: MIT
# common/: helpers both sides share, libc only (docs/ARCHITECTURE.md).
COMMON_SRC := $(wildcard common/*.c)
