#include "actors/console_sections.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

namespace mi::actors {
namespace {

namespace json = boost::json;

// The exchange counters the connections section shows: key in the JSON, metric name. One list.
constexpr std::pair<const char*, const char*> exchange_counters[] = {
  {"trades_received", "mi_trades_received_total"},   {"reconnects", "mi_reconnects_total"},
  {"gaps_detected", "mi_gaps_detected_total"},       {"backfilled_trades", "mi_backfilled_trades_total"},
  {"gaps_unfillable", "mi_gaps_unfilled_total"},     {"missing_trades", "mi_gap_missing_trades_total"},
  {"symbols_rejected", "mi_symbols_rejected_total"}, {"frames_rejected", "mi_frames_rejected_total"},
};

std::string label(const metric_sample& s, const char* key) {
  auto it = s.labels.find(key);
  return it == s.labels.end() ? std::string{} : it->second;
}

// Sum of `name` per value of label `key`.
std::map<std::string, double> by_label(const std::vector<metric_sample>& m, std::string_view name, const char* key) {
  std::map<std::string, double> out;
  for (const auto& s : m)
    if (s.name == name)
      out[label(s, key)] += s.value;
  return out;
}

double total(const std::vector<metric_sample>& m, std::string_view name) {
  double v = 0;
  for (const auto& s : m)
    if (s.name == name)
      v += s.value;
  return v;
}

json::value number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15)
    return static_cast<std::int64_t>(v);
  return v;
}

json::object object_of(const std::map<std::string, double>& xs) {
  json::object o;
  for (const auto& [k, v] : xs)
    o[k] = number(v);
  return o;
}

// The exchange of a connection actor named "connection.{exchange}.{n}".
std::string exchange_of(const std::string& name) {
  const auto a = name.find('.');
  const auto b = name.find('.', a == std::string::npos ? a : a + 1);
  if (a == std::string::npos)
    return name;
  return name.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
}

std::string parse_label_value(std::string_view line, std::size_t& i) {
  std::string v;
  for (; i < line.size() && line[i] != '"'; ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      ++i;
      v += line[i] == 'n' ? '\n' : line[i];
    } else {
      v += line[i];
    }
  }
  ++i; // the closing quote
  return v;
}

} // namespace

std::vector<metric_sample> parse_exposition(std::string_view text) {
  std::vector<metric_sample> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    const auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#')
      continue;
    metric_sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    s.name = std::string(line.substr(0, i));
    bool ok = !s.name.empty();
    if (ok && i < line.size() && line[i] == '{') {
      ++i;
      while (ok && i < line.size() && line[i] != '}') {
        const auto eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          ok = false;
          break;
        }
        std::string key(line.substr(i, eq - i));
        i = eq + 2;
        s.labels[key] = parse_label_value(line, i);
        if (i < line.size() && line[i] == ',')
          ++i;
      }
      ++i; // '}'
    }
    if (!ok || i >= line.size())
      continue;
    auto value = line.substr(i);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    value = value.substr(0, value.find(' ')); // a timestamp may follow
    if (value == "+Inf")
      s.value = std::numeric_limits<double>::infinity();
    else if (value == "-Inf")
      s.value = -std::numeric_limits<double>::infinity();
    else if (value == "NaN")
      s.value = std::numeric_limits<double>::quiet_NaN();
    else if (std::from_chars(value.data(), value.data() + value.size(), s.value).ec != std::errc{})
      continue;
    out.push_back(std::move(s));
  }
  return out;
}

double histogram_quantile(double q, const std::vector<std::pair<double, double>>& buckets) {
  if (buckets.empty() || buckets.back().second <= 0)
    return 0;
  const double rank = q * buckets.back().second;
  double prev_le = 0;
  double prev_count = 0;
  for (const auto& [le, count] : buckets) {
    if (count >= rank) {
      if (std::isinf(le)) // beyond the last finite bound: that bound, as Prometheus answers
        return prev_le;
      if (count == prev_count)
        return le;
      return prev_le + (le - prev_le) * (rank - prev_count) / (count - prev_count);
    }
    prev_le = le;
    prev_count = count;
  }
  return prev_le;
}

std::string connections_json(const std::vector<actor_info>& actors, const std::vector<metric_sample>& m,
                             const std::vector<paused_symbol>& paused, std::int64_t now_ms) {
  std::map<std::string, json::object> ex; // by exchange name: sorted, stable for the page
  auto entry = [&](const std::string& name) -> json::object& {
    auto& o = ex[name];
    if (o.empty()) {
      o["exchange"] = name;
      o["connections"] = json::array{};
      o["symbols"] = json::array{};
      o["paused"] = json::array{};
      for (const auto& [key, metric] : exchange_counters)
        o[key] = 0;
    }
    return o;
  };
  for (const auto& a : actors) {
    if (a.kind != "connection")
      continue;
    json::object c{{"id", a.id},
                   {"name", a.name},
                   {"state", a.state},
                   {"handled", a.handled},
                   {"last_message_age_ms", a.last_ms > 0 ? json::value(now_ms - a.last_ms) : json::value(nullptr)},
                   {"last_error", a.last_error},
                   {"last_error_ms", a.last_error_ms}};
    entry(exchange_of(a.name))["connections"].as_array().push_back(std::move(c));
  }
  for (const auto& [key, metric] : exchange_counters)
    for (const auto& [name, v] : by_label(m, metric, "exchange"))
      if (!name.empty())
        entry(name)[key] = number(v);
  for (const auto& s : m)
    if (s.name == "mi_symbol_up")
      entry(label(s, "exchange"))["symbols"].as_array().push_back(
        json::object{{"symbol", label(s, "symbol")}, {"up", s.value > 0}});
  for (const auto& p : paused)
    entry(p.exchange)["paused"].as_array().push_back(json::object{{"symbol", p.symbol}, {"since_ms", p.since_ms}});
  json::array list;
  for (auto& [name, o] : ex)
    list.push_back(std::move(o));
  return json::serialize(json::object{{"exchanges", std::move(list)}}) + "\n";
}

std::string jetstream_json(const std::vector<stream_row>& streams, const std::vector<consumer_row>& consumers,
                           const std::vector<metric_sample>& m) {
  json::array ss;
  for (const auto& s : streams)
    ss.push_back(json::object{{"name", s.name},
                              {"messages", s.messages},
                              {"bytes", s.bytes},
                              {"first_seq", s.first_seq},
                              {"last_seq", s.last_seq},
                              {"error", s.error}});
  json::array cs;
  for (const auto& c : consumers)
    cs.push_back(json::object{{"stream", c.stream},
                              {"name", c.name},
                              {"pending", c.pending},
                              {"ack_pending", c.ack_pending},
                              {"lag", c.pending + c.ack_pending},
                              {"redelivered", c.redelivered}});
  json::object publish{{"in_flight", number(total(m, "mi_publish_in_flight"))},
                       {"retries", number(total(m, "mi_publish_retries_total"))},
                       {"failures", object_of(by_label(m, "mi_publish_failures_total", "stream"))}};
  return json::serialize(json::object{{"streams", std::move(ss)},
                                      {"consumers", std::move(cs)},
                                      {"dead_letters", object_of(by_label(m, "mi_dead_letters_total", "kind"))},
                                      {"publish", std::move(publish)}}) +
         "\n";
}

std::string database_json(const std::vector<actor_info>& actors, const std::vector<metric_sample>& m,
                          std::string_view partitions_json) {
  // Batch latency per table from the histogram: mean from _sum/_count, p99 from the buckets.
  std::map<std::string, std::vector<std::pair<double, double>>> buckets;
  for (const auto& s : m)
    if (s.name == "mi_batch_duration_seconds_bucket") {
      const auto le = label(s, "le");
      buckets[label(s, "table")].emplace_back(
        le == "+Inf" ? std::numeric_limits<double>::infinity() : std::strtod(le.c_str(), nullptr), s.value);
    }
  const auto sums = by_label(m, "mi_batch_duration_seconds_sum", "table");
  const auto counts = by_label(m, "mi_batch_duration_seconds_count", "table");
  const auto rows = by_label(m, "mi_rows_written_total", "table");
  const auto failures = by_label(m, "mi_batch_failures_total", "table");
  json::array tables;
  for (const auto& [table, count] : counts) {
    auto b = buckets[table];
    std::sort(b.begin(), b.end());
    const double sum = sums.count(table) ? sums.at(table) : 0;
    tables.push_back(json::object{{"table", table},
                                  {"rows", number(rows.count(table) ? rows.at(table) : 0)},
                                  {"batches", number(count)},
                                  {"batch_failures", number(failures.count(table) ? failures.at(table) : 0)},
                                  {"batch_mean_ms", count > 0 ? std::round(sum / count * 1e4) / 10 : 0.0},
                                  {"batch_p50_ms", std::round(histogram_quantile(0.5, b) * 1e4) / 10},
                                  {"batch_p99_ms", std::round(histogram_quantile(0.99, b) * 1e4) / 10}});
  }
  json::array savers;
  for (const auto& a : actors)
    if (a.kind == "batch_saver" || a.kind == "storage_maintainer" || a.kind == "coverage_saver")
      savers.push_back(json::object{{"id", a.id},
                                    {"name", a.name},
                                    {"kind", a.kind},
                                    {"state", a.state},
                                    {"handled", a.handled},
                                    {"last_error", a.last_error},
                                    {"last_error_ms", a.last_error_ms}});
  boost::system::error_code ec;
  auto parts = json::parse(partitions_json.empty() ? std::string_view("[]") : partitions_json, ec);
  if (ec)
    parts = json::array{};
  return json::serialize(json::object{
           {"savers", std::move(savers)},
           {"tables", std::move(tables)},
           {"api_database_up", number(total(m, "mi_api_database_up"))},
           {"default_partition_rows", object_of(by_label(m, "mi_partition_default_rows", "table"))},
           {"partitions", std::move(parts)},
           {"audit", json::object{{"checked", object_of(by_label(m, "mi_audit_checked", "kind"))},
                                  {"mismatches", object_of(by_label(m, "mi_audit_mismatches", "kind"))},
                                  {"last_run_s", number(total(m, "mi_audit_last_run_timestamp_seconds"))}}}}) +
         "\n";
}

std::string push_json(const std::vector<metric_sample>& m, std::string_view slowest_json) {
  boost::system::error_code ec;
  auto slowest = json::parse(slowest_json.empty() ? std::string_view("[]") : slowest_json, ec);
  if (ec)
    slowest = json::array{};
  return json::serialize(json::object{{"clients", number(total(m, "mi_push_clients"))},
                                      {"dropped", number(total(m, "mi_push_dropped_messages_total"))},
                                      {"rejections", object_of(by_label(m, "mi_push_rejections_total", "reason"))},
                                      {"sessions_failed", number(total(m, "mi_push_sessions_failed_total"))},
                                      {"slowest", std::move(slowest)}}) +
         "\n";
}

} // namespace mi::actors
