#include "connectors/documents/source_poller.hpp"

#include <algorithm>

#include "connectors/documents/alpaca_news.hpp"
#include "connectors/documents/cninfo.hpp"
#include "connectors/documents/feeds.hpp"
#include "connectors/documents/reddit.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::documents {
namespace {

constexpr int sec_page_size = 100;

// "https://www.sec.gov" -> "https://data.sec.gov" (the submissions API's host); any other base stays (simulator).
std::string sec_data_url(const std::string& base) {
  const auto p = base.find("://www.");
  if (p == std::string::npos)
    return base;
  return base.substr(0, p) + "://data." + base.substr(p + 7);
}

std::string host_of(std::string_view url) {
  auto p = url.find("://");
  url = p == std::string_view::npos ? url : url.substr(p + 3);
  return std::string(url.substr(0, url.find_first_of("/?#")));
}

std::string ten_digit_cik(std::int64_t cik) {
  std::string s = std::to_string(cik);
  return std::string(s.size() < 10 ? 10 - s.size() : 0, '0') + s;
}

} // namespace

source_poller::source_poller(source_settings settings, std::uint64_t seed, std::int64_t now_ns)
    : settings_(std::move(settings)), schedule_(settings_.schedule, seed, now_ns),
      news_since_ns_(now_ns - settings_.schedule.backfill_horizon_ns) {}

source_request source_poller::make(std::string url, std::string what, std::string item, int page) const {
  source_request r;
  r.url = std::move(url);
  r.what = std::move(what);
  r.item = std::move(item);
  r.page = page;
  if (!settings_.user_agent.empty())
    r.headers.emplace_back("User-Agent", settings_.user_agent);
  if (r.what == "atom" || r.what == "feed")
    r.headers.emplace_back("Accept", "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.8");
  if (settings_.source == "alpaca" && !settings_.key_id.empty()) {
    r.headers.emplace_back("APCA-API-KEY-ID", settings_.key_id);
    r.headers.emplace_back("APCA-API-SECRET-KEY", settings_.secret_key);
  }
  return r;
}

void source_poller::start_poll(std::int64_t now_ns) {
  const std::string& base = settings_.url;
  const std::string& s = settings_.source;
  if (s == "sec") {
    // company_tickers.json first (until read once): the feed's CIKs become tickers, and `items` name companies.
    if (tickers_.empty())
      queue_.push_back(make(base + "/files/company_tickers.json", "tickers", "", 1));
    queue_.push_back(make(base + "/cgi-bin/browse-edgar?action=getcurrent&count=100&start=0&type=&owner=include"
                                 "&output=atom",
                          "atom", "", 1));
    if (!tickers_.empty())
      for (const auto& ticker : settings_.items)
        for (const auto& [cik, ts] : tickers_)
          if (std::find(ts.begin(), ts.end(), ticker) != ts.end())
            queue_.push_back(
              make(sec_data_url(base) + "/submissions/CIK" + ten_digit_cik(cik) + ".json", "submissions", ticker, 1));
  } else if (s == "alpaca") {
    std::vector<std::string> symbols;
    for (const auto& i : settings_.items)
      if (i != "*")
        symbols.push_back(i);
    queue_.push_back(make(base + alpaca_news::news_target(news_since_ns_, symbols, {}), "news", "", 1));
  } else if (s == "rss") {
    for (const auto& feed : settings_.items)
      queue_.push_back(make(feed, "feed", feed, 1));
  } else if (s == "cninfo") {
    const std::int64_t day = util::ns_per_day;
    const auto shanghai = now_ns + 8 * 3600 * util::ns_per_second;
    const std::string to = util::date_text(util::civil_time_of(shanghai).date);
    const std::string from =
      util::date_text(util::civil_time_of(shanghai - std::max(settings_.schedule.backfill_horizon_ns, day)).date);
    for (const auto& stock : settings_.items) {
      const auto comma = stock.find(',');
      auto r = make(base + "/new/hisAnnouncement/query", "cninfo", stock, 1);
      r.form = cninfo::query_form(stock.substr(0, comma), comma == std::string::npos ? "" : stock.substr(comma + 1),
                                  from, to, 1);
      queue_.push_back(std::move(r));
    }
  } else if (s == "reddit") {
    for (const auto& sub : settings_.items)
      queue_.push_back(make(base + "/r/" + sub + "/new.json?limit=100&raw_json=1", "reddit", sub, 1));
  }
}

void source_poller::stream_up(std::int64_t now_ns) {
  stream_live_ = true;
  catch_up_ = true;
  news_since_ns_ = std::min(news_since_ns_, now_ns) - catch_up_margin_ns;
  schedule_.heard(now_ns);
}

void source_poller::stream_down(std::int64_t now_ns) {
  if (!stream_live_)
    return; // a connection that never went live changes nothing: the polls never stopped
  stream_live_ = false;
  catch_up_ = true;
  news_since_ns_ = std::min(news_since_ns_, now_ns) - catch_up_margin_ns;
  schedule_.heard(now_ns);
}

void source_poller::stream_seen(const mi::document& d, std::int64_t now_ns) {
  news_since_ns_ = std::max(news_since_ns_, d.published_at_ns);
  schedule_.heard(now_ns);
}

std::variant<source_request, std::int64_t> source_poller::next(std::int64_t now_ns) {
  if (queue_.empty() && catch_up_) {
    catch_up_ = false;
    start_poll(now_ns);
  } else if (queue_.empty() && stream_live_) {
    return settings_.schedule.interval_ns; // paused: the stream delivers
  }
  if (queue_.empty()) {
    if (now_ns < schedule_.next_poll_ns())
      return schedule_.next_poll_ns() - now_ns;
    start_poll(now_ns);
    if (queue_.empty()) { // nothing configured to read: wait a period
      schedule_.record(request_outcome::ok, now_ns);
      return schedule_.next_poll_ns() - now_ns;
    }
  }
  if (const auto wait = schedule_.acquire(now_ns); wait > 0)
    return wait;
  source_request r = std::move(queue_.front());
  queue_.pop_front();
  if (!r.form) // conditional requests: only GETs of a URL read before
    if (const auto it = cond_.find(r.url); it != cond_.end())
      for (auto& h : it->second.request_headers())
        r.headers.push_back(std::move(h));
  return r;
}

mi::result<std::vector<mi::document>> source_poller::parse(const source_request& req, const std::string& body,
                                                           std::int64_t now_ns) {
  const int next_page = req.page + 1;
  const bool more_pages = req.page < settings_.max_pages;
  if (req.what == "atom") {
    auto page = sec::parse_current_atom(body, tickers_, now_ns);
    if (!page)
      return page.err();
    bool reached_seen = false;
    for (const auto& d : page->documents)
      reached_seen = reached_seen || seen_.count(d.native_id) > 0;
    for (const auto& d : page->documents)
      seen_.insert(d.native_id);
    if (seen_.size() > 20000)
      seen_.clear(); // bounded; at worst one poll pages further than needed
    if (page->entries == sec_page_size && !reached_seen && more_pages)
      queue_.push_front(make(settings_.url + "/cgi-bin/browse-edgar?action=getcurrent&count=100&start=" +
                               std::to_string(req.page * sec_page_size) + "&type=&owner=include&output=atom",
                             "atom", "", next_page));
    return std::move(page->documents);
  }
  if (req.what == "tickers") {
    auto t = sec::parse_company_tickers(body);
    if (!t)
      return t.err();
    tickers_ = std::move(*t);
    for (const auto& ticker : settings_.items)
      for (const auto& [cik, ts] : tickers_)
        if (std::find(ts.begin(), ts.end(), ticker) != ts.end())
          queue_.push_back(make(sec_data_url(settings_.url) + "/submissions/CIK" + ten_digit_cik(cik) + ".json",
                                "submissions", ticker, 1));
    return std::vector<mi::document>{};
  }
  if (req.what == "submissions") {
    auto s = sec::parse_submissions(body, now_ns);
    if (!s)
      return s.err();
    // Older filings (filings.files) only when the backfill horizon reaches back past `recent`: its oldest row is
    // later than the horizon's start. Each file once (its filings do not change), those that end within the horizon.
    const std::string horizon_start =
      util::date_text(util::civil_time_of(now_ns - settings_.schedule.backfill_horizon_ns).date);
    std::string oldest_recent = "9999-12-31";
    for (const auto& d : s->documents)
      if (const auto it = d.fields.find("filing_date"); it != d.fields.end())
        oldest_recent = std::min(oldest_recent, it->second);
    if (horizon_start < oldest_recent)
      for (const auto& f : s->overflow) {
        if (overflow_read_.count(f.name) || (!f.filing_to.empty() && f.filing_to < horizon_start))
          continue;
        auto company = *s;
        company.documents.clear();
        overflow_of_[f.name] = std::move(company);
        queue_.push_back(make(sec_data_url(settings_.url) + "/submissions/" + f.name, "submissions_file", req.item, 1));
      }
    return std::move(s->documents);
  }
  if (req.what == "submissions_file") {
    const std::string name = req.url.substr(req.url.rfind('/') + 1);
    const auto company = overflow_of_.find(name);
    if (company == overflow_of_.end())
      return mi::error{"overflow file " + name + " of no company read", mi::errc::unspecified};
    auto rows = sec::parse_submissions_file(body, company->second, name, now_ns);
    if (!rows)
      return rows.err();
    overflow_read_.insert(name);
    return std::move(*rows);
  }
  if (req.what == "news") {
    auto page = alpaca_news::parse_news_page(body, now_ns);
    if (!page)
      return page.err();
    for (const auto& d : page->documents)
      news_since_ns_ = std::max(news_since_ns_, d.published_at_ns);
    if (page->next_page_token && more_pages) {
      std::vector<std::string> symbols;
      for (const auto& i : settings_.items)
        if (i != "*")
          symbols.push_back(i);
      const auto q = req.url.find("/v1beta1/news");
      const std::string prefix = q == std::string::npos ? settings_.url : req.url.substr(0, q);
      auto target = alpaca_news::news_target(0, symbols, *page->next_page_token);
      // the same start as the first page: replace the start of the new target with the request's
      const auto s0 = req.url.find("start="), e0 = req.url.find('&', s0);
      const auto s1 = target.find("start="), e1 = target.find('&', s1);
      target.replace(s1, e1 - s1, req.url.substr(s0, e0 - s0));
      queue_.push_front(make(prefix + target, "news", "", next_page));
    }
    return std::move(page->documents);
  }
  if (req.what == "feed")
    return feeds::parse_feed(body, host_of(req.item), "en", now_ns);
  if (req.what == "cninfo") {
    auto page = cninfo::parse_query(body, now_ns);
    if (!page)
      return page.err();
    if (page->has_more && more_pages && req.form) {
      auto r = req;
      const auto p = r.form->find("pageNum=" + std::to_string(req.page) + "&");
      if (p != std::string::npos)
        r.form->replace(p, 8 + std::to_string(req.page).size(), "pageNum=" + std::to_string(next_page));
      r.page = next_page;
      r.headers = make(r.url, r.what, r.item, next_page).headers;
      queue_.push_front(std::move(r));
    }
    return std::move(page->documents);
  }
  if (req.what == "reddit") {
    auto page = reddit::parse_listing(body, now_ns);
    if (!page)
      return page.err();
    return std::move(page->documents); // new.json: the newest 100 each poll; older posts are not followed
  }
  return mi::error{"unknown request kind '" + req.what + "'", mi::errc::unspecified};
}

source_step source_poller::on_response(const source_request& req, const std::optional<source_response>& res,
                                       std::string_view network_error, std::int64_t now_ns) {
  source_step step;
  std::optional<std::int64_t> retry_after;
  if (!res) {
    step.outcome = request_outcome::network_error;
    step.error = std::string(network_error);
  } else {
    step.outcome = outcome_of_status(res->status);
    if (!res->retry_after.empty())
      retry_after = parse_retry_after_ns(res->retry_after, now_ns);
    if (step.outcome == request_outcome::ok) {
      auto docs = parse(req, res->body, now_ns);
      if (docs) {
        step.documents = std::move(*docs);
        if (!req.form)
          cond_[req.url].update(res->etag, res->last_modified);
      } else {
        step.outcome = request_outcome::bad_body;
        step.error = docs.err().message;
      }
    } else if (step.outcome != request_outcome::not_modified) {
      step.error = "HTTP " + std::to_string(res->status);
    }
  }
  if (is_failure(step.outcome))
    queue_.clear(); // the rest of this poll waits for the next one
  step.gap = schedule_.record(step.outcome, now_ns, retry_after);
  return step;
}

} // namespace mi::documents
