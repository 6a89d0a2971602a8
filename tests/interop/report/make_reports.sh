#!/usr/bin/env bash
# Writes the reports the browser and HTML-validity tests open, into OUT:
#   fashion.html      backprop train on Fashion-MNIST (2 epochs, a validation split) --report
#   fashion_cmd.html  the same model through `backprop report` (a metrics file and the t10k set)
#   houses.html       a CSV regression run (examples/make_tabular_data.py's houses)
#   hostile.html      a CSV classification whose names are HTML ("<b>", "</script>", quotes)
# usage: make_reports.sh BACKPROP_CLI SOURCE_DIR OUT [FASHION_MNIST_DIR]
set -euo pipefail
cli=$1
src=$2
out=$3
fashion=${4:-/usr/share/datasets/fashion-mnist}
mkdir -p "$out"
rm -f "$out"/*.html "$out"/*.jsonl

"$cli" train --data "$fashion" --epochs 2 --val-split 0.1 --threads 2 -q \
  -o "$out/fashion.safetensors" --metrics "$out/fashion.jsonl" --report "$out/fashion.html"
"$cli" report "$out/fashion.safetensors" --metrics "$out/fashion.jsonl" --data "$fashion" \
  -o "$out/fashion_cmd.html" >/dev/null

/usr/bin/python3 "$src/examples/make_tabular_data.py" --out "$out/tabular" >/dev/null
"$cli" train --data "$out/tabular/houses.csv" --test "$out/tabular/houses_test.csv" --id id \
  --hidden 32 --activation relu --optimizer adam --lr 0.01 --epochs 20 --threads 2 -q \
  -o "$out/houses.safetensors" --metrics "$out/houses.jsonl" --report "$out/houses.html"

# Class and column names that are markup: they must show as text.
{
  echo 'x<1,"y&""z""",label'
  for i in $(seq 0 199); do
    a=$(( (i * 37) % 100 ))
    b=$(( (i * 53) % 100 ))
    if [ $(( a + b )) -gt 100 ]; then l='<b>bold</b>'; else l='</script><script>alert(1)</script>'; fi
    echo "$a,$b,\"$l\""
  done
} >"$out/hostile.csv"
"$cli" train --data "$out/hostile.csv" --label label --epochs 5 --threads 1 -q \
  -o "$out/hostile.safetensors" --metrics "$out/hostile.jsonl" --report "$out/hostile.html"
echo "make_reports: $(ls "$out"/*.html | wc -l) reports in $out"
