#include "simulator/cn/cn_sim.hpp"

#include <charconv>

#include "messages/util/civil_time.hpp"
#include "messages/util/time_zone.hpp"

namespace mi::sim::cn {
namespace {

constexpr std::int64_t second_ns = 1'000'000'000;

mi::decimal dec(std::int64_t mantissa, int scale) { return *mi::decimal::from_parts(mantissa, scale); }

/// Fixed two decimals, as the sources print prices ("9.40").
std::string price2(const mi::decimal& d) {
  auto s = d.to_string();
  const auto dot = s.find('.');
  if (dot == std::string::npos)
    return s + ".00";
  s.append(2 - std::min<std::size_t>(2, s.size() - dot - 1), '0');
  return s;
}

std::string lots_of(const mi::decimal& shares) {
  auto l = shares.checked_div(dec(100, 0), 0);
  return l ? l->to_string() : "0";
}

/// Local Shanghai time of `ns` as the sources print it.
mi::util::civil_time shanghai(std::int64_t ns) {
  auto t = mi::util::local_time_in(mi::cn::zone, ns);
  return t ? t->local : mi::util::civil_time_of(ns);
}

std::string two(unsigned v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto kv = query.substr(0, amp);
    const auto eq = kv.find('=');
    if (kv.substr(0, eq) == name)
      return eq == std::string_view::npos ? std::string() : std::string(kv.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

int int_param(std::string_view query, std::string_view name, int fallback) {
  const auto s = param(query, name);
  int v = fallback;
  if (!s.empty())
    std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

} // namespace

cn_sim::cn_sim(const std::vector<std::string>& symbols, std::int64_t start_ns, std::uint64_t seed) {
  const std::int64_t start = start_ns / second_ns * second_ns;
  for (const auto& s : symbols) {
    auto sym = mi::cn::parse_symbol(s);
    if (!sym)
      continue;
    mi::connectors::instrument meta;
    meta.symbol = sym->code;
    meta.base = sym->code;
    meta.quote = "CNY";
    symbol_state st{*sym, "模拟" + sym->code, mi::sim::symbol_generator(meta, seed, "cn"), {}, {}, {}, {}, {}};
    // The previous close: where the generator's walk starts (its first trade is one step from it).
    mi::sim::symbol_generator probe(meta, seed, "cn");
    st.prev_close = probe.next(start).price;
    st.history.push_back({s, 0, start, {}, {}, {}});
    symbols_.emplace(mi::cn::source_code(*sym), std::move(st));
  }
}

void cn_sim::step(symbol_state& st) {
  const auto& prev = st.history.back();
  const std::int64_t ts = prev.ts_ns + second_ns;
  auto t = st.gen.next(ts);
  // Size: 1..50 lots from the generator's quantity.
  const auto lots = static_cast<std::int64_t>(t.quantity.mantissa() % 50) + 1;
  const auto shares = dec(lots * 100, 0);
  cn_snapshot s{prev.symbol,
                prev.seq + 1,
                ts,
                t.price,
                *prev.volume.checked_add(shares),
                *prev.turnover.checked_add(*t.price.checked_mul(shares))};
  if (prev.seq == 0) {
    st.open = st.high = st.low = t.price;
  } else {
    st.high = std::max(st.high, t.price);
    st.low = std::min(st.low, t.price);
  }
  st.history.push_back(std::move(s));
}

std::string cn_sim::tencent_line(const symbol_state& st) const {
  const auto& s = st.history.back();
  const bool traded = s.seq > 0;
  const mi::decimal tick = dec(1, 2);
  const mi::decimal ref = traded ? s.last : st.prev_close;
  const auto t = shanghai(s.ts_ns);
  const std::string stamp =
    std::to_string(t.date.year) + two(t.date.month) + two(t.date.day) + two(t.hour) + two(t.minute) + two(t.second);
  const std::string mkt = st.sym.ex == mi::cn::exchange::sh ? "1" : "51";
  std::vector<std::string> f(54);
  f[0] = mkt;
  f[1] = st.name;
  f[2] = st.sym.code;
  f[3] = traded ? price2(s.last) : "0.00";
  f[4] = price2(st.prev_close);
  f[5] = traded ? price2(st.open) : "0.00";
  f[6] = lots_of(s.volume);
  f[7] = f[8] = "0";
  mi::decimal bid = ref, ask = *ref.checked_add(tick);
  for (int i = 0; i < 5; ++i) {
    f[9 + 2 * i] = price2(bid);
    f[10 + 2 * i] = std::to_string(10 * (i + 1));
    f[19 + 2 * i] = price2(ask);
    f[20 + 2 * i] = std::to_string(20 * (i + 1));
    bid = *bid.checked_add(dec(-1, 2));
    ask = *ask.checked_add(tick);
  }
  f[30] = stamp;
  f[31] = f[32] = "0.00";
  f[33] = traded ? price2(st.high) : "0.00";
  f[34] = traded ? price2(st.low) : "0.00";
  f[35] = f[3] + "/" + f[6] + "/" + s.turnover.to_string();
  f[36] = f[6];
  auto wan = s.turnover.checked_div(dec(10000, 0), 0);
  f[37] = wan ? wan->to_string() : "0";
  std::string line = "v_" + mi::cn::source_code(st.sym) + "=\"";
  for (std::size_t i = 0; i < f.size(); ++i)
    line += (i ? "~" : "") + f[i];
  return line + "\";\n";
}

std::string cn_sim::sina_line(const symbol_state& st) const {
  const auto& s = st.history.back();
  const bool traded = s.seq > 0;
  const mi::decimal tick = dec(1, 2);
  const mi::decimal ref = traded ? s.last : st.prev_close;
  const auto t = shanghai(s.ts_ns);
  std::vector<std::string> f(33);
  f[0] = st.name;
  f[1] = traded ? price2(st.open) : "0.000";
  f[2] = price2(st.prev_close);
  f[3] = traded ? price2(s.last) : "0.000";
  f[4] = traded ? price2(st.high) : "0.000";
  f[5] = traded ? price2(st.low) : "0.000";
  f[6] = price2(ref);
  f[7] = price2(*ref.checked_add(tick));
  f[8] = s.volume.to_string();
  f[9] = s.turnover.to_string();
  mi::decimal bid = ref, ask = *ref.checked_add(tick);
  for (int i = 0; i < 5; ++i) {
    f[10 + 2 * i] = std::to_string(1000 * (i + 1)); // shares (Tencent's 10 lots)
    f[11 + 2 * i] = price2(bid);
    f[20 + 2 * i] = std::to_string(2000 * (i + 1));
    f[21 + 2 * i] = price2(ask);
    bid = *bid.checked_add(dec(-1, 2));
    ask = *ask.checked_add(tick);
  }
  f[30] = std::to_string(t.date.year) + "-" + two(t.date.month) + "-" + two(t.date.day);
  f[31] = two(t.hour) + ":" + two(t.minute) + ":" + two(t.second);
  f[32] = "00";
  std::string line = "var hq_str_" + mi::cn::source_code(st.sym) + "=\"";
  for (std::size_t i = 0; i < f.size(); ++i)
    line += (i ? "," : "") + f[i];
  return line + "\";\n";
}

bool cn_sim::fault(const std::string& source, cn_reply& out) {
  auto& f = faults_[source];
  if (f.down || f.fail > 0) {
    if (!f.down)
      --f.fail;
    out.status = f.down ? 503 : f.fail_status;
    out.body = "<html>unavailable</html>";
    return true;
  }
  if (f.timeout > 0) {
    --f.timeout;
    out.status = 503;
    out.delay_ms = f.timeout_ms;
    return true;
  }
  if (f.empty > 0) {
    --f.empty;
    out.body.clear();
    return true;
  }
  return false;
}

cn_reply cn_sim::quotes(mi::cn::quote_source s, std::string_view codes) {
  const std::string source(mi::cn::to_string(s));
  ++requests_[source];
  cn_reply out;
  if (fault(source, out))
    return out;
  std::string utf8;
  std::vector<symbol_state*> answered;
  while (!codes.empty()) {
    const auto comma = codes.find(',');
    const std::string code(codes.substr(0, comma));
    auto it = symbols_.find(code);
    if (it == symbols_.end()) {
      utf8 += s == mi::cn::quote_source::tencent ? "v_pv_none_match=\"1\";\n" : "var hq_str_" + code + "=\"\";\n";
    } else {
      utf8 += s == mi::cn::quote_source::tencent ? tencent_line(it->second) : sina_line(it->second);
      answered.push_back(&it->second);
    }
    if (comma == std::string_view::npos)
      break;
    codes.remove_prefix(comma + 1);
  }
  auto gbk = mi::cn::utf8_to_gbk(utf8);
  out.body = gbk ? *gbk : utf8;
  for (auto* st : answered) // the market moves on after each answer that showed it
    step(*st);
  return out;
}

cn_reply cn_sim::klines(std::string_view query) const {
  cn_reply out;
  out.content_type = "application/json";
  const auto secid = param(query, "secid");
  const int fqt = int_param(query, "fqt", 0);
  const auto dot = secid.find('.');
  const std::string code = dot == std::string::npos ? std::string() : secid.substr(dot + 1);
  const std::string market = dot == std::string::npos ? std::string() : secid.substr(0, dot);
  const auto it = symbols_.find((market == "1" ? "sh" : "sz") + code);
  if (it == symbols_.end()) {
    out.body = R"({"rc":0,"rt":17,"svr":1,"lt":1,"full":0,"dlmkts":"","data":null})";
    return out;
  }
  std::string k;
  for (int d = 1; d <= daily_bar_days; ++d) {
    // 2026-09-1d; open 10.0d, close 10.1d, high 10.2d, low 9.9d (x2 backward-adjusted).
    const int factor = fqt == 2 ? 2 : 1;
    auto p = [&](int cents) { return price2(dec(static_cast<std::int64_t>(cents) * factor, 2)); };
    if (!k.empty())
      k += ',';
    k += "\"2026-09-1" + std::to_string(d) + "," + p(1000 + d) + "," + p(1010 + d) + "," + p(1020 + d) + "," +
         p(990 + d) + "," + std::to_string(1000 + d) + "," + std::to_string(10000 * (d + 1)) +
         ".00,1.00,1.00,0.10,0.50\"";
  }
  out.body = "{\"rc\":0,\"rt\":17,\"svr\":1,\"lt\":1,\"full\":0,\"dlmkts\":\"\",\"data\":{\"code\":\"" + code +
             "\",\"market\":" + market + ",\"name\":\"" + it->second.name +
             "\",\"decimal\":2,\"dktotal\":3,\"preKPrice\":10.00,\"klines\":[" + k + "]}}";
  return out;
}

cn_reply cn_sim::handle(std::string_view path, std::string_view query) {
  std::lock_guard lock(mu_);
  if (path.starts_with("/q="))
    return quotes(mi::cn::quote_source::tencent, path.substr(3));
  if (path.starts_with("/list="))
    return quotes(mi::cn::quote_source::sina, path.substr(6));
  if (path.starts_with("/rn=")) { // easyquotation's Sina form: /rn=<ms>&list=...
    const auto list = path.find("list=");
    return quotes(mi::cn::quote_source::sina, list == std::string_view::npos ? "" : path.substr(list + 5));
  }
  if (path == "/api/qt/stock/kline/get") {
    ++requests_["eastmoney"];
    cn_reply out;
    if (fault("eastmoney", out))
      return out;
    return klines(query);
  }
  if (path == "/sim/cn") {
    const auto action = param(query, "action");
    const auto source = param(query, "source");
    cn_reply out;
    out.content_type = "application/json";
    auto& f = faults_[source];
    if (action == "fail") {
      f.fail = int_param(query, "count", 1);
      f.fail_status = int_param(query, "status", 503);
    } else if (action == "timeout") {
      f.timeout = int_param(query, "count", 1);
      f.timeout_ms = int_param(query, "ms", 3000);
    } else if (action == "empty") {
      f.empty = int_param(query, "count", 1);
    } else if (action == "down") {
      f.down = true;
    } else if (action == "recover") {
      f = cn_faults{};
    } else if (action == "step") {
      for (auto& [code, st] : symbols_)
        step(st);
    } else if (action == "requests") {
      out.body = "{\"requests\":" + std::to_string(requests_[source]) + "}";
      return out;
    } else {
      out.status = 400;
      out.body = "{\"error\":\"unknown action\"}";
      return out;
    }
    out.body = "{\"ok\":true}";
    return out;
  }
  return cn_reply{404, "not found", "text/plain"};
}

void cn_sim::set_faults(const std::string& source, cn_faults f) {
  std::lock_guard lock(mu_);
  faults_[source] = f;
}

std::uint64_t cn_sim::requests(const std::string& source) const {
  std::lock_guard lock(mu_);
  auto it = requests_.find(source);
  return it == requests_.end() ? 0 : it->second;
}

std::vector<cn_snapshot> cn_sim::history(const std::string& symbol) const {
  std::lock_guard lock(mu_);
  auto sym = mi::cn::parse_symbol(symbol);
  if (!sym)
    return {};
  auto it = symbols_.find(mi::cn::source_code(*sym));
  return it == symbols_.end() ? std::vector<cn_snapshot>{} : it->second.history;
}

} // namespace mi::sim::cn
