#include "messages/trade_admission.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

mi::trade make(std::string_view price, std::string_view qty, std::int64_t ts_ns = 1'672'515'782'136'000'000,
               std::int64_t recv_ns = 0) {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = "1";
  t.price = *mi::decimal::parse(price);
  t.quantity = *mi::decimal::parse(qty);
  t.ts_ns = ts_ns;
  t.recv_ns = recv_ns;
  return t;
}

constexpr std::int64_t minute_ns = 60'000'000'000;

} // namespace

TEST_CASE("admission: the trade of issue 9 (23-digit price, 20-digit quantity) is unrepresentable") {
  auto a = mi::check_amounts(make("99999999999999999999999", "99999999999999999999"));
  CHECK(a.reason == mi::reject_reason::unrepresentable);
  CHECK(a.detail.find("quantity 99999999999999999999 is not below 10^15") != std::string::npos);
  CHECK(mi::to_string(a.reason) == "unrepresentable");
}

TEST_CASE("admission: real trades of every exchange are admitted") {
  for (auto [p, q] : {std::pair{"16541.5", "0.00232"},
                      {"0.00001234", "25000000"},
                      {"0.0000012345", "1234.12345678"},
                      {"1450000000", "100"},
                      {"65000.01", "0.00012"}}) {
    auto a = mi::check_amounts(make(p, q));
    CHECK_MESSAGE(a.admitted(), p << " x " << q << ": " << a.detail);
  }
}

TEST_CASE("admission: each amount bound rejects just past its limit and admits at it") {
  struct row {
    const char* price;
    const char* qty;
    bool ok;
  };
  for (auto r : {row{"1", "0.000000000001", true},          // 12 quantity fraction digits
                 row{"1", "0.0000000000001", false},        // 13
                 row{"0.000001", "0.000000000001", true},   // 6 + 12 = 18 fraction digits
                 row{"0.0000001", "0.000000000001", false}, // 19
                 row{"0.001", "999999999999999", true},     // quantity just below 10^15
                 row{"0.001", "1000000000000000", false},   // quantity 10^15
                 row{"9999999999999", "1", true},           // notional just below 10^13
                 row{"10000000000000", "1", false},         // notional 10^13
                 row{"5000000", "2000000", false},          // 10^13 as a product
                 row{"0", "1", false}, row{"-1", "1", false}, row{"1", "0", false}, row{"1", "-2", false}}) {
    auto a = mi::check_amounts(make(r.price, r.qty));
    CHECK_MESSAGE(a.admitted() == r.ok, r.price << " x " << r.qty << ": " << a.detail);
    if (!r.ok)
      CHECK(a.reason == mi::reject_reason::unrepresentable);
  }
}

TEST_CASE(
  "admission: exchange time beyond the clock skew after receive time is clock_skew, older than retention is too_old") {
  const std::int64_t recv = 1'700'000'000'000'000'000;
  mi::admission_limits l;
  l.max_clock_skew_ns = 5 * minute_ns;
  l.max_age_ns = 7 * 24 * 60 * minute_ns;
  CHECK(mi::admit_trade(make("1", "1", recv, recv), l).admitted());
  CHECK(mi::admit_trade(make("1", "1", recv + 5 * minute_ns, recv), l).admitted());
  auto ahead = mi::admit_trade(make("1", "1", recv + 5 * minute_ns + 1, recv), l);
  CHECK(ahead.reason == mi::reject_reason::clock_skew);
  CHECK(ahead.detail.find("300s after its receive time") != std::string::npos);
  auto next_year = mi::admit_trade(make("1", "1", recv + 365 * 24 * 60 * minute_ns, recv), l);
  CHECK(next_year.reason == mi::reject_reason::clock_skew);
  CHECK(mi::admit_trade(make("1", "1", recv - l.max_age_ns, recv), l).admitted());
  auto old = mi::admit_trade(make("1", "1", recv - l.max_age_ns - 1, recv), l);
  CHECK(old.reason == mi::reject_reason::too_old);
  CHECK(mi::to_string(old.reason) == "too_old");
  // Extreme 64-bit times do not overflow the comparison.
  CHECK(mi::admit_trade(make("1", "1", INT64_MAX, INT64_MIN + 1), l).reason == mi::reject_reason::clock_skew);
  CHECK(mi::admit_trade(make("1", "1", INT64_MIN, INT64_MAX), l).reason == mi::reject_reason::too_old);
  // Amounts are checked first; no receive time, no time check; limits off.
  CHECK(mi::admit_trade(make("0", "1", recv, recv), l).reason == mi::reject_reason::unrepresentable);
  CHECK(mi::admit_trade(make("1", "1", recv + 365 * 24 * 60 * minute_ns, 0), l).admitted());
  CHECK(mi::admit_trade(make("1", "1", recv + 365 * 24 * 60 * minute_ns, recv), mi::admission_limits{0, 0}).admitted());
}

TEST_CASE("admission: a trade id that is empty, over 128 bytes or holds a control character is bad_trade_id") {
  auto with_id = [](std::string id) {
    auto t = make("1", "1");
    t.trade_id = std::move(id);
    return t;
  };
  // Real ids: digits (Binance, OKX, Coinbase, Kraken), a UUID (Bybit), "<id>-<market center>" (Alpaca); 128 bytes.
  for (const auto& id : std::vector<std::string>{"1", "3276411542", "d4b6d6e2-1b2c-5a8e-9c1f-0a1b2c3d4e5f",
                                                 "52983525029461-V", std::string(mi::max_trade_id_bytes, '7')})
    CHECK_MESSAGE(mi::check_trade_id(with_id(id)).admitted(), id);
  struct row {
    std::string id;
    const char* detail;
  };
  for (const auto& r :
       std::vector<row>{{"", "trade id is empty"},
                        {std::string(mi::max_trade_id_bytes + 1, '7'), "trade id has 129 bytes (at most 128)"},
                        {"77\r\n88", "trade id has the control character 0x0D at byte 2"},
                        {"\t1", "trade id has the control character 0x09 at byte 0"},
                        {"1\x7f", "trade id has the control character 0x7F at byte 1"},
                        {std::string("1\0002", 3), "trade id has the control character 0x00 at byte 1"}}) {
    auto a = mi::check_trade_id(with_id(r.id));
    CHECK(a.reason == mi::reject_reason::bad_trade_id);
    CHECK(a.detail == r.detail);
    // The edge check looks at the id first: the same trade with amounts past every bound says bad_trade_id too.
    auto t = with_id(r.id);
    t.price = *mi::decimal::parse("99999999999999999999999");
    CHECK(mi::admit_trade(t, {}).reason == mi::reject_reason::bad_trade_id);
  }
  CHECK(mi::to_string(mi::reject_reason::bad_trade_id) == "bad_trade_id");
  CHECK(mi::reject_reasons.back() == mi::reject_reason::bad_trade_id);
}
