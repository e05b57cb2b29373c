#include "connectors/documents/sec.hpp"

#include <algorithm>
#include <pugixml.hpp>
#include <simdjson.h>

#include "connectors/documents/json_doc.hpp"
#include "connectors/documents/text.hpp"
#include "connectors/rest_json.hpp"
#include "connectors/time_text.hpp"
#include "messages/util/text.hpp"

namespace mi::documents::sec {
namespace {

namespace rest = mi::connectors::rest;
namespace dom = simdjson::dom;

constexpr std::string_view source = "sec";
constexpr std::string_view accession_tag = "accession-number=";

mi::error bad(std::string what, mi::errc code = mi::errc::bad_field) { return mi::error{std::move(what), code}; }

// "4 - Perez Daniel Antonio (0002063236) (Reporting)" -> name, cik, role (form is the category term).
struct filer {
  std::string name;
  std::string cik;
  std::string role;
  std::string href; ///< the filing's index page under this filer's CIK
};

filer parse_title(std::string_view title, std::string_view form) {
  filer f;
  std::string_view rest_of = title;
  const std::string prefix = std::string(form) + " - ";
  if (rest_of.substr(0, prefix.size()) == prefix)
    rest_of.remove_prefix(prefix.size());
  rest_of = util::trim(rest_of);
  // trailing "(Role)"
  if (!rest_of.empty() && rest_of.back() == ')') {
    const auto open = rest_of.rfind('(');
    if (open != std::string_view::npos) {
      const auto inside = rest_of.substr(open + 1, rest_of.size() - open - 2);
      if (!inside.empty() && util::parse_digits(inside)) {
        f.cik = std::string(inside);
      } else {
        f.role = std::string(inside);
      }
      rest_of = util::trim(rest_of.substr(0, open));
    }
  }
  if (f.cik.empty() && !rest_of.empty() && rest_of.back() == ')') {
    const auto open = rest_of.rfind('(');
    if (open != std::string_view::npos) {
      const auto inside = rest_of.substr(open + 1, rest_of.size() - open - 2);
      if (util::parse_digits(inside)) {
        f.cik = std::string(inside);
        rest_of = util::trim(rest_of.substr(0, open));
      }
    }
  }
  f.name = std::string(rest_of);
  return f;
}

// The role whose name titles a filing: the company it is about, not the insider or agent who filed it.
bool is_subject_role(std::string_view role) { return role == "Issuer" || role == "Subject" || role == "Filer"; }

void add_tickers(std::vector<std::string>& symbols, const cik_tickers& tickers, std::string_view cik) {
  const auto n = util::parse_digits(cik);
  if (!n)
    return;
  if (const auto it = tickers.find(*n); it != tickers.end())
    symbols.insert(symbols.end(), it->second.begin(), it->second.end());
}

// The column arrays of filings.recent (or of an overflow file): one filing per row, of `company`.
mi::result<std::vector<mi::document>> parse_rows(dom::object recent, const std::string& prefix,
                                                 const submissions& company, std::int64_t fetched_ns) {
  // Column arrays: every one the same length as accessionNumber.
  dom::array accessions;
  if (recent["accessionNumber"].get_array().get(accessions))
    return bad("submissions: missing field '" + prefix + ".accessionNumber'", mi::errc::missing_field);
  const std::size_t rows = accessions.size();
  // Each column's cells in a vector once: a DOM array's at(i) walks from the start (quadratic over 1000 rows).
  std::map<std::string_view, std::vector<dom::element>> columns;
  for (auto [key, value] : recent) {
    dom::array a;
    if (value.get_array().get(a))
      return bad("submissions: " + prefix + "." + std::string(key) + " must be an array");
    if (a.size() != rows)
      return bad("submissions: " + prefix + "." + std::string(key) + " has " + std::to_string(a.size()) +
                 " rows, accessionNumber " + std::to_string(rows));
    columns.emplace(key, std::vector<dom::element>(a.begin(), a.end()));
  }
  auto cell = [&](std::string_view column, std::size_t row) -> std::string {
    const auto it = columns.find(column);
    return it == columns.end() ? std::string() : json::text_of(it->second[row]);
  };
  const auto cik_number = util::parse_digits(company.cik);
  if (!cik_number)
    return bad("submissions: cik must be digits, not \"" + company.cik + "\"");
  const std::string cik_plain = std::to_string(*cik_number);
  std::vector<mi::document> out;
  out.reserve(rows);
  for (std::size_t row = 0; row < rows; ++row) {
    const std::string where = prefix + "[" + std::to_string(row) + "]";
    mi::document d;
    d.source = std::string(source);
    d.native_id = cell("accessionNumber", row);
    if (d.native_id.empty())
      return bad(where + ": empty accessionNumber", mi::errc::missing_field);
    d.kind = mi::document_kind::filing;
    d.language = "en";
    const std::string form = cell("form", row);
    d.title = form + " - " + company.name;
    const auto accepted = connectors::text::parse_rfc3339_ns(cell("acceptanceDateTime", row));
    if (!accepted)
      return bad(where + ": acceptanceDateTime is not an RFC 3339 time", mi::errc::bad_timestamp);
    d.published_at_ns = *accepted;
    d.fetched_at_ns = fetched_ns;
    std::string folder = d.native_id;
    std::erase(folder, '-');
    const std::string primary = cell("primaryDocument", row);
    d.url = "https://www.sec.gov/Archives/edgar/data/" + cik_plain + "/" + folder + "/" +
            (primary.empty() ? d.native_id + "-index.htm" : primary);
    d.symbols = company.tickers;
    normalize_symbols(d.symbols);
    d.fields = {{"form", form},
                {"accession", d.native_id},
                {"cik", company.cik},
                {"filing_date", cell("filingDate", row)},
                {"report_date", cell("reportDate", row)},
                {"items", cell("items", row)},
                {"primary_doc_description", cell("primaryDocDescription", row)},
                {"size", cell("size", row)}};
    std::erase_if(d.fields, [](const auto& kv) { return kv.second.empty(); });
    d.summary = form + " filed " + cell("filingDate", row) + " by " + company.name;
    out.push_back(std::move(d));
  }
  return out;
}

} // namespace

mi::result<cik_tickers> parse_company_tickers(std::string_view body) {
  dom::parser parser;
  auto parsed = json::parse_object(parser, body, "company_tickers");
  if (!parsed)
    return parsed.err();
  dom::object root = *parsed;
  cik_tickers out;
  for (auto [key, value] : root) {
    const std::string where = "company_tickers[" + std::string(key) + "]";
    dom::object o;
    if (value.get_object().get(o))
      return bad(where + ": not an object", mi::errc::malformed_json);
    auto cik = rest::int_field(o, "cik_str", where);
    if (!cik)
      return cik.err();
    auto ticker = rest::string_field(o, "ticker", where);
    if (!ticker)
      return ticker.err();
    if (*cik <= 0 || ticker->empty())
      return bad(where + ": cik_str must be > 0 and ticker not empty");
    out[*cik].emplace_back(*ticker);
  }
  return out;
}

mi::result<atom_page> parse_current_atom(std::string_view body, const cik_tickers& tickers, std::int64_t fetched_ns) {
  pugi::xml_document xml;
  const auto parsed = xml.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_auto);
  if (!parsed)
    return bad(std::string("not XML: ") + parsed.description(), mi::errc::malformed_json);
  const pugi::xml_node feed = xml.child("feed");
  if (!feed)
    return bad("not an Atom feed (no <feed>)", mi::errc::unsupported_message);
  atom_page page;
  std::map<std::string, std::size_t> by_accession; // accession -> index in page.documents
  std::vector<std::vector<filer>> filers;
  for (pugi::xml_node entry : feed.children("entry")) {
    ++page.entries;
    const std::string where = "entry[" + std::to_string(page.entries - 1) + "]";
    const std::string_view id = entry.child_value("id");
    const auto at = id.find(accession_tag);
    if (at == std::string_view::npos)
      return bad(where + ": <id> without an accession number", mi::errc::missing_field);
    const std::string accession(util::trim(id.substr(at + accession_tag.size())));
    if (accession.empty())
      return bad(where + ": empty accession number", mi::errc::missing_field);
    const std::string form = entry.child("category").attribute("term").value();
    const auto updated = connectors::text::parse_rfc3339_ns(util::trim(entry.child_value("updated")));
    if (!updated)
      return bad(where + ": <updated> is not an RFC 3339 time", mi::errc::bad_timestamp);
    filer f = parse_title(entry.child_value("title"), form);
    std::string href;
    for (pugi::xml_node link : entry.children("link"))
      if (std::string_view(link.attribute("rel").value()) != "self")
        href = link.attribute("href").value();

    auto [it, fresh] = by_accession.emplace(accession, page.documents.size());
    if (fresh) {
      mi::document d;
      d.source = std::string(source);
      d.native_id = accession;
      d.kind = mi::document_kind::filing;
      d.language = "en";
      d.published_at_ns = *updated;
      d.fetched_at_ns = fetched_ns;
      d.summary = html_to_text(entry.child_value("summary"));
      d.fields["form"] = form;
      d.fields["accession"] = accession;
      // "Filed: 2025-12-12 AccNo: ... Size: 10 KB"
      const auto& s = d.summary;
      if (const auto p = s.find("Filed: "); p != std::string::npos)
        d.fields["filed"] = s.substr(p + 7, 10);
      if (const auto p = s.find("Size: "); p != std::string::npos)
        d.fields["size"] = std::string(util::trim(std::string_view(s).substr(p + 6)));
      page.documents.push_back(std::move(d));
      filers.emplace_back();
    }
    f.href = std::move(href);
    filers[it->second].push_back(std::move(f));
  }
  for (std::size_t i = 0; i < page.documents.size(); ++i) {
    mi::document& d = page.documents[i];
    auto& fs = filers[i];
    // The first issuer, subject company or filer listed titles the filing; the others follow in feed order.
    const auto subject = std::find_if(fs.begin(), fs.end(), [](const filer& f) { return is_subject_role(f.role); });
    if (subject != fs.end())
      std::rotate(fs.begin(), subject, subject + 1);
    d.title = d.fields["form"] + " - " + fs.front().name;
    d.url = fs.front().href;
    std::string ciks, names;
    for (const filer& f : fs) {
      if (!ciks.empty()) {
        ciks += ',';
        names += "; ";
      }
      ciks += f.cik;
      names += f.name + " (" + f.cik + ") " + f.role;
      add_tickers(d.symbols, tickers, f.cik);
    }
    d.fields["ciks"] = ciks;
    d.fields["filers"] = names;
    normalize_symbols(d.symbols);
  }
  return page;
}

mi::result<submissions> parse_submissions(std::string_view body, std::int64_t fetched_ns) {
  dom::parser parser;
  auto parsed = json::parse_object(parser, body, "submissions");
  if (!parsed)
    return parsed.err();
  dom::object root = *parsed;
  submissions out;
  auto cik = rest::string_field(root, "cik", "submissions");
  if (!cik)
    return cik.err();
  const auto cik_number = util::parse_digits(*cik);
  if (!cik_number)
    return bad("submissions: cik must be digits, not \"" + std::string(*cik) + "\"");
  out.cik = std::string(*cik);
  auto name = rest::string_field(root, "name", "submissions");
  if (!name)
    return name.err();
  out.name = std::string(*name);
  dom::array tickers;
  if (!root["tickers"].get_array().get(tickers))
    for (dom::element t : tickers) {
      std::string_view s;
      if (!t.get_string().get(s) && !s.empty())
        out.tickers.emplace_back(s);
    }
  dom::object filings, recent;
  if (root["filings"].get_object().get(filings) || filings["recent"].get_object().get(recent))
    return bad("submissions: missing field 'filings.recent'", mi::errc::missing_field);
  dom::array files;
  if (!filings["files"].get_array().get(files))
    for (dom::element f : files) {
      dom::object fo;
      std::string_view s;
      if (f.get_object().get(fo) || fo["name"].get_string().get(s) || s.empty())
        continue;
      out.files.emplace_back(s);
      submissions_file sf;
      sf.name = std::string(s);
      if (fo["filingCount"].get_int64().get(sf.filing_count))
        sf.filing_count = 0;
      sf.filing_from = json::text_of(fo, "filingFrom");
      sf.filing_to = json::text_of(fo, "filingTo");
      out.overflow.push_back(std::move(sf));
    }
  auto rows = parse_rows(recent, "filings.recent", out, fetched_ns);
  if (!rows)
    return rows.err();
  out.documents = std::move(*rows);
  return out;
}

mi::result<std::vector<mi::document>> parse_submissions_file(std::string_view body, const submissions& company,
                                                             std::string_view name, std::int64_t fetched_ns) {
  dom::parser parser;
  const std::string where = "files[" + std::string(name) + "]";
  auto parsed = json::parse_object(parser, body, where);
  if (!parsed)
    return parsed.err();
  return parse_rows(*parsed, where, company, fetched_ns);
}

} // namespace mi::documents::sec
