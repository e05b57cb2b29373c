// The push hub on the deterministic scheduler: a client_session actor that dies is noticed.
#include "actors/push_hub.hpp"

#include <doctest/doctest.h>
#include <mutex>
#include <stdexcept>

#include "actors/caf_test_fixture.hpp"
#include "actors/caf_types.hpp"
#include "caf/send.hpp"
#include "gateways/metrics/metrics.hpp"

namespace {

// A client whose connection breaks the session actor: sending to it throws (as a bug would).
class fake_session : public mi::gw::push_session {
public:
  explicit fake_session(mi::gw::client_id id, bool throws) : id_(id), throws_(throws) {}
  void send(std::shared_ptr<const std::string> text) override {
    if (throws_)
      throw std::runtime_error("broken session");
    sent.push_back(*text);
  }
  void close(std::uint16_t code, std::string reason) override {
    closed_code = code;
    closed_reason = std::move(reason);
  }
  std::uint64_t dropped() const override { return 0; }
  mi::gw::client_id id() const override { return id_; }
  std::string remote() const override { return "127.0.0.1:1"; }
  std::string target() const override { return "/"; }
  void text_done() override { ++texts_done; }

  std::vector<std::string> sent;
  int texts_done = 0;
  int closed_code = 0;
  std::string closed_reason;

private:
  mi::gw::client_id id_;
  bool throws_;
};

} // namespace

TEST_CASE("push hub: a session actor that dies with an error is removed, its client closed with 1011, and counted") {
  mi::actors::test::caf_fixture f;
  mi::gw::metrics m;
  mi::actors::push_hub_args args;
  args.metrics = &m;
  args.max_channels = 10;
  auto hub = mi::actors::spawn_push_hub(f.sys, args);
  auto good = std::make_shared<fake_session>(1, false);
  auto bad = std::make_shared<fake_session>(2, true);
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(good));
  caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(bad));
  f.run();
  CHECK(m.scrape().find("\nmi_push_clients 2\n") != std::string::npos);

  // The bad session's reply to a ping throws inside its actor.
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{2}, std::string(R"({"op":"ping","id":1})"));
  caf::anon_send(hub, mi::actors::c_text_atom::value, mi::gw::client_id{1}, std::string(R"({"op":"ping","id":1})"));
  f.run();
  auto text = m.scrape();
  CHECK(text.find("\nmi_push_sessions_failed_total 1\n") != std::string::npos);
  CHECK(text.find("\nmi_push_clients 1\n") != std::string::npos);
  CHECK(bad->closed_code == 1011);
  CHECK(good->closed_code == 0);
  CHECK(good->sent.size() == 1); // the healthy client was answered

  // A client that leaves normally is not a failure.
  caf::anon_send(hub, mi::actors::c_close_atom::value, mi::gw::client_id{1});
  f.run();
  text = m.scrape();
  CHECK(text.find("\nmi_push_sessions_failed_total 1\n") != std::string::npos);
  CHECK(text.find("\nmi_push_clients 0\n") != std::string::npos);
  caf::anon_send(hub, mi::actors::stop_atom::value);
  f.run();
  // The session's 1 s drop-report timer is still pending: fire it so nothing is left behind.
  while (f.next_timeout()) {
  }
}
