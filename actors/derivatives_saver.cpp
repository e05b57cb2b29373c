#include "actors/derivatives_saver.hpp"

#include <memory>
#include <vector>

#include "actors/row_saver.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/derivatives_store.hpp"
#include "messages/deriv/derivative.hpp"

namespace mi::actors {

caf::actor spawn_derivatives_saver(caf::actor_system& sys, derivatives_saver_args args) {
  auto rows = std::make_shared<std::vector<mi::deriv::derivative>>();
  row_saver_args r;
  r.what = "derivatives saver";
  r.actor = "derivatives_saver";
  r.js = args.js;
  r.stream = args.stream;
  r.durable = args.durable;
  r.batch = 500;
  r.wait = std::chrono::milliseconds(1000);
  r.max_ack_pending = 1000;
  r.add = [rows](const mi::gw::js_message& m) -> mi::result<bool> {
    auto g = mi::deriv::decode_pb(m.data());
    if (!g)
      return g.err();
    rows->push_back(std::move(*g));
    return true;
  };
  r.write = [rows, dsn = args.dsn]() -> mi::result<bool> {
    auto w = mi::gw::write_derivatives(dsn, *rows);
    rows->clear();
    if (!w)
      return w.err();
    return true;
  };
  return spawn_row_saver(sys, std::move(r));
}

} // namespace mi::actors
