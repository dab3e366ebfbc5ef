# SPDX-License-Identifier: MIT
# client/shared/: what the client programs share (docs/ARCHITECTURE.md).
CLIENT_SHARED_SRC := $(wildcard client/shared/*.c)
