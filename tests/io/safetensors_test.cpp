#include "backprop/safetensors.hpp"

#include <sys/stat.h>

#include <bit>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "backprop/error.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSource = "model.safetensors";

std::vector<std::uint8_t> to_bytes(const std::string& s) { return {s.begin(), s.end()}; }

// The 8-byte little-endian length, spelled out byte by byte so that these tests do not share
// the encoder's code.
std::string le64(std::uint64_t n) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  return out;
}

// F32 values given by their IEEE bit patterns, little-endian.
std::string f32_bits(std::initializer_list<std::uint32_t> words) {
  std::string out;
  for (const std::uint32_t w : words) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((w >> (8 * i)) & 0xFF));
  }
  return out;
}

// A file from a header text and a data buffer, exactly as given (no padding added).
std::string file_with(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

SafetensorsFile parse(const std::string& file, const SafetensorsLimits& limits = {}) {
  const std::vector<std::uint8_t> bytes = to_bytes(file);
  return parse_safetensors(bytes, kSource, limits);
}

using testing_support::error_of;

// Asserts that parsing is refused with a message that starts with the file name and contains
// `part`.
void expect_refused(const std::string& file, const std::string& part,
                    const SafetensorsLimits& limits = {}) {
  const std::string message = error_of([&] { parse(file, limits); });
  EXPECT_EQ(message.rfind(std::string(kSource) + ": ", 0), 0u) << message;
  EXPECT_NE(message.find(part), std::string::npos)
      << "message: " << message << "\nwanted: " << part;
}

std::vector<std::uint32_t> bits_of(const std::vector<float>& values) {
  std::vector<std::uint32_t> out;
  for (const float v : values) out.push_back(std::bit_cast<std::uint32_t>(v));
  return out;
}

std::string header_of(const std::string& file) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    n |= std::uint64_t{static_cast<unsigned char>(file[i])} << (8 * i);
  }
  return file.substr(8, n);
}

// One entry {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}.
std::string entry(const std::string& name, const std::string& shape, std::uint64_t begin,
                  std::uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// ---------------------------------------------------------------------------------------------
// Writing and reading back

TEST(Safetensors, RoundTripKeepsNamesShapesAndExactBits) {
  const std::vector<float> w1 = {-0.0f,
                                 0.0f,
                                 std::numeric_limits<float>::denorm_min(),
                                 -1e-40f,                            // another denormal
                                 std::bit_cast<float>(0x7FC12345u),  // quiet NaN with a payload
                                 std::bit_cast<float>(0xFF800001u),  // negative signalling NaN
                                 std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::max(),
                                 std::numeric_limits<float>::lowest(),
                                 1.0f / 3.0f,
                                 -2.5f};
  const std::vector<float> b1 = {0.5f, -0.25f, 1e30f};
  const std::vector<float> scalar = {42.0f};
  const std::vector<TensorRef> tensors = {
      {"layers.0.weight", {4, 3}, w1},
      {"layers.0.bias", {3}, b1},
      {"empty", {0, 5}, {}},
      {"step", {}, scalar},
  };
  const std::string file = encode_safetensors(tensors, {});
  const SafetensorsFile read = parse(file);

  ASSERT_EQ(read.tensors.size(), 4u);
  EXPECT_EQ(read.source, kSource);
  EXPECT_TRUE(read.metadata.empty());
  // Data-offset order is the order they were written in; the empty tensor sits between.
  EXPECT_EQ(read.tensors[0].name, "layers.0.weight");
  EXPECT_EQ(read.tensors[1].name, "layers.0.bias");
  EXPECT_EQ(read.tensors[2].name, "empty");
  EXPECT_EQ(read.tensors[3].name, "step");
  EXPECT_EQ(read.tensor("layers.0.weight").shape, (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(read.tensor("layers.0.bias").shape, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(read.tensor("empty").shape, (std::vector<std::int64_t>{0, 5}));
  EXPECT_TRUE(read.tensor("empty").data.empty());
  EXPECT_TRUE(read.tensor("step").shape.empty());
  EXPECT_EQ(bits_of(read.tensor("layers.0.weight").data), bits_of(w1));
  EXPECT_EQ(bits_of(read.tensor("layers.0.bias").data), bits_of(b1));
  EXPECT_EQ(bits_of(read.tensor("step").data), bits_of(scalar));
}

TEST(Safetensors, MetadataRoundTrips) {
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"},
      {"architecture", "784-128-10"},
      {"epoch", "12"},
      {"empty", ""},
      {"unicode \u00fc", "caf\u00e9 \u2713 \"quoted\" \\ back\nslash"},
  };
  const std::vector<float> w = {1.0f, 2.0f};
  const std::vector<TensorRef> tensors = {{"W1", {1, 2}, w}};
  const SafetensorsFile read = parse(encode_safetensors(tensors, metadata));
  EXPECT_EQ(read.metadata, metadata);
}

TEST(Safetensors, NoMetadataWritesNoMetadataObject) {
  const std::vector<float> w = {1.0f};
  const std::vector<TensorRef> tensors = {{"W1", {1}, w}};
  const std::string header = header_of(encode_safetensors(tensors, {}));
  EXPECT_EQ(header.find("__metadata__"), std::string::npos) << header;
}

TEST(Safetensors, HeaderIsSpacePaddedSoTheDataIs8Aligned) {
  const std::vector<float> w = {1.0f, 2.0f, 3.0f};
  // Names of every length mod 8 move the unpadded header end through every residue.
  for (std::string name = "a"; name.size() <= 9; name += "b") {
    const std::vector<TensorRef> tensors = {{name, {3}, w}};
    const std::string file = encode_safetensors(tensors, {});
    const std::string header = header_of(file);
    EXPECT_EQ(header.size() % 8, 0u) << name;
    EXPECT_EQ(file.size(), 8 + header.size() + 12) << name;
    // Only spaces after the closing brace.
    const std::size_t close = header.rfind('}');
    ASSERT_NE(close, std::string::npos);
    EXPECT_EQ(header.find_first_not_of(' ', close + 1), std::string::npos) << name;
    EXPECT_LT(header.size() - close - 1, 8u) << name;
  }
}

// The header as a third-party reader sees it: plain JSON, keys and types per the spec.
TEST(Safetensors, HeaderFollowsTheSpec) {
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b = {7, 8};
  const std::vector<TensorRef> tensors = {{"W1", {3, 2}, w}, {"b1", {2}, b}};
  const std::string file = encode_safetensors(tensors, {{"k", "v"}});
  const nlohmann::json header = nlohmann::json::parse(header_of(file));
  EXPECT_EQ(header["W1"]["dtype"], "F32");
  EXPECT_EQ(header["W1"]["shape"], nlohmann::json({3, 2}));
  EXPECT_EQ(header["W1"]["data_offsets"], nlohmann::json({0, 24}));
  EXPECT_EQ(header["b1"]["data_offsets"], nlohmann::json({24, 32}));
  EXPECT_EQ(header["__metadata__"], nlohmann::json({{"k", "v"}}));
  // Data little-endian after the header: 1.0f is 0x3F800000.
  const std::size_t data = 8 + header_of(file).size();
  EXPECT_EQ(file.substr(data, 4), f32_bits({0x3F800000u}));
  EXPECT_EQ(file.substr(data + 24, 4), f32_bits({0x40E00000u}));  // 7.0f
}

// A file built by hand, independent of the encoder: entries out of offset order, metadata last,
// a header length that is not a multiple of 8, padding spaces.
TEST(Safetensors, HandBuiltFileParses) {
  const std::string header = "{" + entry("b", "[2]", 8, 16) + "," + entry("a", "[1,2]", 0, 8) +
                             ",\"__metadata__\":{\"format\":\"pt\"}}   ";
  const std::string data = f32_bits({0x3F800000u, 0xC0000000u, 0x80000000u, 0x7F800000u});
  const SafetensorsFile read = parse(file_with(header, data));
  ASSERT_EQ(read.tensors.size(), 2u);
  EXPECT_EQ(read.tensors[0].name, "a");
  EXPECT_EQ(read.tensors[0].shape, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(bits_of(read.tensors[0].data), (std::vector<std::uint32_t>{0x3F800000u, 0xC0000000u}));
  EXPECT_EQ(read.tensors[1].name, "b");
  EXPECT_EQ(bits_of(read.tensors[1].data), (std::vector<std::uint32_t>{0x80000000u, 0x7F800000u}));
  EXPECT_EQ(read.metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(Safetensors, AFileWithNoTensorsIsValid) {
  const SafetensorsFile read = parse(file_with("{}", ""));
  EXPECT_TRUE(read.tensors.empty());
  EXPECT_TRUE(parse(encode_safetensors({}, {})).tensors.empty());
}

TEST(Safetensors, FindAndTensorLookUpByName) {
  const std::vector<float> w = {1.0f};
  const std::vector<TensorRef> tensors = {{"W1", {1}, w}};
  const SafetensorsFile read = parse(encode_safetensors(tensors, {}));
  ASSERT_NE(read.find("W1"), nullptr);
  EXPECT_EQ(read.find("W1")->data, w);
  EXPECT_EQ(read.find("W3"), nullptr);
  EXPECT_EQ(error_of([&] { (void)read.tensor("W3"); }), "model.safetensors: no tensor 'W3'");
}

class SafetensorsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = (fs::temp_directory_path() / "backprop-st-XXXXXX").string();
    ASSERT_NE(::mkdtemp(name.data()), nullptr);
    dir_ = name;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SafetensorsFileTest, WriteAndReadAFile) {
  const fs::path path = dir_ / "model.safetensors";
  const std::vector<float> w = {1.5f, -2.5f, 3.25f, 0.0f};
  const std::vector<TensorRef> tensors = {{"W1", {2, 2}, w}};
  write_safetensors(path, tensors, {{"epoch", "3"}});
  const SafetensorsFile read = read_safetensors(path);
  EXPECT_EQ(read.source, path.string());
  EXPECT_EQ(read.tensor("W1").data, w);
  EXPECT_EQ(read.metadata.at("epoch"), "3");
  // Nothing but the file itself is left in the directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(SafetensorsFileTest, ReadErrorsNameTheFile) {
  const fs::path missing = dir_ / "missing.safetensors";
  EXPECT_EQ(error_of([&] { read_safetensors(missing); }),
            missing.string() + ": cannot open: No such file or directory");
  EXPECT_NE(error_of([&] { read_safetensors(dir_); }).find("is a directory"), std::string::npos);
  // A fifo is refused at once rather than waiting for a writer.
  const fs::path fifo = dir_ / "fifo.safetensors";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(error_of([&] { read_safetensors(fifo); }), fifo.string() + ": is not a regular file");
}

TEST_F(SafetensorsFileTest, AFileOverTheSizeLimitIsRefusedBeforeReading) {
  const fs::path path = dir_ / "big.safetensors";
  const std::vector<float> w(1000, 1.0f);
  const std::vector<TensorRef> tensors = {{"W1", {1000}, w}};
  write_safetensors(path, tensors, {});
  SafetensorsLimits limits;
  limits.max_file_bytes = 1000;
  const std::string message = error_of([&] { read_safetensors(path, limits); });
  EXPECT_NE(message.find("larger than the limit of 1000 bytes"), std::string::npos) << message;
}

TEST(SafetensorsEncode, RefusesTensorsItCannotWrite) {
  const std::vector<float> five(5, 0.0f);
  const std::vector<float> one = {1.0f};
  const auto encode_error = [](const std::vector<TensorRef>& tensors) {
    return error_of([&] { (void)encode_safetensors(tensors, {}); });
  };
  EXPECT_NE(encode_error({{"W1", {2, 3}, five}}).find("tensor 'W1' has shape [2, 3] but 5 values"),
            std::string::npos);
  EXPECT_NE(encode_error({{"W1", {1}, one}, {"W1", {1}, one}}).find("two tensors are named 'W1'"),
            std::string::npos);
  EXPECT_NE(encode_error({{"", {1}, one}}).find("empty name"), std::string::npos);
  EXPECT_NE(encode_error({{"__metadata__", {1}, one}}).find("__metadata__"), std::string::npos);
  EXPECT_NE(encode_error({{"W1", {-1}, one}}).find("negative dimension"), std::string::npos);
  EXPECT_NE(encode_error({{"W\xff", {1}, one}}).find("not valid UTF-8"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Hostile files: each is refused with a message that names the problem.

TEST(SafetensorsHostile, ShorterThanTheLengthField) {
  expect_refused("", "the file is 0 bytes; a safetensors file starts with an 8-byte header length");
  expect_refused(std::string("\x02\0\0\0\0", 5), "the file is 5 bytes");
}

TEST(SafetensorsHostile, HeaderLengthBeyondTheFile) {
  expect_refused(le64(1000) + "{}", "the header length is 1000 bytes, but only 2 bytes follow it");
  // The largest length must not wrap around when the sizes are compared.
  expect_refused(le64(~std::uint64_t{0}) + "{}", "but only 2 bytes follow it");
}

TEST(SafetensorsHostile, HeaderLengthOverTheLimit) {
  SafetensorsLimits limits;
  limits.max_header_bytes = 16;
  const std::string header = "{" + entry("W1", "[1]", 0, 4) + "}";
  expect_refused(file_with(header, f32_bits({0})), "more than the limit of 16 bytes", limits);
}

TEST(SafetensorsHostile, HeaderNotAnObject) {
  expect_refused(file_with("", ""), "the header must be a JSON object");
  expect_refused(file_with("[1, 2]", ""), "the header must be a JSON object");
  expect_refused(file_with("\"text\"", ""), "the header must be a JSON object");
}

TEST(SafetensorsHostile, HeaderNotValidJson) {
  expect_refused(file_with("{not json}", ""), "the header is not valid UTF-8 JSON");
  expect_refused(file_with("{} trailing", ""), "the header is not valid UTF-8 JSON");
  // nlohmann alone would stop at the NUL and accept whatever follows.
  expect_refused(file_with(std::string("{}\0{\"hidden\":1}", 15), ""),
                 "the header is not valid UTF-8 JSON: it has a NUL byte at offset 2");
  expect_refused(file_with("{\"W1\":{\"dtype\":\"F32\"", ""), "the header is not valid UTF-8 JSON");
}

TEST(SafetensorsHostile, HeaderNotValidUtf8) {
  const std::string file = file_with("{\"W\xff\":{}}", "");
  expect_refused(file, "the header is not valid UTF-8 JSON");
  // The offending byte is shown escaped, not copied raw into the message.
  const std::string message = error_of([&] { parse(file); });
  EXPECT_EQ(message.find('\xff'), std::string::npos);
  EXPECT_NE(message.find("\\xff"), std::string::npos) << message;
}

TEST(SafetensorsHostile, EntryNotAnObject) {
  expect_refused(file_with("{\"W1\":5}", ""), "tensor 'W1': the entry must be an object");
  expect_refused(file_with("{\"W1\":[\"F32\",[1],[0,4]]}", f32_bits({0})),
                 "tensor 'W1': the entry must be an object");
}

TEST(SafetensorsHostile, EntryMissingAField) {
  expect_refused(file_with(R"({"W1":{"shape":[1],"data_offsets":[0,4]}})", f32_bits({0})),
                 "tensor 'W1': the entry has no \"dtype\"");
  expect_refused(file_with(R"({"W1":{"dtype":"F32","data_offsets":[0,4]}})", f32_bits({0})),
                 "tensor 'W1': the entry has no \"shape\"");
  expect_refused(file_with(R"({"W1":{"dtype":"F32","shape":[1]}})", f32_bits({0})),
                 "tensor 'W1': the entry has no \"data_offsets\"");
}

TEST(SafetensorsHostile, FieldsOfTheWrongJsonType) {
  expect_refused(
      file_with(R"({"W1":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", f32_bits({0})),
      "tensor 'W1': \"dtype\" must be a string, not number");
  expect_refused(
      file_with(R"({"W1":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", f32_bits({0})),
      "tensor 'W1': \"shape\" must be an array of integers, not string");
  expect_refused(
      file_with(R"({"W1":{"dtype":"F32","shape":[1],"data_offsets":"0-4"}})", f32_bits({0})),
      "tensor 'W1': \"data_offsets\" must be [begin, end], two non-negative integers");
}

TEST(SafetensorsHostile, NegativeDimension) {
  expect_refused(file_with("{" + entry("W1", "[2,-3]", 0, 24) + "}", std::string(24, '\0')),
                 "tensor 'W1': \"shape\" [2,-3] must hold non-negative integers; -3 is not one");
}

TEST(SafetensorsHostile, NonIntegerDimension) {
  expect_refused(file_with("{" + entry("W1", "[2.5]", 0, 8) + "}", std::string(8, '\0')),
                 "2.5 is not one");
  expect_refused(file_with("{" + entry("W1", "[2.0]", 0, 8) + "}", std::string(8, '\0')),
                 "2.0 is not one");
  expect_refused(file_with("{" + entry("W1", "[\"2\"]", 0, 8) + "}", std::string(8, '\0')),
                 "\"2\" is not one");
  expect_refused(file_with("{" + entry("W1", "[[2]]", 0, 8) + "}", std::string(8, '\0')),
                 "[2] is not one");
  expect_refused(file_with("{" + entry("W1", "[1e1]", 0, 40) + "}", std::string(40, '\0')),
                 "10.0 is not one");
}

TEST(SafetensorsHostile, ShapeProductOverflow) {
  // 2^32 * 2^32 * 2 wraps to 0 in 64 bits; a checked product must catch it even with no limit.
  SafetensorsLimits unlimited;
  unlimited.max_tensor_elements = std::numeric_limits<std::uint64_t>::max();
  expect_refused(file_with("{" + entry("W1", "[4294967296,4294967296,2]", 0, 0) + "}", ""),
                 "tensor 'W1': shape [4294967296, 4294967296, 2] has more than the limit",
                 unlimited);
  expect_refused(file_with("{" + entry("W1", "[18446744073709551615]", 0, 0) + "}", ""),
                 "has the dimension 18446744073709551615, larger than 2^63 - 1");
  // Over the default limit of 2^32 elements, though 64 bits would hold it.
  expect_refused(file_with("{" + entry("W1", "[65536,65537]", 0, 0) + "}", ""),
                 "has more than the limit of 4294967296 elements");
}

TEST(SafetensorsHostile, ADimensionOfZeroMakesAnEmptyTensorEvenAfterHugeOnes) {
  const SafetensorsFile read =
      parse(file_with("{" + entry("E", "[4294967296,4294967296,0]", 0, 0) + "}", ""));
  ASSERT_EQ(read.tensors.size(), 1u);
  EXPECT_TRUE(read.tensors[0].data.empty());
}

TEST(SafetensorsHostile, DtypeOtherThanF32IsNamed) {
  expect_refused(
      file_with(R"({"W1":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", std::string(4, '\0')),
      "tensor 'W1' has dtype F16; backprop reads F32");
  expect_refused(file_with(R"({"W1":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})",
                           std::string(4, '\0')),
                 "tensor 'W1' has dtype BF16; backprop reads F32");
  expect_refused(
      file_with(R"({"W1":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\0')),
      "tensor 'W1' has dtype F64; backprop reads F32");
  expect_refused(
      file_with(R"({"W1":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0')),
      "tensor 'W1' has unknown dtype f32; backprop reads F32");
}

TEST(SafetensorsHostile, ByteLengthDoesNotMatchTheShape) {
  expect_refused(file_with("{" + entry("W1", "[2,3]", 0, 20) + "}", std::string(20, '\0')),
                 "tensor 'W1': shape [2, 3] has 6 elements of 4 bytes (F32), but data_offsets "
                 "[0, 20] span 20 bytes");
  expect_refused(file_with("{" + entry("W1", "[2]", 0, 12) + "}", std::string(12, '\0')),
                 "span 12 bytes");
}

TEST(SafetensorsHostile, OffsetsOutOfRange) {
  expect_refused(file_with("{" + entry("W1", "[100]", 0, 400) + "}", std::string(24, '\0')),
                 "tensor 'W1': data_offsets [0, 400] go past the end of the 24-byte data buffer");
  // A claim of 4 GiB against a tiny file is refused without allocating it.
  expect_refused(file_with("{" + entry("W1", "[1073741824]", 0, 4294967296) + "}", "tiny"),
                 "go past the end of the 4-byte data buffer");
}

TEST(SafetensorsHostile, BeginAfterEnd) {
  expect_refused(file_with("{" + entry("W1", "[2]", 16, 8) + "}", std::string(16, '\0')),
                 "tensor 'W1': data_offsets [16, 8] begin after they end");
}

TEST(SafetensorsHostile, OffsetsOfTheWrongShapeOrSign) {
  const std::string data(8, '\0');
  for (const std::string offsets : {"[0]", "[0,4,8]", "[]", "[\"0\",\"8\"]", "[-8,0]", "[0,8.0]",
                                    "{\"begin\":0,\"end\":8}", "null"}) {
    const std::string header =
        R"({"W1":{"dtype":"F32","shape":[2],"data_offsets":)" + offsets + "}}";
    expect_refused(file_with(header, data),
                   "tensor 'W1': \"data_offsets\" must be [begin, end], two non-negative integers");
  }
}

TEST(SafetensorsHostile, OverlappingTensors) {
  const std::string header = "{" + entry("a", "[4]", 0, 16) + "," + entry("b", "[4]", 8, 24) + "}";
  expect_refused(file_with(header, std::string(24, '\0')),
                 "tensors 'a' [0, 16) and 'b' [8, 24) overlap");
  // Two tensors on the same bytes.
  const std::string same = "{" + entry("a", "[2]", 0, 8) + "," + entry("b", "[2]", 0, 8) + "}";
  expect_refused(file_with(same, std::string(8, '\0')), "overlap");
}

TEST(SafetensorsHostile, HolesBetweenTensors) {
  const std::string header = "{" + entry("a", "[2]", 0, 8) + "," + entry("b", "[2]", 16, 24) + "}";
  expect_refused(file_with(header, std::string(24, '\0')),
                 "8 unused bytes in the data buffer between tensor 'a' (ends at 8) and tensor 'b' "
                 "(begins at 16)");
  expect_refused(file_with("{" + entry("a", "[2]", 8, 16) + "}", std::string(16, '\0')),
                 "8 unused bytes in the data buffer before the first tensor 'a'");
}

TEST(SafetensorsHostile, UnusedTrailingBytes) {
  expect_refused(file_with("{" + entry("a", "[2]", 0, 8) + "}", std::string(12, '\0')),
                 "4 unused bytes in the data buffer after the last tensor 'a' (ends at 8)");
  expect_refused(file_with("{}", "junk"), "4 unused bytes in the data buffer, and no tensors");
  // One byte appended to a good file.
  const std::vector<float> w = {1.0f};
  const std::vector<TensorRef> tensors = {{"W1", {1}, w}};
  expect_refused(encode_safetensors(tensors, {}) + "x", "1 unused bytes");
}

TEST(SafetensorsHostile, DuplicateTensorNames) {
  // nlohmann alone would keep only the second entry and read the file as valid.
  const std::string header = "{" + entry("W1", "[1]", 0, 4) + "," + entry("W1", "[1]", 4, 8) + "}";
  expect_refused(file_with(header, std::string(8, '\0')), "the header has two tensors named 'W1'");
}

TEST(SafetensorsHostile, DuplicateKeysInsideObjects) {
  expect_refused(
      file_with(R"({"W1":{"dtype":"F16","dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                std::string(4, '\0')),
      "tensor 'W1': the entry has the key 'dtype' twice");
  expect_refused(file_with(R"({"__metadata__":{},"__metadata__":{}})", ""),
                 "the header has two \"__metadata__\" objects");
  expect_refused(file_with(R"({"__metadata__":{"a":"1","a":"2"}})", ""),
                 "\"__metadata__\" has the key 'a' twice");
}

TEST(SafetensorsHostile, MetadataNotAnObjectOfStrings) {
  expect_refused(file_with(R"({"__metadata__":"epoch 3"})", ""),
                 "\"__metadata__\" must be an object of strings, not string");
  expect_refused(file_with(R"({"__metadata__":["a"]})", ""),
                 "\"__metadata__\" must be an object of strings, not array");
  expect_refused(file_with(R"({"__metadata__":{"epoch":3}})", ""),
                 "\"__metadata__\" value 'epoch' must be a string, not number");
  expect_refused(file_with(R"({"__metadata__":{"nested":{"a":"b"}}})", ""),
                 "\"__metadata__\" value 'nested' must be a string, not object");
}

TEST(SafetensorsHostile, TooManyTensors) {
  SafetensorsLimits limits;
  limits.max_tensors = 2;
  const std::string header = "{" + entry("a", "[1]", 0, 4) + "," + entry("b", "[1]", 4, 8) + "," +
                             entry("c", "[1]", 8, 12) + "}";
  expect_refused(file_with(header, std::string(12, '\0')),
                 "the header lists more than the limit of 2 tensors", limits);
  // __metadata__ is not a tensor.
  const std::string with_metadata =
      "{\"__metadata__\":{}," + entry("a", "[1]", 0, 4) + "," + entry("b", "[1]", 4, 8) + "}";
  EXPECT_EQ(parse(file_with(with_metadata, std::string(8, '\0')), limits).tensors.size(), 2u);
}

TEST(SafetensorsHostile, DeepNesting) {
  const std::string header = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_refused(file_with(header, ""), "the header nests deeper than 16 levels");
}

TEST(SafetensorsHostile, ControlCharactersInNamesAreEscaped) {
  const std::string message = error_of([] {
    parse(file_with(R"({"W\n1\u001b[31m":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
                    std::string(4, '\0')));
  });
  EXPECT_NE(message.find("tensor 'W\\x0a1\\x1b[31m' has dtype F16"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(SafetensorsHostile, LongNamesAreCutInMessages) {
  const std::string name(100000, 'n');
  const std::string message = error_of([&] {
    parse(file_with("{\"" + name + R"(":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})",
                    std::string(4, '\0')));
  });
  EXPECT_LT(message.size(), 300u);
  EXPECT_NE(message.find("...' has dtype F16"), std::string::npos) << message;
}

// Every truncation of a good file (a download cut short) is refused, none crashes.
TEST(SafetensorsHostile, EveryTruncationIsRefused) {
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b = {7, 8};
  const std::vector<TensorRef> tensors = {{"W1", {3, 2}, w}, {"b1", {2}, b}};
  const std::string file = encode_safetensors(tensors, {{"epoch", "1"}});
  for (std::size_t size = 0; size < file.size(); ++size) {
    const std::vector<std::uint8_t> cut(file.begin(),
                                        file.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_THROW(parse_safetensors(cut, kSource), Error) << "size " << size;
  }
}

}  // namespace
}  // namespace backprop
