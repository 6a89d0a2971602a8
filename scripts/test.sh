#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. dependencies (apt-get, only if missing; npm ci for tests/interop/onnx), and
#      clang-format's verdict on every source file
#   2. release build with warnings as errors, every test under CTest
#   3. ASan + UBSan build with clang of the library, CLI, tests and libFuzzer targets, every
#      test under CTest (a Debug build: tests and CLI at -O0, which compile 2.5x faster; the
#      library at -O1, cmake/sanitizers.cmake). One tree for both saves building the library
#      twice; clang's UBSan also checks float-to-int conversions, which GCC's leaves out.
#   4. each libFuzzer target (built in step 3) for FUZZ_SECONDS (default 30) plus its corpus
#      replay
#   5. the benchmark suite in its quick mode (it must run; timings are not asserted)
# Ends with one line "suite: N passed, N failed" over both CTest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-30}

scripts/install-deps.sh --test
# puppeteer-core for the report's browser test (it drives Debian's chromium; never downloads one)
(cd tests/interop/report && npm ci --no-audit --no-fund)

echo "== npm ci for the ONNX Runtime interop test ($(date +%T))"
# The CPU library ships inside onnxruntime-node; its install script would only fetch CUDA.
(cd tests/interop/onnx && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund) ||
  echo "npm ci failed in tests/interop/onnx: OnnxExports.OnnxRuntime* will fail"

echo "== clang-format ($(date +%T))"
unformatted=$(git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror 2>&1 | grep -oE '^[^:]+\.(cpp|hpp)' | sort -u || true)
if [ -n "$unformatted" ]; then
  echo "clang-format would change: $unformatted"
  exit 1
fi

passed=0
failed=0
count_ctest() {  # adds CTest's "N tests failed out of M" to the totals
  local line total bad
  line=$(grep -E "tests? failed out of" "$1" | tail -n 1)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
  bad=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
}

echo "== release build ($(date +%T))"
# Tests, benchmarks and the Python module on explicitly: a missing test package, pybind11 or Python
# header fails here, it skips nothing. The module and its pytest tests use Debian's interpreter,
# the one with numpy and scikit-learn.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBACKPROP_WERROR=ON \
  -DBACKPROP_BUILD_TESTS=ON -DBACKPROP_BUILD_BENCH=ON -DBACKPROP_BUILD_EXAMPLES=ON \
  -DBACKPROP_BUILD_PYTHON=ON -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j "$jobs"
echo "== tests (release) ($(date +%T))"
status=0
(cd build && ctest -j "$jobs" --output-on-failure --timeout 600) 2>&1 | tee build/ctest.log || status=1
count_ctest build/ctest.log

echo "== ASan + UBSan build ($(date +%T))"
CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBACKPROP_SANITIZE=ON \
  -DBACKPROP_BUILD_TESTS=ON -DBACKPROP_BUILD_FUZZ=ON -DBACKPROP_BUILD_BENCH=OFF \
  -DBACKPROP_BUILD_EXAMPLES=OFF -DBACKPROP_BUILD_PYTHON=OFF >/dev/null
cmake --build build-asan -j "$jobs"
echo "== tests (ASan + UBSan) ($(date +%T))"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest -j "$jobs" --output-on-failure --timeout 900) 2>&1 | tee build-asan/ctest.log || status=1
count_ctest build-asan/ctest.log

echo "== fuzzing (${fuzz_seconds}s per target) ($(date +%T))"
if [ -x scripts/fuzz.sh ]; then
  FUZZ_BUILD_DIR="$root/build-asan" scripts/fuzz.sh "$fuzz_seconds" || status=1
else
  echo "fuzz: scripts/fuzz.sh missing" && status=1
fi

echo "== benchmark suite (quick mode) ($(date +%T))"
if [ -f bench/run.py ]; then
  /usr/bin/python3 bench/run.py --build "$root/build" --quick || status=1
fi

echo "suite: ${passed} passed, ${failed} failed"
exit $status
