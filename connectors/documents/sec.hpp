#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/document.hpp"
#include "messages/result.hpp"

/// SEC EDGAR (pure): the "current filings" Atom feed (browse-edgar?action=getcurrent&output=atom, paged by `start`),
/// per-company submissions JSON (data.sec.gov/submissions/CIK##########.json, column arrays) and company_tickers.json
/// (CIK -> tickers). Fixtures and field meanings: ../shared/fixtures/documents/SOURCES.md.
namespace mi::documents::sec {

/// CIK -> its tickers in the order company_tickers.json lists them (GOOGL before GOOG).
using cik_tickers = std::map<std::int64_t, std::vector<std::string>>;

/// company_tickers.json: `{"0":{"cik_str":789019,"ticker":"MSFT","title":"MICROSOFT CORP"},...}`.
mi::result<cik_tickers> parse_company_tickers(std::string_view body);

/// One page of the current-filings feed.
struct atom_page {
  /// One document per accession (the feed lists a filing once per filer role: the Form 4 of an insider once for the
  /// "(Reporting)" owner and once for the "(Issuer)"), in the order of first appearance.
  std::vector<mi::document> documents;
  std::size_t entries = 0; ///< <entry> elements on the page: fewer than `count` requested means the last page
};

/// Parses a page. Each document: native_id the accession number, title "<form> - <subject>" (the issuer, subject
/// company or filer, else the first name listed), url the index page of that filer, published_at the entry's
/// <updated>, symbols the tickers of every CIK listed (from `tickers`), fields form, accession, ciks, filers
/// ("name (cik) role; ..."), filed, size. Error on a body that is not the Atom feed (the 503 "File Unavailable" HTML
/// page past the end, malformed XML) or an entry without its accession.
mi::result<atom_page> parse_current_atom(std::string_view body, const cik_tickers& tickers, std::int64_t fetched_ns);

/// One entry of a submissions body's `filings.files`: an overflow file of older filings.
struct submissions_file {
  std::string name; ///< "CIK0000320193-submissions-001.json" (under data.sec.gov/submissions/)
  std::int64_t filing_count = 0;
  std::string filing_from; ///< "1994-01-26": its oldest filing date
  std::string filing_to;   ///< "2015-03-11": its newest
  bool operator==(const submissions_file&) const = default;
};

/// A submissions body.
struct submissions {
  std::string cik;                     ///< 10 digits, as sent ("0000320193")
  std::string name;                    ///< "Apple Inc."
  std::vector<std::string> tickers;    ///< ["AAPL"]
  std::vector<mi::document> documents; ///< filings.recent, one per row, in the body's order (newest first)
  std::vector<std::string> files;      ///< filings.files[].name: older filings, fetched from data.sec.gov/submissions/
  std::vector<submissions_file> overflow; ///< filings.files in full (same order as `files`)
};

/// Parses a submissions body. Each row: native_id the accession, title "<form> - <name>", url
/// https://www.sec.gov/Archives/edgar/data/<cik>/<accession without dashes>/<primaryDocument>, published_at
/// acceptanceDateTime, symbols the company's tickers, fields form, accession, cik, filing_date, report_date, items,
/// primary_doc_description, size. Error when the column arrays differ in length or a row lacks its accession.
mi::result<submissions> parse_submissions(std::string_view body, std::int64_t fetched_ns);

/// Parses an overflow file (`CIK##########-submissions-001.json`: the column arrays of `filings.recent`, at the top
/// level) of the company `company` (its cik, name and tickers: the file names none of them). Rows as
/// parse_submissions'; the same errors, named `files[<name>][<row>]`.
mi::result<std::vector<mi::document>> parse_submissions_file(std::string_view body, const submissions& company,
                                                             std::string_view name, std::int64_t fetched_ns);

} // namespace mi::documents::sec
