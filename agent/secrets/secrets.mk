# SPDX-License-Identifier: MIT
# agent/secrets/: the secret store, lock, audit and persistent store (docs/ARCHITECTURE.md).
AGENT_SECRETS_SRC := $(wildcard agent/secrets/*.c)
AGENT_LIB_SRC += $(AGENT_SECRETS_SRC)
AGENT_INC += -Iagent/secrets
