// Back-pressure on CAF's deterministic scheduler (actors/caf_test_fixture.hpp): a publisher that
// withholds its replies (as the real one does while JetStream's in-flight acks are at their limit)
// and a producer that publishes through publish_within(), as the connection actor does.
#include "actors/publish_window.hpp"

#include <deque>
#include <doctest/doctest.h>
#include <memory>
#include <vector>

#include "actors/caf_test_fixture.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/send.hpp"

using mi::actors::publish_window;
using mi::actors::test::caf_fixture;

namespace {

using frame_atom = caf::atom_constant<caf::atom("t_frame")>;
using release_atom = caf::atom_constant<caf::atom("t_release")>;

/// What the test sees: batches the publisher holds, and whether the producer's input is paused.
struct observed {
  std::deque<caf::response_promise> held; // replies withheld by the publisher
  std::size_t received = 0;               // batches the publisher got
  bool paused = false;
  int pause_calls = 0;
};

/// A publisher that answers only when told to (oldest first).
caf::behavior slow_publisher(caf::event_based_actor* self, std::shared_ptr<observed> o) {
  return {
    [self, o](mi::actors::pub_atom, mi::actors::outgoing_batch&) -> caf::result<bool> {
      ++o->received;
      auto rp = self->make_response_promise<bool>();
      o->held.push_back(rp);
      return rp;
    },
    [o](release_atom) {
      o->held.front().deliver(true);
      o->held.pop_front();
    },
  };
}

/// A producer: one batch per frame, through publish_within with a bound of 4, as the connection.
caf::behavior producer(caf::event_based_actor* self, caf::actor publisher, std::shared_ptr<observed> o) {
  auto window = std::make_shared<publish_window>(4);
  return {
    [self, publisher, o, window](frame_atom) {
      mi::actors::outgoing_batch batch(1);
      batch[0].subject = "market.raw.binance.BTCUSDT";
      mi::actors::publish_within(self, *window, publisher, std::move(batch), [o](bool paused) {
        o->paused = paused;
        ++o->pause_calls;
      });
    },
  };
}

/// The socket: delivers frames while the producer is not paused, up to `frames`; returns how many.
int feed(caf_fixture& f, const caf::actor& prod, const std::shared_ptr<observed>& o, int frames) {
  int sent = 0;
  while (sent < frames && !o->paused) {
    caf::anon_send(prod, frame_atom::value);
    f.run();
    ++sent;
  }
  return sent;
}

} // namespace

TEST_CASE("publish_window: pause at the bound, resume below half of it") {
  publish_window w(4);
  CHECK_FALSE(w.sent());
  CHECK_FALSE(w.sent());
  CHECK_FALSE(w.sent());
  CHECK(w.sent());          // 4 outstanding
  CHECK_FALSE(w.replied()); // 3
  CHECK_FALSE(w.replied()); // 2
  CHECK(w.replied());       // 1 < 2
  CHECK(w.outstanding() == 1);
}

TEST_CASE("back-pressure: while the publisher withholds its replies the producer sends no more than its bound") {
  caf_fixture f;
  auto o = std::make_shared<observed>();
  auto pub = f.sys.spawn(slow_publisher, o);
  auto prod = f.sys.spawn(producer, pub, o);
  f.run();

  // 100 frames are waiting on the socket; the publisher answers nothing.
  CHECK(feed(f, prod, o, 100) == 4);
  CHECK(o->paused);
  CHECK(o->received == 4);
  CHECK(o->held.size() == 4);

  // Two replies: 2 still outstanding, not below half the bound: still paused.
  for (int i = 0; i < 2; ++i) {
    caf::anon_send(pub, release_atom::value);
    f.run();
  }
  CHECK(o->paused);
  CHECK(feed(f, prod, o, 96) == 0);

  // The third reply: 1 outstanding, the producer resumes and fills the bound again (3 more).
  caf::anon_send(pub, release_atom::value);
  f.run();
  CHECK_FALSE(o->paused);
  CHECK(feed(f, prod, o, 96) == 3);
  CHECK(o->paused);
  CHECK(o->received == 7);
  CHECK(o->held.size() == 4);

  // Every reply comes: the producer runs on with nothing outstanding.
  while (!o->held.empty()) {
    caf::anon_send(pub, release_atom::value);
    f.run();
  }
  CHECK_FALSE(o->paused);
  CHECK(feed(f, prod, o, 2) == 2);
  CHECK(o->received == 9);
  caf::anon_send_exit(prod, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(pub, caf::exit_reason::user_shutdown);
}

TEST_CASE("back-pressure: a producer whose publisher is gone fails with the error (its supervisor restarts it)") {
  caf_fixture f;
  auto o = std::make_shared<observed>();
  auto pub = f.sys.spawn(slow_publisher, o);
  auto prod = f.sys.spawn(producer, pub, o);
  auto seen = std::make_shared<mi::actors::test::watch_result>();
  auto w = mi::actors::test::watch(f.sys, prod, seen);
  f.run();
  caf::anon_send_exit(pub, caf::exit_reason::kill);
  f.run();
  CHECK_FALSE(seen->down);
  feed(f, prod, o, 1);
  CHECK(o->received == 0);
  CHECK(seen->down);
  CHECK(seen->reason != caf::error{});
}
