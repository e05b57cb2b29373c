#include "connectors/documents/news_stream.hpp"

#include "connectors/documents/alpaca_news.hpp"

namespace mi::documents {

news_stream_session::news_stream_session(std::string key_id, std::string secret_key, std::vector<std::string> symbols)
    : key_id_(std::move(key_id)), secret_key_(std::move(secret_key)), symbols_(std::move(symbols)) {
  if (symbols_.empty())
    symbols_ = {"*"};
}

news_stream_session::step news_stream_session::on_frame(std::string_view frame, std::int64_t recv_ns) {
  step out;
  if (phase_ == phase::failed) {
    out.error = "frame after the session failed";
    out.fatal = true;
    return out;
  }
  auto f = alpaca_news::parse_stream_frame(frame, recv_ns);
  if (!f) {
    out.error = f.err().message;
    return out;
  }
  auto fail = [&](std::string why) {
    phase_ = phase::failed;
    out.error = std::move(why);
    out.fatal = true;
  };
  for (const auto& c : f->control) {
    if (c.type == "error") {
      fail("news stream error " + std::to_string(c.code) + ": " + c.msg);
      return out;
    }
    if (c.type == "success" && c.msg == "connected") {
      if (phase_ != phase::connecting) {
        fail("\"connected\" while " + std::string(to_string(phase_)));
        return out;
      }
      phase_ = phase::authenticating;
      out.send.push_back(alpaca_news::auth_request(key_id_, secret_key_));
    } else if (c.type == "success" && c.msg == "authenticated") {
      if (phase_ != phase::authenticating) {
        fail("\"authenticated\" while " + std::string(to_string(phase_)));
        return out;
      }
      phase_ = phase::subscribing;
      out.send.push_back(alpaca_news::subscribe_request(symbols_));
    } else if (c.type == "subscription") {
      if (phase_ == phase::subscribing) {
        phase_ = phase::streaming;
        out.subscribed = true;
      } // a later one answers nothing we asked: ignored
    }
    // other control messages (success with another text): nothing to do
  }
  if (!f->documents.empty() && phase_ != phase::streaming) {
    out.error = "news before the subscription was acknowledged";
    // still documents: Alpaca sent them, and dedup ids make a repeat harmless
  }
  out.documents = std::move(f->documents);
  return out;
}

std::string_view to_string(news_stream_session::phase p) {
  switch (p) {
  case news_stream_session::phase::connecting:
    return "connecting";
  case news_stream_session::phase::authenticating:
    return "authenticating";
  case news_stream_session::phase::subscribing:
    return "subscribing";
  case news_stream_session::phase::streaming:
    return "streaming";
  case news_stream_session::phase::failed:
    return "failed";
  }
  return "unknown";
}

} // namespace mi::documents
