# SPDX-License-Identifier: MIT
# make bench: the bench programs (built into $(BUILD)/bench/), then bench/run.py,
# which runs every section, prints one table and writes bench/results.json.

BENCH_DIR := $(BUILD)/bench
BENCH_CFLAGS = $(BASE_CFLAGS) -Ibench -fPIE $(NOSAN_CFLAGS)
BENCH_BIN := $(BENCH_DIR)/aoai-bench $(BENCH_DIR)/floor-server \
	$(if $(wildcard bench/hook-server.c),$(BENCH_DIR)/hook-server) \
	$(BENCH_DIR)/aoai-agent-nomprotect $(BENCH_DIR)/kdf-time

$(BENCH_DIR)/%.o: bench/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -c -o $@ $<

# The client links the built libaoai, found at run time through an absolute rpath.
$(BENCH_DIR)/aoai-bench: $(BENCH_DIR)/aoai-bench.o $(BENCH_DIR)/benchlib.o $(LIBAOAI) \
		$(BUILD)/lib/libaoai.so
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(NOSAN_CFLAGS) $(EXE_LDFLAGS) $(NOSAN_LDFLAGS) \
		-Wl,-rpath,'$(abspath $(BUILD))/lib' -o $@ $(filter %.o,$^) -L$(BUILD)/lib -laoai -lpthread

$(BENCH_DIR)/floor-server: $(BENCH_DIR)/floor-server.o $(BENCH_DIR)/benchlib.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(NOSAN_CFLAGS) $(EXE_LDFLAGS) $(NOSAN_LDFLAGS) -o $@ $^

# The baseline of the unlock rows: one crypto_pwhash and nothing else.
$(BENCH_DIR)/kdf-time: $(BENCH_DIR)/kdf-time.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(NOSAN_CFLAGS) $(EXE_LDFLAGS) $(NOSAN_LDFLAGS) -o $@ $^ -lsodium

$(BENCH_DIR)/hook-server: $(BENCH_DIR)/hook-server.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(NOSAN_CFLAGS) $(EXE_LDFLAGS) $(NOSAN_LDFLAGS) -o $@ $^

# The agent with its secrets left readable (-DAOAI_SECRETS_NO_MPROTECT): the
# baseline of the "mprotect switching cost" row.  Its arena.o (where the
# secrets' slabs are switched) comes first, so the archive's is never pulled in.
$(BENCH_DIR)/arena-nomprotect.o: agent/secrets/arena.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (no mprotect)")
	$(Q)$(CC) $(BASE_CFLAGS) $(AGENT_INC) -fPIE $(AGENT_CFLAGS) $(CFLAGS) -DAOAI_SECRETS_NO_MPROTECT -c -o $@ $<

$(BENCH_DIR)/aoai-agent-nomprotect: $(patsubst %.c,$(OBJ)/%.o,$(AGENT_MAIN_SRC)) $(BENCH_DIR)/arena-nomprotect.o \
		$(AGENT_CORE)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(EXE_LDFLAGS) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS)

bench-programs: $(BENCH_BIN)

bench:
	$(Q)scripts/install-deps.sh extra
	$(Q)$(MAKE) --no-print-directory all bench-programs
	$(Q)$(PYTHON) bench/run.py --build $(abspath $(BUILD)) $(BENCH_ARGS)

.PHONY: bench-programs
