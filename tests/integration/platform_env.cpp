#include "tests/integration/platform_env.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <tuple>
#include <sstream>
#include <stdexcept>
#include <cstdlib>
#include <sys/wait.h>

#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/codec.hpp"

namespace mi::test {
namespace {

std::string tail_of(const std::string& s, std::size_t n = 3000) { return s.size() <= n ? s : s.substr(s.size() - n); }

} // namespace

std::string binary() { return MI_BINARY; }

const std::string& test_master_key_hex() {
  static const std::string key = "5f3c8e2a9b1d47f6a0c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7";
  return key;
}

platform_env::platform_env(std::vector<std::string> intervals, std::string binance_extra, std::string klines_extra,
                           std::string saver_extra, std::string top_extra)
    : dir_("mi-platform"), push_port_(free_port()), metrics_port_(free_port()), sim_port_(free_port()),
      api_port_(free_port()), intervals_(std::move(intervals)) {
  // Signing keys are sealed with a master key (docs/operations.md): children inherit it.
  ::setenv("MI_API_MASTER_KEY", test_master_key_hex().c_str(), 1);
  std::string iv;
  for (auto& i : intervals_)
    iv += (iv.empty() ? "" : ", ") + i;
  std::ofstream cfg(config_path());
  nats_urls_ = nats.url();
  cfg << "nats:\n  url: " << nats_urls_ << "\n"
      << "postgres:\n  dsn: " << pg.conninfo() << "\n"
      << "exchanges:\n  binance:\n    enabled: true\n"
      << "    ws_url: ws://127.0.0.1:" << sim_port_ << "/stream\n"
      << "    rest_url: http://127.0.0.1:" << sim_port_ << "\n"
      << "    symbols: [BTC/USDT, ETH/USDT]\n"
      << "    reconnect:\n      initial: 100ms\n      max: 1s\n"
      << binance_extra << "klines:\n  intervals: [" << iv << "]\n  grace: 2s\n"
      << klines_extra << "saver:\n  batch_size: 1000\n  batch_timeout: 200ms\n"
      << saver_extra << "push:\n  listen: 127.0.0.1:" << push_port_ << "\n"
      << "api:\n  listen: 127.0.0.1:" << api_port_ << "\n  anonymous_push: true\n"
      << "metrics:\n  listen: 127.0.0.1:" << metrics_port_ << "\n"
      << top_extra;
}

platform_env::~platform_env() {
  if (platform_)
    platform_->kill_hard();
  if (simulator_)
    simulator_->kill_hard();
}

bool has_ready_line(const std::string& log_text, std::size_t from) {
  if (from == 0 && log_text.rfind("ready", 0) == 0)
    return true;
  return log_text.find("\nready", from > 0 ? from - 1 : 0) != std::string::npos;
}

void platform_env::use_nats(const std::string& urls, const std::string& nats_extra) {
  auto text = read_file(config_path());
  const std::string old_line = "nats:\n  url: " + nats_urls_ + "\n";
  auto at = text.find(old_line);
  if (at == std::string::npos)
    throw std::runtime_error("use_nats: no nats section in " + config_path());
  text.replace(at, old_line.size(), "nats:\n  url: " + urls + "\n" + nats_extra);
  std::ofstream(config_path(), std::ios::trunc) << text;
  nats_urls_ = urls;
}

std::string platform_env::platform_log() const { return read_file(dir_.path() + "/platform.log"); }

void platform_env::start_platform(const std::vector<std::string>& extra_args) {
  auto log = dir_.path() + "/platform.log";
  auto before = read_file(log).size();
  std::vector<std::string> argv{binary(), "run", "--config", config_path()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  platform_ = std::make_unique<child_process>(argv, log);
  bool ready = eventually([&] { return has_ready_line(read_file(log), before) || !platform_->running(); },
                          std::chrono::seconds(30));
  if (!ready || !platform_->running())
    throw std::runtime_error("platform did not become ready:\n" + tail_of(read_file(log)));
}

void platform_env::launch_platform(const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv{binary(), "run", "--config", config_path()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  platform_ = std::make_unique<child_process>(argv, dir_.path() + "/platform.log");
}

int platform_env::wait_platform_exit(std::chrono::seconds timeout) {
  int st = platform_->wait_for(timeout);
  if (st == -1)
    return -1;
  platform_.reset();
  return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
}

void platform_env::kill_platform() {
  platform_->kill_hard();
  platform_.reset();
}

int platform_env::stop_platform() {
  platform_->signal(SIGTERM);
  int st = platform_->wait_for(std::chrono::seconds(60));
  platform_.reset();
  return st;
}

void platform_env::start_simulator(const std::vector<std::string>& extra) {
  auto log = dir_.path() + "/simulator.log";
  std::vector<std::string> argv{
    binary(), "simulate", "--port", std::to_string(sim_port_), "--record", dir_.path() + "/recorded.jsonl"};
  if (std::find(extra.begin(), extra.end(), "--symbols") == extra.end())
    argv.insert(argv.end(), {"--symbols", "BTCUSDT,ETHUSDT"}); // the config's two symbols
  argv.insert(argv.end(), extra.begin(), extra.end());
  simulator_ = std::make_unique<child_process>(argv, log);
  if (!wait_for_port(sim_port_, std::chrono::seconds(10)))
    throw std::runtime_error("simulator did not listen:\n" + read_file(log));
}

bool platform_env::simulator_done() { return simulator_ && !simulator_->running(); }

std::vector<mi::trade> platform_env::recorded_trades() const {
  std::vector<mi::trade> out;
  // A line the simulator is still writing is left out.
  auto text = read_file(dir_.path() + "/recorded.jsonl");
  text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto t = mi::trade_from_json(line);
    if (!t)
      throw std::runtime_error("bad recorded line: " + t.err().message);
    out.push_back(std::move(*t));
  }
  return out;
}

std::vector<mi::kline> platform_env::expected_klines() const {
  std::string iv;
  for (auto& i : intervals_)
    iv += (iv.empty() ? "" : ",") + i;
  auto r = run({binary(), "aggregate", "--intervals", iv, "--grace", "2s"}, read_file(dir_.path() + "/recorded.jsonl"));
  if (r.exit_code != 0)
    throw std::runtime_error("aggregate failed: " + r.output);
  std::vector<mi::kline> out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    auto k = mi::kline_from_json(line);
    if (!k)
      throw std::runtime_error("bad aggregate line: " + k.err().message);
    out.push_back(std::move(*k));
  }
  return out;
}

std::vector<mi::kline> platform_env::sql_klines(const std::string& interval) const {
  // Width in ms from the interval text, independently of messages/kline: fixed units only.
  const std::map<char, std::int64_t> unit_ms{{'s', 1'000}, {'m', 60'000}, {'h', 3'600'000}, {'d', 86'400'000}};
  const auto unit = unit_ms.find(interval.back());
  if (interval.size() < 2 || unit == unit_ms.end())
    throw std::runtime_error("sql_klines: not a fixed-width interval: " + interval);
  const auto width_ms = std::stoll(interval.substr(0, interval.size() - 1)) * unit->second;
  const auto w = std::to_string(width_ms);
  // Integer window arithmetic (times after 1970: division truncates = floors); trade ids order
  // numerically where they are numbers (shorter first), as the engine's (time, id).
  const std::string sql =
    "WITH b AS (SELECT *, (ts_ns / (" + w + " * 1000000::bigint)) * " + w +
    " AS open_ms FROM market_trades), "
    "t AS (SELECT *, "
    "  row_number() OVER (PARTITION BY exchange, symbol, open_ms "
    "                     ORDER BY ts_ns, length(trade_id), trade_id) AS rn_first, "
    "  row_number() OVER (PARTITION BY exchange, symbol, open_ms "
    "                     ORDER BY ts_ns DESC, length(trade_id) DESC, trade_id DESC) AS rn_last "
    "  FROM b) "
    "SELECT exchange, symbol, open_ms, "
    "  max(price) FILTER (WHERE rn_first = 1), max(price), min(price), max(price) FILTER (WHERE rn_last = 1), "
    "  sum(quantity), sum(price * quantity), count(*), "
    "  coalesce(sum(quantity) FILTER (WHERE side = 'buy'), 0), "
    "  coalesce(sum(price * quantity) FILTER (WHERE side = 'buy'), 0), "
    "  div(sum(price * quantity) * 1000000000000000000, sum(quantity)) * 0.000000000000000001, "
    "  max(trade_id) FILTER (WHERE rn_first = 1), max(trade_id) FILTER (WHERE rn_last = 1) "
    "FROM t GROUP BY exchange, symbol, open_ms ORDER BY 1, 2, 3";
  std::vector<mi::kline> out;
  std::istringstream in(pg.psql(sql));
  std::string line;
  auto dec = [](const std::string& text) {
    auto d = mi::decimal::parse(text);
    if (!d)
      throw std::runtime_error("sql_klines: not a decimal: " + text);
    return *d;
  };
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::istringstream row(line);
    for (std::string cell; std::getline(row, cell, '|');)
      f.push_back(cell);
    if (f.size() != 15)
      throw std::runtime_error("sql_klines: bad row: " + line);
    mi::kline k;
    k.exchange = f[0];
    k.symbol = f[1];
    k.interval = interval;
    k.open_time_ms = std::stoll(f[2]);
    k.close_time_ms = k.open_time_ms + width_ms - 1;
    k.open = dec(f[3]);
    k.high = dec(f[4]);
    k.low = dec(f[5]);
    k.close = dec(f[6]);
    k.volume = dec(f[7]);
    k.quote_volume = dec(f[8]);
    k.trade_count = std::stoull(f[9]);
    k.taker_buy_volume = dec(f[10]);
    k.taker_buy_quote_volume = dec(f[11]);
    k.vwap = dec(f[12]);
    k.first_trade_id = f[13];
    k.last_trade_id = f[14];
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<mi::trade> platform_env::stored_trades() const {
  auto r = mi::gw::read_trades(pg.conninfo());
  if (!r)
    throw std::runtime_error(r.err().message);
  return *r;
}

std::vector<mi::kline> platform_env::stored_klines() const {
  auto r = mi::gw::read_klines(pg.conninfo());
  if (!r)
    throw std::runtime_error(r.err().message);
  return *r;
}

std::uint64_t platform_env::stream_messages(const std::string& stream) const {
  mi::gw::jetstream::options o;
  o.url = nats_urls_;
  auto js = mi::gw::jetstream::connect(o);
  if (!js)
    throw std::runtime_error(js.err().message);
  auto st = (*js)->state(stream);
  if (!st)
    throw std::runtime_error(st.err().message);
  return st->messages;
}

http_reply http_get(int port, const std::string& path, const std::vector<std::string>& headers) {
  std::vector<std::string> argv{"curl", "-sS", "-m", "5", "-o", "-", "-w", "\n%{http_code}"};
  for (const auto& h : headers) {
    argv.push_back("-H");
    argv.push_back(h);
  }
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
  auto r = run(argv);
  http_reply out;
  auto nl = r.output.rfind('\n');
  if (nl == std::string::npos)
    return out;
  out.body = r.output.substr(0, nl);
  out.status = std::atoi(r.output.c_str() + nl + 1);
  return out;
}

std::string platform_env::scrape_metrics() const {
  auto r = run({"curl", "-fsS", "http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics"});
  return r.output;
}

double platform_env::metric(const std::string& sample) const {
  auto text = scrape_metrics();
  auto at = text.find("\n" + sample + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + 1 + sample.size() + 1));
}

std::vector<std::string> canonical(const std::vector<mi::trade>& xs) {
  std::vector<std::string> out;
  for (const auto& t : xs)
    out.push_back(mi::trade_to_json(t));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> canonical(const std::vector<mi::kline>& xs) {
  // The latest revision of each window, compared by value (a window revised by a late trade
  // must end up equal to the window built with that trade on time).
  std::map<std::tuple<std::string, std::string, std::string, std::int64_t>, mi::kline> latest;
  for (const auto& k : xs) {
    auto key = std::make_tuple(k.exchange, k.symbol, k.interval, k.open_time_ms);
    auto it = latest.find(key);
    if (it == latest.end() || k.revision >= it->second.revision)
      latest[key] = k;
  }
  std::vector<std::string> out;
  for (auto& [key, k] : latest) {
    auto c = k;
    c.is_final = true;
    c.revision = 0;
    out.push_back(mi::kline_to_json(c));
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace mi::test
