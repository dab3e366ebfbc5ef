# SPDX-License-Identifier: MIT
# agent/util/: process plumbing (docs/ARCHITECTURE.md).
AGENT_UTIL_SRC := $(wildcard agent/util/*.c)
AGENT_LIB_SRC += $(AGENT_UTIL_SRC)
AGENT_INC += -Iagent/util
