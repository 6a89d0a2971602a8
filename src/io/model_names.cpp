#include "io/model_names.hpp"

#include <fmt/format.h>

#include <unordered_map>

#include "backprop/error.hpp"
#include "core/text_checks.hpp"

namespace backprop {

void check_names(std::string_view where, std::string_view what,
                 const std::vector<std::string>& names, bool distinct) {
  std::unordered_map<std::string_view, std::size_t> seen;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (const auto at = invalid_utf8_offset(name))
      throw Error(fmt::format("{}: {} {} is not valid UTF-8 (byte {:#04x} at byte {} of it)", where,
                              what, i, static_cast<unsigned char>(name[*at]), *at + 1));
    if (const auto at = control_character_offset(name))
      throw Error(fmt::format(
          "{}: {} {} ({}) contains the control character {:#04x} at byte {} "
          "of it",
          where, what, i, shown_text(name), static_cast<unsigned char>(name[*at]), *at + 1));
    if (!distinct) continue;
    const auto [first, fresh] = seen.emplace(name, i);
    if (!fresh)
      throw Error(fmt::format("{}: {}s {} and {} are both {}; each class needs a name of its own",
                              where, what, first->second, i, shown_text(name)));
  }
}

}  // namespace backprop
