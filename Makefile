# SPDX-License-Identifier: MIT
# aoai-agent — build, test, install.  `make help` lists the targets.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
LIBDIR ?= $(PREFIX)/lib
# The libcurl hook; aoai-exec looks in ../lib next to itself first, then here.
PRELOADDIR ?= $(LIBDIR)
INCLUDEDIR ?= $(PREFIX)/include
SYSTEMDUSERUNITDIR ?= $(PREFIX)/lib/systemd/user
ENVIRONMENTDDIR ?= $(PREFIX)/lib/environment.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD ?= build
PYTHON ?= /usr/bin/python3
PKG_CONFIG ?= pkg-config
WERROR ?= 1
VERSION := 0.1.0
SOVERSION := 1

CC ?= cc
CFLAGS ?= -O2 -g
LDFLAGS ?=

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wimplicit-fallthrough -Wmissing-prototypes \
	-Wstrict-prototypes -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(HARDEN) -MMD -MP -DAOAI_VERSION='"$(VERSION)"' \
	-Iprotocol -Icommon -Iinclude
EXE_LDFLAGS := -pie -Wl,-z,relro,-z,now,-z,noexecstack
SO_LDFLAGS := -shared -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--no-undefined

# libcurl and OpenSSL are dlopen()ed on first use (common/curl_dl.c,
# agent/util/openssl_dl.c): the agent is compiled against their headers but
# links only the first three; tests that call them directly add AGENT_DL_LIBS.
PKGS_AGENT := libsystemd libsodium jansson
PKGS_AGENT_DL := libcurl openssl
AGENT_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS_AGENT) $(PKGS_AGENT_DL) 2>/dev/null)
AGENT_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS_AGENT) 2>/dev/null)
AGENT_DL_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS_AGENT_DL) 2>/dev/null)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
# jansson's static archive where the system has one (Debian's libjansson-dev does).
JANSSON_STATIC := $(wildcard $(shell $(PKG_CONFIG) --variable=libdir jansson 2>/dev/null)/libjansson.a)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Each folder lists its own sources; the agent's rooms in layer order
# (docs/ARCHITECTURE.md), each adding itself to AGENT_LIB_SRC and AGENT_INC.
AGENT_LIB_SRC :=
AGENT_INC :=
include protocol/protocol.mk common/common.mk
include $(foreach d,util config secrets sources tokens core server ops main,agent/$(d)/$(d).mk)
# `aoai check` is a program of its own, which `aoai` runs: it needs libcrypto,
# libxml2 and libcurl, and linking those into the CLI would slow every start.
include $(foreach d,libaoai shared cli check preload loopback relay exec relayd,client/$(d)/$(d).mk)
UNIT_SRC := $(wildcard tests/unit/test-*.c)

OBJ := $(BUILD)/obj
PIC := $(BUILD)/pic
AGENT_CORE_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(AGENT_LIB_SRC) $(COMMON_SRC) $(PROTO_SRC))
LIBAOAI_OBJ := $(patsubst %.c,$(PIC)/%.o,$(LIBAOAI_SRC) $(PROTO_SRC))
# The ground floor and the clients' shared folder as archives: a program
# links the folder and pulls in only the objects it uses.  (The CLI shares the
# protocol helpers libaoai keeps private.)
PROTO_LIB := $(BUILD)/libprotocol.a
COMMON_LIB := $(BUILD)/libcommon.a
COMMON_PIC_LIB := $(BUILD)/libcommon-pic.a
CLIENT_SHARED_LIB := $(BUILD)/libclient-shared.a
# The CLI links libaoai's code itself (LIBAOAI_CLI_LIB), not libaoai.so.
LIBAOAI_CLI_LIB := $(BUILD)/libaoai-cli.a
CLI_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(CLI_SRC)) $(CLIENT_SHARED_LIB) $(LIBAOAI_CLI_LIB) \
	$(PROTO_LIB) $(COMMON_LIB)
CHECK_CORE_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(CHECK_CORE_SRC))
CHECK_CORE := $(BUILD)/libcheck-core.a
# The agent's URL rules (common/hosts.c) too: aoai-check fetches what the agent would.
CHECK_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(CHECK_SRC)) $(CLIENT_SHARED_LIB) $(COMMON_LIB) $(PROTO_LIB)
CHECK_BIN := $(BUILD)/libexec/aoai/aoai-check
PKGS_CHECK := openssl libxml-2.0 libcurl jansson libsodium
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS_CHECK) 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS_CHECK) 2>/dev/null)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# The hook is loaded into every process it is preloaded into: libc only, the
# frame helpers of protocol/, and nothing exported but the curl entry points.
PRELOAD_PROTO_LIB := $(BUILD)/libprotocol-hook.a
PRELOAD_OBJ := $(patsubst %.c,$(PIC)/%.o,$(PRELOAD_SRC)) $(PRELOAD_PROTO_LIB)
PRELOAD := $(BUILD)/lib/libaoai-preload.so
# Test programs that link libcurl (the hook itself never does).
CURL_TEST_SRC := $(wildcard tests/preload/*.c)
CURL_TEST_BIN := $(patsubst tests/preload/%.c,$(BUILD)/tests/preload/%,$(CURL_TEST_SRC))
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
# The load generator of tests/integration/test_load.py (libaoai, pthreads).
LOADGEN := $(BUILD)/tests/loadgen
# aoai-exec: libaoai for the agent, libmicrohttpd for the local identity endpoint.
EXEC_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(EXEC_SRC) $(RELAY_SRC) $(LOOPBACK_SRC)) $(CLIENT_SHARED_LIB) \
	$(COMMON_LIB) $(PROTO_LIB)
EXEC_BIN := $(BUILD)/bin/aoai-exec
# aoai-relay: the same relay, for every profile with one, until told to stop.
RELAYD_OBJ := $(patsubst %.c,$(OBJ)/%.o,$(RELAYD_SRC) $(RELAY_SRC) $(LOOPBACK_SRC)) $(CLIENT_SHARED_LIB) \
	$(COMMON_LIB) $(PROTO_LIB)
RELAYD_BIN := $(BUILD)/bin/aoai-relay
SYSTEMD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS := $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null)
MHD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null)

AGENT_BIN := $(BUILD)/bin/aoai-agent
# The agent as on a machine without libcurl and OpenSSL (see its rule).
NOLIBS_AGENT := $(BUILD)/tests/aoai-agent-nolibs
CLI_BIN := $(BUILD)/bin/aoai
LIBAOAI := $(BUILD)/lib/libaoai.so.$(SOVERSION)
AGENT_CORE := $(BUILD)/libagent-core.a

# Programs find libaoai in ../lib both in the build tree and once installed;
# RPATH=0 for an install into the system's library path (make deb).
RPATH ?= 1
ifeq ($(RPATH),1)
RPATH_FLAGS := -Wl,-rpath,'$$ORIGIN/../lib'
CHECK_RPATH_FLAGS := -Wl,-rpath,'$$ORIGIN/../../lib'
endif

.PHONY: all help check unit integration asan demo lint install uninstall deps test-deps clean \
	fuzz fuzz-replay bench load valgrind deb
all: $(AGENT_BIN) $(CLI_BIN) $(CHECK_BIN) $(LIBAOAI) $(BUILD)/lib/libaoai.so $(BUILD)/lib/pkgconfig/aoai.pc \
	$(if $(PRELOAD_SRC),$(PRELOAD)) $(CURL_TEST_BIN) $(if $(EXEC_SRC),$(EXEC_BIN)) \
	$(if $(RELAYD_SRC),$(RELAYD_BIN)) $(LOADGEN) $(NOLIBS_AGENT)

help:
	@echo "make            build everything into $(BUILD)/"
	@echo "make check      install test dependencies if missing, build, run all tests"
	@echo "make asan       the same under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make valgrind   the integration suite with every agent under valgrind memcheck"
	@echo "make fuzz       libFuzzer harnesses, FUZZ_SECONDS=N each (FUZZ=name for one)"
	@echo "make bench      measure latency, throughput, hook and memory against baselines"
	@echo "make demo       show the agent at work against local stand-ins for Azure"
	@echo "make lint       clang-format check, banned-call grep, layer check (docs/ARCHITECTURE.md)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=…"
	@echo "make deb        Debian packages (debian/) into $(BUILD)/deb/, checked by lintian"

# Installs missing Debian packages (no-op when all are present).
deps:
	$(Q)scripts/install-deps.sh build
test-deps:
	$(Q)scripts/install-deps.sh test

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) -fPIE $(AGENT_CFLAGS) $(CFLAGS) -c -o $@ $<

# The hook and its libcurl test programs are loaded into, or run as,
# uninstrumented programs and under valgrind: never built with sanitizers
# (make asan still instruments everything else).
NOSAN_CFLAGS = $(filter-out -fsanitize=%,$(CFLAGS))
NOSAN_LDFLAGS = $(filter-out -fsanitize=%,$(LDFLAGS))

define preload_cc
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [so] $<")
	$(Q)$(CC) $(BASE_CFLAGS) -Iclient/preload -fPIC -fvisibility=hidden $(NOSAN_CFLAGS) -c -o $@ $<
endef
$(PIC)/client/preload/%.o: client/preload/%.c
	$(preload_cc)
$(PIC)/preload/%.o: %.c
	$(preload_cc)

$(OBJ)/tests/preload/%.o: tests/preload/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) -fPIE $(NOSAN_CFLAGS) -c -o $@ $<

$(PIC)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [so] $<")
	$(Q)$(CC) $(BASE_CFLAGS) -fPIC -fvisibility=hidden $(CFLAGS) -c -o $@ $<

$(AGENT_CORE): $(AGENT_CORE_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(CHECK_CORE): $(CHECK_CORE_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(PROTO_LIB): $(patsubst %.c,$(OBJ)/%.o,$(PROTO_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(COMMON_LIB): $(patsubst %.c,$(OBJ)/%.o,$(COMMON_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(COMMON_PIC_LIB): $(patsubst %.c,$(PIC)/%.o,$(COMMON_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(CLIENT_SHARED_LIB): $(patsubst %.c,$(OBJ)/%.o,$(CLIENT_SHARED_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(LIBAOAI_CLI_LIB): $(patsubst %.c,$(OBJ)/%.o,$(LIBAOAI_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
# The hook's copy of the ground floor: PIC, hidden, never sanitized.
$(PRELOAD_PROTO_LIB): $(patsubst %.c,$(PIC)/preload/%.o,$(PROTO_SRC) $(COMMON_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(AGENT_BIN): $(patsubst %.c,$(OBJ)/%.o,$(AGENT_MAIN_SRC)) $(AGENT_CORE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS)

# The agent as on a machine without libcurl and OpenSSL: its loaders ask for
# sonames that do not exist (tests/integration/test_lazy_libs.py).  Its own
# loader objects come first, so the archive's are never pulled in.
NOLIBS_DEFS := -DCURL_DL_SONAME='"libcurl-aoai-missing.so.4"' \
	-DOPENSSL_DL_CRYPTO_SONAME='"libcrypto-aoai-missing.so.3"' \
	-DOPENSSL_DL_SSL_SONAME='"libssl-aoai-missing.so.3"'
NOLIBS_OBJ := $(BUILD)/nolibs/curl_dl.o $(BUILD)/nolibs/openssl_dl.o
$(BUILD)/nolibs/%.o: BASE_CFLAGS := $(AGENT_INC) $(BASE_CFLAGS)
$(BUILD)/nolibs/curl_dl.o: common/curl_dl.c
$(BUILD)/nolibs/openssl_dl.o: agent/util/openssl_dl.c
$(NOLIBS_OBJ):
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (missing libraries)")
	$(Q)$(CC) $(BASE_CFLAGS) -fPIE $(AGENT_CFLAGS) $(CFLAGS) $(NOLIBS_DEFS) -c -o $@ $<
$(NOLIBS_AGENT): $(patsubst %.c,$(OBJ)/%.o,$(AGENT_MAIN_SRC)) $(NOLIBS_OBJ) $(AGENT_CORE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS)

$(LIBAOAI): $(LIBAOAI_OBJ) $(COMMON_PIC_LIB) client/libaoai/libaoai.map
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(SO_LDFLAGS) -Wl,-soname,libaoai.so.$(SOVERSION) \
		-Wl,--version-script=client/libaoai/libaoai.map $(LDFLAGS) -o $@ $(LIBAOAI_OBJ) $(COMMON_PIC_LIB) $(JANSSON_LIBS)

$(PRELOAD): $(PRELOAD_OBJ) client/preload/preload.map
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(NOSAN_CFLAGS) $(SO_LDFLAGS) -Wl,--version-script=client/preload/preload.map \
		$(NOSAN_LDFLAGS) -o $@ $(PRELOAD_OBJ) -ldl -lpthread

$(BUILD)/tests/preload/%: $(OBJ)/tests/preload/%.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(NOSAN_CFLAGS) $(EXE_LDFLAGS) $(NOSAN_LDFLAGS) -o $@ $^ $(CURL_LIBS) -lpthread

$(LOADGEN): $(OBJ)/tests/load/loadgen.o $(LIBAOAI) $(BUILD)/lib/libaoai.so
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) $(RPATH_FLAGS) -o $@ $< -L$(BUILD)/lib -laoai -lpthread

$(BUILD)/lib/libaoai.so: $(LIBAOAI)
	$(Q)ln -sf libaoai.so.$(SOVERSION) $@

# The paths come from the install's PREFIX, so install writes its own copy.
make_pc = sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' $(1)
$(BUILD)/lib/pkgconfig/aoai.pc: client/libaoai/aoai.pc.in Makefile
	@mkdir -p $(@D)
	$(Q)$(call make_pc,$<) > $@

# The user units name the installed agent.
make_unit = sed -e 's|@BINDIR@|$(BINDIR)|g' $(1)

# Each `aoai` command is a process of its own, whose start is most of what it
# costs (docs/PERFORMANCE.md): libaoai's code and, where there is a static
# archive, jansson are linked in, so ld.so maps and relocates libc alone.
$(CLI_BIN): $(CLI_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -Wl,-O1,--as-needed -o $@ $(CLI_OBJ) \
		$(or $(JANSSON_STATIC),$(JANSSON_LIBS))

$(EXEC_BIN): $(EXEC_OBJ) $(LIBAOAI) $(BUILD)/lib/libaoai.so
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) $(RPATH_FLAGS) -o $@ $(EXEC_OBJ) \
		-L$(BUILD)/lib -laoai $(JANSSON_LIBS) $(MHD_LIBS) $(CURL_LIBS) -lpthread
$(OBJ)/client/exec/%.o: BASE_CFLAGS += -Iclient/shared -Iclient/loopback -Iclient/relay $(MHD_CFLAGS)
$(OBJ)/client/exec/preload.o: BASE_CFLAGS += -DAOAI_PRELOADDIR='"$(PRELOADDIR)"'
$(RELAYD_BIN): $(RELAYD_OBJ) $(LIBAOAI) $(BUILD)/lib/libaoai.so
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) $(RPATH_FLAGS) -o $@ $(RELAYD_OBJ) \
		-L$(BUILD)/lib -laoai $(JANSSON_LIBS) $(MHD_LIBS) $(CURL_LIBS) $(SYSTEMD_LIBS) -lpthread
$(OBJ)/client/relayd/%.o: BASE_CFLAGS += -Iclient/shared -Iclient/loopback -Iclient/relay \
	$(MHD_CFLAGS) $(SYSTEMD_CFLAGS)
$(OBJ)/client/loopback/%.o: BASE_CFLAGS += -Iclient/shared $(MHD_CFLAGS)
$(OBJ)/client/relay/%.o: BASE_CFLAGS += -Iclient/shared -Iclient/loopback $(MHD_CFLAGS)

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(AGENT_CORE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(AGENT_DL_LIBS) $(CMOCKA_LIBS)

# From libexec/aoai/ the build tree's and the installed lib/ are two levels up.
$(CHECK_BIN): $(CHECK_OBJ) $(LIBAOAI) $(BUILD)/lib/libaoai.so
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) $(CHECK_RPATH_FLAGS) -o $@ \
		$(CHECK_OBJ) -L$(BUILD)/lib -laoai $(CHECK_LIBS)
$(OBJ)/client/check/%.o: BASE_CFLAGS += -Iclient/shared $(CHECK_CFLAGS)
$(OBJ)/client/cli/%.o: BASE_CFLAGS += -Iclient/shared
$(OBJ)/client/libaoai/%.o $(PIC)/client/libaoai/%.o: BASE_CFLAGS += -Iclient/libaoai
$(OBJ)/client/cli/cmd_check.o: BASE_CFLAGS += -DAOAI_LIBEXECDIR='"$(LIBEXECDIR)"'

# The tests of `aoai check`'s parts link them ahead of the core they use.
CHECK_UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test-check-*.c))
$(CHECK_UNIT_BIN): $(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(CHECK_CORE) $(AGENT_CORE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(AGENT_DL_LIBS) $(CHECK_LIBS) \
		$(CMOCKA_LIBS)
$(OBJ)/tests/unit/test-check-%.o: BASE_CFLAGS += -Iclient/check -Iclient/shared $(CHECK_CFLAGS)

# The tests of aoai-exec's parts that need neither libaoai nor libmicrohttpd.
EXEC_UNIT_BIN := $(BUILD)/tests/test-loopback-peer $(BUILD)/tests/test-head-deadline
$(BUILD)/tests/test-loopback-peer: $(OBJ)/client/loopback/loopback_peer.o
$(BUILD)/tests/test-head-deadline: $(OBJ)/client/loopback/head_deadline.o
$(EXEC_UNIT_BIN): $(BUILD)/tests/%: $(OBJ)/tests/unit/%.o
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) -lpthread
$(patsubst $(BUILD)/tests/%,$(OBJ)/tests/unit/%.o,$(EXEC_UNIT_BIN)): BASE_CFLAGS += -Iclient/loopback

# The agent's rooms (file names are unique, so their order does not matter).
$(OBJ)/tests/unit/%.o: BASE_CFLAGS := $(AGENT_INC) $(BASE_CFLAGS) -Wno-missing-prototypes
$(OBJ)/agent/%.o: BASE_CFLAGS := $(AGENT_INC) $(BASE_CFLAGS)

# Each suite ends with one line saying how it went; given CHECK_SUMMARY (a
# file, as `make check` passes it), it appends that line there too.
unit: test-deps
	$(Q)$(MAKE) --no-print-directory $(UNIT_BIN)
	$(Q)ok=0; n=0; failed=; for t in $(UNIT_BIN); do n=$$((n + 1)); \
		if $$t; then ok=$$((ok + 1)); else failed="$$failed $${t##*/}"; fi; \
	done; line="unit $$ok/$$n files ok$${failed:+ (failed:$$failed)}"; echo "$$line"; \
	$(if $(CHECK_SUMMARY),echo "$$line" >> $(CHECK_SUMMARY);) test $$ok -eq $$n

# -rfEs: failures, errors and why each skipped test was skipped.
integration: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(if $(CHECK_SUMMARY),AOAI_CHECK_SUMMARY=$(CHECK_SUMMARY)) AOAI_BUILD=$(abspath $(BUILD)) \
		$(PYTHON) -m pytest -q -rfEs -p no:cacheprovider tests/integration

# Every suite runs even when one before it fails, so that the last line sums
# up all of them; the exit status is a failure when any of them failed.
check: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)summary=$(abspath $(BUILD))/check-summary; rm -f $$summary; fail=0; \
	for suite in unit fuzz-replay integration; do \
		$(MAKE) --no-print-directory $$suite CHECK_SUMMARY=$$summary || fail=1; \
		grep -q "^$$suite " $$summary 2>/dev/null || \
			{ echo "$$suite did not finish" >> $$summary; fail=1; }; \
	done; \
	echo "check: $$(awk '{ printf "%s%s", (NR > 1 ? ", " : ""), $$0 }' $$summary)"; \
	exit $$fail

# Sanitized build in its own tree, then the whole suite against it.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# aoai-exec puts the (uninstrumented) hook first in its children's LD_PRELOAD;
# when a child is itself an instrumented binary, ASan must accept that order.
asan: test-deps
	$(Q)ASAN_OPTIONS="verify_asan_link_order=0$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}" \
		$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" check

# The whole integration suite with every agent it starts under memcheck
# (definite and indirect leaks count as errors); the clients run natively.
valgrind: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)AOAI_TEST_VALGRIND=1 AOAI_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q -p no:cacheprovider \
		tests/integration $(PYTEST_ARGS)

demo: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)AOAI_BUILD=$(abspath $(BUILD)) tests/demo.sh

lint:
	$(Q)clang-format --dry-run -Werror $(PROTO_SRC) $(wildcard protocol/*.h common/*.[ch] agent/*/*.[ch] \
		include/*.h client/*/*.[ch] \
		tests/unit/*.[ch] tests/preload/*.[ch] tests/load/*.[ch] tests/fuzz/*.[ch] bench/*.[ch])
	$(Q)! git grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol)\s*\(' -- '*.c' '*.h'
	$(Q)! git grep -nE '[^_]getenv\s*\(' -- agent/ common/ protocol/
	$(Q)scripts/check-layers
	@echo "lint: ok"

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 0755 $(AGENT_BIN) $(CLI_BIN) $(if $(EXEC_SRC),$(EXEC_BIN)) \
		$(if $(RELAYD_SRC),$(RELAYD_BIN)) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(LIBAOAI) $(DESTDIR)$(LIBDIR)/
	install -d $(DESTDIR)$(PRELOADDIR)
	install -m 0755 $(PRELOAD) $(DESTDIR)$(PRELOADDIR)/
	install -d $(DESTDIR)$(LIBEXECDIR)/aoai
	install -m 0755 $(CHECK_BIN) $(DESTDIR)$(LIBEXECDIR)/aoai/
	ln -sf libaoai.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libaoai.so
	install -m 0644 include/aoai.h $(DESTDIR)$(INCLUDEDIR)/
	$(call make_pc,client/libaoai/aoai.pc.in) > $(DESTDIR)$(LIBDIR)/pkgconfig/aoai.pc
	install -d $(DESTDIR)$(SYSTEMDUSERUNITDIR) $(DESTDIR)$(ENVIRONMENTDDIR)
	install -m 0644 systemd/aoai-agent.socket $(DESTDIR)$(SYSTEMDUSERUNITDIR)/
	$(call make_unit,systemd/aoai-agent.service.in) > $(DESTDIR)$(SYSTEMDUSERUNITDIR)/aoai-agent.service
	install -m 0644 systemd/aoai-relay.socket $(DESTDIR)$(SYSTEMDUSERUNITDIR)/
	$(call make_unit,systemd/aoai-relay.service.in) > $(DESTDIR)$(SYSTEMDUSERUNITDIR)/aoai-relay.service
	install -m 0644 systemd/aoai-agent.env $(DESTDIR)$(ENVIRONMENTDDIR)/50-aoai-agent.conf
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 client/completions/aoai.bash $(DESTDIR)$(BASHCOMPDIR)/aoai
	ln -sf aoai $(DESTDIR)$(BASHCOMPDIR)/aoai-exec
	install -m 0644 client/completions/_aoai $(DESTDIR)$(ZSHCOMPDIR)/_aoai
	install -m 0644 client/completions/aoai.fish client/completions/aoai-exec.fish \
		$(DESTDIR)$(FISHCOMPDIR)/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 client/man/aoai-agent.1 client/man/aoai.1 client/man/aoai-exec.1 \
		client/man/aoai-check.1 client/man/aoai-relay.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 client/man/aoai-agent.json.5 $(DESTDIR)$(MANDIR)/man5/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/aoai-agent $(DESTDIR)$(BINDIR)/aoai $(DESTDIR)$(BINDIR)/aoai-exec
	rm -f $(DESTDIR)$(BINDIR)/aoai-relay
	rm -f $(DESTDIR)$(LIBEXECDIR)/aoai/aoai-check
	-rmdir $(DESTDIR)$(LIBEXECDIR)/aoai 2>/dev/null
	rm -f $(DESTDIR)$(LIBDIR)/libaoai.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libaoai.so
	rm -f $(DESTDIR)$(PRELOADDIR)/libaoai-preload.so
	rm -f $(DESTDIR)$(INCLUDEDIR)/aoai.h $(DESTDIR)$(LIBDIR)/pkgconfig/aoai.pc
	rm -f $(DESTDIR)$(SYSTEMDUSERUNITDIR)/aoai-agent.socket $(DESTDIR)$(SYSTEMDUSERUNITDIR)/aoai-agent.service
	rm -f $(DESTDIR)$(SYSTEMDUSERUNITDIR)/aoai-relay.socket $(DESTDIR)$(SYSTEMDUSERUNITDIR)/aoai-relay.service
	rm -f $(DESTDIR)$(ENVIRONMENTDDIR)/50-aoai-agent.conf
	rm -f $(DESTDIR)$(BASHCOMPDIR)/aoai $(DESTDIR)$(BASHCOMPDIR)/aoai-exec $(DESTDIR)$(ZSHCOMPDIR)/_aoai
	rm -f $(DESTDIR)$(FISHCOMPDIR)/aoai.fish $(DESTDIR)$(FISHCOMPDIR)/aoai-exec.fish
	rm -f $(DESTDIR)$(MANDIR)/man1/aoai-agent.1 $(DESTDIR)$(MANDIR)/man1/aoai.1
	rm -f $(DESTDIR)$(MANDIR)/man1/aoai-exec.1 $(DESTDIR)$(MANDIR)/man1/aoai-check.1
	rm -f $(DESTDIR)$(MANDIR)/man1/aoai-relay.1
	rm -f $(DESTDIR)$(MANDIR)/man5/aoai-agent.json.5

# dpkg-buildpackage writes into ..; the packages and their .changes and
# .buildinfo move from there into $(BUILD)/deb/, the other files in .. stay.
# No tests here (debian/rules): CI runs them on the tree.
DEB_CHANGES = ../aoai-agent_$(shell dpkg-parsechangelog -S Version 2>/dev/null)_$(shell \
	dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null).changes
deb:
	$(Q)scripts/install-deps.sh deb
	dpkg-buildpackage -b -us -uc
	$(Q)rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb
	$(Q)for f in $$(sed -n '/^Files:/,/^[^ ]/s/^ .* //p' $(DEB_CHANGES)) $(DEB_CHANGES); do \
		mv "$(dir $(DEB_CHANGES))$${f##*/}" $(BUILD)/deb/ || exit 1; done
	lintian --fail-on error $(BUILD)/deb/*.changes
	@ls -1 $(BUILD)/deb/*.deb

clean:
	rm -rf build build-asan build-fuzz

# Fuzz harnesses (make fuzz, and the corpus replay make check runs) and make bench.
include tests/fuzz/fuzz.mk
include bench/bench.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
