# SPDX-License-Identifier: MIT
# agent/main/: the daemon's main() (docs/ARCHITECTURE.md).
AGENT_MAIN_SRC := $(wildcard agent/main/*.c)
AGENT_INC += -Iagent/main
