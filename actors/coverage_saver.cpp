#include "actors/coverage_saver.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <thread>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/jetstream/jetstream.hpp"

namespace mi::actors {

mi::result<mi::gw::gap_record> parse_gap_report(std::string_view msg_id, std::string_view json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object())
    return mi::error{"gap report: not a JSON object"};
  const auto& o = v.as_object();
  mi::gw::gap_record g;
  g.id = std::string(msg_id);
  auto text = [&](const char* key, std::string& out) {
    const auto* x = o.if_contains(key);
    if (x == nullptr || !x->is_string())
      return false;
    out = std::string(x->as_string());
    return true;
  };
  auto number = [&](const char* key, std::int64_t& out) {
    const auto* x = o.if_contains(key);
    if (x == nullptr || !x->is_int64())
      return false;
    out = x->as_int64();
    return true;
  };
  if (!text("exchange", g.exchange) || !text("symbol", g.symbol))
    return mi::error{"gap report: no exchange or symbol"};
  if (!text("outcome", g.outcome))
    g.outcome = "unfillable"; // reports from before the outcome field
  if (g.outcome != "detected" && g.outcome != "filled" && g.outcome != "unfillable")
    return mi::error{"gap report: unknown outcome '" + g.outcome.substr(0, 20) + "'"};
  if (!number("first_id", g.first_id) || !number("last_id", g.last_id) || !number("after_ts_ns", g.after_ts_ns) ||
      !number("before_ts_ns", g.before_ts_ns) || !number(g.outcome == "filled" ? "recovered" : "missing", g.trades) ||
      g.trades < 0)
    return mi::error{"gap report: a number is missing or malformed"};
  text("reason", g.reason);
  if (g.id.empty())
    g.id = "gap:" + g.outcome + ":" + g.exchange + ":" + g.symbol + ":" + std::to_string(g.first_id) + ":" +
           std::to_string(g.last_id) + ":" + std::to_string(g.after_ts_ns);
  return g;
}

namespace {

struct coverage_state {
  static inline const char* name = "mi.coverage_saver";
  coverage_saver_args args;
  std::unique_ptr<mi::gw::pull_consumer> consumer;
  std::chrono::milliseconds backoff{100};
};

using coverage_actor = caf::stateful_actor<coverage_state>;

void failed(coverage_actor* self, const std::string& what) {
  auto& st = self->state;
  spdlog::warn("coverage saver: {}; retrying in {} ms", what, st.backoff.count());
  inspect_error(self, what);
  inspect_state(self, "retrying");
  std::this_thread::sleep_for(st.backoff); // detached thread: blocks nobody else
  st.backoff = std::min(st.backoff * 2, std::chrono::milliseconds(5000));
}

void step(coverage_actor* self) {
  auto& st = self->state;
  if (!st.consumer) {
    auto c = mi::gw::pull_consumer::create(*st.args.js,
                                           {st.args.stream, st.args.durable, "", std::chrono::seconds(30), 1000, -1});
    if (!c)
      return failed(self, "consumer " + st.args.durable + ": " + c.err().message);
    st.consumer = std::move(*c);
    inspect_state(self, "running");
  }
  auto got = st.consumer->fetch(100, std::chrono::milliseconds(1000));
  if (!got)
    return failed(self, "fetch: " + got.err().message);
  if (got->empty())
    return;
  std::vector<mi::gw::gap_record> rows;
  std::vector<bool> good(got->size(), false);
  for (std::size_t i = 0; i < got->size(); ++i) {
    auto& m = (*got)[i];
    auto g = parse_gap_report(m.header("Nats-Msg-Id").value_or(""), m.data());
    if (!g) {
      spdlog::error("coverage saver: {} (stream seq {}), dropped: {:.200}", g.err().message, m.stream_seq(), m.data());
      m.term(); // can never be stored: never redelivered
      continue;
    }
    good[i] = true;
    rows.push_back(std::move(*g));
  }
  auto written = mi::gw::write_gaps(st.args.dsn, rows);
  if (!written) {
    for (std::size_t i = 0; i < got->size(); ++i)
      if (good[i])
        (*got)[i].nak();
    return failed(self, written.err().message);
  }
  for (std::size_t i = 0; i < got->size(); ++i)
    if (good[i])
      (*got)[i].ack();
  st.backoff = std::chrono::milliseconds(100);
  inspect_state(self, "running");
}

caf::behavior coverage_saver(coverage_actor* self, coverage_saver_args args) {
  self->state.args = std::move(args);
  self->send(self, batch_atom::value);
  caf::behavior handlers{
    [self](batch_atom) {
      step(self);
      self->send(self, batch_atom::value); // one step per message: stop can interleave
    },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "coverage_saver", self->state.args.durable, std::move(handlers));
}

} // namespace

caf::actor spawn_coverage_saver(caf::actor_system& sys, coverage_saver_args args) {
  return sys.spawn<caf::detached>(coverage_saver, std::move(args));
}

} // namespace mi::actors
