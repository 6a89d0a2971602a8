// Model files: save then load gives the same weights, metadata and predictions; hostile files
// (wrong version, missing or misshapen tensors, absurd widths, malformed metadata, a header
// longer than the file, overlapping tensors, ...) are refused by the library with an Error that
// says what is wrong, and by `backprop info` with exit 1 and one line, never a crash.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backprop/error.hpp"
#include "backprop/model.hpp"
#include "backprop/safetensors.hpp"
#include "backprop/thread_pool.hpp"
#include "cli/cli_test_util.hpp"
#include "test_support.hpp"

namespace backprop::test {
namespace {

using testing_support::error_of;

constexpr const char* kSource = "hostile.safetensors";

// A model whose every field differs from its default, so that a field the writer or the
// reader drops shows up.
ModelInfo classifier_info() {
  ModelInfo info;
  info.architecture.widths = {7, 5, 4, 3};
  info.architecture.activations = {Activation::tanh, Activation::relu};
  info.architecture.loss = Loss::cross_entropy;
  info.architecture.dropout = 0.25f;
  info.task = Task::classification;
  info.class_names = {"ant", "bee", "cicada"};
  info.feature_names = {"f0", "f1", "f2", "f3", "f4", "f5", "f6"};
  info.label_name = "insect";
  info.input_format = "csv";
  info.csv_header = true;
  info.csv_columns = 9;
  info.training = {{"optimizer", "adam"}, {"epochs", "12"}};
  info.preprocessing.kind = Normalization::standard;
  TestRng rng(77);
  for (int j = 0; j < 7; ++j) {
    info.preprocessing.offset.push_back(static_cast<float>(rng.uniform(-3, 3)));
    info.preprocessing.scale.push_back(static_cast<float>(rng.uniform(0.1, 2)));
  }
  return info;
}

std::vector<float> random_inputs(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  TestRng rng(seed);
  std::vector<float> x(static_cast<std::size_t>(rows * cols));
  for (auto& v : x) v = static_cast<float>(rng.uniform(-2, 2));
  return x;
}

std::vector<float> outputs(Network& net, const std::vector<float>& x, std::int64_t rows) {
  ThreadPool pool(1);
  const auto y = net.forward(View<const float>(x.data(), rows, net.architecture().inputs()), pool);
  std::vector<float> out;
  for (std::int64_t i = 0; i < y.rows; ++i)
    for (std::int64_t j = 0; j < y.cols; ++j) out.push_back(y(i, j));
  return out;
}

void expect_same_parameters(const Network& a, const Network& b) {
  ASSERT_EQ(a.num_layers(), b.num_layers());
  for (std::int64_t l = 0; l < a.num_layers(); ++l) {
    const auto wa = a.weight(l);
    const auto wb = b.weight(l);
    ASSERT_EQ(wa.rows, wb.rows);
    ASSERT_EQ(wa.cols, wb.cols);
    for (std::int64_t i = 0; i < wa.rows; ++i)
      for (std::int64_t j = 0; j < wa.cols; ++j)
        EXPECT_EQ(wa(i, j), wb(i, j)) << "W" << l + 1 << "(" << i << "," << j << ")";
    const auto ba = a.bias(l);
    const auto bb = b.bias(l);
    ASSERT_EQ(ba.size(), bb.size());
    for (std::size_t j = 0; j < ba.size(); ++j)
      EXPECT_EQ(ba[j], bb[j]) << "b" << l + 1 << "(" << j << ")";
  }
}

// ---- Round trip -------------------------------------------------------------------------------

TEST(ModelFile, SaveThenLoadGivesTheSameWeightsMetadataAndPredictions) {
  TempDir tmp;
  const ModelInfo info = classifier_info();
  Network net(info.architecture, 16);
  net.initialize(3);
  // Non-zero biases, so that a bias the round trip loses is noticed.
  TestRng rng(5);
  for (std::int64_t l = 0; l < net.num_layers(); ++l)
    for (auto& b : net.bias(l)) b = static_cast<float>(rng.uniform(-1, 1));
  const fs::path path = tmp / "model.safetensors";
  save_model(path, net, info);

  Model loaded = load_model(path, 16);
  ASSERT_NE(loaded.network, nullptr);
  const ModelInfo& got = loaded.info;
  EXPECT_EQ(got.architecture.widths, info.architecture.widths);
  EXPECT_EQ(got.architecture.activations, info.architecture.activations);
  EXPECT_EQ(got.architecture.loss, info.architecture.loss);
  EXPECT_EQ(got.architecture.dropout, info.architecture.dropout);
  EXPECT_EQ(got.task, info.task);
  EXPECT_EQ(got.class_names, info.class_names);
  EXPECT_EQ(got.feature_names, info.feature_names);
  EXPECT_EQ(got.label_name, info.label_name);
  EXPECT_EQ(got.input_format, info.input_format);
  EXPECT_EQ(got.csv_header, info.csv_header);
  EXPECT_EQ(got.csv_columns, info.csv_columns);
  EXPECT_EQ(got.training, info.training);
  EXPECT_EQ(got.preprocessing.kind, info.preprocessing.kind);
  EXPECT_EQ(got.preprocessing.offset, info.preprocessing.offset);
  EXPECT_EQ(got.preprocessing.scale, info.preprocessing.scale);
  expect_same_parameters(net, *loaded.network);

  const auto x = random_inputs(16, 7, 9);
  const auto expected = outputs(net, x, 16);
  EXPECT_EQ(outputs(*loaded.network, x, 16), expected);
  // The comparison can fail: other weights predict otherwise.
  Network other(info.architecture, 16);
  other.initialize(4);
  EXPECT_NE(outputs(other, x, 16), expected);

  // Saving the loaded model again writes the same bytes.
  save_model(tmp / "again.safetensors", *loaded.network, loaded.info);
  EXPECT_TRUE(read_file(path) == read_file(tmp / "again.safetensors"));
}

ModelInfo regression_info() {
  ModelInfo info;
  info.architecture.widths = {3, 6, 1};
  info.architecture.activations = {Activation::sigmoid};
  info.architecture.loss = Loss::mse;
  info.task = Task::regression;
  info.feature_names = {"a", "b", "c"};
  info.label_name = "y";
  info.input_format = "csv";
  info.preprocessing = Preprocessing::identity(3);
  info.preprocessing.kind = Normalization::standard;
  info.preprocessing.target_offset = 3.5f;
  info.preprocessing.target_scale = 0.25f;
  return info;
}

TEST(ModelFile, RegressionModelRoundTrips) {
  TempDir tmp;
  const ModelInfo info = regression_info();
  Network net(info.architecture, 4);
  net.initialize(11);
  save_model(tmp / "r.safetensors", net, info);
  Model loaded = load_model(tmp / "r.safetensors", 4);
  EXPECT_EQ(loaded.info.task, Task::regression);
  EXPECT_TRUE(loaded.info.class_names.empty());
  EXPECT_EQ(loaded.info.architecture.loss, Loss::mse);
  EXPECT_EQ(loaded.info.preprocessing.target_offset, info.preprocessing.target_offset);
  EXPECT_EQ(loaded.info.preprocessing.target_scale, info.preprocessing.target_scale);
  expect_same_parameters(net, *loaded.network);
  const auto x = random_inputs(4, 3, 12);
  EXPECT_EQ(outputs(*loaded.network, x, 4), outputs(net, x, 4));
}

// A regression model without target.offset / target.scale (trained on raw targets, or written
// by another tool) loads with the identity map; only one of the two without the other is refused.
TEST(ModelFile, RegressionModelWithoutTargetTensorsStillLoads) {
  const ModelInfo info = regression_info();
  Network net(info.architecture, 1);
  net.initialize(11);
  std::vector<TensorRef> tensors;
  for (const auto& t : model_tensors(net, info))
    if (t.name != "target.offset" && t.name != "target.scale") tensors.push_back(t);
  ASSERT_EQ(tensors.size(),
            6u);  // W1 b1 W2 b2 input.offset input.scale: the version-1 layout of the docs
  const std::string bytes = encode_safetensors(tensors, model_metadata(info));
  const std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  try {
    const Model m = parse_model(data, "old-regression.safetensors", 1);
    EXPECT_EQ(m.info.preprocessing.target_offset, 0.0f);
    EXPECT_EQ(m.info.preprocessing.target_scale, 1.0f);
  } catch (const Error& e) {
    ADD_FAILURE() << "a version-1 regression model without target tensors is refused: " << e.what();
  }
}

// Every file the writer produces can be read back: what the reader would refuse is refused when
// writing, and the previous file (if any) is kept.
TEST(ModelFile, NonFiniteWeightsAreNeverWritten) {
  const ModelInfo info = classifier_info();
  Network net(info.architecture, 1);
  net.initialize(5);
  net.weight(1)(2, 0) = std::numeric_limits<float>::infinity();
  TempDir tmp;
  const std::string path = tmp.str("m.safetensors");
  write_file(path, "previous");
  const std::string message = error_of([&] { save_model(path, net, info); });
  EXPECT_EQ(message, "refusing to write " + path +
                         ": W2 holds a value that is not finite (inf at row 3, column 1); a model "
                         "with such weights predicts nothing");
  EXPECT_EQ(read_file(path), "previous");
}

// The names the reader refuses (below, HostileModelFile) are never written either.
TEST(ModelFile, NamesTheReaderRefusesAreNeverWritten) {
  Network net(classifier_info().architecture, 1);
  net.initialize(5);
  TempDir tmp;
  const std::string path = tmp.str("m.safetensors");
  write_file(path, "previous");
  ModelInfo twice = classifier_info();
  twice.class_names[2] = "ant";
  EXPECT_EQ(error_of([&] { save_model(path, net, twice); }),
            "refusing to write " + path +
                ": class names 0 and 2 are both \"ant\"; each class needs a name of its own");
  ModelInfo escape = classifier_info();
  escape.feature_names[3] = "f\x1b[2J";
  EXPECT_EQ(error_of([&] { save_model(path, net, escape); }),
            "refusing to write " + path +
                ": feature name 3 (\"f\\x1b[2J\") contains the control character 0x1b at byte 2 "
                "of it");
  EXPECT_EQ(read_file(path), "previous");
}

TEST(ModelFile, TheWritersLayerLimitIsTheReaders) {
  Architecture a;
  a.widths.assign(kMaxLayers + 1, 2);
  a.activations.assign(a.widths.size() - 2, Activation::tanh);
  EXPECT_NO_THROW(a.validate());
  a.widths.push_back(2);
  a.activations.push_back(Activation::tanh);
  EXPECT_EQ(error_of([&] { a.validate(); }),
            "the network has 1001 layers, more than the 1000 a model file may hold");
}

// ---- Hostile files ----------------------------------------------------------------------------

// A model as separate, editable tensors and metadata.
struct Parts {
  std::vector<NamedTensor> tensors;
  std::map<std::string, std::string> metadata;

  std::string encode() const {
    std::vector<TensorRef> refs;
    for (const auto& t : tensors) refs.push_back({t.name, t.shape, t.data});
    return encode_safetensors(refs, metadata);
  }
  NamedTensor& tensor(const std::string& name) {
    for (auto& t : tensors)
      if (t.name == name) return t;
    throw std::runtime_error("no tensor " + name);
  }
  void erase(const std::string& name) {
    std::erase_if(tensors, [&](const NamedTensor& t) { return t.name == name; });
  }
};

Parts valid_parts() {
  const ModelInfo info = classifier_info();
  Network net(info.architecture, 1);
  net.initialize(3);
  Parts p;
  for (const auto& t : model_tensors(net, info))
    p.tensors.push_back({t.name, t.shape, {t.data.begin(), t.data.end()}});
  p.metadata = model_metadata(info);
  return p;
}

std::string le64(std::uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  return out;
}

// What parse_model says about `bytes`: the message of the Error it throws, or a note that it
// threw something else or nothing.
std::string refusal(const std::string& bytes) {
  const std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  try {
    parse_model(data, kSource, 1);
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a backprop::Error: ") + e.what() + ">";
  }
  return "<accepted>";
}

struct HostileCase {
  std::string name;
  std::function<std::string()> bytes;
  std::vector<std::string> message_parts;  // each must appear in the message
};

std::vector<HostileCase> hostile_cases() {
  std::vector<HostileCase> cases;
  auto edited = [](const std::function<void(Parts&)>& edit) {
    return [edit] {
      Parts p = valid_parts();
      edit(p);
      return p.encode();
    };
  };
  cases.push_back({"format_version_3",
                   edited([](Parts& p) { p.metadata["format_version"] = "3"; }),
                   {"version", "'3'", "not supported"}});
  cases.push_back({"decimal_mark_unknown",
                   edited([](Parts& p) {
                     p.metadata["input"] =
                         R"({"format":"csv","header":true,"columns":9,"delimiter":";",)"
                         R"("decimal":";"})";
                   }),
                   {"input.decimal", "not a point or a comma"}});
  cases.push_back({"missing_W2", edited([](Parts& p) { p.erase("W2"); }), {"'W2'", "missing"}});
  // Encodings of the 7 inputs: 2 numbers and a column of 5 categories.
  const std::string two = R"({"name":"x","kind":"number","indicator":false,"fill":[1]},)"
                          R"({"name":"y","kind":"number","indicator":false,"fill":[2]})";
  const std::string five =
      R"({"name":"c","kind":"category","indicator":false,"categories":["a","b","c","d","e"],)"
      R"("fill":"a"})";
  const auto encoding = [](const std::string& columns) {
    return R"({"version":1,"missing":"impute","columns":[)" + columns + "]}";
  };
  cases.push_back({"encoding_wrong_width",
                   edited([=](Parts& p) {
                     p.metadata["format_version"] = "2";
                     p.metadata["encoding"] = encoding(two);
                   }),
                   {"encoding gives 2 features for 7 inputs"}});
  cases.push_back({"encoding_in_version_1",
                   edited([=](Parts& p) { p.metadata["encoding"] = encoding(two + "," + five); }),
                   {"format version 1 cannot hold"}});
  cases.push_back({"encoding_fill_not_a_category",
                   edited([=](Parts& p) {
                     p.metadata["format_version"] = "2";
                     std::string bad = five;
                     bad.replace(bad.find(R"("fill":"a")"), 10, R"("fill":"z")");
                     p.metadata["encoding"] = encoding(two + "," + bad);
                   }),
                   {"the fill among them"}});
  cases.push_back({"encoding_unknown_kind",
                   edited([=](Parts& p) {
                     p.metadata["format_version"] = "2";
                     p.metadata["encoding"] = encoding(R"({"name":"x","kind":"blob"})");
                   }),
                   {"column kind"}});
  cases.push_back({"W1_transposed",
                   edited([](Parts& p) {
                     p.tensor("W1").shape = {5, 7};
                   }),
                   {"'W1'", "shape [5, 7]", "[7, 5]"}});
  cases.push_back({"W1_too_few_values",
                   edited([](Parts& p) {
                     auto& w = p.tensor("W1");
                     w.shape = {7, 4};
                     w.data.resize(28);
                   }),
                   {"'W1'", "shape [7, 4]", "[7, 5]"}});
  cases.push_back(
      {"absurd_width",
       edited([](Parts& p) {
         p.metadata["architecture"] =
             R"({"widths":[7,1000000000000,4,3],"activations":["tanh","relu"],"loss":"cross_entropy"})";
       }),
       {"1000000000000", "out of range"}});
  // Every width allowed, but together ~10^12 parameters: refused before a byte is allocated.
  cases.push_back(
      {"absurd_parameter_count",
       edited([](Parts& p) {
         p.metadata["architecture"] =
             R"({"widths":[1048576,1048576,1048576,3],"activations":["tanh","relu"],"loss":"cross_entropy"})";
       }),
       {"parameters"}});
  cases.push_back(
      {"negative_width",
       edited([](Parts& p) {
         p.metadata["architecture"] =
             R"({"widths":[7,-5,4,3],"activations":["tanh","relu"],"loss":"cross_entropy"})";
       }),
       {"-5", "out of range"}});
  cases.push_back({"too_many_layers",
                   edited([](Parts& p) {
                     std::string widths = "7", activations;
                     for (int l = 0; l < 1500; ++l) {
                       widths += ",2";
                       activations += std::string(l ? "," : "") + "\"tanh\"";
                     }
                     p.metadata["architecture"] = R"({"widths":[)" + widths +
                                                  R"(,3],"activations":[)" + activations +
                                                  R"(],"loss":"cross_entropy"})";
                   }),
                   {"1000 layers"}});
  cases.push_back({"architecture_json_malformed",
                   edited([](Parts& p) { p.metadata["architecture"] = R"({"widths":[7,5,4,3)"; }),
                   {"'architecture'", "not valid JSON"}});
  cases.push_back(
      {"architecture_widths_not_a_list",
       edited([](Parts& p) {
         p.metadata["architecture"] =
             R"({"widths":"7,5,4,3","activations":["tanh","relu"],"loss":"cross_entropy"})";
       }),
       {"architecture"}});
  cases.push_back(
      {"unknown_activation",
       edited([](Parts& p) {
         p.metadata["architecture"] =
             R"({"widths":[7,5,4,3],"activations":["tanh","swish"],"loss":"cross_entropy"})";
       }),
       {"metadata 'architecture'", "unknown activation \"swish\""}});
  cases.push_back({"unknown_loss",
                   edited([](Parts& p) {
                     p.metadata["architecture"] =
                         R"({"widths":[7,5,4,3],"activations":["tanh","relu"],"loss":"hinge"})";
                   }),
                   {"metadata 'architecture'", "\"hinge\""}});
  cases.push_back({"duplicate_class_names",
                   edited([](Parts& p) { p.metadata["classes"] = R"(["ant","bee","ant"])"; }),
                   {"class names 0 and 2 are both \"ant\""}});
  // A terminal escape sequence in a name would act on the terminal that prints it.
  cases.push_back(
      {"class_name_with_an_escape_sequence",
       edited([](Parts& p) { p.metadata["classes"] = R"(["ant","\u001b[31mbee","cicada"])"; }),
       {"class name 1 (\"\\x1b[31mbee\")", "control character 0x1b at byte 1"}});
  cases.push_back({"feature_name_with_a_bell",
                   edited([](Parts& p) {
                     p.metadata["features"] = R"(["f0","f1","f2\u0007","f3","f4","f5","f6"])";
                   }),
                   {"feature name 2", "control character 0x07 at byte 3"}});
  cases.push_back({"classes_json_malformed",
                   edited([](Parts& p) { p.metadata["classes"] = R"(["ant","bee",)"; }),
                   {"'classes'", "not valid JSON"}});
  cases.push_back({"class_names_count",
                   edited([](Parts& p) { p.metadata["classes"] = R"(["ant","bee"])"; }),
                   {"2 class names", "3 outputs"}});
  cases.push_back({"task_loss_mismatch",
                   edited([](Parts& p) { p.metadata["task"] = "regression"; }),
                   {"regression", "cross_entropy"}});
  cases.push_back({"unknown_task",
                   edited([](Parts& p) { p.metadata["task"] = "clustering"; }),
                   {"'clustering'"}});
  cases.push_back({"feature_names_count",
                   edited([](Parts& p) { p.metadata["features"] = R"(["f0"])"; }),
                   {"1 feature names", "7 inputs"}});
  cases.push_back({"no_format_key",
                   edited([](Parts& p) { p.metadata.erase("format"); }),
                   {"not a backprop model"}});
  cases.push_back({"no_metadata_at_all",
                   edited([](Parts& p) { p.metadata.clear(); }),
                   {"not a backprop model"}});
  cases.push_back({"other_format",
                   edited([](Parts& p) { p.metadata["format"] = "pt"; }),
                   {"not a backprop model"}});
  cases.push_back({"unexpected_tensor",
                   edited([](Parts& p) {
                     p.tensors.push_back({"extra", {1}, {0.0f}});
                   }),
                   {"'extra'"}});
  // The reader accepts exactly the expected tensors (docs/model-format.md): a classifier carrying
  // regression's target tensors, or a file claiming to be a checkpoint with other extras, is
  // refused.
  cases.push_back({"target_tensors_in_a_classifier",
                   edited([](Parts& p) {
                     p.tensors.push_back({"target.offset", {1}, {0.0f}});
                     p.tensors.push_back({"target.scale", {1}, {1.0f}});
                   }),
                   {"target."}});
  cases.push_back({"unexpected_tensor_with_a_checkpoint_key",
                   edited([](Parts& p) {
                     p.metadata["checkpoint"] = "{}";
                     p.tensors.push_back({"extra", {1}, {0.0f}});
                   }),
                   {"'extra'"}});
  cases.push_back({"regression_without_target_scale",
                   edited([](Parts& p) {
                     p.metadata["task"] = "regression";
                     p.metadata["architecture"] =
                         R"({"widths":[7,5,4,1],"activations":["tanh","relu"],"loss":"mse"})";
                     p.metadata.erase("classes");
                     p.erase("W3");
                     p.erase("b3");
                     p.tensors.push_back({"W3", {4, 1}, {0.1f, 0.2f, 0.3f, 0.4f}});
                     p.tensors.push_back({"b3", {1}, {0.0f}});
                     p.tensors.push_back({"target.offset", {1}, {0.0f}});
                   }),
                   {"'target.scale'"}});
  cases.push_back({"nan_weight",
                   edited([](Parts& p) { p.tensor("W2").data[3] = std::nanf(""); }),
                   {"W2 holds a value that is not finite", "nan", "row 1, column 4"}});
  cases.push_back({"infinite_bias",
                   edited([](Parts& p) { p.tensor("b3").data[1] = -HUGE_VALF; }),
                   {"b3 holds a value that is not finite", "-inf", "position 2"}});
  cases.push_back(
      {"header_longer_than_file", [] { return le64(4096) + "{}"; }, {"header length", "4096"}});
  cases.push_back(
      {"header_length_huge", [] { return le64(~std::uint64_t{0}) + "{}"; }, {"header length"}});
  cases.push_back(
      {"shorter_than_length_field", [] { return std::string("\x02\x00\x00", 3); }, {"8-byte"}});
  cases.push_back({"empty_file", [] { return std::string(); }, {"8-byte"}});
  cases.push_back({"offsets_overlap",
                   [] {
                     const std::string header =
                         R"({"W1":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("b1":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
                     return le64(header.size()) + header + std::string(12, '\0');
                   },
                   {"overlap"}});
  cases.push_back({"offsets_beyond_the_data",
                   [] {
                     const std::string header =
                         R"({"W1":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
                     return le64(header.size()) + header + std::string(8, '\0');
                   },
                   {"'W1'", "past the end"}});
  cases.push_back({"dtype_f16",
                   [] {
                     const std::string header =
                         R"({"W1":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})";
                     return le64(header.size()) + header + std::string(4, '\0');
                   },
                   {"F16"}});
  return cases;
}

// Names the case in test listings (ctest shows GetParam() through this).
void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

class HostileModelFile : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileModelFile, IsRefusedWithAClearMessage) {
  const HostileCase& c = GetParam();
  const std::string bytes = c.bytes();
  const std::string message = refusal(bytes);
  RecordProperty("message", message);
  EXPECT_TRUE(contains(message, kSource)) << "the message does not name the file: " << message;
  for (const auto& part : c.message_parts)
    EXPECT_TRUE(contains(message, part)) << "expected '" << part << "' in: " << message;
}

TEST_P(HostileModelFile, MakesTheToolExitOneWithOneLine) {
  BACKPROP_REQUIRE_CLI();
  const HostileCase& c = GetParam();
  TempDir tmp;
  const std::string path = tmp.str(kSource);
  write_file(path, c.bytes());
  const RunResult r = run_cli({"info", path}, 20);
  EXPECT_EQ(r.signal, 0) << r.describe();
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_EQ(split_lines(r.err).size(), 1u) << r.describe();
  for (const auto& part : c.message_parts) EXPECT_TRUE(contains(r.err, part)) << r.describe();
  EXPECT_TRUE(r.out.empty()) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileModelFile, ::testing::ValuesIn(hostile_cases()),
                         [](const ::testing::TestParamInfo<HostileCase>& param_info) {
                           return param_info.param.name;
                         });

// The valid file the hostile ones are made from is itself accepted (so each refusal above is
// caused by its one edit).
TEST(HostileModelFileBase, TheUneditedFileLoads) {
  const std::string bytes = valid_parts().encode();
  EXPECT_EQ(refusal(bytes), "<accepted>");
}

// A table model keeps its encoding; it is written as version 2 exactly when an older reader
// (version 1 only) would misread its inputs.
TEST(ModelFile, TableEncodingRoundTripsAndSetsTheVersion) {
  TempDir tmp;
  ModelInfo info = classifier_info();
  info.csv_ignored = {"name", "note"};
  info.csv_id = "id";
  info.csv_delimiter = ';';
  info.csv_decimal = ',';
  ColumnEncoding age;  // 2 inputs: age, age.missing
  age.name = "age";
  age.fill = {31.5f};
  age.indicator = true;
  ColumnEncoding city;  // 1 input: city=Oslo
  city.name = "city";
  city.kind = ColumnEncoding::Kind::category;
  city.categories = {"Oslo"};
  city.fill_category = "Oslo";
  ColumnEncoding day;  // 4 inputs: the date without an hour
  day.name = "day";
  day.kind = ColumnEncoding::Kind::date;
  day.fill = {2024, 6, 2, 170};
  info.encoding.columns = {age, city, day};
  ASSERT_EQ(info.encoding.width(), 7);
  info.feature_names = info.encoding.feature_names();
  Network net(info.architecture, 4);
  net.initialize(3);
  const fs::path path = tmp / "table.safetensors";
  save_model(path, net, info);
  EXPECT_EQ(read_safetensors(path).metadata.at("format_version"), "2");
  const Model loaded = load_model(path, 4);
  const TableEncoding& got = loaded.info.encoding;
  ASSERT_EQ(got.columns.size(), 3u);
  EXPECT_EQ(got.feature_names(), info.encoding.feature_names());
  EXPECT_EQ(got.columns[0].fill, age.fill);
  EXPECT_TRUE(got.columns[0].indicator);
  EXPECT_EQ(got.columns[1].categories, city.categories);
  EXPECT_EQ(got.columns[2].fill, day.fill);
  EXPECT_EQ(loaded.info.csv_ignored, info.csv_ignored);
  EXPECT_EQ(loaded.info.csv_id, "id");
  EXPECT_EQ(loaded.info.csv_delimiter, ';');
  EXPECT_EQ(loaded.info.csv_decimal, ',');
  save_model(tmp / "again.safetensors", *loaded.network, loaded.info);
  EXPECT_TRUE(read_file(path) == read_file(tmp / "again.safetensors"));

  // Numbers only: version 1, which an older reader reads right.
  ModelInfo plain = classifier_info();
  for (const auto& name : plain.feature_names) {
    ColumnEncoding c;
    c.name = name;
    c.fill = {0.5f};
    plain.encoding.columns.push_back(c);
  }
  save_model(tmp / "plain.safetensors", net, plain);
  EXPECT_EQ(read_safetensors(tmp / "plain.safetensors").metadata.at("format_version"), "1");
  // A decimal point is the default: not written, so such files stay as they were.
  const std::string input = read_safetensors(tmp / "plain.safetensors").metadata.at("input");
  EXPECT_EQ(input.find("decimal"), std::string::npos) << input;
  EXPECT_EQ(load_model(tmp / "plain.safetensors", 4).info.csv_decimal, '.');
  EXPECT_EQ(load_model(tmp / "plain.safetensors", 4).info.encoding.columns.size(), 7u);
}

}  // namespace
}  // namespace backprop::test
