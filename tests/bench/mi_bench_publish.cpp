// mi_bench_publish: JetStream async publish, raw nats.c vs our gateway, in the same run.
//
//   mi_bench_publish [--rounds R] [--count N]      (defaults: 5 rounds of 100000 messages)
//
// Starts its own `nats-server -js` (file storage, via mi_test_harness). Each round runs
//   (a) baseline: nats.c js_PublishMsgAsync of N pre-encoded protobuf trades, each natsMsg with
//       the same two headers as ours (Nats-Msg-Id unique per message, Content-Type), then
//       js_PublishAsyncComplete (all acks in);
//   (b) ours: mi::gw::jetstream::publish_async of the same payloads/ids, each with its trade's event
//       time as the publisher sends it (handed back in its outcome), then flush() (every outcome
//       reported through on_outcome);
// each into a freshly created stream (deleted and re-created before every run), alternating
// which of the two goes first. Prints per-round msgs/s, the medians and ours/baseline.

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "gateways/jetstream/jetstream.hpp"
#include "tests/bench/bench_trades.hpp"
#include "messages/codec.hpp"
#include "messages/trade.hpp"
#include "tests/harness/nats_server.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

constexpr const char* stream_name = "MARKET_RAW";
constexpr int max_pending = 8192; // = mi::gw::jetstream::options::max_pending default

struct nc_deleter {
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
};
struct js_deleter {
  void operator()(jsCtx* j) const { jsCtx_Destroy(j); }
};
using nc_ptr = std::unique_ptr<natsConnection, nc_deleter>;
using js_ptr = std::unique_ptr<jsCtx, js_deleter>;

void check(natsStatus s, const char* what) {
  if (s != NATS_OK)
    throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}

struct raw_js {
  nc_ptr nc;
  js_ptr js;
};

raw_js connect_raw(const std::string& url) {
  raw_js r;
  natsConnection* nc = nullptr;
  check(natsConnection_ConnectTo(&nc, url.c_str()), "connect");
  r.nc.reset(nc);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = max_pending;
  jsCtx* js = nullptr;
  check(natsConnection_JetStream(&js, nc, &jo), "jetstream context");
  r.js.reset(js);
  return r;
}

// Deletes (if present) and creates MARKET_RAW on market.raw.>, file storage.
void fresh_stream(jsCtx* js) {
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_DeleteStream(js, stream_name, nullptr, &jerr);
  if (s != NATS_OK && s != NATS_NOT_FOUND)
    check(s, "delete stream");
  const char* subjects[] = {"market.raw.>"};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = stream_name;
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Storage = js_FileStorage;
  sc.Duplicates = 120LL * 1'000'000'000LL;
  jsStreamInfo* si = nullptr;
  check(js_AddStream(&si, js, &sc, nullptr, &jerr), "add stream");
  jsStreamInfo_Destroy(si);
}

std::uint64_t stream_msgs(jsCtx* js) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = jsErrCode(0);
  check(js_GetStreamInfo(&si, js, stream_name, nullptr, &jerr), "stream info");
  auto n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

std::vector<mi::gw::outgoing> make_messages(std::size_t n) {
  std::vector<mi::gw::outgoing> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(mi::bench::bench_message(mi::bench::bench_trade(i)));
  return out;
}

// (a) plain nats.c.
double run_baseline(const std::string& url, const std::vector<mi::gw::outgoing>& msgs) {
  auto r = connect_raw(url);
  fresh_stream(r.js.get());
  auto t0 = clock_type::now();
  for (const auto& m : msgs) {
    natsMsg* msg = nullptr;
    check(natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.data.data(), static_cast<int>(m.data.size())), "msg");
    check(natsMsgHeader_Set(msg, "Nats-Msg-Id", m.msg_id.c_str()), "header");
    check(natsMsgHeader_Set(msg, "Content-Type", m.content_type.c_str()), "header");
    natsStatus s = js_PublishMsgAsync(r.js.get(), &msg, nullptr);
    if (s != NATS_OK) {
      natsMsg_Destroy(msg);
      check(s, "js_PublishMsgAsync");
    }
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120'000;
  check(js_PublishAsyncComplete(r.js.get(), &po), "js_PublishAsyncComplete");
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (auto n = stream_msgs(r.js.get()); n != msgs.size())
    throw std::runtime_error("baseline: stream holds " + std::to_string(n) + " messages, expected " +
                             std::to_string(msgs.size()));
  return static_cast<double>(msgs.size()) / secs;
}

// (b) mi::gw::jetstream.
double run_ours(const std::string& url, const std::vector<mi::gw::outgoing>& msgs) {
  {
    auto r = connect_raw(url); // stream admin through a separate connection, as (a)
    fresh_stream(r.js.get());
  }
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> timed{0}; // outcomes that handed back their message's event time
  mi::gw::jetstream::options o;
  o.url = url;
  o.max_pending = max_pending;
  o.on_outcome = [&](const mi::gw::publish_outcome& out) {
    (out.ok ? ok : failed).fetch_add(1, std::memory_order_relaxed);
    if (out.event_ts_ns != 0)
      timed.fetch_add(1, std::memory_order_relaxed);
  };
  auto js = mi::gw::jetstream::connect(o);
  if (!js)
    throw std::runtime_error(js.err().message);
  auto t0 = clock_type::now();
  for (const auto& m : msgs)
    if (auto r = (*js)->publish_async(m); !r)
      throw std::runtime_error(r.err().message);
  if (auto r = (*js)->flush(std::chrono::seconds(120)); !r)
    throw std::runtime_error(r.err().message);
  double secs = std::chrono::duration<double>(clock_type::now() - t0).count();
  auto st = (*js)->state(stream_name);
  if (!st || st->messages != msgs.size() || ok.load() != msgs.size() || failed.load() != 0 || (*js)->retries() != 0 ||
      timed.load() != msgs.size())
    throw std::runtime_error("ours: stream/outcome counts wrong (ok " + std::to_string(ok.load()) + ", failed " +
                             std::to_string(failed.load()) + ", with event time " + std::to_string(timed.load()) + ")");
  return static_cast<double>(msgs.size()) / secs;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  std::size_t count = 100'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--count")
      count = static_cast<std::size_t>(std::atoll(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: %s [--rounds R] [--count N]\n", argv[0]);
      return 2;
    }
  }
  try {
    mi::test::nats_server server;
    const auto msgs = make_messages(count);
    std::size_t bytes = 0;
    for (const auto& m : msgs)
      bytes += m.data.size();
    std::printf("mi_bench_publish: %d rounds x %zu messages (payload %zu B avg, protobuf trade), file storage, "
                "MaxPending %d\n",
                rounds, count, bytes / msgs.size(), max_pending);
    std::vector<double> base, ours, ratio;
    for (int r = 0; r < rounds; ++r) {
      double b = 0, o = 0;
      if (r % 2 == 0) {
        b = run_baseline(server.url(), msgs);
        o = run_ours(server.url(), msgs);
      } else {
        o = run_ours(server.url(), msgs);
        b = run_baseline(server.url(), msgs);
      }
      base.push_back(b);
      ours.push_back(o);
      ratio.push_back(o / b);
      std::printf("round %d (%s first): baseline %8.0f msgs/s   ours %8.0f msgs/s   ratio %.2f\n", r + 1,
                  r % 2 == 0 ? "baseline" : "ours", b, o, o / b);
      std::fflush(stdout);
    }
    std::printf(
      "median: baseline %.0f msgs/s, ours %.0f msgs/s, ours/baseline %.2f (median of per-round ratios %.2f)\n",
      median(base), median(ours), median(ours) / median(base), median(ratio));
    nats_Close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mi_bench_publish: %s\n", e.what());
    return 1;
  }
  return 0;
}
