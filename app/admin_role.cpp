// Role admin: the operator's console on admin.listen (gateways/http/admin.hpp), its sections and actions wired to
// the registries and gateways of this process.
#include "app/admin_role.hpp"

#include <spdlog/spdlog.h>

#include "actors/audit.hpp"
#include "actors/caf_types.hpp"
#include "actors/console_sections.hpp"
#include "actors/inspection.hpp"
#include "actors/symbol_pauses.hpp"
#include "app/commands.hpp"
#include "app/roles.hpp"
#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"
#include "config/listen_address.hpp"
#include "connectors/json_text.hpp"
#include "connectors/transport/io_thread.hpp"
#include "gateways/http/from_config.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/coverage.hpp"
#include "gateways/postgres/history_reader.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/clock.hpp"
#include "messages/util/json_writer.hpp"
#include "messages/venue_registry.hpp"

namespace mi::app {
namespace {

mi::gw::http_response answer(int status, std::string_view key, std::string_view text) {
  std::string body = "{\"";
  body += key;
  body += "\":";
  mi::connectors::text::append_json_string(body, text);
  body += "}\n";
  return {status, std::move(body), "application/json", {}, nullptr};
}
mi::gw::http_response done(std::string_view text) { return answer(200, "result", text); }
mi::gw::http_response refused(int status, std::string_view text) { return answer(status, "error", text); }

std::string param(const mi::gw::admin_params& p, const char* key) {
  auto it = p.find(key);
  return it == p.end() ? std::string{} : it->second;
}

// restart {actor: id}: an actor under a supervisor exits with an error; the supervisor restarts it (with its
// usual backoff and restart limits).
mi::gw::http_response restart_actor(const mi::gw::admin_params& p) {
  const auto text = param(p, "actor");
  std::uint64_t id = 0;
  try {
    id = std::stoull(text);
  } catch (const std::exception&) {
    return refused(400, "parameter 'actor': an actor id from /admin/api/actors");
  }
  const auto all = mi::actors::inspection::process().snapshot();
  const auto* a = [&]() -> const mi::actors::actor_info* {
    for (const auto& x : all)
      if (x.id == id)
        return &x;
    return nullptr;
  }();
  if (a == nullptr)
    return refused(404, "no actor " + text + " (it may have exited)");
  const bool supervised = std::any_of(all.begin(), all.end(), [&](const mi::actors::actor_info& x) {
    return x.id == a->parent && x.kind == "supervisor";
  });
  if (!supervised || a->kind == "supervisor")
    return refused(409, a->name + " is not restartable (only a supervisor's children are, not supervisors)");
  if (!mi::actors::inspection::process().stop(id))
    return refused(409, a->name + " cannot be stopped from here");
  return done("restarting " + a->name + " (" + a->kind + ")");
}

mi::gw::http_response pause_or_resume(const mi::gw::admin_params& p, bool pause) {
  const auto exchange = param(p, "exchange");
  const auto symbol = param(p, "symbol");
  if (mi::find_venue(exchange) == nullptr)
    return refused(400, "parameter 'exchange': not a venue of the registry");
  if (symbol.empty() || symbol.size() > 64)
    return refused(400, "parameter 'symbol': required");
  auto& pauses = mi::actors::symbol_pauses::process();
  if (pause)
    return pauses.pause(exchange, symbol, mi::util::now_ms())
             ? done("paused " + exchange + "." + symbol)
             : refused(409, exchange + "." + symbol + " is paused already");
  return pauses.resume(exchange, symbol)
           ? done("resumed " + exchange + "." + symbol + "; the trades of the pause come back through backfill")
           : refused(409, exchange + "." + symbol + " is not paused");
}

// audit {hour}: the audit of one hour (MARKET_RAW against market_trades and the klines), its verdicts kept in
// market_audits for coverage.
mi::gw::http_response audit_hour(const mi::gw::admin_params& p, mi::gw::jetstream& js, const mi::cfg::config& cfg) {
  constexpr std::int64_t hour_ms = 3'600'000;
  auto at = parse_time_ms(param(p, "hour"));
  if (!at)
    return refused(400, "parameter 'hour': " + at.err().message);
  const auto from = *at / hour_ms * hour_ms;
  auto r = mi::actors::run_audit(js, cfg.nats.raw.name, cfg.postgres.dsn, from, from + hour_ms);
  if (!r)
    return refused(503, "audit: " + r.err().message);
  if (auto rec = mi::gw::record_audit(cfg.postgres.dsn, r->cells); !rec)
    return refused(503, rec.err().message);
  for (const auto& line : r->lines)
    spdlog::error("audit mismatch: {}", line);
  return done("audit " + mi::util::iso8601_ms(from) + ": " + std::to_string(r->hours_checked) + " cells, " +
              std::to_string(r->klines_checked) + " klines, " + std::to_string(r->trade_mismatches) +
              " trade count mismatches, " + std::to_string(r->kline_mismatches) +
              " kline mismatches: " + (r->clean() ? "CLEAN" : "MISMATCH"));
}

// redrive {kind?, seq?}: dead letters back to their stream (every one, those of market.dlq.{kind}, or one).
mi::gw::http_response redrive(const mi::gw::admin_params& p, mi::gw::jetstream& js, const std::string& dlq) {
  const auto kind = param(p, "kind");
  if (!kind.empty() && kind != "trades" && kind != "klines")
    return refused(400, "parameter 'kind': trades or klines");
  std::uint64_t only = 0;
  if (const auto seq = param(p, "seq"); !seq.empty()) {
    try {
      only = std::stoull(seq);
    } catch (const std::exception&) {
      return refused(400, "parameter 'seq': a sequence of " + dlq);
    }
  }
  auto st = js.state(dlq);
  if (!st)
    return refused(503, st.err().message);
  std::uint64_t moved = 0;
  for (auto seq = st->first_seq; st->messages > 0 && seq <= st->last_seq; ++seq) {
    if (only != 0 && seq != only)
      continue;
    auto m = js.get_message(dlq, seq);
    if (!m)
      return refused(503, m.err().message);
    if (!*m || (!kind.empty() && (*m)->subject() != "market.dlq." + kind))
      continue;
    auto r = redrive_dead_letter(js, dlq, **m, seq);
    if (!r)
      return refused(503, "redrive " + std::to_string(seq) + ": " + r.err().message);
    spdlog::info("admin: dead letter {} redriven to {}", seq, *r);
    ++moved;
  }
  return done(std::to_string(moved) + " dead letters redriven");
}

// The partitions list of the database section: read at most every 30 s (the section is read every second).
class partitions_cache {
public:
  explicit partitions_cache(std::string dsn) : dsn_(std::move(dsn)) {}
  std::string json() {
    std::lock_guard lock{mu_};
    const auto now = std::chrono::steady_clock::now();
    if (now < next_)
      return json_;
    next_ = now + std::chrono::seconds(30);
    if (!db_) {
      auto c = mi::gw::history_db::connect(dsn_, {std::chrono::milliseconds(2000), std::chrono::seconds(2)});
      if (!c)
        return json_ = "[]";
      db_ = std::move(*c);
    }
    auto rows = db_->partitions();
    if (!rows)
      return json_ = "[]";
    json_ = "[";
    for (const auto& r : *rows) {
      json_ += json_.size() > 1 ? ",{\"table\":" : "{\"table\":";
      mi::util::append_json_string(json_, r.table);
      json_ += ",\"name\":";
      mi::util::append_json_string(json_, r.name);
      json_ += ",\"range\":";
      mi::util::append_json_string(json_, r.range);
      json_ += "}";
    }
    return json_ += "]";
  }

private:
  std::mutex mu_;
  std::string dsn_;
  std::unique_ptr<mi::gw::history_db> db_;
  std::string json_ = "[]";
  std::chrono::steady_clock::time_point next_{};
};

} // namespace

bool start_admin(admin_role& out, const admin_deps& d) {
  const auto& cfg = *d.cfg;
  const auto addr = *mi::cfg::parse_listen_address(cfg.admin.listen); // validated by load()
  mi::gw::http_server_options o;
  o.host = addr.host;
  o.port = addr.port;
  o.workers = 2; // sections, actions and every open event stream's ticks
  o.max_connections = 64;
  o.server_name = "market-ingestor-admin";

  // The chart's history and the coverage table: the REST API's own routes, behind the admin token instead of
  // an API key.
  auto ho = mi::gw::to_options(cfg.api, cfg.postgres, false);
  ho.auth_required = false;
  ho.connections = 1;
  ho.health_interval = std::chrono::milliseconds(0);
  ho.on_error = [](std::string_view message) { spdlog::warn("admin: history: {}", message); };
  out.history = std::make_unique<mi::gw::api_service>(std::move(ho));

  auto* metrics = d.metrics;
  auto* js = d.js;
  auto samples = [metrics] { return mi::actors::parse_exposition(metrics->scrape()); };
  const auto streams = mi::cfg::all_streams(cfg.nats);
  std::vector<std::string> stream_names;
  for (const auto* s : streams)
    stream_names.push_back(s->name);
  auto* history = out.history.get();

  mi::gw::admin_options ao;
  ao.token = cfg.admin.token;
  ao.sections = {
    {"actors", [] { return mi::actors::inspection::process().tree_json(); }},
    {"connections",
     [samples] {
       std::vector<mi::actors::paused_symbol> paused;
       for (const auto& e : mi::actors::symbol_pauses::process().list())
         paused.push_back({e.exchange, e.symbol, e.since_ms});
       return mi::actors::connections_json(mi::actors::inspection::process().snapshot(), samples(), paused,
                                           mi::util::now_ms());
     }},
    {"jetstream",
     [samples, js, stream_names] {
       std::vector<mi::actors::stream_row> rows;
       std::vector<mi::actors::consumer_row> consumers;
       for (const auto& name : stream_names) {
         mi::actors::stream_row r{name, 0, 0, 0, 0, ""};
         if (auto st = js->state(name))
           r = {name, st->messages, st->bytes, st->first_seq, st->last_seq, ""};
         else
           r.error = st.err().message;
         rows.push_back(std::move(r));
         if (auto cs = js->consumers(name))
           for (const auto& c : *cs)
             consumers.push_back({name, c.name, c.pending, c.ack_pending, c.redelivered});
       }
       return mi::actors::jetstream_json(rows, consumers, samples());
     }},
    {"database",
     [samples, parts = std::make_shared<partitions_cache>(cfg.postgres.dsn)] {
       return mi::actors::database_json(mi::actors::inspection::process().snapshot(), samples(), parts->json());
     }},
    {"push",
     [samples, hub = d.push_hub, sys = d.sys] {
       std::string slowest = "[]";
       if (hub && sys != nullptr && hub->get()) {
         caf::scoped_actor self{*sys};
         self->request(hub->get(), std::chrono::seconds(1), mi::actors::clients_atom::value)
           .receive([&](std::string& list) { slowest = std::move(list); }, [](caf::error&) {});
       }
       return mi::actors::push_json(samples(), slowest);
     }},
  };
  ao.actions = {
    {"restart", [](const mi::gw::admin_params& p, const std::string&) { return restart_actor(p); }},
    {"pause", [](const mi::gw::admin_params& p, const std::string&) { return pause_or_resume(p, true); }},
    {"resume", [](const mi::gw::admin_params& p, const std::string&) { return pause_or_resume(p, false); }},
    {"disconnect",
     [hub = d.push_hub, sys = d.sys](const mi::gw::admin_params& p, const std::string&) {
       if (!hub || sys == nullptr || !hub->get())
         return refused(409, "no push role in this process");
       std::uint64_t id = 0;
       try {
         id = std::stoull(param(p, "client"));
       } catch (const std::exception&) {
         return refused(400, "parameter 'client': a client id from /admin/api/push");
       }
       bool closed = false;
       caf::scoped_actor self{*sys};
       self->request(hub->get(), std::chrono::seconds(2), mi::actors::kick_atom::value, id)
         .receive([&](bool ok) { closed = ok; }, [](caf::error&) {});
       return closed ? done("push client " + std::to_string(id) + " disconnected")
                     : refused(404, "no push client " + std::to_string(id));
     }},
    {"audit", [js, &cfg](const mi::gw::admin_params& p, const std::string&) { return audit_hour(p, *js, cfg); }},
    {"redrive",
     [js, dlq = cfg.nats.dlq.name](const mi::gw::admin_params& p, const std::string&) { return redrive(p, *js, dlq); }},
  };
  ao.history = [history](const std::string& route, const std::string& query) {
    mi::gw::http_request r;
    r.method = "GET";
    r.path = "/api/v1/" + route;
    r.query = query;
    r.target = r.path + (query.empty() ? "" : "?" + query);
    r.remote = "admin";
    return history->handle(r);
  };
  ao.on_action = [metrics](const std::string& action, const std::string& who, int status,
                           const mi::gw::admin_params& p) {
    std::string args;
    for (const auto& [k, v] : p)
      args += (args.empty() ? "" : " ") + k + "=" + v.substr(0, 80);
    metrics->admin_action(action, status < 400).counted();
    if (status < 400)
      spdlog::warn("admin: {} {} by {}: done", action, args, who);
    else
      spdlog::warn("admin: {} {} by {}: refused ({})", action, args, who, status);
  };
  try {
    out.server = std::make_unique<mi::gw::http_server>(
      d.io->context(), o, [ao](const mi::gw::http_request& r) { return mi::gw::handle_admin(ao, r); });
  } catch (const std::exception& e) {
    spdlog::error("admin: {}", e.what());
    return false;
  }
  spdlog::info("operator's console on http://{}/admin (API under /admin/api/, bearer token required)",
               mi::cfg::listen_address{o.host, out.server->port(), addr.ipv6}.text());
  return true;
}

} // namespace mi::app
