#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for a bounded time.
#
#   scripts/fuzz.sh [seconds-per-target]     (default 60)
#
# Environment: FUZZ_CXX (default clang++), FUZZ_TARGETS (default: all five, space-separated),
# FUZZ_BUILD_DIR (default <repo>/build-fuzz; a tree already configured with BACKPROP_BUILD_FUZZ=ON
# is built as it is, the others are configured here), FUZZ_JOBS (build parallelism, default nproc),
# FUZZ_PARALLEL (targets fuzzed at once, default FUZZ_JOBS),
# FUZZ_SEED_REGRESSIONS (default 1; 0 leaves fuzz/regressions out of the seeds, so that a known,
# still unfixed crash does not end a target's run at once; tests/fuzz_corpus_test.cpp replays
# the regressions either way).
#
# Each target starts from a scratch COPY of fuzz/corpus/<target> (plus fuzz/regressions/<target>),
# so nothing is ever written into the source tree. Prints one line per target,
#   fuzz <target>: <N> executions, <K> crashes
# and exits 1 if any target crashed, leaked, ran out of memory or timed out; the input that did
# it is kept under build-fuzz/fuzz-artifacts/<target>/ and its path printed. Reproduce with
#   build-fuzz/fuzz/<target> <artifact>
# Needs no network. Takes about 5 x seconds / FUZZ_PARALLEL plus the build (a few minutes from
# scratch).
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [seconds-per-target]   (a positive whole number, default 60)" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
cxx="${FUZZ_CXX:-clang++}"
read -r -a targets <<<"${FUZZ_TARGETS:-fuzz_idx fuzz_csv fuzz_safetensors fuzz_model fuzz_onnx}"
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
parallel="${FUZZ_PARALLEL:-$jobs}"

# Inputs longer than this are not generated; sized so every seed fits and each run stays fast.
max_len_for() {
  case "$1" in
    fuzz_idx) echo 8192 ;;
    fuzz_csv) echo 4096 ;;
    fuzz_safetensors) echo 8192 ;;
    fuzz_model) echo 16384 ;;
    fuzz_onnx) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz.sh: $cxx not found; libFuzzer needs clang (set FUZZ_CXX)" >&2
  exit 2
fi

if grep -qs '^BACKPROP_BUILD_FUZZ:BOOL=ON$' "$build/CMakeCache.txt"; then
  # Configured with the fuzzers on already (scripts/test.sh's sanitized tree builds them beside
  # the tests): built as it is.
  echo "== $build has the fuzzers on; building them there"
else
  echo "== configuring $build with $cxx"
  CXX="$cxx" cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBACKPROP_BUILD_FUZZ=ON \
    -DBACKPROP_BUILD_TESTS=OFF \
    -DBACKPROP_BUILD_CLI=OFF \
    -DBACKPROP_BUILD_BENCH=OFF \
    -DBACKPROP_BUILD_EXAMPLES=OFF >/dev/null
fi
echo "== building ${targets[*]}"
cmake --build "$build" --parallel "$jobs" --target "${targets[@]}"

work="$(mktemp -d "${TMPDIR:-/tmp}/backprop-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
artifacts_root="$build/fuzz-artifacts"

# ASan: leaks are bugs too; UBSan: stop at the first finding, with a stack.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One target's run; its summary line goes to $work/<target>.line, its report to <target>.report.
fuzz_target() {
  local target="$1"
  local binary="$build/fuzz/$target"
  local corpus="$work/$target/corpus"
  local artifacts="$artifacts_root/$target"
  local log="$artifacts_root/$target.log"
  local report="$work/$target.report"
  mkdir -p "$corpus"
  rm -rf "$artifacts"
  mkdir -p "$artifacts"
  local seed_dirs=("$root/fuzz/corpus/$target")
  if [[ "${FUZZ_SEED_REGRESSIONS:-1}" != 0 ]]; then
    seed_dirs+=("$root/fuzz/regressions/$target")
  fi
  local seeds
  for seeds in "${seed_dirs[@]}"; do
    if [[ -d "$seeds" ]]; then
      find "$seeds" -maxdepth 1 -type f ! -name '.*' -exec cp -- {} "$corpus/" \;
    fi
  done

  echo "== $target: ${seconds}s on $(find "$corpus" -type f | wc -l) seed files"
  local status=0
  # -max_total_time bounds the fuzzing; the outer timeout bounds everything else (loading the
  # corpus, a hang that -timeout misses) so that CI cannot stall.
  timeout --kill-after=30 "$((seconds * 2 + 120))" \
    "$binary" "$corpus" \
      -max_total_time="$seconds" \
      -max_len="$(max_len_for "$target")" \
      -rss_limit_mb=2048 \
      -timeout=25 \
      -print_final_stats=1 \
      -artifact_prefix="$artifacts/" \
      >"$log" 2>&1 || status=$?

  local executions
  executions="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
  if [[ -z "$executions" ]]; then
    # A crash ends the run before the final stats: take the last "#N" progress line instead.
    executions="$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)"
  fi
  executions="${executions:-0}"
  local found
  mapfile -t found < <(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'oom-*' -o -name 'timeout-*' \) | sort)
  local crashes="${#found[@]}"
  if [[ "$status" -ne 0 && "$crashes" -eq 0 ]]; then
    crashes=1  # died without leaving an input (killed by the outer timeout, or a build problem)
  fi

  : >"$report"
  if [[ "$crashes" -ne 0 ]]; then
    {
      echo "---- $target log (last 60 lines; all of it in $log) ----"
      tail -n 60 "$log"
      echo "----"
      if [[ "${#found[@]}" -eq 0 ]]; then
        echo "$target exited with status $status and left no input"
      fi
      local file
      for file in "${found[@]}"; do
        echo "$target: crashing input: $file"
        echo "  reproduce: $binary $file"
      done
    } >"$report"
  fi
  echo "fuzz $target: $executions executions, $crashes crashes" >"$work/$target.line"
}

# The targets run side by side, one per core: each still gets its full time on a core of its own.
for target in "${targets[@]}"; do
  while [[ "$(jobs -rp | wc -l)" -ge "$parallel" ]]; do
    wait -n || true
  done
  fuzz_target "$target" &
done
wait

summary=()
failed=0
for target in "${targets[@]}"; do
  line="$(cat "$work/$target.line" 2>/dev/null || echo "fuzz $target: no result, 1 crashes")"
  summary+=("$line")
  if [[ "$line" != *" 0 crashes" ]]; then
    failed=1
    cat "$work/$target.report" 2>/dev/null || true
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
