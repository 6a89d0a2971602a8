// The ONNX reader on hostile and unusual files (truncated, random, malformed varints, huge or
// negative dims, raw_data of the wrong length, external data, packed fields, unsupported ops),
// through the library and through `backprop import`. That real runtimes and producers agree
// with the exporter and importer is tests/interop/onnx/onnx_interop_test.cpp's job.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "backprop/error.hpp"
#include "backprop/onnx.hpp"
#include "cli/cli_test_util.hpp"
#include "io/onnx/onnx_proto.hpp"
#include "io/onnx/protobuf.hpp"
#include "sanitizers.hpp"

namespace backprop::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

// A 3-4-2 classifier (tanh) with standard preprocessing and deterministic weights.
std::string small_model_onnx(Loss loss = Loss::cross_entropy) {
  Architecture a;
  a.widths = {3, 4, 2};
  a.activations = {Activation::tanh};
  a.loss = loss;
  Network net(a, 1);
  TestRng rng(3);
  for (float& v : net.parameters()) v = static_cast<float>(rng.uniform(-1, 1));
  ModelInfo info;
  info.architecture = a;
  info.task = loss == Loss::cross_entropy ? Task::classification : Task::regression;
  if (info.task == Task::classification) info.class_names = {"no", "yes"};
  info.feature_names = {"a", "b", "c"};
  info.label_name = "y";
  info.input_format = "csv";
  info.preprocessing.kind = Normalization::standard;
  info.preprocessing.offset = {0.5f, -1.0f, 2.0f};
  info.preprocessing.scale = {2.0f, 0.25f, 1.0f};
  if (info.task == Task::regression) {
    info.preprocessing.target_offset = 3.0f;
    info.preprocessing.target_scale = 0.5f;
  }
  return encode_onnx(net, info);
}

// Parses and returns the Error's message; fails the test if the bytes are accepted or
// anything else is thrown.
std::string refusal(const Bytes& bytes) {
  try {
    (void)parse_onnx(bytes, "hostile.onnx", 1);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

onnx::Model decoded_small_model() {
  const Bytes b = bytes_of(small_model_onnx());
  return onnx::decode_model(b, "small.onnx");
}

Bytes encoded(const onnx::Model& m) { return bytes_of(onnx::encode_model(m)); }

// A ModelProto around one graph whose first initializer is `tensor` (raw protobuf bytes).
Bytes model_with_initializer(const onnx_wire::Writer& tensor) {
  onnx_wire::Writer graph;
  graph.bytes_field(2, "g");
  graph.message(5, tensor);
  onnx_wire::Writer model;
  model.int64_field(1, 7);
  model.message(7, graph);
  return bytes_of(model.bytes());
}

TEST(OnnxReader, ReadsItsOwnExportBack) {
  for (const Loss loss : {Loss::cross_entropy, Loss::mse}) {
    const Bytes b = bytes_of(small_model_onnx(loss));
    const Model m = parse_onnx(b, "small.onnx", 4);
    EXPECT_EQ(m.info.architecture.widths, (std::vector<std::int64_t>{3, 4, 2}));
    EXPECT_EQ(m.info.feature_names, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(m.info.preprocessing.scale, (std::vector<float>{2.0f, 0.25f, 1.0f}));
    if (loss == Loss::mse) {
      EXPECT_EQ(m.info.preprocessing.target_scale, 0.5f);
      EXPECT_EQ(m.info.preprocessing.target_offset, 3.0f);
    }
  }
}

// Names from metadata_props follow the model file's rules, so that an imported model can be
// saved: no control character, class names distinct.
TEST(OnnxReader, NamesAreCheckedAsTheModelFileChecksThem) {
  const auto with = [](const std::string& key, const std::string& value) {
    onnx::Model m = decoded_small_model();
    for (auto& [k, v] : m.metadata)
      if (k == key) v = value;
    return encoded(m);
  };
  EXPECT_EQ(refusal(with("classes", R"(["no","g\u0001d"])")),
            "hostile.onnx: class name 1 (\"g\\x01d\") contains the control character 0x01 at "
            "byte 2 of it");
  EXPECT_EQ(
      refusal(with("classes", R"(["no","no"])")),
      "hostile.onnx: class names 0 and 1 are both \"no\"; each class needs a name of its own");
  EXPECT_EQ(refusal(with("features", R"(["a","\u001b[31mb","c"])")),
            "hostile.onnx: feature name 1 (\"\\x1b[31mb\") contains the control character 0x1b "
            "at byte 1 of it");
}

TEST(OnnxReader, EveryTruncationIsRefusedOrReadsAShorterValidFile) {
  const Bytes whole = bytes_of(small_model_onnx());
  int refused = 0;
  for (std::size_t n = 0; n < whole.size(); ++n) {
    const Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      (void)parse_onnx(prefix, "cut.onnx", 1);  // a cut between two metadata entries is valid
    } catch (const Error& e) {
      ++refused;
      EXPECT_TRUE(contains(e.what(), "cut.onnx")) << e.what();
    }
  }
  // Everything up to the end of the graph (the bulk of the file) must be refused.
  EXPECT_GT(refused, static_cast<int>(whole.size() * 3 / 4));
}

TEST(OnnxReader, RandomBytesAndFlippedBytesRaiseOnlyError) {
  TestRng rng(11);
  const Bytes whole = bytes_of(small_model_onnx());
  for (int round = 0; round < 2000; ++round) {
    Bytes b;
    if (round % 2 == 0) {
      b.resize(static_cast<std::size_t>(rng.below(300)));
      for (auto& x : b) x = static_cast<std::uint8_t>(rng.below(256));
    } else {
      b = whole;
      for (int k = 0; k < 3; ++k)
        b[static_cast<std::size_t>(rng.below(static_cast<int>(b.size())))] =
            static_cast<std::uint8_t>(rng.below(256));
    }
    try {
      (void)parse_onnx(b, "random.onnx", 1);
    } catch (const Error&) {
    }
  }
}

TEST(OnnxReader, VarintsLongerThan64BitsAreRefused) {
  // ir_version (field 1, varint) with ten continuation bytes, and with a tenth byte above 1.
  const Bytes eleven = {0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  EXPECT_TRUE(contains(refusal(eleven), "varint")) << refusal(eleven);
  const Bytes overflow = {0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
  EXPECT_TRUE(contains(refusal(overflow), "varint"));
  const Bytes length = {0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F};  // graph claiming 4 GiB
  EXPECT_TRUE(contains(refusal(length), "claims"));
}

TEST(OnnxReader, HugeAndNegativeDimsAreRefusedBeforeAllocating) {
  for (const std::vector<std::int64_t>& dims :
       std::vector<std::vector<std::int64_t>>{{std::int64_t{1} << 40, std::int64_t{1} << 40},
                                              {-1, 4},
                                              {3, -5},
                                              {0, -1},
                                              {INT64_MAX, 2},
                                              {1, 1, 1, 1, 1, 1, 1, 1, 1}}) {
    onnx_wire::Writer t;
    for (const auto d : dims) t.int64_field(1, d);
    t.int64_field(2, onnx::kFloat);
    t.bytes_field(8, "W");
    t.bytes_field(9, std::string(16, '\0'));
    const std::string why = refusal(model_with_initializer(t));
    EXPECT_TRUE(contains(why, "initializer[0]") &&
                (contains(why, "dim") || contains(why, "more than")))
        << why;
  }
  // A graph input dim beyond any width, and one that is negative.
  for (const std::int64_t d : {std::int64_t{1} << 50, std::int64_t{-3}}) {
    onnx::Model m = decoded_small_model();
    m.graph.inputs.front().shape->at(1).value = d;
    const std::string why = refusal(encoded(m));
    EXPECT_TRUE(contains(why, "input 'input' dim 1")) << why;
  }
}

TEST(OnnxReader, RawDataOfTheWrongLengthIsRefused) {
  for (const std::size_t bytes :
       {std::size_t{0}, std::size_t{11}, std::size_t{13}, std::size_t{400}}) {
    onnx_wire::Writer t;
    t.int64_field(1, 3);
    t.int64_field(2, onnx::kFloat);
    t.bytes_field(8, "b1");
    t.bytes_field(9, std::string(bytes, '\x01'));
    const std::string why = refusal(model_with_initializer(t));
    EXPECT_TRUE(contains(why, "raw_data is " + std::to_string(bytes) + " bytes")) << why;
  }
  // Typed data with too few and too many values.
  for (const int count : {2, 4}) {
    onnx_wire::Writer t;
    t.int64_field(1, 3);
    t.int64_field(2, onnx::kFloat);
    for (int k = 0; k < count; ++k) t.float_field(4, 1.0f);
    EXPECT_TRUE(contains(refusal(model_with_initializer(t)), "3"));
  }
}

TEST(OnnxReader, ExternalDataIsRefusedWithItsPath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../../etc/passwd", "leaves the model's folder"},
      {"/etc/passwd", "an absolute path"},
      {"weights.bin", "external file"}};
  for (const auto& [location, expected] : cases) {
    onnx_wire::Writer entry;
    entry.bytes_field(1, "location");
    entry.bytes_field(2, location);
    onnx_wire::Writer t;
    t.int64_field(1, 2);
    t.int64_field(2, onnx::kFloat);
    t.bytes_field(8, "W1");
    t.message(13, entry);
    t.int64_field(14, 1);
    const std::string why = refusal(model_with_initializer(t));
    EXPECT_TRUE(contains(why, location) && contains(why, expected)) << why;
  }
}

TEST(OnnxReader, PackedAndUnpackedRepeatedFieldsReadTheSame) {
  // dims and float_data written packed (as proto3 writers do) and unpacked (proto2's default).
  const std::vector<std::int64_t> dims = {2, 3};
  for (const bool packed : {false, true}) {
    onnx_wire::Writer t;
    if (packed) {
      t.packed_int64(1, dims);
      std::string run;
      for (int k = 0; k < 6; ++k) {
        const float v = static_cast<float>(k) * 0.5f;
        run.append(reinterpret_cast<const char*>(&v), 4);
      }
      t.bytes_field(4, run);
    } else {
      for (const auto d : dims) t.int64_field(1, d);
      for (int k = 0; k < 6; ++k) t.float_field(4, static_cast<float>(k) * 0.5f);
    }
    t.int64_field(2, onnx::kFloat);
    t.bytes_field(8, "W");
    const Bytes b = model_with_initializer(t);
    const onnx::Model m = onnx::decode_model(b, "packed.onnx");
    ASSERT_EQ(m.graph.initializers.size(), 1u);
    EXPECT_EQ(m.graph.initializers[0].dims, dims);
    EXPECT_EQ(m.graph.initializers[0].floats,
              (std::vector<float>{0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f}));
  }
}

TEST(OnnxReader, UnsupportedOpsAreNamedWithTheirNodeAndPosition) {
  onnx::Model m = decoded_small_model();
  m.graph.nodes[3].op_type = "Conv";  // after Sub, Mul, MatMul: the first layer's Add
  const std::string why = refusal(encoded(m));
  EXPECT_TRUE(contains(why, "Conv") && contains(why, "node 3") &&
              contains(why, "'" + m.graph.nodes[3].name + "'") && contains(why, "supported:"))
      << why;

  onnx::Model gemm = decoded_small_model();
  for (auto& n : gemm.graph.nodes) {
    if (n.op_type != "MatMul") continue;
    n.op_type = "Gemm";
    onnx::Attribute a;
    a.name = "transA";
    a.type = onnx::AttributeType::int_;
    a.i = 1;
    n.attributes.push_back(a);
    break;
  }
  EXPECT_TRUE(contains(refusal(encoded(gemm)), "transA=1"));

  onnx::Model two_inputs = decoded_small_model();
  two_inputs.graph.inputs.push_back(two_inputs.graph.inputs.front());
  two_inputs.graph.inputs.back().name = "second";
  EXPECT_TRUE(contains(refusal(encoded(two_inputs)), "2 inputs"));
}

TEST(OnnxReader, GemmAttributesAreAppliedAsOnnxDefinesThem) {
  // z = alpha * x B^T + beta * C against the MatMul form of the same model.
  const Bytes original = bytes_of(small_model_onnx());
  const Model reference = parse_onnx(original, "ref.onnx", 1);
  onnx::Model m = onnx::decode_model(original, "ref.onnx");
  for (std::size_t i = 0; i < m.graph.nodes.size(); ++i) {
    onnx::Node& n = m.graph.nodes[i];
    if (n.op_type != "MatMul") continue;
    onnx::Tensor* w = nullptr;
    for (auto& t : m.graph.initializers)
      if (t.name == n.inputs[1]) w = &t;
    ASSERT_NE(w, nullptr);
    // Store B = 2 W^T (so alpha 0.5 and transB 1 give W back) and fold the Add into C = b / 4.
    const auto rows = w->dims[0], cols = w->dims[1];
    std::vector<float> t(w->floats.size());
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < cols; ++c)
        t[static_cast<std::size_t>(c * rows + r)] =
            2.0f * w->floats[static_cast<std::size_t>(r * cols + c)];
    w->floats = t;
    w->dims = {cols, rows};
    onnx::Node& add = m.graph.nodes[i + 1];
    for (auto& b : m.graph.initializers)
      if (b.name == add.inputs[1])
        for (float& v : b.floats) v *= 4.0f;
    n.op_type = "Gemm";
    n.inputs.push_back(add.inputs[1]);
    n.outputs = add.outputs;
    for (const auto& [name, value] :
         {std::pair<const char*, float>{"alpha", 0.5f}, {"beta", 0.25f}}) {
      onnx::Attribute a;
      a.name = name;
      a.type = onnx::AttributeType::float_;
      a.f = value;
      n.attributes.push_back(a);
    }
    onnx::Attribute tb;
    tb.name = "transB";
    tb.type = onnx::AttributeType::int_;
    tb.i = 1;
    n.attributes.push_back(tb);
    m.graph.nodes.erase(m.graph.nodes.begin() + static_cast<std::ptrdiff_t>(i) + 1);
  }
  const Model gemm = parse_onnx(encoded(m), "gemm.onnx", 1);
  const auto a = reference.network->parameters();
  const auto b = gemm.network->parameters();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin()));
}

// ---- through the tool -------------------------------------------------------------------------

// `backprop import` under an address-space limit where the sanitizers allow one (ASan reserves
// terabytes of shadow memory up front).
RunResult import_limited(const fs::path& file, const fs::path& out) {
  if (!testing_support::kAddressSanitizer && fs::exists("/usr/bin/prlimit")) {
    Child child({"/usr/bin/prlimit", "--as=1073741824", "--", cli_path(), "import", file.string(),
                 "-o", out.string()});
    return child.wait(60);
  }
  return run_cli({"import", file.string(), "-o", out.string()});
}

TEST(OnnxImportCommand, HostileFilesExitOneWithOneLineAndWriteNothing) {
  BACKPROP_REQUIRE_CLI();
  TempDir dir;
  std::vector<std::pair<std::string, Bytes>> files;
  const Bytes whole = bytes_of(small_model_onnx());
  files.emplace_back("truncated.onnx", Bytes(whole.begin(), whole.begin() + 100));
  TestRng rng(4);
  Bytes random(4096);
  for (auto& x : random) x = static_cast<std::uint8_t>(rng.below(256));
  files.emplace_back("random.onnx", random);
  files.emplace_back("varint.onnx",
                     Bytes{0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  {
    onnx_wire::Writer t;
    t.int64_field(1, std::int64_t{1} << 31);
    t.int64_field(1, 1);
    t.int64_field(2, onnx::kFloat);
    t.bytes_field(8, "W1");
    t.bytes_field(9, std::string(64, '\0'));
    files.emplace_back("huge_dims.onnx", model_with_initializer(t));
  }
  for (const char* location : {"../weights.bin", "/tmp/weights.bin", "link.bin"}) {
    onnx_wire::Writer entry;
    entry.bytes_field(1, "location");
    entry.bytes_field(2, location);
    onnx_wire::Writer t;
    t.int64_field(1, 2);
    t.int64_field(2, onnx::kFloat);
    t.bytes_field(8, "W1");
    t.message(13, entry);
    t.int64_field(14, 1);
    files.emplace_back(std::string("external_") +
                           (location[0] == '.'   ? "parent"
                            : location[0] == '/' ? "absolute"
                                                 : "symlink") +
                           ".onnx",
                       model_with_initializer(t));
  }
  fs::create_symlink("/etc/passwd", dir / "link.bin");
  for (const auto& [name, content] : files) {
    write_file(dir / name, std::string(content.begin(), content.end()));
    const fs::path out = dir / (name + ".safetensors");
    const RunResult r = import_limited(dir / name, out);
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << name << ": " << r.err;
    EXPECT_TRUE(contains(r.err, name)) << r.err;
    EXPECT_FALSE(contains(r.err, "out of memory")) << r.err;  // refused before allocating
    EXPECT_FALSE(fs::exists(out)) << name;
  }
}

TEST(OnnxImportCommand, MissingFileAndNonOnnxFileAreClearErrors) {
  BACKPROP_REQUIRE_CLI();
  TempDir dir;
  const RunResult missing =
      run_cli({"import", dir.str("nope.onnx"), "-o", dir.str("m.safetensors")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.err, "nope.onnx")) << missing.err;
  write_file(dir / "text.onnx", "hello, world\n");
  const RunResult text = run_cli({"import", dir.str("text.onnx"), "-o", dir.str("m.safetensors")});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_TRUE(contains(text.err, "text.onnx")) << text.err;
}

}  // namespace
}  // namespace backprop::test
