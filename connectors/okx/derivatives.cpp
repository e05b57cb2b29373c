#include "connectors/okx/derivatives.hpp"

#include "connectors/derivatives_json.hpp"

namespace mi::okx {

namespace dj = mi::connectors::deriv_json;
namespace dom = simdjson::dom;
using mi::deriv::channel;
using mi::deriv::derivative;

struct derivatives_codec::impl {
  dj::reader reader;
};

derivatives_codec::derivatives_codec() : impl_(std::make_unique<impl>()) {}
derivatives_codec::~derivatives_codec() = default;
derivatives_codec::derivatives_codec(derivatives_codec&&) noexcept = default;
derivatives_codec& derivatives_codec::operator=(derivatives_codec&&) noexcept = default;

std::string swap_symbol(std::string_view inst_id) {
  constexpr std::string_view suffix = "-SWAP";
  if (inst_id.size() <= suffix.size() || inst_id.substr(inst_id.size() - suffix.size()) != suffix)
    return {};
  std::string out;
  for (char c : inst_id.substr(0, inst_id.size() - suffix.size()))
    if (c != '-')
      out += c;
  return dj::symbol_token(out) ? out : std::string{};
}

namespace {

mi::result<derivative> base(const dom::object& item, std::string_view inst_id, std::int64_t recv_ns, channel what) {
  derivative d;
  d.exchange = std::string(derivatives_venue);
  d.symbol = swap_symbol(inst_id);
  if (d.symbol.empty())
    return mi::error{"instId '" + std::string(inst_id) + "' is not a SWAP instrument", mi::errc::unknown_symbol};
  MI_DERIV_TRY(ts, dj::ms_of(item, "ts"));
  if (!*ts)
    return dj::missing("ts");
  d.ts_ns = **ts;
  d.recv_ns = recv_ns;
  d.what = what;
  return d;
}

mi::result<derivative> item_of(const dom::object& item, std::string_view ch, std::string_view arg_inst,
                               std::int64_t recv_ns) {
  MI_DERIV_TRY(inst, dj::string_of(item, "instId"));
  const std::string_view inst_id = *inst ? **inst : arg_inst;
  if (ch == "funding-rate") {
    MI_DERIV_TRY(d, base(item, inst_id, recv_ns, channel::funding));
    MI_DERIV_TRY(rate, dj::decimal_of(item, "fundingRate", true));
    MI_DERIV_TRY(at, dj::ms_of(item, "fundingTime"));
    if (!*rate)
      return dj::missing("fundingRate");
    d->rate = **rate;
    d->next_funding_ns = at->value_or(0);
    return d;
  }
  if (ch == "mark-price") {
    MI_DERIV_TRY(d, base(item, inst_id, recv_ns, channel::mark));
    MI_DERIV_TRY(px, dj::decimal_of(item, "markPx", false));
    if (!*px)
      return dj::missing("markPx");
    d->mark_price = **px;
    return d;
  }
  // open-interest
  MI_DERIV_TRY(d, base(item, inst_id, recv_ns, channel::open_interest));
  MI_DERIV_TRY(oi, dj::decimal_of(item, "oi", false));
  MI_DERIV_TRY(usd, dj::decimal_of(item, "oiUsd", false));
  if (!*oi)
    return dj::missing("oi");
  d->open_interest = **oi;
  d->open_interest_value = usd->value_or("");
  return d;
}

mi::result<std::vector<derivative>> liquidations(const dom::object& item, std::int64_t recv_ns,
                                                 std::vector<derivative>& out) {
  MI_DERIV_TRY(inst, dj::string_of(item, "instId"));
  if (!*inst)
    return dj::missing("instId");
  const std::string symbol = swap_symbol(**inst);
  if (symbol.empty())
    return std::vector<derivative>{}; // liquidation-orders is per instType: other instruments are not ours to judge
  dom::array details;
  if (item.at_key("details").get_array().get(details))
    return mi::error{"field 'details' must be an array", mi::errc::missing_field};
  for (auto dv : details) {
    dom::object det;
    if (dv.get_object().get(det))
      return mi::error{"a detail must be an object", mi::errc::bad_field};
    MI_DERIV_TRY(side, dj::string_of(det, "side"));
    MI_DERIV_TRY(sz, dj::decimal_of(det, "sz", false));
    MI_DERIV_TRY(px, dj::decimal_of(det, "bkPx", false));
    MI_DERIV_TRY(ts, dj::ms_of(det, "ts"));
    if (!*side || (**side != "buy" && **side != "sell"))
      return mi::error{"field 'side' must be buy or sell", mi::errc::bad_field};
    if (!*sz || !*px || *sz == "0" || *px == "0")
      return mi::error{"a liquidation needs sz and bkPx > 0", mi::errc::bad_number};
    if (!*ts)
      return dj::missing("ts");
    derivative d;
    d.exchange = std::string(derivatives_venue);
    d.symbol = symbol;
    d.what = channel::liquidation;
    d.ts_ns = **ts;
    d.recv_ns = recv_ns;
    d.side = **side == "buy" ? mi::side::buy : mi::side::sell;
    d.price = **px;
    d.quantity = **sz;
    out.push_back(std::move(d));
  }
  return std::vector<derivative>{};
}

} // namespace

mi::result<std::vector<derivative>> derivatives_codec::decode(std::string_view frame, std::int64_t recv_ns) {
  if (frame == "pong")
    return std::vector<derivative>{};
  dom::object root;
  if (auto why = impl_->reader.open_object(frame, root))
    return *why;
  MI_DERIV_TRY(event, dj::string_of(root, "event"));
  if (*event) {
    if (**event == "error") {
      MI_DERIV_TRY(msg, dj::string_of(root, "msg"));
      return mi::error{"okx error: " + std::string(msg->value_or("")), mi::errc::unsupported_message};
    }
    return std::vector<derivative>{}; // subscribe, unsubscribe, notice
  }
  dom::object arg;
  if (root.at_key("arg").get_object().get(arg))
    return std::vector<derivative>{};
  MI_DERIV_TRY(ch, dj::string_of(arg, "channel"));
  MI_DERIV_TRY(arg_inst, dj::string_of(arg, "instId"));
  if (!*ch)
    return dj::missing("arg.channel");
  const std::string channel_name(**ch);
  const std::string inst(arg_inst->value_or(""));
  if (channel_name != "funding-rate" && channel_name != "mark-price" && channel_name != "open-interest" &&
      channel_name != "liquidation-orders")
    return std::vector<derivative>{};
  dom::array data;
  if (root.at_key("data").get_array().get(data))
    return mi::error{"field 'data' must be an array", mi::errc::missing_field};
  std::vector<derivative> out;
  for (auto v : data) {
    dom::object item;
    if (v.get_object().get(item))
      return mi::error{"a data item must be an object", mi::errc::bad_field};
    if (channel_name == "liquidation-orders") {
      auto r = liquidations(item, recv_ns, out);
      if (!r)
        return r.err();
      continue;
    }
    auto d = item_of(item, channel_name, inst, recv_ns);
    if (!d)
      return d.err();
    out.push_back(std::move(*d));
  }
  return out;
}

std::string derivatives_subscribe_request(const std::vector<std::string>& inst_ids) {
  std::string out = R"({"op":"subscribe","args":[)";
  for (const auto& id : inst_ids)
    for (const char* ch : {"funding-rate", "mark-price", "open-interest"})
      out += std::string(R"({"channel":")") + ch + R"(","instId":")" + id + "\"},";
  out += R"({"channel":"liquidation-orders","instType":"SWAP"}]})";
  return out;
}

} // namespace mi::okx
