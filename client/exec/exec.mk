# SPDX-License-Identifier: MIT
# client/exec/: aoai-exec (docs/ARCHITECTURE.md).
EXEC_SRC := $(wildcard client/exec/*.c)
