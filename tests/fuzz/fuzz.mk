# SPDX-License-Identifier: MIT
# Fuzz harnesses (tests/fuzz/README.md).  Included at the end of the top-level
# Makefile, so its variables (BUILD, OBJ, BASE_CFLAGS, AGENT_CFLAGS, AGENT_LIBS,
# AGENT_CORE, Q …) are visible here.
#
#   make fuzz [FUZZ="config hosts"] [FUZZ_SECONDS=60]   libFuzzer runs (clang)
#   make fuzz-merge FUZZ=config                         minimise a grown corpus
#   make fuzz-replay                                    the committed corpus, with $(CC)

FUZZ_NAMES := frame request json headers-reply config hosts url-plain token-response oidc-discovery arc-challenge template store jwt policy
FUZZ ?= $(FUZZ_NAMES)
FUZZ_SECONDS ?= 60
# Debian's clang-14 package installs clang-14; the unversioned name comes with "clang".
ifeq ($(origin FUZZ_CC),undefined)
FUZZ_CC := $(firstword $(shell command -v clang clang-14 2>/dev/null) clang)
endif
FUZZ_BUILD ?= build-fuzz
# One libFuzzer process at a time: 2 GiB is far above any parser's need and
# still stops a runaway allocation long before it hurts the machine.
FUZZ_RSS_MB ?= 2048
FUZZ_TIMEOUT ?= 10
# Extra libFuzzer flags, e.g. FUZZ_ARGS="-max_len=65536 -jobs=1".
FUZZ_ARGS ?=

FUZZ_SRC_DIR := tests/fuzz
FUZZ_CORPUS := $(FUZZ_SRC_DIR)/corpus
FUZZ_DICT := $(FUZZ_SRC_DIR)/dict

# The agent's core library, as the replay links it: a harness pulls in only the
# objects its parser needs, and no list here goes stale when a parser gains one.
FUZZ_LIB_SRC := $(AGENT_LIB_SRC) $(COMMON_SRC) $(PROTO_SRC) $(CHECK_CORE_SRC)

# libFuzzer build: clang, coverage on the parsers, ASan + UBSan everywhere.
# _FORTIFY_SOURCE is dropped: its checked string functions hide accesses from ASan.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=%,$(BASE_CFLAGS)) $(AGENT_INC) -Iclient/shared -Iclient/check \
	$(AGENT_CFLAGS) $(CHECK_CFLAGS) -O1 -g \
	-fno-omit-frame-pointer -fPIE $(FUZZ_SAN)
FUZZ_OBJ := $(FUZZ_BUILD)/obj
FUZZ_LIB := $(FUZZ_BUILD)/libfuzz-parsers.a
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(FUZZ_LIB_SRC))
FUZZ_BINS := $(patsubst %,$(FUZZ_BUILD)/fuzz-%,$(FUZZ))

$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC [fuzz] $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz-%: $(FUZZ_OBJ)/tests/fuzz/fuzz-%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LD [fuzz] $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -pie -o $@ $^ $(AGENT_LIBS) $(CHECK_LIBS)

# Runs each harness in turn: its working corpus (build-fuzz/corpus/NAME) is
# seeded from the committed one, which libFuzzer only reads.  The last lines
# of each log give execs and coverage; a crash prints its report and fails.
fuzz: $(FUZZ_BINS)
	$(Q)fail=0; for n in $(FUZZ); do \
		work=$(FUZZ_BUILD)/corpus/$$n crashes=$(FUZZ_BUILD)/crashes/$$n \
			log=$(FUZZ_BUILD)/logs/$$n.log dict=$(FUZZ_DICT)/$$n.dict; \
		mkdir -p $$work $$crashes $(FUZZ_BUILD)/logs; \
		echo "fuzz $$n: $(FUZZ_SECONDS) s, log $$log"; \
		if $(FUZZ_BUILD)/fuzz-$$n -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=$(FUZZ_RSS_MB) \
			-timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 -artifact_prefix=$$crashes/ \
			$$(test -f $$dict && echo -dict=$$dict) $(FUZZ_ARGS) \
			$$work $(FUZZ_CORPUS)/$$n >$$log 2>&1; then \
			grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' $$log | tail -n 1 | sed "s/^/  $$n: /"; \
			grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' $$log | \
				sed "s/^/  $$n: /"; \
			echo "  $$n: corpus $$(ls $$work | wc -l) files, crashes 0"; \
		else \
			fail=1; tail -n 60 $$log; \
			echo "  $$n: CRASH, inputs in $$crashes/: $$(ls $$crashes)"; \
		fi; \
	done; exit $$fail

# Minimises the working corpus plus the committed seeds into build-fuzz/merged/NAME,
# from which new interesting inputs can be copied into tests/fuzz/corpus/NAME.
fuzz-merge: $(FUZZ_BINS)
	$(Q)for n in $(FUZZ); do \
		rm -rf $(FUZZ_BUILD)/merged/$$n && \
			mkdir -p $(FUZZ_BUILD)/merged/$$n $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/logs; \
		$(FUZZ_BUILD)/fuzz-$$n -merge=1 -rss_limit_mb=$(FUZZ_RSS_MB) $(FUZZ_BUILD)/merged/$$n \
			$(FUZZ_CORPUS)/$$n $(FUZZ_BUILD)/corpus/$$n >$(FUZZ_BUILD)/logs/$$n-merge.log 2>&1 \
			|| exit 1; \
		echo "fuzz-merge $$n: $$(ls $(FUZZ_BUILD)/merged/$$n | wc -l) files in $(FUZZ_BUILD)/merged/$$n"; \
	done

# Replay: the same harnesses built with $(CC) and the project's CFLAGS (under
# `make asan`, the sanitizers too) against replay.c, linked with the agent's
# own core library.  Needs no clang and runs in well under a second.
FUZZ_REPLAY_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz-%,$(FUZZ_NAMES))
$(OBJ)/tests/fuzz/%.o: BASE_CFLAGS += $(AGENT_INC) -Iclient/check -Iclient/shared $(CHECK_CFLAGS)

$(BUILD)/fuzz/fuzz-%: $(OBJ)/tests/fuzz/fuzz-%.o $(OBJ)/tests/fuzz/replay.o $(AGENT_CORE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(AGENT_DL_LIBS)

# The harnesses of `aoai check`'s parsers link them ahead of the core they use.
FUZZ_CHECK_NAMES := jwt policy
$(patsubst %,$(BUILD)/fuzz/fuzz-%,$(FUZZ_CHECK_NAMES)): $(BUILD)/fuzz/fuzz-%: $(OBJ)/tests/fuzz/fuzz-%.o \
	$(OBJ)/tests/fuzz/replay.o $(CHECK_CORE) $(AGENT_CORE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS) $(CHECK_LIBS)

fuzz-replay: $(FUZZ_REPLAY_BINS)
	$(Q)failed=; for n in $(FUZZ_NAMES); do \
		$(BUILD)/fuzz/fuzz-$$n $(FUZZ_CORPUS)/$$n || { echo "fuzz-replay: $$n FAILED"; failed="$$failed $$n"; }; \
	done; line="fuzz-replay $${failed:+FAILED:}$${failed:-ok}"; echo "$$line"; \
	$(if $(CHECK_SUMMARY),echo "$$line" >> $(CHECK_SUMMARY);) test -z "$$failed"

.PHONY: fuzz-merge
.SECONDARY: $(FUZZ_LIB_OBJ) $(patsubst %,$(FUZZ_OBJ)/tests/fuzz/fuzz-%.o,$(FUZZ_NAMES)) \
	$(patsubst %,$(OBJ)/tests/fuzz/fuzz-%.o,$(FUZZ_NAMES)) $(OBJ)/tests/fuzz/replay.o

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
