#pragma once
// Checks for text that ends up in model metadata (JSON, which must be UTF-8) and in what the
// tool prints: column names, class names.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace backprop {

// The offset of the first byte that does not start or continue a well-formed UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF are not well-formed), or nullopt
// when all of `text` is UTF-8.
std::optional<std::size_t> invalid_utf8_offset(std::string_view text);

// The offset of the first control character (below 0x20, or 0x7f) that would act on a terminal
// (ESC starts its escape sequences), or nullopt. Tab, line feed and carriage return are white
// space a quoted CSV field may hold, and are allowed.
std::optional<std::size_t> control_character_offset(std::string_view text);

// `text` as a message shows it: double-quoted, a quote or backslash escaped with a backslash,
// control bytes as \xNN, cut after 40 bytes with "...".
std::string shown_text(std::string_view text);

}  // namespace backprop
