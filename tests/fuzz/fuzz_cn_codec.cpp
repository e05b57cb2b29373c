// libFuzzer target for the A-share codecs (connectors/cn): Tencent and Sina quote answers (GBK and UTF-8) and
// Eastmoney kline JSON under every adjustment. Any input gives quotes, empties and rejections or an error, never a
// crash, a hang or undefined behaviour; every quote has a real symbol and non-negative volume and turnover.
// Build: scripts/fuzz (cmake -DMI_FUZZ=ON with clang). Seeds: ../shared/fixtures/equities/cn/* (scripts/fuzz).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/cn/eastmoney.hpp"
#include "connectors/cn/quotes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (auto src : mi::cn::all_quote_sources)
    for (auto enc : {mi::cn::text_encoding::gbk, mi::cn::text_encoding::utf8}) {
      auto a = mi::cn::parse_quotes(src, in, enc, 1);
      for (const auto& q : a.quotes)
        if (q.sym.code.size() != 6 || q.volume.signum() < 0 || q.turnover.signum() < 0 || q.trading_day.size() != 10 ||
            q.bids.size() > 5 || q.asks.size() > 5)
          __builtin_trap();
    }
  for (auto fq : {mi::cn::fq::none, mi::cn::fq::forward, mi::cn::fq::backward})
    if (auto r = mi::cn::parse_eastmoney_klines(in, fq))
      for (const auto& b : *r)
        if (b.symbol.empty() || b.volume.signum() < 0 || b.adjustment != fq)
          __builtin_trap();
  return 0;
}
