# SPDX-License-Identifier: MIT
# client/relay/: the relay aoai-exec serves (docs/ARCHITECTURE.md).
RELAY_SRC := $(wildcard client/relay/*.c)
