# SPDX-License-Identifier: MIT
# agent/sources/: token sources and the generic fetch (docs/ARCHITECTURE.md).
AGENT_SOURCES_SRC := $(wildcard agent/sources/*.c)
AGENT_LIB_SRC += $(AGENT_SOURCES_SRC)
AGENT_INC += -Iagent/sources
