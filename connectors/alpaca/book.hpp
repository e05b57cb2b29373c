#pragma once

#include <string_view>

#include "connectors/alpaca/codec.hpp"
#include "messages/book/book_codec.hpp"

namespace mi::alpaca {

/// Alpaca has no order-book channel; its quotes (T "q") are the top of book of one market center (the IEX feed) or the
/// national best bid and offer (SIP). The book is therefore one level per side, replaced by each quote:
///
/// ```
///  frame with quotes   ──► book := the last quote's bid and ask (a price of 0: that side empty) ──► snapshot, valid
///  frame without quotes (trades, bars, control) ──► ignored
///  malformed frame     ──► resync (book invalid until the next quote)
/// ```
class bbo_book final : public mi::book::book_codec {
public:
  mi::book::frame_result on_frame(std::string_view frame) override;

private:
  codec codec_;
};

} // namespace mi::alpaca
