#include "actors/kline_recovery.hpp"

#include <doctest/doctest.h>
#include <memory>

using mi::actors::kline_recovery;

namespace {

// A checkpoint whose min resume sequence is `resume` (two intervals, the lower one counts).
kline_recovery::checkpoint_ptr cp_at(std::uint64_t resume) {
  mi::kline_engine::checkpoint cp;
  cp.intervals.push_back({"1m", resume + 5, 0, "", {}});
  cp.intervals.push_back({"5m", resume, 0, "", {}});
  return std::make_shared<const mi::kline_engine::checkpoint>(std::move(cp));
}

} // namespace

TEST_CASE("kline_recovery: the start sequence is the highest of the stored global, the stream's first and 1") {
  kline_recovery r;
  CHECK(r.begin(0, 0) == 1);
  CHECK(r.begin(40, 7) == 40);
  CHECK(r.begin(3, 7) == 7);
  CHECK(r.start_seq() == 7);
  CHECK(r.global_resume() == 7); // nothing known: where it started
}

TEST_CASE("kline_recovery: a restored checkpoint holds the global resume back until its symbol trades again") {
  kline_recovery r;
  r.begin(10, 1);
  r.restore("w.binance.BTCUSDT", cp_at(12));
  r.restore("w.okx.ETHUSDT", cp_at(30));
  CHECK(r.restored() == 2);
  CHECK(r.global_resume() == 12);
  // BTCUSDT trades at 50: its window takes the checkpoint, and needs the stream from 12 until it stores.
  auto cp = r.take_restored("w.binance.BTCUSDT");
  REQUIRE(cp);
  CHECK(cp->min_resume_seq() == 12);
  CHECK_FALSE(r.take_restored("w.binance.BTCUSDT")); // handed over once
  r.started("w.binance.BTCUSDT", cp, 50);
  r.forwarded("w.binance.BTCUSDT", 50);
  CHECK(r.live("w.binance.BTCUSDT"));
  CHECK(r.restored() == 1);
  CHECK(r.global_resume() == 12);
  // Its finals are acked and the checkpoint stored with min resume 60; ETHUSDT (30) is now the lowest.
  r.stored("w.binance.BTCUSDT", 60);
  CHECK(r.global_resume() == 30);
  // A new symbol without a checkpoint needs the stream from its first trade.
  CHECK_FALSE(r.take_restored("w.bybit.SOLUSDT"));
  r.started("w.bybit.SOLUSDT", nullptr, 25);
  CHECK(r.global_resume() == 25);
}

TEST_CASE("kline_recovery: the global resume never goes below the start sequence") {
  kline_recovery r;
  r.begin(100, 1);
  r.restore("w.binance.BTCUSDT", cp_at(20)); // an old checkpoint, from before the stored global
  CHECK(r.global_resume() == 100);
  r.started("w.okx.ETHUSDT", cp_at(5), 120); // min(5, 120)
  CHECK(r.global_resume() == 100);
}

TEST_CASE("kline_recovery: a passivated symbol counts until the sink stored it, then it is forgotten") {
  kline_recovery r;
  r.begin(1, 1);
  r.started("w.binance.BTCUSDT", nullptr, 10);
  r.forwarded("w.binance.BTCUSDT", 11);
  r.started("w.okx.ETHUSDT", nullptr, 40);
  r.forwarded("w.okx.ETHUSDT", 41);
  r.stored("w.binance.BTCUSDT", 15);
  CHECK(r.global_resume() == 15);
  CHECK_FALSE(r.ever_passivated());

  // Idle after 11, and nothing forwarded since: passivated with a checkpoint resuming at 12.
  CHECK_FALSE(r.may_passivate("w.binance.BTCUSDT", 10)); // a trade came after the idle report: it stays
  REQUIRE(r.may_passivate("w.binance.BTCUSDT", 11));
  r.passivated("w.binance.BTCUSDT", cp_at(12));
  CHECK_FALSE(r.live("w.binance.BTCUSDT"));
  CHECK(r.ever_passivated());
  CHECK(r.global_resume() == 12);    // on the way to KV: still counted
  r.stored("w.binance.BTCUSDT", 99); // a late final checkpoint of a forgotten window is not re-added
  CHECK(r.global_resume() == 12);

  r.passivation_stored("w.binance.BTCUSDT");
  CHECK(r.restored() == 0);
  CHECK(r.global_resume() == 40);                        // only ETHUSDT remains
  CHECK_FALSE(r.may_passivate("w.binance.BTCUSDT", 11)); // not live any more
}

TEST_CASE("kline_recovery: passivated twice before the first store, the newer checkpoint stays until it is stored") {
  kline_recovery r;
  r.begin(1, 1);
  r.started("w.binance.BTCUSDT", nullptr, 10);
  r.forwarded("w.binance.BTCUSDT", 10);
  r.passivated("w.binance.BTCUSDT", cp_at(11));
  // It trades again from its in-flight checkpoint, and is passivated again.
  auto cp = r.take_restored("w.binance.BTCUSDT");
  REQUIRE(cp);
  r.started("w.binance.BTCUSDT", cp, 20);
  r.forwarded("w.binance.BTCUSDT", 20);
  REQUIRE(r.may_passivate("w.binance.BTCUSDT", 20));
  r.passivated("w.binance.BTCUSDT", cp_at(21));
  r.passivation_stored("w.binance.BTCUSDT"); // the first one: the second is not stored yet
  CHECK(r.restored() == 1);
  CHECK(r.global_resume() == 21);
  r.passivation_stored("w.binance.BTCUSDT");
  CHECK(r.restored() == 0);
  CHECK(r.global_resume() == 1);
}

TEST_CASE("kline_recovery: a symbol that trades again before its passivation is stored keeps its live state") {
  kline_recovery r;
  r.begin(1, 1);
  r.started("w.binance.BTCUSDT", nullptr, 10);
  r.forwarded("w.binance.BTCUSDT", 10);
  r.passivated("w.binance.BTCUSDT", cp_at(11));
  auto cp = r.take_restored("w.binance.BTCUSDT");
  r.started("w.binance.BTCUSDT", cp, 30);
  r.forwarded("w.binance.BTCUSDT", 30);
  r.stored("w.binance.BTCUSDT", 31);
  r.passivation_stored("w.binance.BTCUSDT");
  CHECK(r.live("w.binance.BTCUSDT"));
  CHECK(r.global_resume() == 31); // its durable min resume was not forgotten
}
