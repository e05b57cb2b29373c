// `market-ingestor book`: an exchange's order-book frames on stdin -> the book after each frame on stdout.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "app/cli.hpp"
#include "connectors/venue/venue.hpp"
#include "messages/book/book_codec.hpp"
#include "messages/venue_registry.hpp"

namespace mi::app {

namespace {

struct book_options {
  std::string exchange;
  std::string snapshot_file;
  std::size_t depth = 10;
};

int run_book(const book_options& o) {
  auto venue = mi::venue::make_venue(o.exchange);
  if (!venue) {
    std::cerr << "book: " << venue.err().message << "\n";
    return 2;
  }
  std::unique_ptr<mi::book::book_codec> codec = (*venue)->make_book_codec(0);
  if (!o.snapshot_file.empty()) {
    std::ifstream in(o.snapshot_file);
    if (!in) {
      std::cerr << "book: cannot read --snapshot " << o.snapshot_file << "\n";
      return 2;
    }
    std::ostringstream body;
    body << in.rdbuf();
    const mi::book::frame_result r = codec->on_frame(body.str());
    if (r.what != mi::book::status::snapshot) {
      std::cerr << "book: --snapshot " << o.snapshot_file << " is not a " << o.exchange << " book snapshot ("
                << mi::book::to_string(r.what) << (r.reason.empty() ? "" : ": ") << r.reason << ")\n";
      return 2;
    }
  }
  std::ios::sync_with_stdio(false);
  std::size_t line_no = 0;
  for (std::string line; std::getline(std::cin, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    const mi::book::frame_result r = codec->on_frame(line);
    if (!r.reason.empty())
      std::cerr << "book: line " << line_no << ": " << mi::book::to_string(r.what) << ": " << r.reason << "\n";
    std::cout << mi::book::to_json_line(codec->book(), r, o.depth) << '\n';
  }
  std::cout.flush();
  return 0;
}

} // namespace

command add_book(CLI::App& app) {
  auto* sub = app.add_subcommand(
    "book", "order-book frames (stdin, one a line) -> the book after each frame (stdout, one JSON line a frame: "
            "bids, asks, checksum_ok, status snapshot|applied|dropped_stale|resync|awaiting_snapshot|ignored)");
  auto o = std::make_shared<book_options>();
  sub
    ->add_option("--exchange,-e", o->exchange,
                 "the exchange whose book channel the frames are: " + mi::venue_names_joined())
    ->required()
    ->check(CLI::IsMember(mi::venue_names()));
  sub->add_option("--snapshot", o->snapshot_file,
                  "a snapshot to start from, e.g. Binance's REST /api/v3/depth body (stdin may carry more)");
  sub->add_option("--depth", o->depth, "levels of each side printed, best first")->check(CLI::Range(1, 5000));
  return {sub, [o] { return run_book(*o); }};
}

} // namespace mi::app
