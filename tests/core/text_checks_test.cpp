// UTF-8 validation against the standard's table of well-formed sequences, and control
// characters.
#include "core/text_checks.hpp"

#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace backprop {
namespace {

TEST(TextChecks, WellFormedUtf8Passes) {
  for (const std::string text : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x90\x9C",
                                 "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBD"}) {
    EXPECT_EQ(invalid_utf8_offset(text), std::nullopt) << text;
  }
}

TEST(TextChecks, IllFormedUtf8IsFoundAtItsFirstByte) {
  struct Case {
    std::string text;
    std::size_t offset;
  };
  for (const Case& c : {Case{"caf\xE9", 3},              // Latin-1 e acute
                        Case{"ab\xC3", 2},               // truncated sequence
                        Case{"\xC0\xAF", 0},             // overlong '/'
                        Case{"x\xE0\x80\xAF", 1},        // overlong, three bytes
                        Case{"\xED\xA0\x80", 0},         // a surrogate
                        Case{"\xF4\x90\x80\x80", 0},     // above U+10FFFF
                        Case{"ok\x80", 2},               // a lone continuation byte
                        Case{"\xE2\x82", 0},             // cut short at the end
                        Case{"\xF5\x80\x80\x80", 0}}) {  // never a lead byte
    EXPECT_EQ(invalid_utf8_offset(c.text), std::optional<std::size_t>(c.offset)) << c.text;
  }
}

TEST(TextChecks, ControlCharactersAreFound) {
  EXPECT_EQ(control_character_offset("red"), std::nullopt);
  EXPECT_EQ(control_character_offset("caf\xC3\xA9"), std::nullopt);
  EXPECT_EQ(control_character_offset("a\x1b[31mred"), std::optional<std::size_t>(1));
  EXPECT_EQ(control_character_offset("tab\there"), std::optional<std::size_t>(3));
  EXPECT_EQ(control_character_offset(std::string("nul\0", 4)), std::optional<std::size_t>(3));
  EXPECT_EQ(control_character_offset("del\x7f"), std::optional<std::size_t>(3));
}

}  // namespace
}  // namespace backprop
