# SPDX-License-Identifier: MIT
# agent/core/: struct agent and what acts on all of it (docs/ARCHITECTURE.md).
AGENT_CORE_SRC := $(wildcard agent/core/*.c)
AGENT_LIB_SRC += $(AGENT_CORE_SRC)
AGENT_INC += -Iagent/core
