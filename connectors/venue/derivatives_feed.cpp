#include "connectors/venue/derivatives_feed.hpp"

#include "connectors/binance/derivatives.hpp"
#include "connectors/bybit/derivatives.hpp"
#include "connectors/okx/derivatives.hpp"
#include "messages/venue_registry.hpp"

namespace mi::venue {
namespace {

constexpr std::int64_t sec = 1'000'000'000;

/// "BTC/USDT" -> {"BTC", "USDT"}; nullopt unless both parts are upper-case letters and digits.
std::optional<std::pair<std::string, std::string>> split_unified(std::string_view u) {
  const auto slash = u.find('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  std::string base(u.substr(0, slash)), quote(u.substr(slash + 1));
  for (auto* part : {&base, &quote}) {
    if (part->empty() || part->size() > 20)
      return std::nullopt;
    for (char& c : *part) {
      if (c >= 'a' && c <= 'z')
        c = static_cast<char>(c - 'a' + 'A');
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
        return std::nullopt;
    }
  }
  return std::pair{base, quote};
}

class binance_usdm final : public derivatives_feed {
public:
  std::string_view name() const override { return binance::derivatives_venue; }
  std::vector<std::string> subscribe_requests() const override {
    return {binance::derivatives_subscribe_request(symbols_, 1)};
  }
  mi::result<std::vector<mi::deriv::derivative>> decode(std::string_view frame, std::int64_t recv_ns) override {
    return codec_.decode(frame, recv_ns);
  }
  void on_open(std::int64_t) override {}
  void on_frame(std::int64_t) override {}
  std::optional<std::string> ping_due(std::int64_t) override { return std::nullopt; }
  std::vector<rest_request> open_interest_requests() const override {
    std::vector<rest_request> out;
    for (const auto& s : symbols_)
      out.push_back({binance::open_interest_target(s)});
    return out;
  }
  mi::result<mi::deriv::derivative> parse_open_interest(std::string_view body, std::int64_t recv_ns) override {
    return codec_.parse_open_interest(body, recv_ns);
  }

private:
  binance::derivatives_codec codec_;
};

class okx_swap final : public derivatives_feed {
public:
  std::vector<std::string> inst_ids;
  std::string_view name() const override { return okx::derivatives_venue; }
  std::vector<std::string> subscribe_requests() const override {
    return {okx::derivatives_subscribe_request(inst_ids)};
  }
  mi::result<std::vector<mi::deriv::derivative>> decode(std::string_view frame, std::int64_t recv_ns) override {
    return codec_.decode(frame, recv_ns);
  }
  void on_open(std::int64_t now_ns) override { last_frame_ns_ = now_ns; }
  void on_frame(std::int64_t now_ns) override { last_frame_ns_ = now_ns; }
  // OKX closes a connection silent for 30 s: a text "ping" after 25 s without a frame (answered "pong").
  std::optional<std::string> ping_due(std::int64_t now_ns) override {
    if (now_ns - last_frame_ns_ < 25 * sec)
      return std::nullopt;
    last_frame_ns_ = now_ns;
    return std::string("ping");
  }

private:
  okx::derivatives_codec codec_;
  std::int64_t last_frame_ns_ = 0;
};

class bybit_linear final : public derivatives_feed {
public:
  std::string_view name() const override { return bybit::derivatives_venue; }
  std::vector<std::string> subscribe_requests() const override {
    return {bybit::derivatives_subscribe_request(symbols_)};
  }
  mi::result<std::vector<mi::deriv::derivative>> decode(std::string_view frame, std::int64_t recv_ns) override {
    return codec_.decode(frame, recv_ns);
  }
  void on_open(std::int64_t now_ns) override { last_ping_ns_ = now_ns; }
  void on_frame(std::int64_t) override {}
  // Bybit: {"op":"ping"} every 20 s keeps the connection.
  std::optional<std::string> ping_due(std::int64_t now_ns) override {
    if (now_ns - last_ping_ns_ < 20 * sec)
      return std::nullopt;
    last_ping_ns_ = now_ns;
    return std::string(R"({"op":"ping"})");
  }

private:
  bybit::derivatives_codec codec_;
  std::int64_t last_ping_ns_ = 0;
};

} // namespace

mi::result<std::unique_ptr<derivatives_feed>> make_derivatives_feed(std::string_view venue,
                                                                    const std::vector<std::string>& unified) {
  if (mi::find_derivatives_venue(venue) == nullptr)
    return mi::error{"unknown derivatives venue '" + std::string(venue) + "'"};
  std::vector<std::pair<std::string, std::string>> parts;
  for (const auto& u : unified) {
    auto p = split_unified(u);
    if (!p)
      return mi::error{std::string(venue) + ": symbol '" + u + "' must be BASE/QUOTE"};
    parts.push_back(*p);
  }
  std::unique_ptr<derivatives_feed> out;
  if (venue == binance::derivatives_venue) {
    out = std::make_unique<binance_usdm>();
  } else if (venue == okx::derivatives_venue) {
    auto f = std::make_unique<okx_swap>();
    for (const auto& [base, quote] : parts)
      f->inst_ids.push_back(base + "-" + quote + "-SWAP");
    out = std::move(f);
  } else {
    out = std::make_unique<bybit_linear>();
  }
  for (const auto& [base, quote] : parts)
    out->symbols_.push_back(base + quote);
  return out;
}

} // namespace mi::venue
