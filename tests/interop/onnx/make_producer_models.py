"""Writes ONNX files the way other producers do, for backprop's importer to read.

    /usr/bin/python3 make_producer_models.py OUT_DIR

PyTorch (Debian's python3-torch, torch.onnx.export) at opsets 9, 11, 13 and 14, with
Flatten, Dropout, keep_initializers_as_inputs, float64 weights, a (x - mean) / std module in
front and a Linear without bias; and the python3-onnx helper building the graphs skl2onnx
(ai.onnx.ml Scaler, ArgMax + ArrayFeatureExtractor + ZipMap label branch) and Keras converters
(Reshape, Identity, Dropout, Constant nodes, bias added on the left, typed float_data and
double_data instead of raw_data) write. Every model gets 7 input rows and the outputs its
producer computes for them (PyTorch itself; NumPy for the helper-built graphs, which have no
runtime of their own here), in OUT_DIR/expected.json:
    {name: {"onnx", "task", "rows", "outputs", "classes", "hidden", "activation"}}
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

FEATURES = 4
CLASSES = 3


class Normalize(torch.nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))

    def forward(self, x):
        return (x - self.mean) / self.std


def rows(seed, scale=1.0):
    g = np.random.default_rng(seed)
    return (g.standard_normal((7, FEATURES)) * scale).astype(np.float32)


def torch_model(out, expected, name, net, opset, task, hidden, activation, *, double=False,
                keep_inputs=False, dynamic=True, x_scale=1.0, training=None):
    torch.manual_seed(len(name))
    for p in net.parameters():
        torch.nn.init.uniform_(p, -1.0, 1.0)
    net.eval()
    x = rows(len(name), x_scale)
    dtype = torch.float64 if double else torch.float32
    net = net.to(dtype)
    example = torch.from_numpy(x).to(dtype)
    path = os.path.join(out, name + ".onnx")
    kwargs = dict(opset_version=opset, input_names=["x"], output_names=["y"],
                  keep_initializers_as_inputs=keep_inputs)
    if dynamic:
        kwargs["dynamic_axes"] = {"x": {0: "batch"}, "y": {0: "batch"}}
    if training is not None:
        kwargs["training"] = training
        kwargs["do_constant_folding"] = False
    torch.onnx.export(net, example[:1] if not dynamic else example, path, **kwargs)
    with torch.no_grad():
        y = net(example).to(torch.float64).numpy()
    expected[name] = {"onnx": path, "task": task, "rows": x.tolist(), "outputs": y.tolist(),
                      "hidden": hidden, "activation": activation,
                      "producer": "torch " + torch.__version__, "opset": opset}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def skl2onnx_like(out, expected):
    """MLPClassifier as skl2onnx writes it: Scaler, MatMul + Add, Relu, Softmax, label branch."""
    g = np.random.default_rng(5)
    offset = g.standard_normal(FEATURES).astype(np.float32)
    scale = (0.5 + g.random(FEATURES)).astype(np.float32)
    w1 = g.standard_normal((FEATURES, 6)).astype(np.float32)
    b1 = g.standard_normal(6).astype(np.float32)
    w2 = g.standard_normal((6, CLASSES)).astype(np.float32)
    b2 = g.standard_normal(CLASSES).astype(np.float32)
    classes = ["setosa", "versicolor", "virginica"]
    nodes = [
        helper.make_node("Scaler", ["float_input"], ["scaled"], domain="ai.onnx.ml",
                         offset=offset.tolist(), scale=scale.tolist(), name="Scaler"),
        helper.make_node("Cast", ["scaled"], ["cast"], to=TensorProto.FLOAT, name="Cast"),
        helper.make_node("MatMul", ["cast", "coefficient"], ["mul1"], name="MatMul"),
        helper.make_node("Add", ["intercepts", "mul1"], ["add1"], name="Add"),
        helper.make_node("Relu", ["add1"], ["relu1"], name="Relu"),
        helper.make_node("MatMul", ["relu1", "coefficient1"], ["mul2"], name="MatMul1"),
        helper.make_node("Add", ["mul2", "intercepts1"], ["add2"], name="Add1"),
        helper.make_node("Softmax", ["add2"], ["probabilities"], axis=1, name="Softmax"),
        helper.make_node("ArgMax", ["probabilities"], ["argmax"], axis=1, name="ArgMax"),
        helper.make_node("ArrayFeatureExtractor", ["classes", "argmax"], ["array_feature"],
                         domain="ai.onnx.ml", name="ArrayFeatureExtractor"),
        helper.make_node("Reshape", ["array_feature", "shape"], ["output_label"],
                         name="Reshape"),
        helper.make_node("ZipMap", ["probabilities"], ["output_probability"],
                         domain="ai.onnx.ml", classlabels_strings=classes, name="ZipMap"),
    ]
    inits = [
        numpy_helper.from_array(w1, "coefficient"),
        numpy_helper.from_array(b1.reshape(1, -1), "intercepts"),
        numpy_helper.from_array(w2, "coefficient1"),
        numpy_helper.from_array(b2.reshape(1, -1), "intercepts1"),
        helper.make_tensor("classes", TensorProto.STRING, [CLASSES],
                           [c.encode() for c in classes]),
        numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"),
    ]
    prob_type = onnx.TypeProto()
    prob_map = prob_type.sequence_type.elem_type.map_type
    prob_map.key_type = TensorProto.STRING
    prob_map.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.FLOAT, []))
    graph = helper.make_graph(
        nodes, "mlp_classifier",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, FEATURES])],
        [helper.make_tensor_value_info("output_label", TensorProto.STRING, [None]),
         helper.make_value_info("output_probability", prob_type)],
        inits)
    model = helper.make_model(graph, producer_name="skl2onnx-like (onnx.helper)",
                              opset_imports=[helper.make_opsetid("", 13),
                                             helper.make_opsetid("ai.onnx.ml", 1)])
    # full_check's shape inference does not handle ZipMap's sequence of maps in onnx 1.12.
    onnx.checker.check_model(model)
    path = os.path.join(out, "skl2onnx_like.onnx")
    onnx.save(model, path)
    x = rows(11, 2.0)
    h = np.maximum(((x.astype(np.float64) - offset) * scale) @ w1 + b1, 0.0)
    y = softmax(h @ w2 + b2)
    expected["skl2onnx_like"] = {"onnx": path, "task": "classification", "rows": x.tolist(),
                                 "outputs": y.tolist(), "classes": classes, "hidden": "6",
                                 "activation": "relu", "producer": "onnx.helper", "opset": 13}


def keras_like(out, expected):
    """A Keras converter's layout: Reshape, Identity, bias on the left, typed data fields."""
    g = np.random.default_rng(9)
    w1 = g.standard_normal((FEATURES, 5))
    b1 = g.standard_normal(5)
    w2 = g.standard_normal((5, CLASSES)).astype(np.float32)
    b2 = g.standard_normal(CLASSES).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["shape"],
                         value=helper.make_tensor("shape_value", TensorProto.INT64, [2],
                                                  [0, FEATURES]), name="shape_const"),
        helper.make_node("Reshape", ["dense_input", "shape"], ["reshaped"], name="reshape"),
        helper.make_node("Identity", ["reshaped"], ["identity"], name="identity"),
        helper.make_node("MatMul", ["identity", "w1"], ["z1"], name="dense/MatMul"),
        helper.make_node("Add", ["b1", "z1"], ["a1"], name="dense/BiasAdd"),
        helper.make_node("Tanh", ["a1"], ["h1"], name="dense/Tanh"),
        helper.make_node("Dropout", ["h1"], ["d1"], name="dropout"),
        helper.make_node("Cast", ["d1"], ["c1"], to=TensorProto.FLOAT, name="cast"),
        helper.make_node("Cast", ["w2"], ["w2f"], to=TensorProto.FLOAT, name="w2/Cast"),
        helper.make_node("Cast", ["b2"], ["b2f"], to=TensorProto.FLOAT, name="b2/Cast"),
        helper.make_node("MatMul", ["c1", "w2f"], ["z2"], name="dense_1/MatMul"),
        helper.make_node("Add", ["z2", "b2f"], ["a2"], name="dense_1/BiasAdd"),
        helper.make_node("Softmax", ["a2"], ["dense_1"], axis=-1, name="dense_1/Softmax"),
    ]
    # w1 and b1 as float_data, w2 and b2 as double_data cast to float by Cast nodes.
    inits = [
        helper.make_tensor("w1", TensorProto.FLOAT, w1.shape,
                           w1.astype(np.float32).ravel().tolist()),
        helper.make_tensor("b1", TensorProto.FLOAT, b1.shape, b1.astype(np.float32).tolist()),
        helper.make_tensor("w2", TensorProto.DOUBLE, w2.shape,
                           w2.astype(np.float64).ravel().tolist()),
        helper.make_tensor("b2", TensorProto.DOUBLE, b2.shape, b2.astype(np.float64).tolist()),
    ]
    graph = helper.make_graph(
        nodes, "sequential",
        [helper.make_tensor_value_info("dense_input", TensorProto.FLOAT, ["N", FEATURES])],
        [helper.make_tensor_value_info("dense_1", TensorProto.FLOAT, ["N", CLASSES])], inits)
    model = helper.make_model(graph, producer_name="keras-like (onnx.helper)",
                              opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(out, "keras_like.onnx")
    onnx.save(model, path)
    x = rows(12)
    h = np.tanh(x.astype(np.float64) @ w1.astype(np.float32) + b1.astype(np.float32))
    y = softmax(h @ w2 + b2)
    expected["keras_like"] = {"onnx": path, "task": "classification", "rows": x.tolist(),
                              "outputs": y.tolist(), "hidden": "5", "activation": "tanh",
                              "producer": "onnx.helper", "opset": 13}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    expected = {}
    Seq, L = torch.nn.Sequential, torch.nn.Linear
    torch_model(out, expected, "torch_opset9_sigmoid",
                Seq(L(4, 8), torch.nn.Sigmoid(), L(8, 3), torch.nn.Softmax(dim=1)),
                9, "classification", "8", "sigmoid", dynamic=False)
    torch_model(out, expected, "torch_opset11_flatten_tanh_relu",
                Seq(torch.nn.Flatten(), L(4, 8), torch.nn.Tanh(), L(8, 6), torch.nn.ReLU(),
                    L(6, 3), torch.nn.Softmax(dim=-1)),
                11, "classification", "8,6", "tanh,relu")
    torch_model(out, expected, "torch_opset13_dropout_inputs",
                Seq(L(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.3), L(8, 3),
                    torch.nn.Softmax(dim=1)),
                13, "classification", "8", "relu", keep_inputs=True,
                training=torch.onnx.TrainingMode.TRAINING)
    torch_model(out, expected, "torch_opset14_float64_leaky_regression",
                Seq(Normalize([1.0, -2.0, 0.5, 3.0], [2.0, 0.5, 1.5, 4.0]), L(4, 8),
                    torch.nn.LeakyReLU(0.2), L(8, 1)),
                14, "regression", "8", "leaky_relu", double=True, x_scale=3.0)
    torch_model(out, expected, "torch_opset13_normalize_classifier",
                Seq(Normalize([0.5, 0.0, -1.0, 2.0], [1.0, 2.0, 0.25, 3.0]), L(4, 7),
                    torch.nn.Tanh(), L(7, 3), torch.nn.Softmax(dim=1)),
                13, "classification", "7", "tanh", x_scale=2.0)
    torch_model(out, expected, "torch_opset13_no_bias_regression",
                Seq(L(4, 8, bias=False), torch.nn.ReLU(), L(8, 2, bias=False)),
                13, "regression", "8", "relu")
    skl2onnx_like(out, expected)
    keras_like(out, expected)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
