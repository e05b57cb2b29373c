// The A-share simulator speaks what the codecs read: GBK lines of Tencent and Sina, Eastmoney kline JSON; a pre-open
// line first, then one snapshot per answer; faults per source.
#include <doctest/doctest.h>

#include "connectors/cn/eastmoney.hpp"
#include "connectors/cn/quotes.hpp"
#include "simulator/cn/cn_sim.hpp"

namespace {
constexpr std::int64_t start = 1'789'351'200'000'000'000; // 2026-09-14 10:00:00 Shanghai
}

TEST_CASE("cn simulator: Tencent and Sina answers in GBK parse to the same market, pre-open first") {
  mi::sim::cn::cn_sim sim({"600000.SH", "000001.SZ"}, start);
  auto r = sim.handle("/q=sh600000,sz000001,sh999999", "");
  CHECK(r.status == 200);
  CHECK(mi::cn::gbk_to_utf8(r.body).has_value());
  CHECK(r.body.find("模拟") == std::string::npos); // GBK bytes, not UTF-8
  auto a = mi::cn::parse_tencent(r.body, mi::cn::text_encoding::gbk, 1);
  CHECK(a.rejected.empty());
  REQUIRE(a.quotes.size() == 2);
  CHECK(a.empty.size() == 1);
  CHECK(a.quotes[0].name == "模拟600000");
  CHECK(!a.quotes[0].last); // pre-open: no trade yet
  CHECK(a.quotes[0].volume.is_zero());
  CHECK(a.quotes[0].ts_ns == start);
  CHECK(a.quotes[0].bids.size() == 5);
  // The market stepped after the answer: Sina now shows snapshot 1 of each symbol.
  auto s = mi::cn::parse_sina(sim.handle("/list=sh600000,sz000001", "").body, mi::cn::text_encoding::gbk, 1);
  CHECK(s.rejected.empty());
  REQUIRE(s.quotes.size() == 2);
  const auto h = sim.history("600000.SH");
  REQUIRE(h.size() == 3);
  CHECK(s.quotes[0].ts_ns == start + 1'000'000'000);
  REQUIRE(s.quotes[0].last);
  CHECK(*s.quotes[0].last == h[1].last);
  CHECK(s.quotes[0].volume == h[1].volume);
  CHECK(s.quotes[0].turnover == h[1].turnover);
  // Tencent's lots x 100 give the same volume as Sina's shares.
  auto t = mi::cn::parse_tencent(sim.handle("/q=sh600000", "").body, mi::cn::text_encoding::gbk, 1);
  REQUIRE(t.quotes.size() == 1);
  CHECK(t.quotes[0].volume == h[2].volume);
  CHECK(t.quotes[0].turnover == h[2].turnover);
}

TEST_CASE("cn simulator: faults per source, the market does not move on a failed answer") {
  mi::sim::cn::cn_sim sim({"600000.SH"}, start);
  CHECK(sim.handle("/sim/cn", "source=tencent&action=fail&count=2&status=503").status == 200);
  CHECK(sim.handle("/q=sh600000", "").status == 503);
  CHECK(sim.handle("/q=sh600000", "").status == 503);
  CHECK(sim.history("600000.SH").size() == 1);
  CHECK(sim.handle("/q=sh600000", "").status == 200);
  CHECK(sim.handle("/sim/cn", "source=sina&action=empty&count=1").status == 200);
  auto e = sim.handle("/list=sh600000", "");
  CHECK(e.status == 200);
  CHECK(e.body.empty());
  CHECK(sim.handle("/sim/cn", "source=sina&action=timeout&count=1&ms=50").status == 200);
  CHECK(sim.handle("/list=sh600000", "").delay_ms == 50);
  CHECK(sim.requests("tencent") == 3);
  CHECK(sim.requests("sina") == 2);
}

TEST_CASE("cn simulator: Eastmoney daily bars, backward-adjusted prices doubled") {
  mi::sim::cn::cn_sim sim({"600000.SH"}, start);
  auto f = mi::cn::parse_eastmoney_klines(sim.handle("/api/qt/stock/kline/get", "klt=101&fqt=1&secid=1.600000").body,
                                          mi::cn::fq::forward);
  REQUIRE(f);
  REQUIRE(f->size() == 3);
  CHECK((*f)[0].trading_day == "2026-09-11");
  CHECK((*f)[0].close.to_string() == "10.11");
  CHECK((*f)[0].volume.to_string() == "100100"); // 1001 lots
  auto b = mi::cn::parse_eastmoney_klines(sim.handle("/api/qt/stock/kline/get", "klt=101&fqt=2&secid=1.600000").body,
                                          mi::cn::fq::backward);
  REQUIRE(b);
  CHECK((*b)[2].close.to_string() == "20.26");
  auto none = mi::cn::parse_eastmoney_klines(sim.handle("/api/qt/stock/kline/get", "fqt=1&secid=0.000002").body,
                                             mi::cn::fq::forward);
  REQUIRE(none);
  CHECK(none->empty());
}
