#include "simulator/documents/document_sim.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <boost/json.hpp>

#include "messages/util/civil_time.hpp"
#include "messages/util/json_writer.hpp"
#include "simulator/protocols/protocol.hpp"

namespace mi::sim::documents {
namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string rfc822(std::int64_t ns) {
  static constexpr const char* days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = util::civil_time_of(ns);
  const auto day = util::day_of_ns(ns);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02u:%02u:%02u +0000", days[((day % 7) + 7) % 7], t.date.day,
                months[t.date.month - 1], static_cast<long long>(t.date.year), t.hour, t.minute, t.second);
  return buf;
}

std::string seconds_text(std::int64_t ns) { return std::to_string(ns / 1'000'000'000) + ".0"; }

std::string param(std::string_view query, const std::string& key) {
  const auto q = parse_query(query);
  const auto it = q.find(key);
  return it == q.end() ? std::string() : it->second;
}

} // namespace

document_sim::document_sim(std::int64_t now_ns, int initial) {
  const std::int64_t minute = 60'000'000'000;
  for (const char* s : {"sec", "alpaca", "rss", "cninfo", "reddit"})
    for (int i = 0; i < initial; ++i) {
      sim_item it;
      it.published_ns = now_ns - (initial - i) * minute;
      it.title = std::string(s) + " item " + std::to_string(i + 1);
      it.body = "Simulated " + std::string(s) + " document number " + std::to_string(i + 1) + ".";
      it.symbols = {std::string(s) == "cninfo" ? "600600" : "AAPL"};
      add(s, std::move(it));
    }
}

std::string document_sim::source_of(std::string_view path) {
  if (path.rfind("/cgi-bin/browse-edgar", 0) == 0 || path == "/files/company_tickers.json" ||
      path.rfind("/submissions/", 0) == 0)
    return "sec";
  if (path.rfind("/v1beta1/news", 0) == 0)
    return "alpaca";
  if (path.rfind("/rss/", 0) == 0)
    return "rss";
  if (path.rfind("/new/hisAnnouncement/query", 0) == 0)
    return "cninfo";
  if (path.rfind("/r/", 0) == 0)
    return "reddit";
  return {};
}

std::string document_sim::add(const std::string& source, sim_item item) {
  std::unique_lock lock(mu_);
  if (item.id.empty()) {
    const auto n = next_id_++;
    char buf[40];
    if (source == "sec")
      std::snprintf(buf, sizeof buf, "0000320193-26-%06llu", static_cast<unsigned long long>(n));
    else if (source == "reddit")
      std::snprintf(buf, sizeof buf, "t3_sim%llu", static_cast<unsigned long long>(n));
    else
      std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(90000000 + n));
    item.id = buf;
  }
  items_[source].push_back(item);
  auto listener = listener_;
  lock.unlock();
  if (listener)
    listener(source, item);
  return item.id;
}

void document_sim::set_listener(std::function<void(const std::string&, const sim_item&)> f) {
  std::lock_guard lock(mu_);
  listener_ = std::move(f);
}

bool document_sim::update(const std::string& source, const std::string& id, const std::string& body,
                          std::int64_t now_ns) {
  std::unique_lock lock(mu_);
  for (auto& it : items_[source])
    if (it.id == id) {
      it.body = body;
      it.updated_ns = now_ns;
      const sim_item copy = it;
      auto listener = listener_;
      lock.unlock();
      if (listener)
        listener(source, copy);
      return true;
    }
  return false;
}

void document_sim::set_faults(const std::string& source, sim_faults f) {
  std::lock_guard lock(mu_);
  faults_[source] = f;
}

std::uint64_t document_sim::requests(const std::string& source) const {
  std::lock_guard lock(mu_);
  const auto it = requests_.find(source);
  return it == requests_.end() ? 0 : it->second.size();
}

std::vector<std::int64_t> document_sim::request_times(const std::string& source) const {
  std::lock_guard lock(mu_);
  const auto it = requests_.find(source);
  return it == requests_.end() ? std::vector<std::int64_t>{} : it->second;
}

sim_reply document_sim::handle(std::string_view path, std::string_view query, std::string_view form) {
  if (path == "/sim/doc")
    return command(query);
  const std::string source = source_of(path);
  if (source.empty())
    return {404, R"({"error":"not a simulated document source"})"};
  sim_faults fault;
  {
    std::lock_guard lock(mu_);
    requests_[source].push_back(wall_ns());
    auto& f = faults_[source];
    fault = f;
    if (f.throttle > 0)
      --f.throttle;
    else if (f.fail > 0)
      --f.fail;
    else if (f.malformed > 0)
      --f.malformed;
  }
  if (fault.throttle > 0)
    return {429,
            R"({"message":"too many requests"})",
            "application/json",
            {{"Retry-After", std::to_string(fault.retry_after_s)}}};
  if (fault.fail > 0)
    return {fault.fail_status, "<html><body>Service Unavailable</body></html>", "text/html", {}};
  sim_reply r = render(source, path, query, form);
  if (fault.malformed > 0)
    r.body.resize(r.body.size() / 2); // cut mid-document: malformed XML / JSON
  return r;
}

sim_reply document_sim::render(const std::string& source, std::string_view path, std::string_view query,
                               std::string_view form) const {
  std::lock_guard lock(mu_);
  const auto found = items_.find(source);
  const std::vector<sim_item> none;
  const auto& items = found == items_.end() ? none : found->second;
  using util::append_json_string;
  sim_reply r;
  if (source == "sec" && path == "/files/company_tickers.json") {
    r.body = R"({"0":{"cik_str":320193,"ticker":"AAPL","title":"Apple Inc."},"1":{"cik_str":789019,"ticker":"MSFT",)"
             R"("title":"MICROSOFT CORP"}})";
  } else if (source == "sec" && path.rfind("/submissions/", 0) == 0) {
    // data.sec.gov submissions: Apple's (every simulated filing is Apple's), newest first in column arrays; archived
    // filings in the one overflow file.
    std::vector<const sim_item*> recent, archived;
    for (auto it = items.rbegin(); it != items.rend(); ++it)
      (it->archived ? archived : recent).push_back(&*it);
    auto columns = [](const std::vector<const sim_item*>& rows) {
      std::string out = "{";
      auto column = [&](const char* name, auto cell, bool last = false) {
        out += std::string("\"") + name + "\":[";
        for (std::size_t i = 0; i < rows.size(); ++i)
          out += (i ? "," : "") + cell(*rows[i]);
        out += last ? "]" : "],";
      };
      auto quoted = [](std::string v) { return util::json_string(v); };
      auto date = [](const sim_item& it) { return util::date_text(util::civil_time_of(it.published_ns).date); };
      column("accessionNumber", [&](const sim_item& it) { return quoted(it.id); });
      column("filingDate", [&](const sim_item& it) { return quoted(date(it)); });
      column("reportDate", [&](const sim_item& it) { return quoted(date(it)); });
      column("acceptanceDateTime", [&](const sim_item& it) {
        return quoted(util::rfc3339(it.published_ns / 1'000'000'000 * 1'000'000'000));
      });
      column("act", [&](const sim_item&) { return quoted(""); });
      column("form", [&](const sim_item&) { return quoted("4"); });
      column("fileNumber", [&](const sim_item&) { return quoted(""); });
      column("filmNumber", [&](const sim_item&) { return quoted(""); });
      column("items", [&](const sim_item&) { return quoted(""); });
      column("core_type", [&](const sim_item&) { return quoted("4"); });
      column("size", [&](const sim_item& it) { return std::to_string(1000 + it.body.size()); });
      column("isXBRL", [&](const sim_item&) { return std::string("0"); });
      column("isInlineXBRL", [&](const sim_item&) { return std::string("0"); });
      column("primaryDocument", [&](const sim_item& it) { return quoted("xslF345X05/" + it.id + ".xml"); });
      column(
        "primaryDocDescription", [&](const sim_item& it) { return quoted(it.title); }, true);
      return out + "}";
    };
    const std::string overflow_name = "CIK0000320193-submissions-001.json";
    if (path == "/submissions/" + overflow_name) {
      r.body = columns(archived);
    } else if (path == "/submissions/CIK0000320193.json") {
      r.body = R"({"cik":"0000320193","entityType":"operating","sic":"3571","name":"Apple Inc.","tickers":["AAPL"],)"
               R"("exchanges":["Nasdaq"],"filings":{"recent":)" +
               columns(recent) + ",\"files\":[";
      if (!archived.empty()) {
        auto date = [](const sim_item* it) { return util::date_text(util::civil_time_of(it->published_ns).date); };
        r.body += "{\"name\":\"" + overflow_name + "\",\"filingCount\":" + std::to_string(archived.size()) +
                  ",\"filingFrom\":\"" + date(archived.back()) + "\",\"filingTo\":\"" + date(archived.front()) + "\"}";
      }
      r.body += "]}}";
    } else {
      r.status = 404;
      r.body = R"({"message":"no such company"})";
    }
  } else if (source == "sec") {
    // The current-filings feed: newest first, each filing listed for its reporting owner and its issuer (as EDGAR).
    const std::size_t start = static_cast<std::size_t>(std::atoll(param(query, "start").c_str()));
    r.content_type = "application/atom+xml";
    r.body = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
             "<title>Latest Filings</title>\n<updated>" +
             util::rfc3339(wall_ns() / 1'000'000'000 * 1'000'000'000) + "</updated>\n";
    std::size_t listed = 0;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      if (it->archived)
        continue; // an old filing: in the submissions' overflow file only
      if (listed++ < start / 2)
        continue;
      if (listed > start / 2 + 50)
        break;
      std::string acc_folder = it->id;
      std::erase(acc_folder, '-');
      for (const char* role : {"Reporting", "Issuer"}) {
        const bool issuer = std::string_view(role) == "Issuer";
        const std::string cik = issuer ? "0000320193" : "0001214156";
        const std::string name = issuer ? "Apple Inc." : "Insider " + it->title;
        r.body += "<entry>\n<title>4 - " + xml_escape(name) + " (" + cik + ") (" + role + ")</title>\n";
        r.body += "<link rel=\"alternate\" type=\"text/html\" href=\"https://www.sec.gov/Archives/edgar/data/" +
                  std::to_string(std::atoll(cik.c_str())) + "/" + acc_folder + "/" + it->id + "-index.htm\"/>\n";
        r.body += "<summary type=\"html\">\n &lt;b&gt;Filed:&lt;/b&gt; " +
                  util::date_text(util::civil_time_of(it->published_ns).date) + " &lt;b&gt;AccNo:&lt;/b&gt; " + it->id +
                  " &lt;b&gt;Size:&lt;/b&gt; 4 KB\n</summary>\n";
        r.body += "<updated>" + util::rfc3339(it->published_ns / 1'000'000'000 * 1'000'000'000) + "</updated>\n";
        r.body += "<category scheme=\"https://www.sec.gov/\" label=\"form type\" term=\"4\"/>\n";
        r.body += "<id>urn:tag:sec.gov,2008:accession-number=" + it->id + "</id>\n</entry>\n";
      }
    }
    r.body += "</feed>\n";
  } else if (source == "alpaca") {
    r.body = "{\"news\":[";
    bool first = true;
    for (const auto& it : items) {
      if (!first)
        r.body += ',';
      first = false;
      r.body += alpaca_article_json(it, false);
    }
    r.body += "],\"next_page_token\":null}";
  } else if (source == "rss") {
    r.content_type = "application/rss+xml";
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>" +
             xml_escape(std::string(path)) + "</title><language>en-US</language>";
    for (auto it = items.rbegin(); it != items.rend(); ++it)
      r.body += "<item><title>" + xml_escape(it->title) + "</title><link>https://news.example/" + it->id +
                "</link><guid isPermaLink=\"false\">" + it->id + "</guid><pubDate>" + rfc822(it->published_ns) +
                "</pubDate><description>" + xml_escape(it->body) + "</description></item>";
    r.body += "</channel></rss>";
  } else if (source == "cninfo") {
    (void)form;
    r.body =
      "{\"classifiedAnnouncements\":null,\"totalSecurities\":0,\"totalAnnouncement\":" + std::to_string(items.size()) +
      ",\"announcements\":[";
    bool first = true;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      if (!first)
        r.body += ',';
      first = false;
      // announcementTime: 00:00 Asia/Shanghai of the disclosure date, as cninfo
      const std::int64_t day_ms = 86'400'000, offset_ms = 8 * 3'600'000;
      const std::int64_t ms = (it->published_ns / 1'000'000 + offset_ms) / day_ms * day_ms - offset_ms;
      const std::string date = util::date_text(util::civil_time_of((ms + offset_ms) * 1'000'000).date);
      r.body += "{\"id\":null,\"secCode\":\"" + (it->symbols.empty() ? std::string("600600") : it->symbols[0]) +
                "\",\"secName\":\"青岛啤酒\",\"orgId\":\"gssh0600600\",\"announcementId\":\"" + it->id +
                "\",\"announcementTitle\":";
      append_json_string(r.body, it->title);
      r.body += ",\"announcementTime\":" + std::to_string(ms) + ",\"adjunctUrl\":\"finalpage/" + date + "/" + it->id +
                ".PDF\",\"adjunctSize\":100,\"adjunctType\":\"PDF\",\"announcementContent\":";
      append_json_string(r.body, it->body);
      r.body += "}";
    }
    r.body += "],\"hasMore\":false,\"totalpages\":1}";
  } else if (source == "reddit") {
    r.body = "{\"kind\":\"Listing\",\"data\":{\"after\":null,\"children\":[";
    bool first = true;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      if (!first)
        r.body += ',';
      first = false;
      std::string cashtags;
      for (const auto& s : it->symbols)
        cashtags += " $" + s;
      r.body += "{\"kind\":\"t3\",\"data\":{\"name\":\"" + it->id + "\",\"subreddit\":\"wallstreetbets\",\"title\":";
      append_json_string(r.body, it->title + cashtags);
      r.body += ",\"selftext\":";
      append_json_string(r.body, it->body);
      r.body += ",\"author\":\"sim\",\"score\":1,\"num_comments\":0,\"created_utc\":" + seconds_text(it->published_ns) +
                ",\"edited\":" + (it->updated_ns ? seconds_text(it->updated_ns) : std::string("false")) +
                ",\"permalink\":\"/r/wallstreetbets/comments/" + it->id.substr(3) + "/\",\"url\":\"\"}}";
    }
    r.body += "]}}";
  }
  return r;
}

sim_reply document_sim::command(std::string_view query) {
  const std::string source = param(query, "source");
  const std::string action = param(query, "action");
  if (source.empty() || source_of(source == "sec"      ? "/cgi-bin/browse-edgar"
                                  : source == "alpaca" ? "/v1beta1/news"
                                  : source == "rss"    ? "/rss/x"
                                  : source == "cninfo" ? "/new/hisAnnouncement/query"
                                  : source == "reddit" ? "/r/x"
                                                       : "") != source)
    return {400, R"({"error":"source must be sec, alpaca, rss, cninfo or reddit"})"};
  const auto count = std::atoi(param(query, "count").c_str());
  if (action == "add") {
    sim_item it;
    it.title = param(query, "title");
    it.body = param(query, "body");
    if (auto s = param(query, "symbol"); !s.empty())
      it.symbols = {s};
    it.published_ns = wall_ns() / 1'000'000'000 * 1'000'000'000;
    const auto id = add(source, std::move(it));
    return {200, "{\"id\":" + util::json_string(id) + "}"};
  }
  if (action == "update")
    return update(source, param(query, "id"), param(query, "body"), wall_ns() / 1'000'000'000 * 1'000'000'000)
             ? sim_reply{200, R"({"updated":true})"}
             : sim_reply{404, R"({"error":"unknown id"})"};
  if (action == "fail" || action == "throttle" || action == "malformed") {
    sim_faults f;
    if (action == "fail") {
      f.fail = count;
      if (auto st = std::atoi(param(query, "status").c_str()); st > 0)
        f.fail_status = st;
    } else if (action == "throttle") {
      f.throttle = count;
      if (auto ra = std::atoi(param(query, "retry_after").c_str()); ra > 0)
        f.retry_after_s = ra;
    } else {
      f.malformed = count;
    }
    set_faults(source, f);
    return {200, R"({"fault":true})"};
  }
  if (action == "requests") {
    std::string out = "{\"requests\":" + std::to_string(requests(source)) + ",\"times_ns\":[";
    bool first = true;
    for (auto t : request_times(source)) {
      out += (first ? "" : ",") + std::to_string(t);
      first = false;
    }
    return {200, out + "]}"};
  }
  return {400, R"({"error":"action must be add, update, fail, throttle, malformed or requests"})"};
}

std::string alpaca_article_json(const sim_item& it, bool stream) {
  using util::append_json_string;
  std::string out = stream ? "{\"T\":\"n\",\"id\":" : "{\"id\":";
  out += it.id + ",\"headline\":";
  append_json_string(out, it.title);
  out += ",\"author\":\"Simulator\",\"created_at\":\"" + util::rfc3339(it.published_ns) + "\",\"updated_at\":\"" +
         util::rfc3339(it.updated_ns ? it.updated_ns : it.published_ns) + "\",\"summary\":\"\",\"content\":";
  append_json_string(out, "<p>" + it.body + "</p>");
  out += ",\"url\":\"https://www.benzinga.com/news/sim/" + it.id + "\",\"images\":[],\"symbols\":";
  util::append_json_string_array(out, it.symbols);
  return out + ",\"source\":\"benzinga\"}";
}

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

std::string stream_error(int code, std::string_view msg) {
  std::string out = "[{\"T\":\"error\",\"code\":" + std::to_string(code) + ",\"msg\":";
  util::append_json_string(out, msg);
  return out + "}]";
}

std::string_view str(const boost::json::string& s) { return {s.data(), s.size()}; }

} // namespace

news_stream_protocol::news_stream_protocol()
    : key_(env_or("ALPACA_SIM_KEY_ID", "PKSIMULATOR")), secret_(env_or("ALPACA_SIM_SECRET_KEY", "simulator-secret")) {}

std::string news_stream_protocol::greeting() { return R"([{"T":"success","msg":"connected"}])"; }

std::vector<std::string> news_stream_protocol::on_text(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec);
  const auto* o = !ec ? v.if_object() : nullptr;
  const auto* action = o ? o->if_contains("action") : nullptr;
  if (!action || !action->is_string())
    return {stream_error(400, "invalid syntax")};
  const auto a = str(action->get_string());
  if (a == "auth") {
    if (authenticated_)
      return {stream_error(403, "already authenticated")};
    const auto* key = o->if_contains("key");
    const auto* secret = o->if_contains("secret");
    if (key && key->is_string() && secret && secret->is_string() && str(key->get_string()) == key_ &&
        str(secret->get_string()) == secret_) {
      authenticated_ = true;
      return {R"([{"T":"success","msg":"authenticated"}])"};
    }
    return {stream_error(402, "auth failed")};
  }
  if (a != "subscribe")
    return {stream_error(400, "invalid syntax")};
  if (!authenticated_)
    return {stream_error(401, "not authenticated")};
  const auto* news = o->if_contains("news");
  if (!news || !news->is_array())
    return {stream_error(400, "invalid syntax")};
  for (const auto& sym : news->get_array()) {
    if (!sym.is_string())
      return {stream_error(400, "invalid syntax")};
    const std::string s(str(sym.get_string()));
    all_ = all_ || s == "*";
    if (std::find(symbols_.begin(), symbols_.end(), s) == symbols_.end())
      symbols_.push_back(s);
  }
  subscribed_ = true;
  std::string ack = R"([{"T":"subscription","news":)";
  util::append_json_string_array(ack, symbols_);
  return {ack + "}]"};
}

std::optional<std::string> news_stream_protocol::news_frame(const sim_item& item) const {
  if (!subscribed_)
    return std::nullopt;
  const bool wanted = all_ || std::any_of(item.symbols.begin(), item.symbols.end(), [&](const std::string& s) {
                        return std::find(symbols_.begin(), symbols_.end(), s) != symbols_.end();
                      });
  if (!wanted)
    return std::nullopt;
  return "[" + alpaca_article_json(item, true) + "]";
}

} // namespace mi::sim::documents
