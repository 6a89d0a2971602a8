#include "report/png.hpp"

#include <zlib.h>

#include "backprop/error.hpp"

namespace backprop::report {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// length, type, data, CRC-32 of type and data (PNG chunk layout).
void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  const auto crc =
      crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
  put_u32(out, static_cast<std::uint32_t>(crc));
}

}  // namespace

std::string encode_png(std::int64_t width, std::int64_t height,
                       const std::vector<std::uint8_t>& rgb) {
  if (width < 1 || height < 1 || rgb.size() != static_cast<std::size_t>(width * height * 3))
    throw Error("encode_png: the pixel buffer does not match the image size");
  // Each scanline starts with its filter type (0: none).
  std::string raw;
  raw.reserve(static_cast<std::size_t>(height * (width * 3 + 1)));
  for (std::int64_t y = 0; y < height; ++y) {
    raw.push_back('\0');
    const auto* row = rgb.data() + y * width * 3;
    raw.append(reinterpret_cast<const char*>(row), static_cast<std::size_t>(width * 3));
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string deflated(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(deflated.data()), &size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                9) != Z_OK)
    throw Error("encode_png: zlib could not compress the image");
  deflated.resize(size);
  std::string header;
  put_u32(header, static_cast<std::uint32_t>(width));
  put_u32(header, static_cast<std::uint32_t>(height));
  header +=
      std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, no filter, no interlace
  std::string png("\x89PNG\r\n\x1a\n", 8);
  put_chunk(png, "IHDR", header);
  put_chunk(png, "IDAT", deflated);
  put_chunk(png, "IEND", "");
  return png;
}

std::string base64(std::string_view bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kDigits[(v >> 18) & 63]);
    out.push_back(kDigits[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kDigits[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kDigits[v & 63] : '=');
  }
  return out;
}

std::string png_data_uri(std::int64_t width, std::int64_t height,
                         const std::vector<std::uint8_t>& rgb) {
  return "data:image/png;base64," + base64(encode_png(width, height, rgb));
}

}  // namespace backprop::report
