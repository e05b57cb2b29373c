#include "connectors/alpaca/book.hpp"

#include <string>
#include <vector>

namespace mi::alpaca {

mi::book::frame_result bbo_book::on_frame(std::string_view frame) {
  auto ev = codec_.decode(frame, 0);
  if (!ev)
    return resync("malformed frame: " + ev.err().message);
  if (ev->quotes.empty())
    return {mi::book::status::ignored, std::nullopt, {}};
  const quote& q = ev->quotes.back();
  const std::string bp = q.bid_price.to_string(), bs = q.bid_size.to_string();
  const std::string ap = q.ask_price.to_string(), as = q.ask_size.to_string();
  std::vector<mi::book::level_change> levels;
  if (q.bid_price.signum() > 0)
    levels.push_back({mi::book::side::bid, bp, bs});
  if (q.ask_price.signum() > 0)
    levels.push_back({mi::book::side::ask, ap, as});
  if (!book_.assign(levels))
    return resync("quote with an invalid level");
  book_.set_valid(true);
  return {mi::book::status::snapshot, std::nullopt, {}};
}

} // namespace mi::alpaca
