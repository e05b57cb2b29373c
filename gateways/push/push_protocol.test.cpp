#include "gateways/push/push_protocol.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace mi::gw;

namespace {

using op = client_request::op;

// The error code a client would see for `text`, or "" when it parses.
std::string code_of(std::string_view text, std::size_t max_channels = default_max_channels) {
  auto r = parse_client_message(text, max_channels);
  return r ? std::string{} : split_push_error(r.err()).code;
}

} // namespace

TEST_CASE("subscribe names valid channels, duplicates removed, order kept") {
  auto r = parse_client_message(
    R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m","trade.okx.ETHUSDT","kline.binance.BTCUSDT.1m"]})");
  REQUIRE(r);
  CHECK(r->what == op::subscribe);
  CHECK(r->channels == std::vector<std::string>{"kline.binance.BTCUSDT.1m", "trade.okx.ETHUSDT"});
  CHECK_FALSE(r->id);
}

TEST_CASE("unsubscribe names channels") {
  auto r = parse_client_message(R"({"op":"unsubscribe","channels":["kline.bybit.SOL_USDT.1h"],"extra":1})");
  REQUIRE(r);
  CHECK(r->what == op::unsubscribe);
  CHECK(r->channels == std::vector<std::string>{"kline.bybit.SOL_USDT.1h"});
}

TEST_CASE("ping with and without id") {
  auto with = parse_client_message(R"({"op":"ping","id":"abc-1"})");
  REQUIRE(with);
  CHECK(with->what == op::ping);
  CHECK(with->id == std::optional<std::string>{"abc-1"});
  auto without = parse_client_message(R"({"op":"ping"})");
  REQUIRE(without);
  CHECK_FALSE(without->id);
  CHECK(reply_pong(with->id) == R"({"op":"pong","id":"abc-1"})");
  CHECK(reply_pong(without->id) == R"({"op":"pong"})");
}

TEST_CASE("malformed requests get the documented error code") {
  struct row {
    const char* text;
    std::string_view code;
  };
  const std::vector<row> table = {
    {"", push_error::bad_json},
    {"{", push_error::bad_json},
    {"not json", push_error::bad_json},
    {"[1,2]", push_error::bad_json},
    {R"("subscribe")", push_error::bad_json},
    {R"({"channels":[]})", push_error::bad_op},
    {R"({"op":42})", push_error::bad_op},
    {R"({"op":"subscrib","channels":["kline.binance.BTCUSDT.1m"]})", push_error::bad_op},
    {R"({"op":"subscribe"})", push_error::bad_json},
    {R"({"op":"subscribe","channels":"kline.binance.BTCUSDT.1m"})", push_error::bad_json},
    {R"({"op":"subscribe","channels":{"a":1}})", push_error::bad_json},
    {R"({"op":"subscribe","channels":[]})", push_error::bad_channel},
    {R"({"op":"subscribe","channels":[1]})", push_error::bad_channel},
    {R"({"op":"subscribe","channels":["kline.binance.BTC USDT.1m"]})", push_error::bad_channel},
    {R"({"op":"subscribe","channels":["kline.binance.BTC*.1m"]})", push_error::bad_channel},
    {R"({"op":"subscribe","channels":["kline.Binance.BTCUSDT.1m"]})", push_error::bad_channel},
    {R"({"op":"subscribe","channels":["kline.binance.BTCUSDT"]})", push_error::bad_channel},
    {R"({"op":"subscribe","channels":["kline.binance..1m"]})", push_error::bad_channel},
    {R"({"op":"unsubscribe","channels":["candles.binance.BTCUSDT.1m"]})", push_error::bad_channel},
    {R"({"op":"ping","id":7})", push_error::bad_json},
  };
  for (const auto& r : table) {
    CAPTURE(r.text);
    CHECK(code_of(r.text) == r.code);
  }
}

TEST_CASE("more channels than the limit is too_many_channels") {
  std::string text = R"({"op":"subscribe","channels":[)";
  for (int i = 0; i < 101; ++i)
    text += (i ? "," : "") + std::string{"\"kline.binance.S"} + std::to_string(i) + ".1m\"";
  text += "]}";
  CHECK(code_of(text) == push_error::too_many_channels);
  CHECK(code_of(text, 200).empty());
}

TEST_CASE("a message over the size limit is message_too_large") {
  std::string text = R"({"op":"ping","pad":")" + std::string(70000, 'x') + R"("})";
  CHECK(code_of(text) == push_error::message_too_large);
}

TEST_CASE("error messages are readable and the reply is valid JSON") {
  auto r = parse_client_message(R"({"op":"jump"})");
  REQUIRE_FALSE(r);
  auto parts = split_push_error(r.err());
  CHECK(parts.code == "bad_op");
  CHECK(parts.msg.find("jump") != std::string::npos);
  CHECK(reply_error(r.err()) ==
        R"({"op":"error","code":"bad_op","msg":"unknown op \"jump\": expected subscribe, unsubscribe, list or ping"})");
  CHECK(reply_error("bad_json", "say \"hi\"") == R"({"op":"error","code":"bad_json","msg":"say \"hi\""})");
}

TEST_CASE("subscribed and unsubscribed replies list the channels") {
  CHECK(reply_subscribed({"kline.binance.BTCUSDT.1m", "trade.okx.ETHUSDT"}) ==
        R"({"op":"subscribed","channels":["kline.binance.BTCUSDT.1m","trade.okx.ETHUSDT"]})");
  CHECK(reply_unsubscribed({}) == R"({"op":"unsubscribed","channels":[]})");
}

TEST_CASE("channel validity") {
  CHECK(is_valid_channel("kline.binance.BTCUSDT.1m"));
  CHECK(is_valid_channel("trade.coinbase.BTC-USD"));
  CHECK_FALSE(is_valid_channel("trade.coinbase.BTCUSD.1m"));
  CHECK_FALSE(is_valid_channel("kline.binance.BTCUSDT.1m."));
  CHECK_FALSE(is_valid_channel("kline.binance.>"));
  CHECK_FALSE(is_valid_channel(""));
  CHECK_FALSE(is_valid_channel("kline.binance.BTCUSDT." + std::string(300, 'm')));
}

TEST_CASE("channel for a kline or trade subject") {
  CHECK(channel_for_kline_subject("market.kline.binance.BTCUSDT.1m") == "kline.binance.BTCUSDT.1m");
  CHECK(channel_for_kline_subject("market.kline.okx.ETHUSDT.1h") == "kline.okx.ETHUSDT.1h");
  CHECK(channel_for_kline_subject("market.partial.binance.BTCUSDT.1m") == "kline.binance.BTCUSDT.1m");
  CHECK(channel_for_kline_subject("market.partial.binance.BTCUSDT").empty());
  CHECK(channel_for_kline_subject("market.partials.binance.BTCUSDT.1m").empty());
  CHECK(channel_for_kline_subject("market.raw.binance.BTCUSDT").empty());
  CHECK(channel_for_kline_subject("market.kline.binance.BTCUSDT").empty());
  CHECK(channel_for_kline_subject("kline.binance.BTCUSDT.1m").empty());
  CHECK(channel_for_trade_subject("market.raw.binance.BTCUSDT") == "trade.binance.BTCUSDT");
  CHECK(channel_for_trade_subject("market.kline.binance.BTCUSDT.1m").empty());
}

TEST_CASE("book and bbo channels") {
  CHECK(is_valid_channel("book.okx.BTCUSDT"));
  CHECK(is_valid_channel("bbo.binance.ETHUSDT"));
  CHECK_FALSE(is_valid_channel("book.okx.BTCUSDT.20"));
  CHECK_FALSE(is_valid_channel("book.OKX.BTCUSDT"));
  CHECK_FALSE(is_valid_channel("bbo.okx"));
  CHECK(channel_for_book_subject("market.book.okx.BTCUSDT") == "book.okx.BTCUSDT");
  CHECK(channel_for_book_subject("market.bbo.binance.ETHUSDT") == "bbo.binance.ETHUSDT");
  CHECK(channel_for_book_subject("market.raw.binance.ETHUSDT").empty());
  CHECK(channel_for_book_subject("market.book.binance.ETH.USDT").empty());
}

TEST_CASE("data frame wraps ready-made JSON") {
  CHECK(data_frame("kline.binance.BTCUSDT.1m", R"({"open":"1.5"})") ==
        R"({"channel":"kline.binance.BTCUSDT.1m","data":{"open":"1.5"}})");
}

TEST_CASE("trade channels map to their MARKET_RAW subject and back") {
  CHECK(mi::gw::trade_subject_for_channel("trade.binance.BTCUSDT") == "market.raw.binance.BTCUSDT");
  CHECK(mi::gw::channel_for_trade_subject("market.raw.binance.BTCUSDT") == "trade.binance.BTCUSDT");
  CHECK(mi::gw::trade_subject_for_channel("kline.binance.BTCUSDT.1m").empty());
  CHECK(mi::gw::trade_subject_for_channel("trade.binance.BTC USDT").empty());
  CHECK(mi::gw::trade_subject_for_channel("trade.binance.>").empty());
  CHECK(mi::gw::trade_subject_for_channel("trade.binance.*").empty());
}

TEST_CASE("the key id of a push upgrade's target") {
  CHECK(mi::gw::push_token_key("/?key=mik_ab12&ts=1&nonce=n&sig=s") == "mik_ab12");
  CHECK(mi::gw::push_token_key("/?ts=1&key=mik%5Fab&sig=s") == "mik_ab");
  CHECK(mi::gw::push_token_key("/").empty());
  CHECK(mi::gw::push_token_key("/?monkey=1&keys=2").empty());
  CHECK(mi::gw::push_token_key("/?key=bad%4").empty());
  CHECK(mi::gw::push_token_key("/?key=bad%zz").empty());
}

TEST_CASE("list asks for the channels held") {
  auto r = parse_client_message(R"({"op":"list"})");
  REQUIRE(r);
  CHECK(r->what == op::list);
  CHECK(reply_list({"kline.binance.*.1m", "trade.okx.ETHUSDT"}) ==
        R"({"op":"list","channels":["kline.binance.*.1m","trade.okx.ETHUSDT"]})");
}

TEST_CASE("a star stands for one token in kline, book and bbo channels, never in trade channels") {
  auto r = parse_client_message(R"({"op":"subscribe","channels":["kline.binance.*.1m","book.*.BTCUSDT","bbo.*.*"]})");
  REQUIRE(r);
  CHECK(r->channels.size() == 3);
  CHECK(code_of(R"({"op":"subscribe","channels":["trade.binance.*"]})") == push_error::bad_channel);
  CHECK(code_of(R"({"op":"subscribe","channels":["*.binance.BTCUSDT.1m"]})") == push_error::bad_channel);
  CHECK(code_of(R"({"op":"subscribe","channels":["kline.binance.BTC*.1m"]})") == push_error::bad_channel);
  CHECK(code_of(R"({"op":"subscribe","channels":["kline.binance.*"]})") == push_error::bad_channel);
  CHECK_FALSE(is_valid_channel("kline.binance.*.1m")); // a pattern is not a channel messages are published on
}

TEST_CASE("channel_matches compares token by token") {
  CHECK(channel_matches("kline.binance.*.1m", "kline.binance.BTCUSDT.1m"));
  CHECK(channel_matches("kline.*.*.*", "kline.okx.ETHUSDT.5m"));
  CHECK_FALSE(channel_matches("kline.binance.*.1m", "kline.binance.BTCUSDT.5m"));
  CHECK_FALSE(channel_matches("kline.binance.*.1m", "kline.okx.BTCUSDT.1m"));
  CHECK_FALSE(channel_matches("book.*.BTCUSDT", "bbo.okx.BTCUSDT"));
  CHECK_FALSE(channel_matches("bbo.*", "bbo.okx.BTCUSDT"));
  CHECK_FALSE(channel_matches("bbo.*.BTCUSDT", "bbo.okx"));
  CHECK(channel_matches("trade.okx.ETHUSDT", "trade.okx.ETHUSDT"));
  CHECK_FALSE(channel_matches("trade.okx.ETHUSDT", "trade.okx.ETHUSD"));
}

TEST_CASE("since names resume points of the subscribed kline and trade channels") {
  auto r = parse_client_message(R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m","trade.okx.ETHUSDT"],)"
                                R"("since":{"kline.binance.BTCUSDT.1m":12345,"trade.okx.ETHUSDT":0},"snapshot":true})");
  REQUIRE(r);
  CHECK(r->since == std::vector<std::pair<std::string, std::uint64_t>>{{"kline.binance.BTCUSDT.1m", 12345},
                                                                       {"trade.okx.ETHUSDT", 0}});
  CHECK(r->snapshot);
  const char* bad[] = {
    R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"],"since":{"kline.binance.ETHUSDT.1m":1}})",
    R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"],"since":{"kline.binance.BTCUSDT.1m":-1}})",
    R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"],"since":{"kline.binance.BTCUSDT.1m":"1"}})",
    R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"],"since":{"kline.binance.BTCUSDT.1m":1.5}})",
    R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"],"since":[1]})",
    R"({"op":"subscribe","channels":["kline.binance.*.1m"],"since":{"kline.binance.*.1m":1}})",
    R"({"op":"subscribe","channels":["book.okx.BTCUSDT"],"since":{"book.okx.BTCUSDT":1}})",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    CHECK(code_of(text) == push_error::bad_since);
  }
  CHECK(code_of(R"({"op":"subscribe","channels":["kline.binance.BTCUSDT.1m"],"snapshot":1})") == push_error::bad_json);
}

TEST_CASE("data frames carry the stream sequence and the publish time, gaps name the sequences left out") {
  CHECK(data_frame("kline.binance.BTCUSDT.1m", "{}", 42, 1767225600000000001) ==
        R"({"channel":"kline.binance.BTCUSDT.1m","seq":42,"ts":1767225600000000001,"data":{}})");
  CHECK(data_frame("bbo.okx.BTCUSDT", "{}") == R"({"channel":"bbo.okx.BTCUSDT","data":{}})");
  CHECK(reply_gap("kline.binance.BTCUSDT.1m", 5, 9) ==
        R"({"op":"gap","channel":"kline.binance.BTCUSDT.1m","from":5,"to":9})");
  CHECK(kind_of("kline.binance.BTCUSDT.1m") == channel_kind::kline);
  CHECK(kind_of("bbo.*.*") == channel_kind::bbo);
  CHECK_FALSE(kind_of("candle.binance.BTCUSDT"));
}

TEST_CASE("quote channels: quote.{venue}.{symbol} from market.quote subjects, the symbol as its subject token") {
  using namespace mi::gw;
  CHECK(is_valid_channel("quote.cn.600000_SH"));
  CHECK(is_valid_channel("quote.alpaca.AAPL"));
  CHECK_FALSE(is_valid_channel("quote.cn.600000.SH")); // a '.' would be another token: 600000_SH on the wire
  CHECK_FALSE(is_valid_channel("quote.CN.600000_SH"));
  CHECK_FALSE(is_valid_channel_or_pattern("quote.cn.*")); // no wildcards: the hub routes quotes by exact channel
  CHECK(channel_for_quote_subject("market.quote.cn.600000_SH") == "quote.cn.600000_SH");
  CHECK(channel_for_quote_subject("market.bbo.okx.BTCUSDT").empty());
  CHECK(kind_of("quote.cn.000001_SZ") == channel_kind::quote);
}

TEST_CASE("status channels: status.{venue}.{symbol} from market.status subjects, exact names only") {
  using namespace mi::gw;
  CHECK(is_valid_channel("status.alpaca.AAPL"));
  CHECK(is_valid_channel("status.alpaca.BRK_B"));
  CHECK_FALSE(is_valid_channel("status.alpaca.BRK.B"));
  CHECK_FALSE(is_valid_channel("status.alpaca"));
  CHECK_FALSE(is_valid_channel_or_pattern("status.alpaca.*")); // routed by exact channel, as quotes
  CHECK(channel_for_status_subject("market.status.alpaca.AAPL") == "status.alpaca.AAPL");
  CHECK(channel_for_status_subject("market.quote.alpaca.AAPL").empty());
  CHECK(kind_of("status.alpaca.AAPL") == channel_kind::status);
  auto r = parse_client_message(R"({"op":"subscribe","channels":["status.alpaca.*"]})");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.err().message.find("status.{venue}.{symbol}") != std::string::npos);
  auto ok = parse_client_message(R"({"op":"subscribe","channels":["status.alpaca.AAPL"]})");
  REQUIRE(ok.has_value());
}
