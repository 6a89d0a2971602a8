// The name tables behind every enum's to_string / parse pair: each name reads back to its
// value, accepted spellings parse, and an unknown name is an Error listing the choices.
#include "core/enum_names.hpp"

#include <gtest/gtest.h>

#include "backprop/architecture.hpp"
#include "backprop/csv.hpp"
#include "backprop/dataset.hpp"
#include "backprop/optimizer.hpp"
#include "backprop/preprocessing.hpp"
#include "backprop/schedule.hpp"
#include "test_support.hpp"

namespace backprop {
namespace {

using testing_support::error_of;

enum class Colour { red, green, blue };
constexpr EnumNames<Colour, 4> kColours{{
    {Colour::red, "red"},
    {Colour::green, "green"},
    {Colour::blue, "blue"},
    {Colour::green, "vert"},
}};

TEST(EnumNamesTest, FirstEntryIsTheNameLaterOnesAreSpellings) {
  EXPECT_EQ(enum_to_string(kColours, Colour::green), "green");
  EXPECT_EQ(parse_enum(kColours, "vert", "colour"), Colour::green);
  EXPECT_EQ(enum_choices(kColours), "red, green, blue");
  EXPECT_EQ(enum_to_string(kColours, static_cast<Colour>(7)), "unknown");
  EXPECT_FALSE(find_enum(kColours, "Red").has_value());
  EXPECT_EQ(error_of([] { parse_enum(kColours, "mauve", "colour"); }),
            "unknown colour \"mauve\" (choose red, green, blue)");
}

TEST(EnumNamesTest, EveryLibraryEnumRoundTrips) {
  for (const auto v : {Activation::sigmoid, Activation::tanh, Activation::relu,
                       Activation::leaky_relu, Activation::linear})
    EXPECT_EQ(parse_activation(to_string(v)), v);
  for (const auto v : {Loss::cross_entropy, Loss::mse}) EXPECT_EQ(parse_loss(to_string(v)), v);
  for (const auto v :
       {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::adam, OptimizerKind::adamw})
    EXPECT_EQ(parse_optimizer(to_string(v)), v);
  for (const auto v : {ScheduleKind::constant, ScheduleKind::step, ScheduleKind::cosine})
    EXPECT_EQ(parse_schedule(to_string(v)), v);
  for (const auto v : {Normalization::none, Normalization::unit_range, Normalization::standard,
                       Normalization::minmax})
    EXPECT_EQ(parse_normalization(to_string(v)), v);
  for (const auto v : {Task::classification, Task::regression}) {
    EXPECT_EQ(parse_task(to_string(v)), v);
    EXPECT_EQ(parse_task_or_auto(to_string(v)), v);
  }
  EXPECT_FALSE(parse_task_or_auto("auto").has_value());
  EXPECT_EQ(parse_csv_header("yes"), CsvOptions::Header::yes);
  EXPECT_EQ(parse_csv_header("no"), CsvOptions::Header::no);
  EXPECT_EQ(parse_csv_header("auto"), CsvOptions::Header::automatic);
}

TEST(EnumNamesTest, AcceptedSpellings) {
  EXPECT_EQ(parse_activation("leaky-relu"), Activation::leaky_relu);
  EXPECT_EQ(parse_activation("leakyrelu"), Activation::leaky_relu);
  EXPECT_EQ(parse_loss("cross-entropy"), Loss::cross_entropy);
  EXPECT_EQ(parse_loss("ce"), Loss::cross_entropy);
  EXPECT_EQ(to_string(Activation::leaky_relu), "leaky_relu");
  EXPECT_EQ(to_string(Normalization::unit_range), "unit");
}

TEST(EnumNamesTest, UnknownNamesListTheChoices) {
  EXPECT_EQ(error_of([] { parse_activation("softplus"); }),
            "unknown activation \"softplus\" (choose sigmoid, tanh, relu, leaky_relu, linear)");
  EXPECT_EQ(error_of([] { parse_loss("hinge"); }),
            "unknown loss \"hinge\" (choose cross_entropy, mse)");
  EXPECT_EQ(error_of([] { parse_optimizer("rmsprop"); }),
            "unknown optimizer \"rmsprop\" (choose sgd, momentum, adam, adamw)");
  EXPECT_EQ(error_of([] { parse_schedule("linear"); }),
            "unknown learning-rate schedule \"linear\" (choose constant, step, cosine)");
  EXPECT_EQ(error_of([] { parse_normalization("zscore"); }),
            "unknown normalization \"zscore\" (choose none, unit, standard, minmax)");
  EXPECT_EQ(error_of([] { parse_task("clustering"); }),
            "unknown task \"clustering\" (choose classification, regression)");
  EXPECT_EQ(error_of([] { parse_task_or_auto("clustering"); }),
            "unknown task \"clustering\" (choose classification, regression, auto)");
  EXPECT_EQ(error_of([] { parse_csv_header("maybe"); }),
            "unknown CSV header choice \"maybe\" (choose yes, no, auto)");
}

}  // namespace
}  // namespace backprop
