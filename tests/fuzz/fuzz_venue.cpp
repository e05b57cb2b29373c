// libFuzzer target for the REST and frame parsing of every venue of the registry (messages/venue_registry.cpp): the
// first byte picks the venue, the rest is a response body or a frame. Any input must give a value or an error, never a
// crash, a hang or undefined behaviour; history pages must only hold trades inside the gap, oldest first; a book
// frame's route names an instrument, and the venue's book_feed never publishes a book as valid while its codec's book
// is not (state kept from input to input, as a connection's would be). Build: cmake -DMI_FUZZ=ON
// -DCMAKE_CXX_COMPILER=clang++. Seed corpus: ../shared/fixtures/exchanges/*/*.jsonl split one line a file, plus REST
// bodies from the venue tests, each prefixed with a venue byte.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/venue/book_feed.hpp"
#include "connectors/venue/venue.hpp"
#include "messages/trade.hpp"
#include "messages/venue_registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  // One venue and its example symbol per registry line, made once.
  struct made {
    std::unique_ptr<mi::venue::venue> venue;
    std::string example_symbol;
  };
  static const std::vector<made> all = [] {
    std::vector<made> out;
    for (const mi::venue_info& info : mi::venues())
      out.push_back({std::move(*mi::venue::make_venue(info.name)), mi::default_symbols(info).front()});
    return out;
  }();
  const made& m = all[data[0] % all.size()];
  mi::venue::venue& v = *m.venue;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  (void)v.decode(body, 42);
  auto sub = v.resolve(m.example_symbol);
  if (!sub)
    __builtin_trap(); // a well-formed name always resolves while no listing is loaded
  const mi::venue::gap g{1000, 2000, 1'700'000'000'000'000'000, 1'700'000'100'000'000'000};
  if (v.history_request(*sub, g)) {
    auto page = v.parse_history(*sub, g, body);
    if (page) {
      for (std::size_t i = 0; i < page->trades.size(); ++i) {
        const mi::trade& t = page->trades[i];
        const long long id = std::stoll(t.trade_id);
        if (id < g.first_id || id > g.last_id || t.price.signum() <= 0 || t.quantity.signum() <= 0)
          __builtin_trap();
        if (i > 0 && page->trades[i - 1].ts_ns > t.ts_ns)
          __builtin_trap();
      }
    }
  }
  if (v.recent_request(*sub))
    (void)v.parse_recent(*sub, body);

  if (auto route = v.book_frame(body))
    if (route->key.empty() || route->ts_ns < 0)
      __builtin_trap();
  static std::vector<std::unique_ptr<mi::venue::book_feed>> feeds(all.size());
  static std::int64_t now = 1;
  auto& feed = feeds[data[0] % all.size()];
  if (!feed)
    feed = std::make_unique<mi::venue::book_feed>(std::string(v.name()), v, std::vector<mi::venue::subscription>{*sub},
                                                  mi::venue::book_feed_options{}, 1);
  mi::venue::book_events out;
  now += 1'000'000'000;
  if (auto lost = v.connection_sequence_break(body)) { // Coinbase: a lost message resyncs every book
    feed->resync_all(*lost, now, out);
    if (feed->codec(sub->symbol)->book().valid())
      __builtin_trap();
  }
  feed->on_frame(sub->symbol, body, 0, now, now, out);
  feed->tick(now, out);
  const bool valid_now = feed->codec(sub->symbol)->book().valid();
  for (const auto& b : out.books)
    if (b.valid && !valid_now)
      __builtin_trap();
  return 0;
}
