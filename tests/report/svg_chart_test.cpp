// The report's building blocks: escaping, charts (what is drawn and counted), base64 and PNG.
#include "report/svg_chart.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <regex>

#include "backprop/error.hpp"
#include "report/png.hpp"

namespace backprop::report {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(SvgChart, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(escape_html("a<b>&\"c'd"), "a&lt;b&gt;&amp;&quot;c&#39;d");
  EXPECT_EQ(escape_html("plain"), "plain");
}

TEST(SvgChart, DrawsOnlySeriesWithValuesAndCountsThem) {
  LineChart c{"loss", "Loss <1>", "epoch", "loss", false, {}};
  c.series.push_back({"train", {1, 2, 3}, {0.5, 0.4, 0.3}, false});
  c.series.push_back({"validation", {1, 2, 3}, {NAN, NAN, NAN}, false});
  c.series.push_back({"te\"st", {1, 2, 3}, {0.6, NAN, 0.4}, true});
  const std::string svg = line_chart(c);
  EXPECT_NE(svg.find("data-chart=\"loss\" data-series=\"2\""), std::string::npos) << svg;
  EXPECT_EQ(count(svg, "<g class=\"series\""), 2u);
  EXPECT_EQ(count(svg, "<circle"), 5u);  // 3 + 2 finite points
  EXPECT_NE(svg.find("data-name=\"te&quot;st\""), std::string::npos);
  EXPECT_NE(svg.find("Loss &lt;1&gt;"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
}

TEST(SvgChart, ALogScaleLeavesOutValuesThatAreNotPositive) {
  LineChart c{"g", "g", "epoch", "g", true, {}};
  c.series.push_back({"layer 1", {1, 2, 3}, {1e-3, 0.0, 1e-1}, false});
  const std::string svg = line_chart(c);
  EXPECT_EQ(count(svg, "<circle"), 2u);
  for (const char* tick : {">0.001<", ">0.01<", ">0.1<"})
    EXPECT_NE(svg.find(tick), std::string::npos) << tick << "\n" << svg;
}

TEST(SvgChart, AHeatMapHasOneCellPerPair) {
  const std::vector<std::string> names{"a", "<b>", "c"};
  const std::vector<std::int64_t> counts{5, 1, 0, 0, 7, 2, 1, 0, 9};
  const std::string svg = heat_map("confusion", names, counts);
  EXPECT_EQ(count(svg, "<rect class=\"cell\""), 9u);
  EXPECT_NE(svg.find("data-count=\"7\""), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;b&gt;"), std::string::npos);
}

TEST(SvgChart, AScatterHasOnePointPerFinitePair) {
  Scatter s{"fit", "fit", "true", "predicted", {1, 2, 3, NAN}, {1, 2.5, 2, 4}, true, false};
  EXPECT_EQ(count(scatter_chart(s), "<circle class=\"point\""), 3u);
}

TEST(Png, Base64MatchesRfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

std::uint32_t be32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// The chunks are checked with zlib's own CRC-32 and inflate; chromium decoding the images is
// the report_browser test.
TEST(Png, ChunksCarryTheImage) {
  const std::vector<std::uint8_t> rgb{255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
  const std::string png = encode_png(2, 2, rgb);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::size_t at = 8;
  std::string idat;
  std::vector<std::string> types;
  while (at < png.size()) {
    const std::uint32_t length = be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    const std::string body = png.substr(at + 4, 4 + length);
    const auto crc =
        crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    EXPECT_EQ(be32(png, at + 8 + length), static_cast<std::uint32_t>(crc)) << type;
    if (type == "IHDR") {
      EXPECT_EQ(be32(png, at + 8), 2u);
      EXPECT_EQ(be32(png, at + 12), 2u);
    }
    if (type == "IDAT") idat += png.substr(at + 8, length);
    types.push_back(type);
    at += 12 + length;
  }
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  std::string raw(2 * (1 + 6), '\0');
  uLongf size = static_cast<uLongf>(raw.size());
  ASSERT_EQ(
      uncompress(reinterpret_cast<Bytef*>(raw.data()), &size,
                 reinterpret_cast<const Bytef*>(idat.data()), static_cast<uLong>(idat.size())),
      Z_OK);
  ASSERT_EQ(size, raw.size());
  for (std::size_t row = 0; row < 2; ++row) {
    EXPECT_EQ(raw[row * 7], '\0');  // filter: none
    for (std::size_t i = 0; i < 6; ++i)
      EXPECT_EQ(static_cast<std::uint8_t>(raw[row * 7 + 1 + i]), rgb[row * 6 + i]);
  }
}

TEST(Png, ASizeThatDoesNotMatchThePixelsIsRefused) {
  EXPECT_THROW(encode_png(2, 2, std::vector<std::uint8_t>(11)), backprop::Error);
}

}  // namespace
}  // namespace backprop::report
