#pragma once
// Small images for the HTML report: PNG encoding (zlib's deflate and CRC-32) and base64, so a
// picture travels inside the page as a data: URI and the report needs no other file.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace backprop::report {

// An 8-bit RGB image (rgb.size() == width * height * 3, rows top to bottom) as a PNG file.
std::string encode_png(std::int64_t width, std::int64_t height,
                       const std::vector<std::uint8_t>& rgb);

std::string base64(std::string_view bytes);

// "data:image/png;base64,..." for an <img src>.
std::string png_data_uri(std::int64_t width, std::int64_t height,
                         const std::vector<std::uint8_t>& rgb);

}  // namespace backprop::report
