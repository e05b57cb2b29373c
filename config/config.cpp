#include "config/config.hpp"
#include "config/listen_address.hpp"
#include "messages/polled_venues.hpp"
#include "messages/util/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>
#include <utility>

#include <unistd.h> // environ
#include <yaml-cpp/yaml.h>

#include "messages/kline/interval.hpp"
#include "messages/document.hpp"
#include "messages/venue_registry.hpp"

namespace mi::cfg {
namespace {

using namespace std::chrono_literals;
using string_list = std::vector<std::string>;
using errors = std::vector<config_error>;

constexpr std::array<std::string_view, 4> test_faults{"", "kline_stage_throws", "symbol_window_throws_once",
                                                      "kline_reader_stalls_once"};

// The names of each closed set, in the enum's order (to_string indexes them).
constexpr std::array<std::string_view, 2> storage_names{"file", "memory"};
constexpr std::array<std::string_view, 2> late_names{"revise", "drop"};
constexpr std::array<std::string_view, 2> empty_window_names{"skip", "fill"};
constexpr std::array<std::string_view, 2> commit_names{"on", "off"};
constexpr std::array<std::string_view, 2> auth_names{"required", "off"};
constexpr std::array<std::string_view, 5> log_names{"trace", "debug", "info", "warn", "error"};
constexpr std::array<std::string_view, 2> log_format_names{"text", "json"};
constexpr std::array<std::string_view, 3> slow_names{"drop", "conflate", "disconnect"};
constexpr std::array<std::string_view, 2> scheduler_names{"sharing", "stealing"};
constexpr std::array<std::string_view, 2> kline_feed_names{"local", "stream"};
constexpr std::array<std::string_view, 2> ack_names{"batch", "each"};

constexpr const auto& names_of(stream_storage) { return storage_names; }
constexpr const auto& names_of(late_mode) { return late_names; }
constexpr const auto& names_of(empty_window_mode) { return empty_window_names; }
constexpr const auto& names_of(commit_mode) { return commit_names; }
constexpr const auto& names_of(auth_mode) { return auth_names; }
constexpr const auto& names_of(log_severity) { return log_names; }
constexpr const auto& names_of(log_format) { return log_format_names; }
constexpr const auto& names_of(slow_mode) { return slow_names; }
constexpr const auto& names_of(scheduler_policy) { return scheduler_names; }
constexpr const auto& names_of(kline_feed) { return kline_feed_names; }
constexpr const auto& names_of(ack_mode) { return ack_names; }

// ---------------------------------------------------------------------------------------------
// Schema: every leaf key with a pointer into a config. Loading (YAML and env), known_keys() and
// to_yaml() all walk this one table, so a key cannot be readable in one place and not another.

using slot = std::variant<std::string*, int*, std::int64_t*, bool*, duration*, string_list*, stream_storage*,
                          late_mode*, empty_window_mode*, commit_mode*, auth_mode*, log_severity*, log_format*,
                          slow_mode*, scheduler_policy*, kline_feed*, ack_mode*>;

struct leaf {
  std::string key;
  slot target;
};

void stream_leaves(std::vector<leaf>& out, const std::string& p, stream_config& s) {
  out.push_back({p + ".name", &s.name});
  out.push_back({p + ".storage", &s.storage});
  out.push_back({p + ".max_age", &s.max_age});
  out.push_back({p + ".max_bytes", &s.max_bytes});
  out.push_back({p + ".replicas", &s.replicas});
  out.push_back({p + ".duplicate_window", &s.duplicate_window});
}

void exchange_leaves(std::vector<leaf>& out, const std::string& p, exchange_config& e) {
  out.push_back({p + ".enabled", &e.enabled});
  out.push_back({p + ".ws_url", &e.ws_url});
  out.push_back({p + ".rest_url", &e.rest_url});
  out.push_back({p + ".stream", &e.stream});
  out.push_back({p + ".symbols", &e.symbols});
  out.push_back({p + ".connect_timeout", &e.connect_timeout});
  out.push_back({p + ".read_timeout", &e.read_timeout});
  out.push_back({p + ".reconnect.initial", &e.reconnect.initial});
  out.push_back({p + ".reconnect.max", &e.reconnect.max});
  out.push_back({p + ".reconnect.healthy_after", &e.reconnect.healthy_after});
  out.push_back({p + ".rotate_after", &e.rotate_after});
  out.push_back({p + ".silence_timeout", &e.silence_timeout});
  out.push_back({p + ".symbol_silence", &e.symbol_silence});
  out.push_back({p + ".backfill_max_trades", &e.backfill_max_trades});
  out.push_back({p + ".books.enabled", &e.books.enabled});
  out.push_back({p + ".books.depth", &e.books.depth});
  out.push_back({p + ".books.snapshot_interval", &e.books.snapshot_interval});
  out.push_back({p + ".rest_requests_per_minute", &e.rest_requests_per_minute});
  out.push_back({p + ".quotes", &e.quotes});
  out.push_back({p + ".statuses", &e.statuses});
  if (const auto* v = find_venue(p.substr(p.find('.') + 1)); v != nullptr && v->kind == venue_kind::equities_feed) {
    out.push_back({p + ".daily_job.enabled", &e.daily_job.enabled});
    out.push_back({p + ".daily_job.at", &e.daily_job.at});
    out.push_back({p + ".daily_job.backfill_days", &e.daily_job.backfill_days});
  }
}

void derivatives_leaves(std::vector<leaf>& out, const std::string& p, derivatives_config& d) {
  out.push_back({p + ".enabled", &d.enabled});
  out.push_back({p + ".ws_url", &d.ws_url});
  out.push_back({p + ".rest_url", &d.rest_url});
  out.push_back({p + ".symbols", &d.symbols});
  out.push_back({p + ".connect_timeout", &d.connect_timeout});
  out.push_back({p + ".read_timeout", &d.read_timeout});
  out.push_back({p + ".reconnect.initial", &d.reconnect.initial});
  out.push_back({p + ".reconnect.max", &d.reconnect.max});
  out.push_back({p + ".reconnect.healthy_after", &d.reconnect.healthy_after});
  out.push_back({p + ".open_interest_interval", &d.open_interest_interval});
}

/// The leaves of `c`; exchanges as present in c.exchanges (in known-exchange order first).
std::vector<leaf> leaves(config& c) {
  std::vector<leaf> out;
  out.push_back({"nats.url", &c.nats.url});
  for (const auto& e : stream_table)
    stream_leaves(out, "nats.streams." + std::string(e.key), c.nats.*e.member);
  out.push_back({"nats.max_in_flight", &c.nats.max_in_flight});
  out.push_back({"nats.ack_timeout", &c.nats.ack_timeout});
  out.push_back({"nats.connect_timeout", &c.nats.connect_timeout});
  out.push_back({"nats.kv_replicas", &c.nats.kv_replicas});
  out.push_back({"postgres.dsn", &c.postgres.dsn});
  for (const venue_info& v : venues()) {
    if (auto it = c.exchanges.find(std::string(v.name)); it != c.exchanges.end()) {
      exchange_leaves(out, "exchanges." + it->first, it->second);
    }
  }
  for (auto& [name, e] : c.exchanges) {
    if (find_venue(name) == nullptr) {
      exchange_leaves(out, "exchanges." + name, e);
    }
  }
  for (const derivatives_venue_info& v : derivatives_venues())
    if (auto it = c.derivatives.find(std::string(v.name)); it != c.derivatives.end())
      derivatives_leaves(out, "derivatives." + it->first, it->second);
  {
    auto& cn = c.equities.cn;
    out.push_back({"equities.cn.enabled", &cn.enabled});
    out.push_back({"equities.cn.symbols", &cn.symbols});
    out.push_back({"equities.cn.interval", &cn.interval});
    out.push_back({"equities.cn.jitter_percent", &cn.jitter_percent});
    out.push_back({"equities.cn.grace", &cn.grace});
    out.push_back({"equities.cn.sessions_only", &cn.sessions_only});
    for (auto [name, s] : {std::pair{"tencent", &cn.tencent}, {"sina", &cn.sina}, {"eastmoney", &cn.eastmoney}}) {
      const std::string p = std::string("equities.cn.sources.") + name;
      out.push_back({p + ".url", &s->url});
      out.push_back({p + ".requests_per_second", &s->requests_per_second});
      out.push_back({p + ".burst", &s->burst});
      out.push_back({p + ".batch_size", &s->batch_size});
      out.push_back({p + ".failure_threshold", &s->failure_threshold});
      out.push_back({p + ".open_for", &s->open_for});
      out.push_back({p + ".timeout", &s->timeout});
    }
    out.push_back({"equities.cn.daily_bars_after", &cn.daily_bars_after});
    out.push_back({"equities.cn.daily_bars_days", &cn.daily_bars_days});
  }
  out.push_back({"ingest.max_clock_skew", &c.ingest.max_clock_skew});
  out.push_back({"documents.user_agent", &c.documents.user_agent});
  for (const document_source_info& d : document_sources()) {
    if (auto it = c.documents.sources.find(std::string(d.name)); it != c.documents.sources.end()) {
      auto& s = it->second;
      const std::string p = "documents.sources." + it->first;
      out.push_back({p + ".enabled", &s.enabled});
      out.push_back({p + ".url", &s.url});
      out.push_back({p + ".interval", &s.interval});
      out.push_back({p + ".jitter_percent", &s.jitter_percent});
      out.push_back({p + ".requests_per_second", &s.requests_per_second});
      out.push_back({p + ".failure_threshold", &s.failure_threshold});
      out.push_back({p + ".open_for", &s.open_for});
      out.push_back({p + ".backfill_horizon", &s.backfill_horizon});
      out.push_back({p + ".timeout", &s.timeout});
      out.push_back({p + ".items", &s.items});
      if (!d.default_stream_url.empty())
        out.push_back({p + ".stream_url", &s.stream_url});
    }
  }
  out.push_back({"klines.intervals", &c.klines.intervals});
  out.push_back({"klines.grace", &c.klines.grace});
  out.push_back({"klines.partial_interval", &c.klines.partial_interval});
  out.push_back({"klines.late_policy", &c.klines.late_policy});
  out.push_back({"klines.empty_windows", &c.klines.empty_windows});
  out.push_back({"klines.idle_after", &c.klines.idle_after});
  out.push_back({"klines.partitions", &c.klines.partitions});
  out.push_back({"klines.lease_ttl", &c.klines.lease_ttl});
  out.push_back({"klines.feed", &c.klines.feed});
  out.push_back({"klines.feed_linger", &c.klines.feed_linger});
  out.push_back({"calendars.dir", &c.calendars.dir});
  out.push_back({"calendars.alpaca_refresh", &c.calendars.alpaca_refresh});
  out.push_back({"calendars.alpaca_url", &c.calendars.alpaca_url});
  out.push_back({"calendars.alpaca_refresh_every", &c.calendars.alpaca_refresh_every});
  out.push_back({"saver.batch_size", &c.saver.batch_size});
  out.push_back({"saver.batch_timeout", &c.saver.batch_timeout});
  out.push_back({"saver.max_attempts", &c.saver.max_attempts});
  out.push_back({"saver.synchronous_commit", &c.saver.synchronous_commit});
  out.push_back({"saver.trade_writers", &c.saver.trade_writers});
  out.push_back({"saver.acks", &c.saver.acks});
  out.push_back({"storage.partitions_ahead_days", &c.storage.partitions_ahead_days});
  out.push_back({"storage.retention_days_trades", &c.storage.retention_days_trades});
  out.push_back({"storage.retention_months_klines", &c.storage.retention_months_klines});
  out.push_back({"storage.retention_months_books", &c.storage.retention_months_books});
  out.push_back({"storage.retention_months_quotes", &c.storage.retention_months_quotes});
  out.push_back({"storage.retention_months_derivatives", &c.storage.retention_months_derivatives});
  out.push_back({"storage.books.enabled", &c.storage.books.enabled});
  out.push_back({"storage.books.depth", &c.storage.books.depth});
  out.push_back({"storage.books.bbo_interval", &c.storage.books.bbo_interval});
  out.push_back({"storage.books.snapshot_interval", &c.storage.books.snapshot_interval});
  out.push_back({"storage.maintenance_interval", &c.storage.maintenance_interval});
  out.push_back({"audit.interval", &c.audit.interval});
  out.push_back({"push.listen", &c.push.listen});
  out.push_back({"push.queue_size", &c.push.queue_size});
  out.push_back({"push.max_connections", &c.push.max_connections});
  out.push_back({"push.client_rate", &c.push.client_rate});
  out.push_back({"push.client_burst", &c.push.client_burst});
  out.push_back({"push.max_message_bytes", &c.push.max_message_bytes});
  out.push_back({"push.max_channels", &c.push.max_channels});
  out.push_back({"push.key_check_interval", &c.push.key_check_interval});
  out.push_back({"push.queue_bytes", &c.push.queue_bytes});
  out.push_back({"push.slow.kline", &c.push.slow_kline});
  out.push_back({"push.slow.trade", &c.push.slow_trade});
  out.push_back({"push.slow.bbo", &c.push.slow_bbo});
  out.push_back({"push.disconnect_after", &c.push.disconnect_after});
  out.push_back({"push.io_threads", &c.push.io_threads});
  out.push_back({"push.idle_timeout", &c.push.idle_timeout});
  out.push_back({"push.compression", &c.push.compression});
  out.push_back({"push.send_buffer", &c.push.send_buffer});
  out.push_back({"push.resume_max", &c.push.resume_max});
  out.push_back({"api.listen", &c.api.listen});
  out.push_back({"api.auth", &c.api.auth});
  out.push_back({"api.timestamp_window", &c.api.timestamp_window});
  out.push_back({"api.default_quota_per_minute", &c.api.default_quota_per_minute});
  out.push_back({"api.anonymous_push", &c.api.anonymous_push});
  out.push_back({"api.workers", &c.api.workers});
  out.push_back({"api.master_key_file", &c.api.master_key_file});
  out.push_back({"api.max_connections", &c.api.max_connections});
  out.push_back({"api.statement_timeout", &c.api.statement_timeout});
  out.push_back({"api.pool_wait", &c.api.pool_wait});
  out.push_back({"metrics.listen", &c.metrics.listen});
  out.push_back({"admin.listen", &c.admin.listen});
  out.push_back({"admin.token", &c.admin.token});
  out.push_back({"log.format", &c.log.format});
  out.push_back({"runtime.scheduler_threads", &c.runtime.scheduler_threads});
  out.push_back({"runtime.scheduler_policy", &c.runtime.policy});
  out.push_back({"runtime.log_level", &c.runtime.log_level});
  out.push_back({"runtime.node_id", &c.runtime.node_id});
  out.push_back({"supervision.initial_backoff", &c.supervision.initial_backoff});
  out.push_back({"supervision.max_backoff", &c.supervision.max_backoff});
  out.push_back({"supervision.reset_after", &c.supervision.reset_after});
  out.push_back({"supervision.max_restarts", &c.supervision.max_restarts});
  out.push_back({"supervision.restart_window", &c.supervision.restart_window});
  out.push_back({"testing.fault", &c.testing.fault});
  out.push_back({"testing.fault_after_trades", &c.testing.fault_after_trades});
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small text helpers.

std::string quote(std::string_view s) { return "'" + std::string(s) + "'"; }

// exchanges.<name> that is no streamed venue; a polled one (cn) has its own section.
std::string unknown_exchange(std::string_view name) {
  if (const auto* p = find_polled_venue(name))
    return quote(name) + " is a polled venue: configure it under " + std::string(p->config_section) + ", not exchanges";
  return "unknown exchange " + quote(name) + " (known: " + venue_names_joined() + ")";
}

using mi::util::trim;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& items) {
  std::string out;
  for (auto item : items) {
    if (!out.empty())
      out += ", ";
    out += item;
  }
  return out;
}

template <std::size_t N>
bool one_of(std::string_view v, const std::array<std::string_view, N>& items) {
  return std::find(items.begin(), items.end(), v) != items.end();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

/// " (did you mean 'x'?)" for the closest candidate within 2 edits, else "".
std::string suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::size_t best = 3;
  std::string_view pick;
  for (const auto& c : candidates) {
    auto d = edit_distance(lower(word), lower(c));
    if (d < best) {
      best = d;
      pick = c;
    }
  }
  return pick.empty() ? std::string() : " (did you mean " + quote(pick) + "?)";
}

// ---------------------------------------------------------------------------------------------
// Scalar conversion (shared by YAML scalars and environment values).

mi::result<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  auto s = trim(text);
  if (s.empty())
    return mi::error{"expected an integer, got nothing"};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range)
    return mi::error{"integer " + quote(s) + " out of range"};
  if (ec != std::errc() || p != s.data() + s.size()) {
    return mi::error{"expected an integer, got " + quote(s)};
  }
  return v;
}

mi::result<bool> parse_bool(std::string_view text) {
  auto s = lower(trim(text));
  if (s == "true" || s == "yes" || s == "on" || s == "1")
    return true;
  if (s == "false" || s == "no" || s == "off" || s == "0")
    return false;
  return mi::error{"expected true or false, got " + quote(text)};
}

/// Assigns one scalar text to a slot; an error message on failure (the slot is left unchanged).
std::optional<std::string> assign_scalar(const slot& target, std::string_view text) {
  return std::visit(
    [&](auto* p) -> std::optional<std::string> {
      using T = std::remove_pointer_t<decltype(p)>;
      if constexpr (std::is_same_v<T, std::string>) {
        *p = std::string(text);
      } else if constexpr (std::is_same_v<T, bool>) {
        auto r = parse_bool(text);
        if (!r)
          return r.err().message;
        *p = *r;
      } else if constexpr (std::is_same_v<T, int>) {
        auto r = parse_int(text);
        if (!r)
          return r.err().message;
        if (*r < std::numeric_limits<int>::min() || *r > std::numeric_limits<int>::max()) {
          return "integer " + quote(trim(text)) + " out of range";
        }
        *p = static_cast<int>(*r);
      } else if constexpr (std::is_same_v<T, std::int64_t>) {
        auto r = parse_int(text);
        if (!r)
          return r.err().message;
        *p = *r;
      } else if constexpr (std::is_same_v<T, duration>) {
        auto r = parse_duration(trim(text));
        if (!r)
          return r.err().message;
        *p = *r;
      } else if constexpr (std::is_enum_v<T>) {
        const auto& names = names_of(T{});
        auto it = std::find(names.begin(), names.end(), text);
        if (it == names.end())
          return "must be one of " + join(names) + ", got " + quote(text);
        *p = static_cast<T>(it - names.begin());
      } else {
        // string_list from one text: comma-separated (environment form).
        string_list items;
        std::string_view rest = text;
        while (true) {
          auto comma = rest.find(',');
          auto item = trim(rest.substr(0, comma));
          if (!item.empty())
            items.emplace_back(item);
          if (comma == std::string_view::npos)
            break;
          rest.remove_prefix(comma + 1);
        }
        *p = std::move(items);
      }
      return std::nullopt;
    },
    target);
}

std::string type_name(const slot& target) {
  return std::visit(
    [](auto* p) -> std::string {
      using T = std::remove_pointer_t<decltype(p)>;
      if constexpr (std::is_same_v<T, std::string>)
        return "a string";
      else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::int64_t>)
        return "an integer";
      else if constexpr (std::is_same_v<T, bool>)
        return "true or false";
      else if constexpr (std::is_same_v<T, duration>)
        return "a duration (e.g. 500ms, 2s, 1m, 1h, 7d)";
      else if constexpr (std::is_enum_v<T>)
        return "one of " + join(names_of(T{}));
      else
        return "a list";
    },
    target);
}

// ---------------------------------------------------------------------------------------------
// YAML walking.

std::string node_kind(const YAML::Node& n) {
  switch (n.Type()) {
  case YAML::NodeType::Map:
    return "a mapping";
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Null:
    return "nothing";
  case YAML::NodeType::Scalar:
    return "the scalar " + quote(n.Scalar());
  default:
    return "an undefined node";
  }
}

std::string at_line(const YAML::Node& n) {
  auto m = n.Mark();
  if (m.is_null())
    return "";
  return " (line " + std::to_string(m.line + 1) + ")";
}

struct schema {
  config cfg = defaults();
  std::vector<leaf> all = leaves(cfg);
  std::map<std::string, slot> by_key;
  std::set<std::string> sections;                           // every proper prefix of a leaf key
  std::map<std::string, std::vector<std::string>> children; // section ("" = root) -> child names

  schema() {
    for (auto& l : all) {
      by_key.emplace(l.key, l.target);
      std::string_view key = l.key;
      std::string parent;
      std::size_t start = 0;
      while (true) {
        auto dot = key.find('.', start);
        auto name = std::string(key.substr(start, dot == std::string_view::npos ? dot : dot - start));
        auto& kids = children[parent];
        if (std::find(kids.begin(), kids.end(), name) == kids.end())
          kids.push_back(name);
        if (dot == std::string_view::npos)
          break;
        parent = std::string(key.substr(0, dot));
        sections.insert(parent);
        start = dot + 1;
      }
    }
  }
};

void assign_node(const slot& target, const YAML::Node& v, const std::string& key, errors& out) {
  auto wrong = [&] {
    out.push_back({key, "expected " + std::string(type_name(target)) + ", got " + node_kind(v) + at_line(v)});
  };
  if (std::holds_alternative<string_list*>(target)) {
    if (!v.IsSequence())
      return wrong();
    string_list items;
    bool ok = true;
    std::size_t i = 0;
    for (const auto& item : v) {
      if (!item.IsScalar()) {
        out.push_back(
          {key + "[" + std::to_string(i) + "]", "expected a string, got " + node_kind(item) + at_line(item)});
        ok = false;
      } else {
        items.push_back(item.Scalar());
      }
      ++i;
    }
    if (ok)
      *std::get<string_list*>(target) = std::move(items);
    return;
  }
  if (!v.IsScalar())
    return wrong();
  if (auto msg = assign_scalar(target, v.Scalar()))
    out.push_back({key, *msg + at_line(v)});
}

void walk(const schema& s, const YAML::Node& node, const std::string& prefix, errors& out) {
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      out.push_back({prefix, "a key must be a plain name, got " + node_kind(kv.first) + at_line(kv.first)});
      continue;
    }
    const std::string& name = kv.first.Scalar();
    const std::string full = prefix.empty() ? name : prefix + "." + name;
    if (!seen.insert(name).second) {
      out.push_back({full, "duplicate key" + at_line(kv.first)});
      continue;
    }
    if (auto it = s.by_key.find(full); it != s.by_key.end()) {
      assign_node(it->second, kv.second, full, out);
    } else if (s.sections.count(full)) {
      if (kv.second.IsNull())
        continue; // "section:" with nothing under it keeps the defaults
      if (!kv.second.IsMap()) {
        out.push_back({full, "expected a mapping, got " + node_kind(kv.second) + at_line(kv.second)});
        continue;
      }
      walk(s, kv.second, full, out);
    } else if (name == "subjects" && prefix.rfind("nats.streams.", 0) == 0) {
      out.push_back({full, "not configurable: a stream's subjects are the public contract (market.raw.>, "
                           "market.kline.>, ...); remove this key" +
                             at_line(kv.first)});
    } else if (prefix == "exchanges") {
      out.push_back({full, unknown_exchange(name) + at_line(kv.first)});
    } else {
      auto kids = s.children.find(prefix);
      out.push_back({full, "unknown key" +
                             suggest(name, kids == s.children.end() ? std::vector<std::string>{} : kids->second) +
                             at_line(kv.first)});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Validation helpers: each appends an error naming the offending value.

struct checker {
  errors& out;

  void fail(const std::string& key, std::string message) { out.push_back({key, std::move(message)}); }

  void positive(const std::string& key, duration d) {
    if (d <= duration::zero())
      fail(key, "must be greater than 0, got " + format_duration(d));
  }
  void non_negative(const std::string& key, duration d) {
    if (d < duration::zero())
      fail(key, "must not be negative, got " + format_duration(d));
  }
  void range(const std::string& key, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi) {
      fail(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(v));
    }
  }
  template <std::size_t N>
  void member(const std::string& key, const std::string& v, const std::array<std::string_view, N>& set) {
    if (!one_of(v, set))
      fail(key, "must be one of " + join(set) + ", got " + quote(v));
  }
  /// url: starts with one of `schemes` and has a host after it.
  void url(const std::string& key, std::string_view v, std::initializer_list<std::string_view> schemes) {
    for (auto scheme : schemes) {
      if (v.substr(0, scheme.size()) == scheme) {
        auto rest = v.substr(scheme.size());
        auto host_end = rest.find_first_of(":/?#");
        if (rest.substr(0, host_end).empty())
          fail(key, "URL " + quote(v) + " has no host");
        else if (v.find_first_of(" \t\r\n") != std::string_view::npos)
          fail(key, "URL " + quote(v) + " contains whitespace");
        return;
      }
    }
    std::string list;
    for (auto scheme : schemes)
      list += (list.empty() ? "" : " or ") + std::string(scheme);
    fail(key, "URL " + quote(v) + " must start with " + list);
  }
  void listen(const std::string& key, std::string_view v) {
    if (auto a = parse_listen_address(v); !a)
      fail(key, a.err().message);
  }
};

bool is_symbol_part(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; });
}

void validate_stream(checker& ck, const std::string& p, const stream_config& s) {
  if (s.name.empty() || !std::all_of(s.name.begin(), s.name.end(), [](char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
      })) {
    ck.fail(p + ".name", "stream name must be non-empty A-Z 0-9 _ -, got " + quote(s.name));
  }
  ck.non_negative(p + ".max_age", s.max_age);
  if (s.max_bytes != -1 && s.max_bytes <= 0) {
    ck.fail(p + ".max_bytes", "must be -1 (unlimited) or greater than 0, got " + std::to_string(s.max_bytes));
  }
  ck.range(p + ".replicas", s.replicas, 1, 5);
  ck.positive(p + ".duplicate_window", s.duplicate_window);
  // JetStream refuses a duplicate window longer than the retention.
  if (s.max_age > duration::zero() && s.duplicate_window > s.max_age) {
    ck.fail(p + ".duplicate_window",
            "must not exceed max_age (" + format_duration(s.max_age) + "), got " + format_duration(s.duplicate_window));
  }
}

void validate_exchange(checker& ck, const std::string& name, const exchange_config& e) {
  const std::string p = "exchanges." + name;
  if (find_venue(name) == nullptr) {
    ck.fail(p, unknown_exchange(name));
    return;
  }
  ck.url(p + ".ws_url", e.ws_url, {"ws://", "wss://"});
  ck.url(p + ".rest_url", e.rest_url, {"http://", "https://"});
  ck.member(p + ".stream", e.stream, std::array<std::string_view, 2>{"trade", "aggTrade"});
  if (e.stream == "aggTrade" && name != "binance") {
    ck.fail(p + ".stream", "'aggTrade' is only offered by binance, got it for " + quote(name));
  }
  if (e.enabled && e.symbols.empty())
    ck.fail(p + ".symbols", "must not be empty when the exchange is enabled");
  std::set<std::string> seen;
  // Equities feeds name a symbol by its ticker alone ("AAPL", "BRK.B"); the others by BASE/QUOTE.
  const bool equities = find_venue(name)->kind == venue_kind::equities_feed;
  for (const auto& sym : e.symbols) {
    auto slash = sym.find('/');
    const bool ticker = equities && slash == std::string::npos && !sym.empty() && sym.size() <= 16 &&
                        std::all_of(sym.begin(), sym.end(), [](char ch) {
                          return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.';
                        });
    if (ticker) {
      if (!seen.insert(lower(sym)).second)
        ck.fail(p + ".symbols", "duplicate symbol " + quote(sym));
    } else if (slash == std::string::npos || !is_symbol_part(std::string_view(sym).substr(0, slash)) ||
               !is_symbol_part(std::string_view(sym).substr(slash + 1))) {
      ck.fail(p + ".symbols", "symbol " + quote(sym) +
                                (equities ? " must be a ticker (A-Z, 0-9, '.'), e.g. 'AAPL'"
                                          : " must be BASE/QUOTE (letters and digits), e.g. 'BTC/USDT'"));
    } else if (!seen.insert(lower(sym)).second) {
      ck.fail(p + ".symbols", "duplicate symbol " + quote(sym));
    }
  }
  ck.positive(p + ".connect_timeout", e.connect_timeout);
  ck.positive(p + ".read_timeout", e.read_timeout);
  ck.positive(p + ".reconnect.initial", e.reconnect.initial);
  ck.positive(p + ".reconnect.max", e.reconnect.max);
  if (e.reconnect.max < e.reconnect.initial) {
    ck.fail(p + ".reconnect.max", "must not be less than reconnect.initial (" + format_duration(e.reconnect.initial) +
                                    "), got " + format_duration(e.reconnect.max));
  }
  ck.positive(p + ".reconnect.healthy_after", e.reconnect.healthy_after);
  ck.positive(p + ".rotate_after", e.rotate_after);
  ck.positive(p + ".silence_timeout", e.silence_timeout);
  ck.non_negative(p + ".symbol_silence", e.symbol_silence);
  if (e.backfill_max_trades < 0 || e.backfill_max_trades > 10'000'000) {
    ck.fail(p + ".backfill_max_trades", "must be 0..10000000, got " + std::to_string(e.backfill_max_trades));
  }
  ck.range(p + ".books.depth", e.books.depth, 1, 1000);
  if (e.books.snapshot_interval < std::chrono::seconds(1) || e.books.snapshot_interval > std::chrono::hours(1))
    ck.fail(p + ".books.snapshot_interval", "must be 1s..1h, got " + format_duration(e.books.snapshot_interval));
  if (e.rest_requests_per_minute < 0 || e.rest_requests_per_minute > 60'000) {
    ck.fail(p + ".rest_requests_per_minute",
            "must be 0..60000 (0: the exchange's documented limit), got " + std::to_string(e.rest_requests_per_minute));
  }
  if (equities) {
    const auto& at = e.daily_job.at;
    const bool hhmm =
      at.size() == 5 && at[2] == ':' && std::isdigit(static_cast<unsigned char>(at[0])) &&
      std::isdigit(static_cast<unsigned char>(at[1])) && std::isdigit(static_cast<unsigned char>(at[3])) &&
      std::isdigit(static_cast<unsigned char>(at[4])) && at.substr(0, 2) <= "23" && at.substr(3, 2) <= "59";
    if (!hhmm)
      ck.fail(p + ".daily_job.at", "must be HH:MM (00:00..23:59, the market's local time), got " + quote(at));
    ck.range(p + ".daily_job.backfill_days", e.daily_job.backfill_days, 0, 3650);
    if (e.daily_job.enabled && !e.enabled)
      ck.fail(p + ".daily_job.enabled", "needs the exchange enabled (its symbols are the job's universe)");
  }
}

exchange_config make_exchange(bool enabled, std::string ws, std::string rest, string_list symbols) {
  exchange_config e;
  e.enabled = enabled;
  e.ws_url = std::move(ws);
  e.rest_url = std::move(rest);
  e.symbols = std::move(symbols);
  return e;
}

void emit_scalar(std::ostream& os, const slot& target) {
  std::visit(
    [&](auto* p) {
      using T = std::remove_pointer_t<decltype(p)>;
      if constexpr (std::is_same_v<T, std::string>) {
        YAML::Emitter e;
        e << YAML::DoubleQuoted << *p;
        os << e.c_str();
      } else if constexpr (std::is_enum_v<T>) {
        YAML::Emitter e;
        e << YAML::DoubleQuoted << std::string(to_string(*p));
        os << e.c_str();
      } else if constexpr (std::is_same_v<T, bool>) {
        os << (*p ? "true" : "false");
      } else if constexpr (std::is_same_v<T, duration>) {
        os << format_duration(*p);
      } else if constexpr (std::is_same_v<T, string_list>) {
        os << '[';
        for (std::size_t i = 0; i < p->size(); ++i) {
          YAML::Emitter e;
          e << YAML::DoubleQuoted << (*p)[i];
          os << (i ? ", " : "") << e.c_str();
        }
        os << ']';
      } else {
        os << *p;
      }
    },
    target);
}

} // namespace

// -------------------------------------------------------------------------------------------------

std::string_view to_string(stream_storage v) { return storage_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(late_mode v) { return late_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(empty_window_mode v) { return empty_window_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(commit_mode v) { return commit_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(auth_mode v) { return auth_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(log_severity v) { return log_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(log_format v) { return log_format_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(scheduler_policy v) { return scheduler_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(kline_feed v) { return kline_feed_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(ack_mode v) { return ack_names.at(static_cast<std::size_t>(v)); }
std::string_view to_string(slow_mode v) { return slow_names.at(static_cast<std::size_t>(v)); }

config defaults() {
  config c;
  for (const venue_info& v : venues()) {
    c.exchanges[std::string(v.name)] =
      make_exchange(v.enabled_by_default, std::string(v.ws_url), std::string(v.rest_url), default_symbols(v));
  }
  for (const derivatives_venue_info& v : derivatives_venues()) {
    derivatives_config d;
    d.ws_url = std::string(v.ws_url);
    d.rest_url = std::string(v.rest_url);
    d.symbols =
      default_symbols(venue_info{v.name, venue_kind::crypto_exchange, false, v.ws_url, v.rest_url, v.symbols});
    c.derivatives[std::string(v.name)] = d;
  }
  for (const document_source_info& d : document_sources()) {
    document_source_config s;
    s.url = std::string(d.default_url);
    s.stream_url = std::string(d.default_stream_url);
    if (d.name == "sec")
      s.requests_per_second = 10;
    c.documents.sources[std::string(d.name)] = s;
  }
  return c;
}

duration min_restart_window(duration initial, duration max, int restarts) {
  duration sum{0};
  auto b = initial;
  for (int k = 0; k < restarts; ++k) {
    sum += b;
    b = std::min(b * 2, max);
  }
  return sum;
}

mi::result<duration> parse_duration(std::string_view text) {
  if (text.empty())
    return mi::error{"empty duration (expected e.g. 500ms, 2s, 1m, 1h, 7d)"};
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0) {
    return mi::error{"bad duration " + quote(text) + ": expected a whole number and a unit (ms, s, m, h, d)"};
  }
  auto unit = text.substr(digits);
  std::int64_t per = 0;
  if (unit == "ms")
    per = 1;
  else if (unit == "s")
    per = 1000;
  else if (unit == "m")
    per = 60'000;
  else if (unit == "h")
    per = 3'600'000;
  else if (unit == "d")
    per = 86'400'000;
  else if (unit.empty()) {
    return mi::error{"bad duration " + quote(text) + ": missing unit (ms, s, m, h, d)"};
  } else {
    return mi::error{"bad duration " + quote(text) + ": unknown unit " + quote(unit) + " (ms, s, m, h, d)"};
  }
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + digits, n);
  (void)p;
  if (ec != std::errc() || n > std::numeric_limits<std::int64_t>::max() / per) {
    return mi::error{"bad duration " + quote(text) + ": too large"};
  }
  return duration(n * per);
}

std::string format_duration(duration d) {
  auto ms = d.count();
  if (ms == 0)
    return "0s";
  struct unit {
    std::int64_t per;
    const char* name;
  };
  for (auto u : {unit{86'400'000, "d"}, unit{3'600'000, "h"}, unit{60'000, "m"}, unit{1000, "s"}}) {
    if (ms % u.per == 0)
      return std::to_string(ms / u.per) + u.name;
  }
  return std::to_string(ms) + "ms";
}

std::vector<config_error> validate(const config& c) {
  errors out;
  checker ck{out};

  // nats.url may list several servers, comma-separated (cluster seeds).
  {
    std::string_view rest = c.nats.url;
    if (trim(rest).empty())
      ck.fail("nats.url", "must not be empty");
    while (!trim(rest).empty()) {
      auto comma = rest.find(',');
      ck.url("nats.url", trim(rest.substr(0, comma)), {"nats://", "tls://"});
      if (comma == std::string_view::npos)
        break;
      rest.remove_prefix(comma + 1);
    }
  }
  // Each stream valid, and no two streams of the platform share a name (they would share their messages).
  std::set<std::string, std::less<>> stream_names;
  for (const auto& e : stream_table) {
    const std::string p = "nats.streams." + std::string(e.key);
    const auto& st = c.nats.*e.member;
    validate_stream(ck, p, st);
    if (!stream_names.insert(st.name).second)
      ck.fail(p + ".name", "must differ from the other stream names, got " + quote(st.name));
  }
  for (const auto& [name, d] : c.derivatives) {
    const std::string p = "derivatives." + name;
    ck.url(p + ".ws_url", d.ws_url, {"ws://", "wss://"});
    ck.url(p + ".rest_url", d.rest_url, {"http://", "https://"});
    if (d.enabled && d.symbols.empty())
      ck.fail(p + ".symbols", "must not be empty when the venue is enabled");
    for (const auto& sym : d.symbols) {
      auto slash = sym.find('/');
      if (slash == std::string::npos || !is_symbol_part(std::string_view(sym).substr(0, slash)) ||
          !is_symbol_part(std::string_view(sym).substr(slash + 1)))
        ck.fail(p + ".symbols", "symbol " + quote(sym) + " must be BASE/QUOTE (letters and digits), e.g. 'BTC/USDT'");
    }
    ck.positive(p + ".connect_timeout", d.connect_timeout);
    ck.positive(p + ".read_timeout", d.read_timeout);
    ck.positive(p + ".reconnect.initial", d.reconnect.initial);
    if (d.reconnect.max < d.reconnect.initial)
      ck.fail(p + ".reconnect.max", "must be at least reconnect.initial");
    if (d.open_interest_interval < std::chrono::seconds(1) || d.open_interest_interval > std::chrono::hours(1))
      ck.fail(p + ".open_interest_interval", "must be 1s..1h, got " + format_duration(d.open_interest_interval));
  }
  for (const auto& [name, s] : c.documents.sources) {
    const std::string p = "documents.sources." + name;
    ck.url(p + ".url", s.url, {"http://", "https://"});
    if (!s.stream_url.empty())
      ck.url(p + ".stream_url", s.stream_url, {"ws://", "wss://"});
    if (s.interval < std::chrono::seconds(1) || s.interval > std::chrono::hours(24))
      ck.fail(p + ".interval", "must be 1s..1d, got " + format_duration(s.interval));
    ck.range(p + ".jitter_percent", s.jitter_percent, 0, 50);
    ck.range(p + ".requests_per_second", s.requests_per_second, 1, name == "sec" ? 10 : 100);
    ck.range(p + ".failure_threshold", s.failure_threshold, 1, 100);
    ck.positive(p + ".open_for", s.open_for);
    ck.positive(p + ".backfill_horizon", s.backfill_horizon);
    ck.positive(p + ".timeout", s.timeout);
    if (s.enabled && name == "sec" && c.documents.user_agent.find('@') == std::string::npos)
      ck.fail("documents.user_agent", "SEC requires a User-Agent with a contact e-mail (\"Company admin@example.com\") "
                                      "when documents.sources.sec is enabled, got " +
                                        quote(c.documents.user_agent));
    if (s.enabled && s.items.empty() && (name == "rss" || name == "reddit" || name == "cninfo"))
      ck.fail(p + ".items", "must not be empty when the source is enabled");
  }
  {
    const auto& cn = c.equities.cn;
    std::set<std::string> seen;
    // The venue's symbol form (connectors/cn/symbols.hpp parse_symbol): six digits, then .SH or .SZ.
    for (const auto& sym : cn.symbols) {
      const bool ok = sym.size() == 9 && (sym.ends_with(".SH") || sym.ends_with(".SZ")) &&
                      std::all_of(sym.begin(), sym.begin() + 6, [](char ch) { return ch >= '0' && ch <= '9'; });
      if (!ok)
        ck.fail("equities.cn.symbols", "symbol " + quote(sym) + " must be six digits and .SH or .SZ, e.g. '600000.SH'");
      else if (!seen.insert(sym).second)
        ck.fail("equities.cn.symbols", "duplicate symbol " + quote(sym));
    }
    if (cn.enabled && cn.symbols.empty())
      ck.fail("equities.cn.symbols", "must not be empty when equities.cn is enabled");
    if (cn.interval < std::chrono::seconds(1) || cn.interval > std::chrono::hours(1))
      ck.fail("equities.cn.interval", "must be 1s..1h, got " + format_duration(cn.interval));
    ck.range("equities.cn.jitter_percent", cn.jitter_percent, 0, 50);
    ck.non_negative("equities.cn.grace", cn.grace);
    for (auto [name, s] : {std::pair{"tencent", &cn.tencent}, {"sina", &cn.sina}, {"eastmoney", &cn.eastmoney}}) {
      const std::string p = std::string("equities.cn.sources.") + name;
      ck.url(p + ".url", s->url, {"http://", "https://"});
      ck.range(p + ".requests_per_second", s->requests_per_second, 1, 50);
      ck.range(p + ".burst", s->burst, 1, 50);
      ck.range(p + ".batch_size", s->batch_size, 1, 800);
      ck.range(p + ".failure_threshold", s->failure_threshold, 1, 100);
      ck.positive(p + ".open_for", s->open_for);
      ck.positive(p + ".timeout", s->timeout);
    }
    ck.non_negative("equities.cn.daily_bars_after", cn.daily_bars_after);
    ck.range("equities.cn.daily_bars_days", cn.daily_bars_days, 1, 3650);
  }
  if (c.ingest.max_clock_skew < std::chrono::seconds(1) || c.ingest.max_clock_skew > std::chrono::hours(24))
    ck.fail("ingest.max_clock_skew", "must be 1s..1d, got " + format_duration(c.ingest.max_clock_skew));
  ck.range("nats.max_in_flight", c.nats.max_in_flight, 1, 1'000'000);
  ck.positive("nats.ack_timeout", c.nats.ack_timeout);
  ck.positive("nats.connect_timeout", c.nats.connect_timeout);
  ck.range("nats.kv_replicas", c.nats.kv_replicas, 1, 5);

  if (trim(c.postgres.dsn).empty())
    ck.fail("postgres.dsn", "must not be empty");

  for (const auto& [name, e] : c.exchanges)
    validate_exchange(ck, name, e);

  if (c.klines.intervals.empty())
    ck.fail("klines.intervals", "must not be empty");
  {
    std::set<std::string> seen;
    for (const auto& iv : c.klines.intervals) {
      if (!kline_engine::parse_interval(iv)) {
        ck.fail("klines.intervals",
                "unknown interval " + quote(iv) + " (known: " + kline_engine::interval_names(", ") + ")");
      } else if (!seen.insert(iv).second) {
        ck.fail("klines.intervals", "duplicate interval " + quote(iv));
      }
    }
  }
  ck.non_negative("klines.grace", c.klines.grace);
  ck.positive("klines.partial_interval", c.klines.partial_interval);
  ck.range("klines.partitions", c.klines.partitions, 1, 1024);
  if (c.klines.lease_ttl < std::chrono::seconds(3) || c.klines.lease_ttl > std::chrono::seconds(60))
    ck.fail("klines.lease_ttl", "must be in 3s..60s, got " + format_duration(c.klines.lease_ttl));
  if (c.klines.feed_linger.count() < 0 || c.klines.feed_linger > std::chrono::milliseconds(50))
    ck.fail("klines.feed_linger", "must be in 0ms..50ms, got " + format_duration(c.klines.feed_linger));
  if (c.calendars.alpaca_refresh_every.count() != 0 && c.calendars.alpaca_refresh_every < std::chrono::seconds(1))
    ck.fail("calendars.alpaca_refresh_every",
            "must be 0 (at start only) or at least 1s, got " + format_duration(c.calendars.alpaca_refresh_every));

  ck.range("saver.batch_size", c.saver.batch_size, 1, 100'000);
  ck.positive("saver.batch_timeout", c.saver.batch_timeout);
  ck.range("saver.max_attempts", c.saver.max_attempts, 1, 1000);
  ck.range("saver.trade_writers", c.saver.trade_writers, 1, 16);
  if (c.saver.trade_writers > 1 && c.saver.trade_writers <= 16 && c.saver.acks == ack_mode::batch) // in range, shared
    ck.fail("saver.trade_writers",
            "more than 1 trade writer shares one durable consumer: needs saver.acks: each (got " +
              std::to_string(c.saver.trade_writers) + " with acks: batch)");
  ck.range("storage.partitions_ahead_days", c.storage.partitions_ahead_days, 0, 366);
  ck.range("storage.retention_days_trades", c.storage.retention_days_trades, 0, 1'000'000);
  ck.range("storage.retention_months_klines", c.storage.retention_months_klines, 0, 100'000);
  ck.range("storage.retention_months_books", c.storage.retention_months_books, 0, 100'000);
  ck.range("storage.retention_months_quotes", c.storage.retention_months_quotes, 0, 100'000);
  ck.range("storage.retention_months_derivatives", c.storage.retention_months_derivatives, 0, 100'000);
  ck.range("storage.books.depth", c.storage.books.depth, 1, 1000);
  if (c.storage.books.bbo_interval < std::chrono::seconds(1) || c.storage.books.bbo_interval > std::chrono::hours(1))
    ck.fail("storage.books.bbo_interval", "must be 1s..1h, got " + format_duration(c.storage.books.bbo_interval));
  if (c.storage.books.snapshot_interval < std::chrono::seconds(1) ||
      c.storage.books.snapshot_interval > std::chrono::hours(24))
    ck.fail("storage.books.snapshot_interval",
            "must be 1s..1d, got " + format_duration(c.storage.books.snapshot_interval));
  ck.positive("storage.maintenance_interval", c.storage.maintenance_interval);
  ck.non_negative("audit.interval", c.audit.interval);

  ck.listen("push.listen", c.push.listen);
  ck.range("push.queue_size", c.push.queue_size, 1, 1'000'000);
  ck.range("push.max_connections", c.push.max_connections, 1, 1'000'000);
  ck.range("push.client_rate", c.push.client_rate, 1, 100'000);
  ck.range("push.client_burst", c.push.client_burst, 1, 100'000);
  ck.range("push.max_message_bytes", c.push.max_message_bytes, 256, 16 * 1024 * 1024);
  ck.range("push.max_channels", c.push.max_channels, 1, 10'000);
  ck.positive("push.key_check_interval", c.push.key_check_interval);
  ck.range("push.queue_bytes", c.push.queue_bytes, std::int64_t{1024}, std::int64_t{1} << 30);
  ck.range("push.disconnect_after", c.push.disconnect_after, 1, 1'000'000);
  ck.range("push.io_threads", c.push.io_threads, 1, 64);
  ck.range("push.send_buffer", c.push.send_buffer, 0, std::int64_t{16} << 20);
  ck.range("push.resume_max", c.push.resume_max, 0, 1'000'000);
  ck.non_negative("push.idle_timeout", c.push.idle_timeout);
  ck.listen("metrics.listen", c.metrics.listen);
  ck.listen("api.listen", c.api.listen);
  ck.listen("admin.listen", c.admin.listen);
  if (!c.admin.token.empty() && c.admin.token.size() < 16)
    ck.fail("admin.token", "must be at least 16 characters (it guards the admin API)");
  {
    // Two servers on one fixed address cannot both bind (port 0 picks a free port for each).
    auto same = [](const std::string& a, const std::string& b) {
      auto x = parse_listen_address(a);
      auto y = parse_listen_address(b);
      return x && y && *x == *y && x->port != 0;
    };
    if (same(c.push.listen, c.metrics.listen))
      ck.fail("metrics.listen", "same address as push.listen: " + quote(c.metrics.listen));
    for (const auto* other : {&c.push.listen, &c.metrics.listen}) {
      if (same(c.api.listen, *other)) {
        ck.fail("api.listen", "same address as " +
                                std::string(other == &c.push.listen ? "push.listen" : "metrics.listen") + ": " +
                                quote(c.api.listen));
      }
    }
    for (const auto& [name, other] :
         {std::pair{"push.listen", &c.push.listen}, std::pair{"metrics.listen", &c.metrics.listen},
          std::pair{"api.listen", &c.api.listen}})
      if (same(c.admin.listen, *other))
        ck.fail("admin.listen", std::string("same address as ") + name + ": " + quote(c.admin.listen));
  }
  ck.positive("api.timestamp_window", c.api.timestamp_window);
  if (c.api.timestamp_window > std::chrono::minutes(10))
    ck.fail("api.timestamp_window", "must be at most 10m, got " + format_duration(c.api.timestamp_window));
  ck.range("api.default_quota_per_minute", c.api.default_quota_per_minute, 1, 1'000'000'000);
  ck.range("api.workers", c.api.workers, 1, 64);
  ck.range("api.max_connections", c.api.max_connections, 1, 1'000'000);
  ck.positive("api.statement_timeout", c.api.statement_timeout);
  if (c.api.statement_timeout > std::chrono::minutes(10))
    ck.fail("api.statement_timeout", "must be at most 10m, got " + format_duration(c.api.statement_timeout));
  ck.positive("api.pool_wait", c.api.pool_wait);
  if (c.api.pool_wait > std::chrono::minutes(1))
    ck.fail("api.pool_wait", "must be at most 1m, got " + format_duration(c.api.pool_wait));

  ck.range("runtime.scheduler_threads", c.runtime.scheduler_threads, 1, 64);
  if (c.runtime.node_id.size() > 64 ||
      std::any_of(c.runtime.node_id.begin(), c.runtime.node_id.end(),
                  [](unsigned char ch) { return !std::isalnum(ch) && ch != '.' && ch != '_' && ch != '-'; }))
    ck.fail("runtime.node_id", "must be at most 64 of A-Z a-z 0-9 . _ -, got " + quote(c.runtime.node_id));
  {
    const auto& sv = c.supervision;
    ck.positive("supervision.initial_backoff", sv.initial_backoff);
    if (sv.max_backoff < sv.initial_backoff)
      ck.fail("supervision.max_backoff", "must be at least supervision.initial_backoff (" +
                                           format_duration(sv.initial_backoff) + "), got " +
                                           format_duration(sv.max_backoff));
    ck.positive("supervision.reset_after", sv.reset_after);
    ck.range("supervision.max_restarts", sv.max_restarts, 0, 1000);
    if (sv.initial_backoff.count() > 0 && sv.max_backoff >= sv.initial_backoff && sv.max_restarts >= 0 &&
        sv.max_restarts <= 1000) {
      auto need = min_restart_window(sv.initial_backoff, sv.max_backoff, sv.max_restarts);
      if (sv.restart_window < need)
        ck.fail("supervision.restart_window",
                "must be at least " + format_duration(need) + " (the backoff of " + std::to_string(sv.max_restarts) +
                  " restarts, " + format_duration(sv.initial_backoff) + " doubling up to " +
                  format_duration(sv.max_backoff) + "), got " + format_duration(sv.restart_window) +
                  ": the restart limit could never be reached");
    }
  }
  ck.member("testing.fault", c.testing.fault, test_faults);
  ck.range("testing.fault_after_trades", c.testing.fault_after_trades, 1, 1'000'000);
  ck.positive("klines.idle_after", c.klines.idle_after);
  return out;
}

std::variant<config, std::vector<config_error>> load(std::string_view yaml_text,
                                                     const std::map<std::string, std::string>& env) {
  errors out;
  schema s; // s.cfg starts as defaults(); its slots point into it

  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsMap()) {
      walk(s, root, "", out);
    } else if (!root.IsNull()) {
      out.push_back({"", "the configuration must be a mapping of sections (nats, exchanges, ...), got " +
                           node_kind(root) + at_line(root)});
    }
  } catch (const YAML::Exception& e) {
    std::string where = e.mark.is_null() ? std::string()
                                         : " at line " + std::to_string(e.mark.line + 1) + ", column " +
                                             std::to_string(e.mark.column + 1);
    return errors{{"", "YAML syntax error" + where + ": " + e.msg}};
  } catch (const std::exception& e) {
    return errors{{"", std::string("YAML error: ") + e.what()}};
  }

  std::map<std::string, std::string> env_to_key;
  std::vector<std::string> env_names;
  for (const auto& l : s.all) {
    env_to_key.emplace(env_name(l.key), l.key);
    env_names.push_back(env_name(l.key));
  }
  for (const auto& [name, value] : env) {
    if (name.rfind("MI_", 0) != 0)
      continue;
    if (is_secret_env(name)) {
      if (!value.empty() && !s.cfg.api.master_key_file.empty())
        out.push_back({"api.master_key_file", "both api.master_key_file and " + name + " are set: keep one"});
      continue;
    }
    auto it = env_to_key.find(name);
    if (it == env_to_key.end()) {
      out.push_back({name, "unknown environment variable: no such config key" + suggest(name, env_names)});
      continue;
    }
    if (auto msg = assign_scalar(s.by_key.at(it->second), value)) {
      out.push_back({it->second, *msg + " (from " + name + ")"});
    }
  }

  auto invalid = validate(s.cfg);
  out.insert(out.end(), invalid.begin(), invalid.end());
  if (!out.empty())
    return out;
  return std::move(s.cfg);
}

namespace {
std::string venue_env_name(std::string_view venue, std::string_view what) {
  std::string out = "MI_";
  for (char ch : venue)
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  out += '_';
  out += what;
  return out;
}
} // namespace

bool is_secret_env(std::string_view name) {
  if (name == "MI_API_MASTER_KEY")
    return true;
  for (const venue_info& v : venues())
    if (name == venue_env_name(v.name, "KEY_ID") || name == venue_env_name(v.name, "SECRET_KEY"))
      return true;
  return false;
}

std::string venue_secret_env(std::string_view venue, std::string_view what) {
  const char* v = std::getenv(venue_env_name(venue, what).c_str());
  return v != nullptr ? std::string(v) : std::string();
}

std::map<std::string, std::string> process_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || entry.rfind("MI_", 0) != 0)
      continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::variant<config, std::vector<config_error>> load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return errors{{"", "cannot read config file " + quote(path) + ": " + std::strerror(errno)}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return errors{{"", "cannot read config file " + quote(path) + ": " + std::strerror(errno)}};
  }
  auto r = load(text.str(), process_env());
  if (auto* errs = std::get_if<errors>(&r)) {
    // Name the file on whole-file problems (syntax errors); keyed errors already say where.
    for (auto& e : *errs) {
      if (e.key.empty())
        e.message = path + ": " + e.message;
    }
  }
  return r;
}

std::string format_errors(const std::vector<config_error>& errs) {
  std::string out;
  for (const auto& e : errs) {
    out += "config error: ";
    if (!e.key.empty())
      out += e.key + ": ";
    out += e.message + "\n";
  }
  return out;
}

std::vector<std::string> known_keys() {
  config c = defaults();
  std::vector<std::string> keys;
  for (const auto& l : leaves(c))
    keys.push_back(l.key);
  return keys;
}

std::string env_name(std::string_view key) {
  std::string out = "MI_";
  for (char ch : key) {
    out += ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  return out;
}

std::string to_yaml(const config& c) {
  config copy = c;
  std::ostringstream os;
  std::vector<std::string> open; // the section path currently open
  for (const auto& l : leaves(copy)) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      auto dot = l.key.find('.', start);
      parts.push_back(l.key.substr(start, dot == std::string::npos ? dot : dot - start));
      if (dot == std::string::npos)
        break;
      start = dot + 1;
    }
    std::size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common])
      ++common;
    open.resize(common);
    for (std::size_t i = common; i + 1 < parts.size(); ++i) {
      os << std::string(2 * i, ' ') << parts[i] << ":\n";
      open.push_back(parts[i]);
    }
    os << std::string(2 * (parts.size() - 1), ' ') << parts.back() << ": ";
    emit_scalar(os, l.target);
    os << '\n';
  }
  return os.str();
}

} // namespace mi::cfg
