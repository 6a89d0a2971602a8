#pragma once
// The protocol buffers wire format (https://protobuf.dev/programming-guides/encoding/), as
// much of it as ONNX files need: a reader over a byte span that never reads past it and
// reports every malformation as an Error, and a writer that appends fields to a string.
//
// A message is a sequence of fields, each a varint key (field_number << 3 | wire_type)
// followed by its value:
//   wire type 0  varint: 7 bits per byte, low group first, high bit set on all but the last
//                byte; at most 10 bytes (64 bits)
//   wire type 1  8 bytes little-endian (double, fixed64)
//   wire type 2  varint length, then that many bytes (strings, bytes, nested messages,
//                packed repeated scalars)
//   wire type 5  4 bytes little-endian (float, fixed32)
// Wire types 3 and 4 (groups) are deprecated and refused.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace backprop::onnx_wire {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length = 2, fixed32 = 5 };

// One field as read: its number, wire type and value (the integer of a varint / fixed field,
// or the bytes of a length-delimited one, which point into the reader's input).
struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t integer = 0;
  std::span<const std::uint8_t> bytes;
};

class Reader {
 public:
  // `what` names the message in errors ("model.onnx: graph.node[3]: ...").
  Reader(std::span<const std::uint8_t> bytes, std::string what)
      : bytes_(bytes), what_(std::move(what)) {}

  bool done() const { return pos_ >= bytes_.size(); }
  // Reads the next field; throws Error on a truncated or malformed one.
  Field next();
  const std::string& what() const { return what_; }

  // Decoding a field's value as a given type; each throws Error naming the field when the
  // wire type does not fit.
  std::int64_t int64(const Field& f) const;
  std::string_view string(const Field& f) const;
  std::span<const std::uint8_t> message(const Field& f) const;
  float float32(const Field& f) const;
  double float64(const Field& f) const;

 private:
  std::uint64_t varint();
  [[noreturn]] void fail(const std::string& problem) const;

  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  std::string what_;
};

// Reads the varint at bytes[*pos] (advancing *pos); false if it is truncated or longer than
// 10 bytes or overflows 64 bits.
bool read_varint(std::span<const std::uint8_t> bytes, std::size_t* pos, std::uint64_t* value);

// Appends fields to a message. Nested messages are written into their own Writer first and
// added with message(): protobuf prefixes them with their length.
class Writer {
 public:
  void varint_field(std::uint32_t number, std::uint64_t value);
  void int64_field(std::uint32_t number, std::int64_t value) {
    varint_field(number, static_cast<std::uint64_t>(value));
  }
  void float_field(std::uint32_t number, float value);
  void bytes_field(std::uint32_t number, std::string_view bytes);
  void message(std::uint32_t number, const Writer& nested) { bytes_field(number, nested.out_); }
  // A packed repeated int64 field (one length-delimited run of varints).
  void packed_int64(std::uint32_t number, std::span<const std::int64_t> values);

  const std::string& bytes() const { return out_; }

 private:
  void key(std::uint32_t number, WireType type);
  void raw_varint(std::uint64_t value);

  std::string out_;
};

}  // namespace backprop::onnx_wire
