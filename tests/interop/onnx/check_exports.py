"""Checks backprop's ONNX exports with Debian's python3-onnx and python3-opencv.

    /usr/bin/python3 check_exports.py MANIFEST.json RESULTS.json

For every model of the manifest (see run_onnxruntime.js): onnx.checker.check_model with
full_check=True (which runs shape inference too), and OpenCV's dnn module loading the file and
running its first row alone and all its rows as one batch. RESULTS: {"checker": {name: "ok" or
the error}, "opencv": {name: {"1": {output: [...]}, "7": {...}}}}; a model OpenCV cannot load
gets the error text instead of the outputs.
"""
import json
import sys

import cv2
import numpy as np
import onnx


def main():
    manifest_path, results_path = sys.argv[1:3]
    with open(manifest_path) as f:
        manifest = json.load(f)
    checker, opencv = {}, {}
    for model in manifest:
        name = model["name"]
        try:
            proto = onnx.load(model["onnx"])
            onnx.checker.check_model(proto, full_check=True)
            checker[name] = "ok"
        except Exception as e:  # the message goes to the test's failure output
            checker[name] = f"{type(e).__name__}: {e}"
        try:
            net = cv2.dnn.readNetFromONNX(model["onnx"])
            outputs = [o.name for o in proto.graph.output]
            rows = np.asarray(model["rows"], dtype=np.float32)
            entry = {}
            for batch in (1, len(rows)):
                net.setInput(rows[:batch])
                values = net.forward(outputs)
                entry[str(batch)] = {
                    n: np.asarray(v, dtype=np.float64).ravel().tolist()
                    for n, v in zip(outputs, values)
                }
            opencv[name] = entry
        except Exception as e:
            opencv[name] = f"{type(e).__name__}: {e}"
    with open(results_path, "w") as f:
        json.dump({"checker": checker, "opencv": opencv}, f)


if __name__ == "__main__":
    main()
