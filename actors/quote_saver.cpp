#include "actors/quote_saver.hpp"

#include <memory>
#include <vector>

#include "actors/row_saver.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/equity_store.hpp"
#include "market.pb.h"

namespace mi::actors {
caf::actor spawn_quote_saver(caf::actor_system& sys, quote_saver_args args) {
  auto rows = std::make_shared<std::vector<market::v1::Quote>>();
  auto writer = std::make_shared<mi::gw::equity_writer>(args.dsn); // one connection, reconnected after an error
  row_saver_args r;
  r.what = "quote saver";
  r.actor = "quote_saver";
  r.js = args.js;
  r.stream = args.stream;
  r.durable = args.durable;
  r.batch = args.batch_size;
  r.wait = std::chrono::milliseconds(500);
  r.max_ack_pending = 4 * args.batch_size + 100;
  r.backoff_min = std::chrono::milliseconds(200);
  r.add = [rows](const mi::gw::js_message& m) -> mi::result<bool> {
    market::v1::Quote q;
    const auto data = m.data();
    if (!q.ParseFromArray(data.data(), static_cast<int>(data.size())) || q.venue().empty() || q.symbol().empty())
      return mi::error{"not a market.v1.Quote"};
    rows->push_back(std::move(q));
    return true;
  };
  r.write = [rows, writer]() -> mi::result<bool> {
    auto w = writer->write(*rows, {});
    rows->clear();
    if (!w)
      return w.err();
    return true;
  };
  return spawn_row_saver(sys, std::move(r));
}

} // namespace mi::actors
