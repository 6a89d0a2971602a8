#!/usr/bin/env bash
# Installs the Debian packages backprop needs. Idempotent: apt-get runs only when something is
# missing.
#   scripts/install-deps.sh          what building and running the library and the tool need
#   scripts/install-deps.sh --test   also what the test suite, fuzzing, the interop checks and
#                                    the benchmarks need (scripts/test.sh passes it)
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config            # toolchain
  libcli11-dev libfmt-dev nlohmann-json3-dev  # CLI parsing, formatting, JSON (model metadata)
  zlib1g-dev                                  # gzip-compressed IDX files
  openmpi-bin libopenmpi-dev                  # data-parallel training: mpirun and the MPI library (docs/distributed.md)
  dataset-fashion-mnist                       # the default training data
  pybind11-dev python3-dev python3-numpy      # the Python module (python/)
  python3-setuptools python3-venv             # installing it: pip install ./python (README)
)
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev  # tests and microbenchmarks
  clang libclang-rt-14-dev                    # libFuzzer + sanitizers for the fuzz step
  clang-format                                # the formatting check
  python3 python3-torch python3-numpy         # side-by-side peers in bench/
  python3-pytest python3-sklearn              # the Python tests: pytest, scikit-learn's checks
  python3-pandas python3-scipy                # DataFrame and sparse input in those tests
  python3-distributed                         # a dask cluster, joblib's distributed backend
  libopenblas0-pthread libopenblas-dev        # the peers' BLAS (else NumPy and PyTorch get the
                                              # reference BLAS) and gemm_bench's OpenBLAS rows
  python3-onnx python3-opencv nodejs          # ONNX interop: onnx.checker, OpenCV dnn, and node
                                              # for onnxruntime-node (tests/interop/onnx, npm ci)
  chromium python3-html5lib                   # the HTML report in a real browser (puppeteer-core
                                              # from npm) and a strict HTML5 parse of it
)
if [ "${1:-}" = "--test" ]; then
  packages+=("${test_packages[@]}")
elif [ $# -gt 0 ]; then
  echo "usage: scripts/install-deps.sh [--test]" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm ships inside NodeSource's nodejs package and separately with Debian's.
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
