// `market-ingestor simulate`: a loopback exchange (WebSocket + REST, fault injection).
#include <chrono>
#include <memory>

#include "app/cli.hpp"
#include "messages/venue_registry.hpp"
#include "simulator/simulator.hpp"

namespace mi::app {

command add_simulate(CLI::App& app) {
  auto* sim = app.add_subcommand("simulate",
                                 "a loopback exchange (WebSocket + REST, fault injection) for offline runs and tests");
  struct opts {
    mi::sim::options so;
    std::string symbols = "BTCUSDT,ETHUSDT";
    std::uint64_t stall_ms = 0;
    std::uint64_t linger_ms = 1000;
  };
  auto o = std::make_shared<opts>();
  auto& so = o->so;
  std::vector<std::string> spoken =
    mi::venue_names(); // and the perpetual-swap venues (simulator/protocols/derivatives)
  for (const auto& d : mi::derivatives_venues())
    spoken.emplace_back(d.name);
  sim
    ->add_option("--exchange", so.exchange,
                 "protocol spoken: " + mi::venue_names_joined() + ", binance-usdm, okx-swap, bybit-linear")
    ->check(CLI::IsMember(spoken));
  sim->add_option("--host", so.host, "listen address");
  sim->add_option("--port", so.port, "listen port (0 = any free port)");
  sim->add_option("--symbols", o->symbols, "comma-separated normalized BASEQUOTE symbols");
  sim->add_option("--reject", so.reject, "a symbol not listed and refused on subscribe (repeatable)");
  sim->add_option("--first-id", so.first_id, "first trade id of every symbol");
  sim->add_option("--history-limit", so.history_limit, "trades kept per symbol for the REST history endpoints");
  sim->add_option("--rate", so.rate, "generated trades per second, all symbols together");
  sim->add_option("--count", so.count, "trades to generate in total (0 = unlimited)");
  sim->add_option("--input", so.input_file, "replay trades from this JSONL file (decode format)")
    ->check(CLI::ExistingFile);
  sim->add_option("--record", so.record_file, "append every distinct trade sent to this JSONL file");
  sim->add_option("--seed", so.seed, "random seed of the generator");
  sim->add_option("--drop-after", so.drop_after, "fault: drop the connection after this many trades (once)");
  sim->add_option("--resend", so.resend, "fault: with --drop-after, resend the last N trades after the reconnect");
  sim->add_option("--resend-on-reconnect", so.resend_on_reconnect,
                  "resend the last N trades to every client that subscribes after another did "
                  "(stands in for REST backfill)");
  sim->add_option("--malformed-every", so.malformed_every,
                  "fault: send a malformed trade frame after every N-th trade");
  sim->add_option("--stall-after", so.stall_after, "fault: after N trades, send nothing for --stall-ms (once)");
  sim->add_option("--stall-ms", o->stall_ms, "fault: length of the stall in milliseconds");
  sim->add_option("--skip-after", so.skip_after,
                  "fault: after N trades, never send the next --skip-count ids of every symbol");
  sim->add_option("--skip-count", so.skip_count, "fault: ids skipped per symbol");
  sim->add_option("--book-skip-after", so.book_skip_after,
                  "fault: the N-th order-book update (all symbols, once) is never sent: a sequence gap");
  sim->add_option("--book-checksum-after", so.book_checksum_after,
                  "fault: the N-th order-book update (once) carries a wrong checksum (okx)");
  sim->add_option("--book-stale-rest", so.book_stale_rest,
                  "fault: the N-th REST book snapshot (binance /api/v3/depth, once) is 20 to 40 updates old");
  sim->add_option("--linger-ms", o->linger_ms, "keep serving (WebSocket and REST) this long after the last trade");
  sim->add_option("--notice-after", so.notice_after,
                  "fault: after N trades, send the forced-disconnect notice and close 2 s later (binance, okx)");
  sim->add_option("--throttle", so.throttle,
                  "fault: answer the next N REST trade requests with --throttle-status and Retry-After");
  sim->add_option("--throttle-status", so.throttle_status, "fault: 429 (default), or 418 for binance");
  sim->add_option("--retry-after", so.retry_after_s, "fault: Retry-After seconds of a throttled answer (default 1)");
  return {sim, [o] {
            o->so.symbols = split_csv(o->symbols);
            o->so.stall_ms = std::chrono::milliseconds(o->stall_ms);
            o->so.linger = std::chrono::milliseconds(o->linger_ms);
            return mi::sim::run_simulator(o->so);
          }};
}

} // namespace mi::app
