#!/usr/bin/env bash
# Installs the build tree into a temporary prefix and uses it the way a downstream project
# would, knowing nothing but that prefix:
#   1. cmake --install BUILD --prefix P
#   2. tests/install/consumer (find_package(backprop CONFIG REQUIRED)) configured with
#      CMAKE_PREFIX_PATH=P, built with Ninja, run: it trains and saves a model, exit 0
#   3. the same program built by the compiler alone from `pkg-config --static` flags, run
#   4. P/bin/backprop info reads both models
# usage: install_test.sh BUILD_DIR SOURCE_DIR CXX [COMPILER_LAUNCHER]
set -euo pipefail
build=$1
source=$2
cxx=$3
launcher=${4:-}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

step() { echo "== $* ($(date +%T))"; }

step "install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
for f in include/backprop/backprop.hpp bin/backprop; do
  [ -e "$prefix/$f" ] || { echo "missing $prefix/$f"; exit 1; }
done
# The public headers only: nothing from src/ (the internal include root).
if find "$prefix/include" -name '*.hpp' | grep -v '/include/backprop/[^/]*\.hpp$'; then
  echo "installed headers outside include/backprop/"
  exit 1
fi
config=$(find "$prefix" -name backprop-config.cmake)
version=$(find "$prefix" -name backprop-config-version.cmake)
pc=$(find "$prefix" -name backprop.pc)
lib=$(find "$prefix" -name libbackprop.a)
[ -n "$config" ] && [ -n "$version" ] && [ -n "$pc" ] && [ -n "$lib" ] ||
  { echo "incomplete install:"; find "$prefix" -type f; exit 1; }

step "consumer: find_package(backprop CONFIG)"
launcher_flag=()
[ -n "$launcher" ] && launcher_flag=("-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
# No package registry: the prefix is the only place the package can come from.
cmake -S "$source/tests/install/consumer" -B "$work/consumer" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" "${launcher_flag[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
found=$(sed -n 's/^backprop_DIR:PATH=//p' "$work/consumer/CMakeCache.txt")
case "$found" in
  "$prefix"/*) ;;
  *) echo "find_package(backprop) found '$found', not the install in $prefix"; exit 1 ;;
esac
cmake --build "$work/consumer"
(cd "$work" && "$work/consumer/train_and_save" "$work/cmake.safetensors")

step "consumer: pkg-config --static"
flags=$(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --static --cflags --libs backprop)
echo "pkg-config: $flags"
# shellcheck disable=SC2086  # the flags are words
$launcher "$cxx" -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror \
  "$source/examples/train_and_save.cpp" -o "$work/train_and_save_pc" $flags
(cd "$work" && "$work/train_and_save_pc" "$work/pc.safetensors")

step "the installed backprop reads both models"
for model in cmake pc; do
  info=$("$prefix/bin/backprop" info "$work/$model.safetensors")
  echo "$info"
  grep -q '^architecture: 2-16-2 ' <<<"$info" || { echo "unexpected architecture"; exit 1; }
  grep -q '^classes: outside, inside$' <<<"$info" || { echo "unexpected classes"; exit 1; }
done
# The same program, seed and build flags: the same model bit for bit either way.
cmp "$work/cmake.safetensors" "$work/pc.safetensors"
step "install test passed"
