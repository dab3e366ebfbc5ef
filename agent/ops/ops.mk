# SPDX-License-Identifier: MIT
# agent/ops/: opcode table and one file per operation (docs/ARCHITECTURE.md).
AGENT_OPS_SRC := $(wildcard agent/ops/*.c)
AGENT_LIB_SRC += $(AGENT_OPS_SRC)
AGENT_INC += -Iagent/ops
