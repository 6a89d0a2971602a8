#include "io/onnx/protobuf.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "backprop/error.hpp"

namespace backprop::onnx_wire {

static_assert(std::endian::native == std::endian::little,
              "fixed32/fixed64 fields are copied as little-endian bytes");

bool read_varint(std::span<const std::uint8_t> bytes, std::size_t* pos, std::uint64_t* value) {
  std::uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (*pos >= bytes.size()) return false;
    const std::uint8_t b = bytes[(*pos)++];
    // The tenth byte holds bit 63 only: anything more overflows 64 bits.
    if (i == 9 && b > 1) return false;
    v |= static_cast<std::uint64_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      *value = v;
      return true;
    }
  }
  return false;
}

void Reader::fail(const std::string& problem) const {
  throw Error(fmt::format("{}: {} (at byte {} of {})", what_, problem, pos_, bytes_.size()));
}

std::uint64_t Reader::varint() {
  std::uint64_t v = 0;
  if (!read_varint(bytes_, &pos_, &v))
    fail("malformed protobuf: a varint is truncated or longer than 64 bits");
  return v;
}

Field Reader::next() {
  Field f;
  const std::uint64_t key = varint();
  f.number = static_cast<std::uint32_t>(key >> 3);
  if ((key >> 3) > 0x1FFFFFFF || f.number == 0)
    fail(fmt::format("malformed protobuf: field number {} is out of range", key >> 3));
  switch (key & 7) {
    case 0:
      f.type = WireType::varint;
      f.integer = varint();
      break;
    case 1:
    case 5: {
      const std::size_t n = (key & 7) == 1 ? 8 : 4;
      f.type = n == 8 ? WireType::fixed64 : WireType::fixed32;
      if (bytes_.size() - pos_ < n)
        fail(fmt::format("malformed protobuf: field {} is truncated", f.number));
      std::uint64_t v = 0;
      std::memcpy(&v, bytes_.data() + pos_, n);
      f.integer = v;
      pos_ += n;
      break;
    }
    case 2: {
      f.type = WireType::length;
      const std::uint64_t n = varint();
      if (n > bytes_.size() - pos_)
        fail(fmt::format("malformed protobuf: field {} claims {} bytes, but {} remain", f.number, n,
                         bytes_.size() - pos_));
      f.bytes = bytes_.subspan(pos_, static_cast<std::size_t>(n));
      pos_ += static_cast<std::size_t>(n);
      break;
    }
    default:
      fail(
          fmt::format("malformed protobuf: field {} has wire type {} (groups and unknown types "
                      "are not ONNX)",
                      f.number, key & 7));
  }
  return f;
}

std::int64_t Reader::int64(const Field& f) const {
  if (f.type != WireType::varint)
    fail(fmt::format("field {} should be an integer (varint)", f.number));
  return static_cast<std::int64_t>(f.integer);
}

std::string_view Reader::string(const Field& f) const {
  if (f.type != WireType::length)
    fail(fmt::format("field {} should be a string (length-delimited)", f.number));
  return {reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size()};
}

std::span<const std::uint8_t> Reader::message(const Field& f) const {
  if (f.type != WireType::length)
    fail(fmt::format("field {} should be a message (length-delimited)", f.number));
  return f.bytes;
}

float Reader::float32(const Field& f) const {
  if (f.type != WireType::fixed32) fail(fmt::format("field {} should be a float", f.number));
  return std::bit_cast<float>(static_cast<std::uint32_t>(f.integer));
}

double Reader::float64(const Field& f) const {
  if (f.type != WireType::fixed64) fail(fmt::format("field {} should be a double", f.number));
  return std::bit_cast<double>(f.integer);
}

void Writer::raw_varint(std::uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void Writer::key(std::uint32_t number, WireType type) {
  raw_varint((std::uint64_t{number} << 3) | static_cast<std::uint64_t>(type));
}

void Writer::varint_field(std::uint32_t number, std::uint64_t value) {
  key(number, WireType::varint);
  raw_varint(value);
}

void Writer::float_field(std::uint32_t number, float value) {
  key(number, WireType::fixed32);
  const auto bits = std::bit_cast<std::uint32_t>(value);
  char b[4];
  std::memcpy(b, &bits, 4);
  out_.append(b, 4);
}

void Writer::bytes_field(std::uint32_t number, std::string_view bytes) {
  key(number, WireType::length);
  raw_varint(bytes.size());
  out_.append(bytes);
}

void Writer::packed_int64(std::uint32_t number, std::span<const std::int64_t> values) {
  Writer run;
  for (const std::int64_t v : values) run.raw_varint(static_cast<std::uint64_t>(v));
  bytes_field(number, run.out_);
}

}  // namespace backprop::onnx_wire
