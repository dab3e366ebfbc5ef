# SPDX-License-Identifier: MIT
# client/check/: aoai-check (docs/ARCHITECTURE.md).
CHECK_SRC := $(wildcard client/check/*.c)
# Its parts, as an archive the unit tests and fuzz harnesses link: each pulls
# in only what it uses (a parser's test does not need libaoai).
CHECK_CORE_SRC := $(filter-out client/check/aoai_check.c,$(CHECK_SRC))
