# SPDX-License-Identifier: MIT
# client/libaoai/: libaoai, the agent's client library (docs/ARCHITECTURE.md).
LIBAOAI_SRC := $(wildcard client/libaoai/*.c)
