# SPDX-License-Identifier: MIT
# client/relayd/: aoai-relay, the relay served for programs that cannot be wrapped (docs/ARCHITECTURE.md).
RELAYD_SRC := $(wildcard client/relayd/*.c)
