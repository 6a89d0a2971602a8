#!/bin/sh
# Trains the same runs with two backprop binaries and compares the model files byte for byte
# (cmp): a refactoring that must not change a trained bit (a fast path moved, a loop
# reorganised) is checked against the binary built before it.
#
#   bench/compare_models.sh OLD_BACKPROP NEW_BACKPROP [DATA_DIR] [EPOCHS]
#
# Each run trains on DATA_DIR (default: Fashion-MNIST) for EPOCHS epochs (default 2) on 1, 2
# and 3 threads. Prints one line per run and exits non-zero if any pair of files differs or a
# run fails. CI has no binary of an older commit, so this is a tool for the engineer (CTest
# holds the properties that need no second binary: any thread count gives the same bits, fused
# SGD equals the backward pass then the optimiser).
set -u
old=$1
new=$2
data=${3:-/usr/share/datasets/fashion-mnist}
epochs=${4:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name | options (the seed's network by default; W1 and W2 as bench/e2e defines them)
runs='default|
W1|--hidden 128 --activation sigmoid --lr 0.1 --batch 64
W2|--hidden 512,256 --activation relu --optimizer adam --lr 0.001 --batch 128
depth3|--hidden 256,64 --activation tanh
depth4|--hidden 256,128,64 --activation relu --lr 0.1
dropout|--dropout 0.2
dropout-depth3-momentum|--hidden 200,50 --dropout 0.3 --optimizer momentum
adam|--optimizer adam
batch-33|--batch 33 --lr 0.2
val-patience|--val-split 0.1 --patience 1 --lr 2'

failed=0
echo "$runs" | while IFS='|' read -r name options; do
  for threads in 1 2 3; do
    for which in old new; do
      bin=$old
      [ "$which" = new ] && bin=$new
      # shellcheck disable=SC2086 # options are words
      if ! "$bin" train --data "$data" --epochs "$epochs" --threads "$threads" --quiet \
        $options -o "$work/$which.safetensors" >"$work/$which.log" 2>&1; then
        echo "FAIL $name threads $threads: $which binary failed:"
        cat "$work/$which.log"
        exit 1
      fi
    done
    if cmp -s "$work/old.safetensors" "$work/new.safetensors"; then
      echo "same  $name threads $threads ($(wc -c <"$work/new.safetensors") bytes)"
    else
      echo "DIFFER $name threads $threads"
      exit 1
    fi
  done
done || failed=1
exit $failed
