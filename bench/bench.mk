# SPDX-License-Identifier: MIT
# make bench: the bench programs (built into $(BUILD)/bench/), then bench/run.py,
# which runs every section, prints one table and writes bench/results.json.

BENCH_DIR := $(BUILD)/bench
BENCH_CFLAGS = $(BASE_CFLAGS) -Ibench -fPIE $(NOSAN_CFLAGS)
BENCH_BIN := $(BENCH_DIR)/aoai-bench $(BENCH_DIR)/floor-server \
	$(if $(wildcard bench/hook-server.c),$(BENCH_DIR)/hook-server)

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

$(BENCH_DIR)/hook-server: $(BENCH_DIR)/hook-server.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(NOSAN_CFLAGS) $(EXE_LDFLAGS) $(NOSAN_LDFLAGS) -o $@ $^

bench-programs: $(BENCH_BIN)

bench:
	$(Q)scripts/install-deps.sh extra
	$(Q)$(MAKE) --no-print-directory all bench-programs
	$(Q)$(PYTHON) bench/run.py --build $(abspath $(BUILD)) $(BENCH_ARGS)

.PHONY: bench-programs
