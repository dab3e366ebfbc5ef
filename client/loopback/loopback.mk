# SPDX-License-Identifier: MIT
# client/loopback/: what the local HTTP endpoints share (docs/ARCHITECTURE.md).
LOOPBACK_SRC := $(wildcard client/loopback/*.c)
