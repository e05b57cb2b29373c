#include "gateways/postgres/document_store.hpp"

#include <charconv>
#include <map>

#include <pqxx/pqxx>

#include "gateways/postgres/db_error.hpp"
#include "gateways/postgres/document_search.hpp"
#include "gateways/postgres/history_reader.hpp"
#include "gateways/postgres/postgres.hpp"
#include "gateways/postgres/statement.hpp"
#include "messages/util/floor_div.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::gw {
namespace {

using detail::db_error;
using detail::statement;

constexpr const char* columns = "source, native_id, kind, symbols, title, summary, body, url, language, "
                                "published_at_ns, fetched_at_ns, revision, fields::text";

// A PostgreSQL text[] literal: {"a","b"} with " and \\ escaped.
std::string array_literal(const std::vector<std::string>& xs) {
  std::string out = "{";
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (i)
      out += ',';
    out += '"';
    for (char c : xs[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string fields_json(const std::map<std::string, std::string>& fields) {
  std::string out = "{";
  for (const auto& [k, v] : fields) {
    if (out.size() > 1)
      out += ',';
    util::append_json_string(out, k);
    out += ':';
    util::append_json_string(out, v);
  }
  return out + "}";
}

// ILIKE pattern of a substring search: % _ and \ taken literally.
std::string like_pattern(std::string_view q) {
  std::string out = "%";
  for (char c : q) {
    if (c == '%' || c == '_' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "%";
}

mi::result<mi::document> document_row(const pqxx::row& r) {
  mi::document d;
  d.source = r[0].as<std::string>();
  d.native_id = r[1].as<std::string>();
  const auto kind = mi::parse_document_kind(r[2].as<std::string>());
  if (!kind)
    return mi::error{"documents: unknown kind '" + r[2].as<std::string>() + "'"};
  d.kind = *kind;
  auto arr = r[3].as_array();
  for (auto e = arr.get_next(); e.first != pqxx::array_parser::juncture::done; e = arr.get_next())
    if (e.first == pqxx::array_parser::juncture::string_value)
      d.symbols.push_back(e.second);
  d.title = r[4].as<std::string>();
  d.summary = r[5].as<std::string>();
  d.body = r[6].as<std::string>();
  d.url = r[7].as<std::string>();
  d.language = r[8].as<std::string>();
  d.published_at_ns = r[9].as<std::int64_t>();
  d.fetched_at_ns = r[10].as<std::int64_t>();
  d.revision = static_cast<std::uint64_t>(r[11].as<std::int64_t>());
  // fields: a flat object of strings, as written by fields_json (jsonb's text form: "k": "v", ...).
  const std::string json = r[12].as<std::string>();
  std::size_t i = 0;
  auto read_string = [&](std::string& out) -> bool {
    while (i < json.size() && json[i] != '"')
      ++i;
    if (i >= json.size())
      return false;
    ++i;
    while (i < json.size() && json[i] != '"') {
      if (json[i] == '\\' && i + 1 < json.size()) {
        const char e = json[++i];
        if (e == 'u' && i + 4 < json.size()) {
          unsigned v = 0;
          std::from_chars(json.data() + i + 1, json.data() + i + 5, v, 16);
          out += static_cast<char>(v); // only control characters are \\u-escaped by PostgreSQL
          i += 4;
        } else {
          out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e;
        }
      } else {
        out += json[i];
      }
      ++i;
    }
    ++i;
    return true;
  };
  for (;;) {
    std::string k, v;
    if (!read_string(k) || !read_string(v))
      break;
    d.fields.emplace(std::move(k), std::move(v));
  }
  return d;
}

} // namespace

partition_range document_partition_of(std::int64_t ns) {
  partition_range r = kline_partition(month_of(ns));
  r.name = "documents_p" + r.name.substr(std::string_view("market_klines_p").size());
  return r;
}

std::string encode_document_cursor(const document_cursor& c) {
  return encode_cursor(trade_cursor{c.published_at_ns, c.id});
}

mi::result<document_cursor> decode_document_cursor(std::string_view token) {
  auto c = decode_cursor(token);
  if (!c)
    return mi::error{c.err().message, mi::errc::bad_input};
  return document_cursor{c->ts_ns, c->trade_id};
}

struct document_store::impl {
  std::string conninfo;
  std::chrono::milliseconds statement_timeout{};
  std::unique_ptr<pqxx::connection> conn;
  std::set<std::string> partitions; ///< created (or found) on this connection

  pqxx::connection& connection() {
    if (!conn || !conn->is_open()) {
      auto c = std::make_unique<pqxx::connection>(conninfo);
      pqxx::nontransaction n{*c};
      n.exec("SET statement_timeout = " + std::to_string(statement_timeout.count()));
      conn = std::move(c);
      partitions.clear();
    }
    return *conn;
  }

  // The month partitions of a batch, each in its own transaction: a month whose rows already sit in
  // documents_default cannot get its partition (PostgreSQL refuses), and its rows keep going to the default.
  void ensure_partitions(const std::vector<mi::document>& batch) {
    for (const auto& d : batch) {
      const partition_range p = document_partition_of(d.published_at_ns);
      if (partitions.count(p.name))
        continue;
      try {
        pqxx::work w{connection()};
        w.exec("SET LOCAL client_min_messages = warning");
        w.exec("CREATE TABLE IF NOT EXISTS " + p.name + " PARTITION OF documents FOR VALUES FROM ('" + p.from +
               "') TO ('" + p.to + "')");
        w.commit();
      } catch (const pqxx::sql_error&) {
        // documents_default holds rows of that month, or another writer created it at the same time
      }
      partitions.insert(p.name);
    }
  }
};

document_store::document_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
document_store::~document_store() = default;

mi::result<std::unique_ptr<document_store>> document_store::connect(const std::string& conninfo,
                                                                    std::chrono::milliseconds statement_timeout) {
  auto p = std::make_unique<impl>();
  p->conninfo = conninfo;
  p->statement_timeout = statement_timeout;
  try {
    p->connection();
  } catch (const std::exception& e) {
    return mi::error{db_error("postgres connect", e).message, mi::errc::unavailable};
  }
  return std::unique_ptr<document_store>(new document_store(std::move(p)));
}

mi::result<document_write> document_store::upsert(const std::vector<mi::document>& batch) {
  document_write out;
  if (batch.empty())
    return out;
  try {
    impl_->ensure_partitions(batch);
    pqxx::work w{impl_->connection()};
    for (const mi::document& d : batch) {
      const std::string id = mi::document_id(d);
      // An id keeps the published_at it was first stored with: every revision lands on the same row.
      auto existing = w.exec_params("SELECT published_at_ns FROM documents WHERE id = $1 LIMIT 1", id);
      const std::int64_t published_ns = existing.empty() ? d.published_at_ns : existing[0][0].as<std::int64_t>();
      auto r = w.exec_params(
        "INSERT INTO documents (id, source, native_id, kind, symbols, title, summary, body, url, language, "
        "published_at, published_at_ns, fetched_at_ns, revision, fields) "
        "VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9, $10, $11::timestamptz, $12, $13, $14, $15::jsonb) "
        "ON CONFLICT (id, published_at) DO UPDATE SET symbols = EXCLUDED.symbols, title = EXCLUDED.title, "
        "summary = EXCLUDED.summary, body = EXCLUDED.body, url = EXCLUDED.url, language = EXCLUDED.language, "
        "fetched_at_ns = EXCLUDED.fetched_at_ns, revision = EXCLUDED.revision, fields = EXCLUDED.fields, "
        "revisions = documents.revisions + 1, stored_at = now() "
        "WHERE documents.revision <> EXCLUDED.revision AND EXCLUDED.fetched_at_ns >= documents.fetched_at_ns "
        "RETURNING 1",
        id, d.source, d.native_id, std::string(mi::to_string(d.kind)), array_literal(d.symbols), d.title, d.summary,
        d.body, d.url, d.language, timestamptz_text(published_ns), published_ns, d.fetched_at_ns,
        static_cast<std::int64_t>(d.revision), fields_json(d.fields));
      if (r.empty())
        ++out.unchanged;
      else if (existing.empty())
        ++out.inserted;
      else
        ++out.revised;
    }
    w.commit();
    return out;
  } catch (const pqxx::sql_error& e) {
    const std::string state = e.sqlstate();
    const bool data = state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0;
    return mi::error{db_error("documents upsert", e).message, data ? mi::errc::rejected : mi::errc::unavailable};
  } catch (const std::exception& e) {
    impl_->conn.reset();
    return mi::error{db_error("documents upsert", e).message, mi::errc::unavailable};
  }
}

namespace detail {

namespace {

// The text predicate: English words through the full-text index; any other text (Chinese) as a substring through
// the trigrams.
void add_text(statement& st, const document_query& q) {
  const std::string text = st.arg(q.q);
  st.sql += " AND (search @@ websearch_to_tsquery('english', " + text +
            ") OR documents_text(title, summary, body) ILIKE " + st.arg(like_pattern(q.q)) + ")";
}

// Every other filter, and the cursor.
void add_filters(statement& st, const document_query& q) {
  if (!q.symbol.empty())
    st.sql += " AND symbols @> ARRAY[" + st.arg(q.symbol) + "::text]";
  if (!q.source.empty())
    st.sql += " AND source = " + st.arg(q.source);
  if (q.kind)
    st.sql += " AND kind = " + st.arg(std::string(mi::to_string(*q.kind)));
  if (q.start_ms)
    st.sql += " AND published_at >= " + st.time_arg(*q.start_ms, "millisecond");
  if (q.end_ms)
    st.sql += " AND published_at < " + st.time_arg(*q.end_ms + 1, "millisecond");
  if (q.after) {
    // published_at is published_at_ns floored to the µs: the same order, and a bound PostgreSQL prunes on.
    st.sql += " AND (published_at, id) < (" +
              st.time_arg(util::floor_div(q.after->published_at_ns, 1000), "microsecond") + ", " + st.arg(q.after->id) +
              "::text)";
  }
}

constexpr const char* newest_first = " ORDER BY published_at DESC, id DESC";

// Rows (newest first, at most limit + 1) to a page.
mi::result<document_page> to_page(const pqxx::result& rows, int limit, search_path path) {
  document_page page;
  page.path = path;
  for (const auto& r : rows) {
    if (page.documents.size() == static_cast<std::size_t>(limit)) {
      const auto& last = page.documents.back();
      page.next = document_cursor{last.published_at_ns, mi::document_id(last)};
      break;
    }
    auto d = document_row(r);
    if (!d)
      return d.err();
    page.documents.push_back(std::move(*d));
  }
  return page;
}

} // namespace

// A text search with ORDER BY published_at DESC LIMIT n is planned as a walk of the time index that tests every row
// until n match: fast for a common word, a walk over the whole table for a rare or absent one (the planner cannot
// know). So, each step exact or handing over to the next:
//   1. window: the newest W rows of the other filters (time index), the text tested on them; limit + 1 matches there
//      are the plain statement's first limit + 1 (every row before them is in the window).
//   2. candidates: every match read from the GIN indexes (bitmap, no order), at most max_index_candidates + 1; when
//      there are no more than that, they are all the matches: sorted, the first limit + 1 are the answer.
//   3. time_walk: more matches than that but few recent ones: the plain statement (its walk now meets a match at
//      least every few hundred rows on average).
mi::result<document_page> search_documents(pqxx::transaction_base& w, const document_query& q, search_mode mode) {
  const std::string limit = std::to_string(q.limit + 1);
  auto plain = [&](search_path path) {
    statement st;
    st.sql = std::string("SELECT ") + columns + " FROM documents WHERE true";
    if (!q.q.empty())
      add_text(st, q);
    add_filters(st, q);
    st.sql += std::string(newest_first) + " LIMIT " + st.arg(limit) + "::bigint";
    return to_page(st.run(w), q.limit, path);
  };
  if (q.q.empty() || mode == search_mode::plain)
    return plain(search_path::plain);

  statement win;
  const int window = std::max(1000, 20 * (q.limit + 1));
  win.sql = "SELECT " + std::string(columns) + " FROM (SELECT * FROM documents WHERE true";
  add_filters(win, q);
  win.sql += std::string(newest_first) + " LIMIT " + win.arg(std::to_string(window)) + "::bigint) d WHERE true";
  add_text(win, q);
  win.sql += std::string(newest_first) + " LIMIT " + win.arg(limit) + "::bigint";
  auto in_window = win.run(w);
  if (in_window.size() == static_cast<std::size_t>(q.limit + 1))
    return to_page(in_window, q.limit, search_path::window);

  statement cand;
  cand.sql = "WITH c AS MATERIALIZED (SELECT published_at, id FROM documents WHERE true";
  add_text(cand, q);
  add_filters(cand, q);
  cand.sql += " LIMIT " + cand.arg(std::to_string(max_index_candidates + 1)) + "::bigint) SELECT " + columns +
              ", (SELECT count(*) FROM c) FROM documents WHERE (published_at, id) IN (SELECT published_at, id FROM c" +
              newest_first + " LIMIT " + cand.arg(limit) + "::bigint)" + newest_first;
  auto candidates = cand.run(w);
  if (candidates.empty() || candidates[0][13].as<std::int64_t>() <= max_index_candidates)
    return to_page(candidates, q.limit, search_path::candidates);
  return plain(search_path::time_walk);
}

} // namespace detail

std::string_view to_string(search_path p) {
  switch (p) {
  case search_path::plain:
    return "plain";
  case search_path::window:
    return "window";
  case search_path::candidates:
    return "candidates";
  case search_path::time_walk:
    return "time_walk";
  }
  return "unknown";
}

mi::result<document_page> document_store::search(const document_query& q, search_mode mode) {
  try {
    pqxx::read_transaction w{impl_->connection()};
    return detail::search_documents(w, q, mode);
  } catch (const pqxx::sql_error& e) {
    return db_error("documents search", e);
  } catch (const std::exception& e) {
    impl_->conn.reset();
    return db_error("documents search", e);
  }
}

mi::result<int> document_store::revisions(const std::string& id) {
  try {
    pqxx::read_transaction w{impl_->connection()};
    auto r = w.exec_params("SELECT revisions FROM documents WHERE id = $1", id);
    return r.empty() ? 0 : r[0][0].as<int>();
  } catch (const std::exception& e) {
    impl_->conn.reset();
    return db_error("documents revisions", e);
  }
}

} // namespace mi::gw
