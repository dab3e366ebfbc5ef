# SPDX-License-Identifier: MIT
# agent/tokens/: token cache, refresh schedule, JWKS (docs/ARCHITECTURE.md).
AGENT_TOKENS_SRC := $(wildcard agent/tokens/*.c)
AGENT_LIB_SRC += $(AGENT_TOKENS_SRC)
AGENT_INC += -Iagent/tokens
