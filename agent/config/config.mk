# SPDX-License-Identifier: MIT
# agent/config/: configuration parsing (docs/ARCHITECTURE.md).
AGENT_CONFIG_SRC := $(wildcard agent/config/*.c)
AGENT_LIB_SRC += $(AGENT_CONFIG_SRC)
AGENT_INC += -Iagent/config
