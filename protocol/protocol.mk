# SPDX-License-Identifier: MIT
# protocol/: the wire protocol, shared by every program (docs/ARCHITECTURE.md).
PROTO_SRC := $(wildcard protocol/*.c)
