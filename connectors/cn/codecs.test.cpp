// The A-share codecs against the fixtures (../shared/fixtures/equities/cn) and the values written by hand in
// tests/data/equities/cn (README there says how each was derived).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/cn/eastmoney.hpp"
#include "connectors/cn/quotes.hpp"
#include "connectors/cn/symbols.hpp"

namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    FAIL_CHECK("missing file " << path.string());
    return {};
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string fixture(const std::string& name) {
  return read(std::filesystem::path(MI_FIXTURES_DIR) / "equities" / "cn" / name);
}

std::vector<std::string> expected(const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(read(std::filesystem::path(MI_SOURCE_DIR) / "tests" / "data" / "equities" / "cn" / name));
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

std::string opt(const std::optional<mi::decimal>& d) { return d ? d->to_string() : std::string(); }

std::string levels(const std::vector<mi::cn::level>& ls) {
  std::string out = "[";
  for (std::size_t i = 0; i < ls.size(); ++i)
    out += (i ? ",[\"" : "[\"") + ls[i].price.to_string() + "\",\"" + ls[i].size.to_string() + "\"]";
  return out + "]";
}

// The same keys and order as the expected files (no escaping needed: the names hold no quote or backslash).
std::string line_of(const mi::cn::snapshot& s) {
  return std::string("{\"symbol\":\"") + mi::cn::to_string(s.sym) + "\",\"source\":\"" +
         std::string(mi::cn::to_string(s.source)) + "\",\"name\":\"" + s.name +
         "\",\"ts_ns\":" + std::to_string(s.ts_ns) + ",\"trading_day\":\"" + s.trading_day + "\",\"last\":\"" +
         opt(s.last) + "\",\"open\":\"" + opt(s.open) + "\",\"high\":\"" + opt(s.high) + "\",\"low\":\"" + opt(s.low) +
         "\",\"prev_close\":\"" + opt(s.prev_close) + "\",\"bids\":" + levels(s.bids) + ",\"asks\":" + levels(s.asks) +
         ",\"volume\":\"" + s.volume.to_string() + "\",\"turnover\":\"" + s.turnover.to_string() + "\"}";
}

std::string line_of(const mi::cn::daily_bar& b) {
  return "{\"symbol\":\"" + b.symbol + "\",\"market\":\"" + b.market + "\",\"trading_day\":\"" + b.trading_day +
         "\",\"adjustment\":\"" + std::string(mi::cn::to_string(b.adjustment)) + "\",\"open\":\"" + b.open.to_string() +
         "\",\"high\":\"" + b.high.to_string() + "\",\"low\":\"" + b.low.to_string() + "\",\"close\":\"" +
         b.close.to_string() + "\",\"volume\":\"" + b.volume.to_string() + "\",\"turnover\":\"" +
         b.turnover.to_string() + "\"}";
}

template <class T>
void check_lines(const std::vector<T>& got, const std::vector<std::string>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(line_of(got[i]) == want[i]);
  }
}

constexpr std::int64_t recv = 1'800'000'000'000'000'000;

} // namespace

TEST_CASE("tencent A-share lines parse to the field map's values, lots and 万元 converted") {
  const auto body = fixture("tencent_qt_ashare_2026-09-14_UNVERIFIED_PROVENANCE.txt");
  auto a = mi::cn::parse_tencent(body, mi::cn::text_encoding::utf8, recv);
  CHECK(a.rejected.empty());
  CHECK(a.empty.empty());
  check_lines(a.quotes, expected("tencent_qt_ashare_2026-09-14.expected.jsonl"));
  for (const auto& q : a.quotes)
    CHECK(q.recv_ns == recv);
}

TEST_CASE("the same answers in GBK, as the live services send them, give the same quotes") {
  for (auto [src, file, want] :
       {std::tuple{mi::cn::quote_source::tencent, "tencent_qt_ashare_2026-09-14_UNVERIFIED_PROVENANCE.txt",
                   "tencent_qt_ashare_2026-09-14.expected.jsonl"},
        std::tuple{mi::cn::quote_source::sina, "sina_hq_easyquotation_2019.txt",
                   "sina_hq_easyquotation_2019.expected.jsonl"}}) {
    CAPTURE(file);
    auto gbk = mi::cn::utf8_to_gbk(fixture(file));
    REQUIRE(gbk);
    CHECK(gbk->size() < fixture(file).size()); // two bytes a Chinese character instead of three: really GBK
    auto a = mi::cn::parse_quotes(src, *gbk, mi::cn::text_encoding::gbk, recv);
    CHECK(a.rejected.empty());
    check_lines(a.quotes, expected(want));
  }
}

TEST_CASE("sina lines parse in shares and CNY, pre-open lines without prices, the empty answer skipped") {
  auto a = mi::cn::parse_sina(fixture("sina_hq_easyquotation_2019.txt"), mi::cn::text_encoding::utf8, recv);
  CHECK(a.rejected.empty());
  REQUIRE(a.empty.size() == 1);
  CHECK(a.empty[0] == "sz160923");
  check_lines(a.quotes, expected("sina_hq_easyquotation_2019.expected.jsonl"));
}

TEST_CASE("tencent HK lines and the unknown-code answer are no A-share quotes") {
  auto a =
    mi::cn::parse_tencent(fixture("tencent_qt_hk_easyquotation_2018-03-29.txt"), mi::cn::text_encoding::utf8, recv);
  CHECK(a.quotes.empty());
  CHECK(a.rejected.empty());
  CHECK(a.empty == std::vector<std::string>{"r_hk00700", "r_hk00980"});
  auto none = mi::cn::parse_tencent("v_pv_none_match=\"1\";\n", mi::cn::text_encoding::gbk, recv);
  CHECK(none.quotes.empty());
  CHECK(none.empty.size() == 1);
  auto blank = mi::cn::parse_tencent("", mi::cn::text_encoding::gbk, recv);
  CHECK(blank.quotes.empty());
  CHECK(blank.rejected.empty());
}

TEST_CASE("a broken statement is rejected with its reason while the others in the answer still parse") {
  const auto body = fixture("tencent_qt_ashare_2026-09-14_UNVERIFIED_PROVENANCE.txt");
  // The first line cut to 20 fields, a bad number in a copy of it, the 688111 line intact.
  const auto nl = body.find('\n');
  std::string first = body.substr(0, nl);
  std::string cut = first.substr(0, first.find("~9.39~")) + "\";";
  std::string badnum = first;
  badnum.replace(badnum.find("~9.40~9.26~"), 11, "~9.4x~9.26~");
  auto a = mi::cn::parse_tencent(cut + "\n" + badnum + "\n" + body.substr(nl + 1), mi::cn::text_encoding::utf8, recv);
  REQUIRE(a.quotes.size() == 1);
  CHECK(mi::cn::to_string(a.quotes[0].sym) == "688111.SH");
  REQUIRE(a.rejected.size() == 2);
  CHECK(a.rejected[0].code == mi::errc::missing_field);
  CHECK(a.rejected[1].code == mi::errc::bad_number);
  CHECK(a.rejected[1].message.find("last") != std::string::npos);
  auto garbage = mi::cn::parse_sina("<html>403 Forbidden</html>", mi::cn::text_encoding::gbk, recv);
  CHECK(garbage.quotes.empty());
  CHECK(garbage.rejected.size() == 1);
}

TEST_CASE("eastmoney daily klines parse with lots to shares, the adjustment asked for, JSONP stripped") {
  auto fwd = mi::cn::parse_eastmoney_klines(fixture("eastmoney_kline_601872_daily_2024-12.json"), mi::cn::fq::forward);
  REQUIRE(fwd);
  check_lines(*fwd, expected("eastmoney_kline_601872_daily_2024-12.expected.jsonl"));
  auto star = mi::cn::parse_eastmoney_klines(fixture("eastmoney_kline_688147_daily_2023-02-02.json"), mi::cn::fq::none);
  REQUIRE(star);
  check_lines(*star, expected("eastmoney_kline_688147_daily_2023-02-02.expected.jsonl"));
  auto index =
    mi::cn::parse_eastmoney_klines(fixture("eastmoney_kline_000300_index_daily_2026-09.json"), mi::cn::fq::forward);
  REQUIRE(index);
  check_lines(*index, expected("eastmoney_kline_000300_index_daily_2026-09.expected.jsonl"));
  auto us = mi::cn::parse_eastmoney_klines(fixture("eastmoney_kline_APP_us_weekly_jsonp.txt"), mi::cn::fq::none);
  REQUIRE(us);
  check_lines(*us, expected("eastmoney_kline_APP_us_weekly_jsonp.expected.jsonl"));
}

TEST_CASE("eastmoney empty and rate-limited answers are no bars, broken ones an error") {
  auto null_data = mi::cn::parse_eastmoney_klines(R"({"rc":0,"rt":17,"data":null})", mi::cn::fq::none);
  REQUIRE(null_data);
  CHECK(null_data->empty());
  auto no_klines = mi::cn::parse_eastmoney_klines(
    R"({"rc":0,"data":{"code":"600000","market":1,"dktotal":0,"klines":[]}})", mi::cn::fq::backward);
  REQUIRE(no_klines);
  CHECK(no_klines->empty());
  CHECK(!mi::cn::parse_eastmoney_klines("not json", mi::cn::fq::none));
  auto bad = mi::cn::parse_eastmoney_klines(
    R"({"rc":0,"data":{"code":"600000","market":1,"klines":["2024-13-01,1,1,1,1,1,1"]}})", mi::cn::fq::none);
  REQUIRE(!bad);
  CHECK(bad.err().code == mi::errc::bad_timestamp);
  auto neg = mi::cn::parse_eastmoney_klines(
    R"({"rc":0,"data":{"code":"600000","market":1,"klines":["2024-12-02,1,1,1,1,-5,1"]}})", mi::cn::fq::none);
  REQUIRE(!neg);
  CHECK(neg.err().code == mi::errc::bad_number);
}

TEST_CASE("A-share symbols map to the sources' codes, markets and NATS tokens") {
  auto s = mi::cn::parse_symbol("600000.SH");
  REQUIRE(s);
  CHECK(mi::cn::source_code(*s) == "sh600000");
  CHECK(mi::cn::eastmoney_secid(*s) == "1.600000");
  CHECK(mi::cn::subject_token(*s) == "600000_SH");
  CHECK(mi::cn::market_of(*s) == "XSHG");
  auto z = mi::cn::parse_symbol("000001.SZ");
  REQUIRE(z);
  CHECK(mi::cn::market_of(*z) == "XSHE");
  CHECK(mi::cn::eastmoney_secid(*z) == "0.000001");
  CHECK(mi::cn::volume_in_shares(*mi::cn::parse_symbol("688111.SH")));
  CHECK(!mi::cn::volume_in_shares(*z));
  for (auto bad : {"600000", "600000.sh", "60000.SH", "600000.HK", "ABCDEF.SH", ""})
    CHECK(!mi::cn::parse_symbol(bad));
  CHECK(mi::cn::request_target(mi::cn::quote_source::tencent, {*s, *z}) == "/q=sh600000,sz000001");
  CHECK(mi::cn::request_target(mi::cn::quote_source::sina, {*s}) == "/list=sh600000");
  CHECK(mi::cn::request_headers(mi::cn::quote_source::sina).at(0).first == "Referer");
}
