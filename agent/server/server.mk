# SPDX-License-Identifier: MIT
# agent/server/: socket, connections, peers, notification (docs/ARCHITECTURE.md).
AGENT_SERVER_SRC := $(wildcard agent/server/*.c)
AGENT_LIB_SRC += $(AGENT_SERVER_SRC)
AGENT_INC += -Iagent/server
