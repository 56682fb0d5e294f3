# The README's two commands:
#   make demo    build everything, then walk through "Your First Token"
#   make check   build and run every test (unit, ABI, interop, sanitizers)
# and make bench (benchmarks, from the mechanisms layer on).
BUILD      ?= build
ASAN_BUILD ?= build-asan

.PHONY: all build demo check check-main check-asan check-valgrind bench clean

all: build

build:
	@scripts/build.sh $(BUILD) build

demo: build
	@scripts/demo.sh $(BUILD)/lib/libcraton_hsm.so $(BUILD)/tools/admin/craton-admin

# Every suite of the normal build, then the unit and ABI suites again under
# ASan+UBSan and under valgrind; one summary line at the end.
check:
	@status=0; \
	$(MAKE) --no-print-directory check-main || status=1; \
	$(MAKE) --no-print-directory check-asan || status=1; \
	$(MAKE) --no-print-directory check-valgrind || status=1; \
	python3 scripts/test_summary.py $(BUILD) $(ASAN_BUILD) || status=1; \
	exit $$status

check-main:
	@scripts/build.sh $(BUILD) check
	meson test -C $(BUILD) --print-errorlogs --no-rebuild

check-asan:
	@scripts/build.sh $(ASAN_BUILD) check -Db_sanitize=address,undefined -Db_lundef=false
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --suite asan --print-errorlogs --no-rebuild

check-valgrind:
	@scripts/build.sh $(BUILD) check
	@rm -f $(BUILD)/meson-logs/valgrind*.json
	meson test -C $(BUILD) --setup valgrind --suite unit --suite abi --print-errorlogs --no-rebuild \
	  --logbase valgrind

# Benchmarks (numbers, not pass/fail): build-bench/bench/bench_*.  Without
# SoftHSMv2 (deps.sh bench could not install it) bench_mech still runs and
# prints n/a in that column.
BENCH_BUILD ?= build-bench
bench:
	@scripts/deps.sh bench || echo "make bench: going on; a column whose package is missing reads n/a" >&2
	@scripts/build.sh $(BENCH_BUILD) build --buildtype=release -Dtests=false
	@set -e; for b in $(BENCH_BUILD)/bench/bench_*; do \
	  [ -f "$$b" ] && [ -x "$$b" ] || continue; CRATON_MODULE=$$PWD/$(BENCH_BUILD)/lib/libcraton_hsm.so "$$b"; done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD)
