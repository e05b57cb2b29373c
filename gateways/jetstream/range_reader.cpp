#include "gateways/jetstream/range_reader.hpp"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace mi::gw {

mi::result<range_read_result> read_range(jetstream& js, const stream_range& r,
                                         const std::function<void(js_message&&)>& on_message) {
  const auto started = std::chrono::steady_clock::now();
  const auto fail = [&r](const mi::error& e) { return mi::error{"stream " + r.stream + ": " + e.message}; };
  range_read_result out;

  // -- the range's end, and whether anything is in it ----------------------------------------
  std::optional<std::int64_t> last_stored_ns; // store time of the message at the end, when read
  if (r.to_seq != 0) {
    out.last_seq = r.to_seq;
  } else if (r.filter_subject.empty()) {
    auto st = js.state(r.stream);
    if (!st)
      return fail(st.err());
    if (st->messages == 0) {
      out.complete = true;
      return out;
    }
    out.last_seq = st->last_seq;
  } else {
    auto m = js.last_message(r.stream, r.filter_subject);
    if (!m)
      return fail(m.err());
    if (!*m) {
      out.complete = true;
      return out;
    }
    out.last_seq = (*m)->stream_seq();
    last_stored_ns = (*m)->timestamp_ns();
  }
  if (r.from_time_ns >= 0) {
    // A consumer starting after the last stored message would wait for new ones: nothing to read.
    if (!last_stored_ns) {
      auto m = js.get_message(r.stream, out.last_seq);
      if (!m)
        return fail(m.err());
      if (*m)
        last_stored_ns = (*m)->timestamp_ns();
    }
    if (last_stored_ns && *last_stored_ns < r.from_time_ns) {
      out.complete = true;
      return out;
    }
  } else if (r.from_seq > out.last_seq) {
    out.complete = true;
    return out;
  }

  // -- the read ------------------------------------------------------------------------------
  struct progress {
    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t delivered = 0;
    std::uint64_t reached = 0;
    bool done = false;
  };
  auto p = std::make_shared<progress>();
  const std::uint64_t last = out.last_seq;
  auto deliver = [p, last, &on_message](js_message&& m) {
    std::lock_guard<std::mutex> lock(p->mu);
    if (p->done)
      return;
    const std::uint64_t seq = m.stream_seq(); // read before the message is handed on
    if (seq <= last) {
      p->reached = seq;
      ++p->delivered;
      on_message(std::move(m));
    }
    if (p->reached >= last || seq > last) {
      p->done = true;
      p->cv.notify_all();
    }
  };
  auto consumer =
    r.from_time_ns >= 0
      ? ordered_consumer::start_at_time(js, r.stream, r.filter_subject, r.from_time_ns, deliver)
      : ordered_consumer::start(js, r.stream, r.filter_subject, std::max<std::uint64_t>(1, r.from_seq), deliver);
  if (!consumer)
    return fail(consumer.err());

  std::unique_lock<std::mutex> lock(p->mu);
  while (!p->done) {
    auto wait = r.stall_timeout;
    if (r.deadline.count() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        r.deadline - (std::chrono::steady_clock::now() - started));
      if (left.count() <= 0)
        break;
      wait = std::min(wait, left);
    }
    const auto before = p->delivered;
    if (!p->cv.wait_for(lock, wait, [&] { return p->done; }) && p->delivered == before && wait == r.stall_timeout)
      break; // stalled: nothing arrived for a whole stall_timeout
  }
  out.complete = p->done;
  p->done = true; // a callback still running after this delivers nothing more
  lock.unlock();
  (*consumer).reset(); // no callback runs after this
  out.delivered = p->delivered;
  out.reached_seq = p->reached;
  return out;
}

} // namespace mi::gw
