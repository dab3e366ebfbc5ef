# SPDX-License-Identifier: MIT
# client/cli/: the aoai command, one file per command (docs/ARCHITECTURE.md).
CLI_SRC := $(wildcard client/cli/*.c)
