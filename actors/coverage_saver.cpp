#include "actors/coverage_saver.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <memory>
#include <vector>

#include "actors/row_saver.hpp"
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

caf::actor spawn_coverage_saver(caf::actor_system& sys, coverage_saver_args args) {
  auto rows = std::make_shared<std::vector<mi::gw::gap_record>>();
  row_saver_args r;
  r.what = "coverage saver";
  r.actor = "coverage_saver";
  r.js = args.js;
  r.stream = args.stream;
  r.durable = args.durable;
  r.batch = 100;
  r.wait = std::chrono::milliseconds(1000);
  r.max_ack_pending = 1000;
  r.add = [rows](const mi::gw::js_message& m) -> mi::result<bool> {
    auto g = parse_gap_report(m.header("Nats-Msg-Id").value_or(""), m.data());
    if (!g)
      return g.err();
    rows->push_back(std::move(*g));
    return true;
  };
  r.write = [rows, dsn = args.dsn]() -> mi::result<bool> {
    auto w = mi::gw::write_gaps(dsn, *rows);
    rows->clear();
    if (!w)
      return w.err();
    return true;
  };
  return spawn_row_saver(sys, std::move(r));
}

} // namespace mi::actors
