// The load generator's clients: the only other translation unit of gateways/push that includes Asio/Beast.
#include "gateways/push/push_loadtest.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <dirent.h>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "messages/util/json_writer.hpp"

namespace mi::gw {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::uint64_t bucket_us = 10;    // histogram resolution
constexpr std::size_t buckets = 1'000'000; // up to 10 s; slower frames count in the last bucket
constexpr int slow_receive_buffer = 4096;  // a slow client's socket takes little before the server queues

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// A number field of a data frame's head ({"channel":..,"seq":<n>,"ts":<ns>,"data":..}); 0 when absent.
template <class T>
T head_number(std::string_view f, std::string_view key) {
  const auto head = f.substr(0, f.find(R"(,"data":)"));
  const auto at = head.find(key);
  if (at == std::string_view::npos)
    return 0;
  T v = 0;
  const char* b = head.data() + at + key.size();
  auto [p, ec] = std::from_chars(b, head.data() + head.size(), v);
  return ec == std::errc{} ? v : 0;
}

} // namespace

struct load_test::state : std::enable_shared_from_this<load_test::state> {
  explicit state(load_options o)
      : opts(std::move(o)), ioc(static_cast<int>(std::max(1U, opts.threads))), work(asio::make_work_guard(ioc)),
        histogram(buckets) {
    subscribe = R"({"op":"subscribe","channels":[)";
    for (std::size_t i = 0; i < opts.channels.size(); ++i) {
      if (i != 0)
        subscribe += ',';
      mi::util::append_json_string(subscribe, opts.channels[i]);
    }
    subscribe += "]}";
    beast::error_code ec;
    server = tcp::endpoint(asio::ip::make_address(opts.host, ec), opts.port);
  }

  struct client;

  load_options opts;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::vector<std::thread> threads;
  tcp::endpoint server;
  std::string subscribe;
  std::vector<std::shared_ptr<client>> clients; // index = client number; set before the threads start
  std::vector<std::atomic<std::uint32_t>> histogram;
  std::atomic<std::uint64_t> max_us{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::size_t> subscribed{0};
  std::atomic<std::size_t> failures{0};
  std::atomic<std::size_t> reconnects{0};
  std::atomic<bool> closing{false};
  std::mutex mu;
  std::condition_variable cv;
  std::size_t next_to_open = 0; // guarded by mu
  std::size_t opening = 0;      // guarded by mu

  std::mutex last_mu;
  std::unordered_map<std::uint64_t, std::uint64_t> last_by_seq; // guarded by last_mu: seq -> latest delivery (us)

  void record(std::int64_t ts, std::uint64_t seq) {
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, wall_ns() - ts) / 1000);
    if (seq != 0) {
      std::lock_guard lock{last_mu};
      auto& last = last_by_seq[seq];
      last = std::max(last, us);
    }
    histogram[std::min<std::uint64_t>(us / bucket_us, buckets - 1)].fetch_add(1, std::memory_order_relaxed);
    auto m = max_us.load(std::memory_order_relaxed);
    while (us > m && !max_us.compare_exchange_weak(m, us, std::memory_order_relaxed)) {
    }
  }

  void open_more();
  void opened(bool ok);
};

/// One connection. Runs on its strand.
struct load_test::state::client : std::enable_shared_from_this<client> {
  client(std::shared_ptr<state> s, std::size_t index, bool slow)
      : st(std::move(s)), index(index), slow(slow), ws(asio::make_strand(st->ioc)) {}

  std::shared_ptr<state> st;
  const std::size_t index;
  const bool slow;
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  std::atomic<std::uint64_t> received{0};
  bool counted = false;  // in st->subscribed
  bool first = true;     // the first connection of this client (reconnects open a new client object)
  bool reported = false; // the first connection's outcome went to st->opened()

  void report_open(bool ok) {
    if (first && !reported) {
      reported = true;
      st->opened(ok);
    }
  }

  void start() {
    auto& sock = beast::get_lowest_layer(ws).socket();
    beast::error_code ec;
    sock.open(tcp::v4(), ec);
    const auto n = std::max<std::size_t>(1, st->opts.source_addresses);
    const auto local = asio::ip::address_v4((127U << 24) | static_cast<std::uint32_t>(1 + index % n));
    if (!ec)
      sock.bind(tcp::endpoint(local, 0), ec);
    if (!ec && slow) {
      const int size = slow_receive_buffer;
      ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (ec)
      return fail();
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(ws).async_connect(st->server, [self = shared_from_this()](beast::error_code e) {
      if (e)
        return self->fail();
      self->ws.async_handshake(self->st->opts.host, self->st->opts.target, [self](beast::error_code e2) {
        if (e2)
          return self->fail();
        beast::get_lowest_layer(self->ws).expires_never();
        self->ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        self->ws.async_write(asio::buffer(self->st->subscribe), [self](beast::error_code e3, std::size_t) {
          if (e3)
            return self->fail();
          if (self->slow) { // subscribed, and never reads again
            self->mark_subscribed();
            return;
          }
          self->read();
        });
      });
    });
  }

  void mark_subscribed() {
    if (counted)
      return;
    counted = true;
    st->subscribed.fetch_add(1, std::memory_order_relaxed);
    report_open(true);
  }

  void read() {
    ws.async_read(buffer, [self = shared_from_this()](beast::error_code e, std::size_t) { self->on_read(e); });
  }

  void on_read(beast::error_code e) {
    if (e)
      return lost();
    const auto data = buffer.cdata();
    std::string_view f(static_cast<const char*>(data.data()), data.size());
    if (f.starts_with(R"({"channel":)")) {
      received.fetch_add(1, std::memory_order_relaxed);
      if (const auto ts = head_number<std::int64_t>(f, R"(,"ts":)"); ts != 0)
        st->record(ts, head_number<std::uint64_t>(f, R"(,"seq":)"));
    } else if (f.starts_with(R"({"op":"subscribed")")) {
      mark_subscribed();
    } else if (f.starts_with(R"({"op":"error")")) {
      st->errors.fetch_add(1, std::memory_order_relaxed);
    }
    buffer.consume(buffer.size());
    read();
  }

  // The connection could not be opened.
  void fail() {
    st->failures.fetch_add(1, std::memory_order_relaxed);
    if (first)
      report_open(false); // not retried: the report counts it
    else
      lost();
  }

  // An open connection ended: reconnect (a new client object in the same slot) unless the test is closing.
  void lost() {
    if (counted) {
      counted = false;
      st->subscribed.fetch_sub(1, std::memory_order_relaxed);
    }
    report_open(false);
    if (st->closing.load() || slow)
      return;
    st->reconnects.fetch_add(1, std::memory_order_relaxed);
    auto timer = std::make_shared<asio::steady_timer>(ws.get_executor(), st->opts.reconnect_delay);
    timer->async_wait([self = shared_from_this(), timer](beast::error_code) {
      if (self->st->closing.load())
        return;
      auto next = std::make_shared<client>(self->st, self->index, false);
      next->first = false;
      next->received.store(self->received.load());
      {
        std::lock_guard lock{self->st->mu};
        self->st->clients[self->index] = next;
      }
      next->start();
    });
  }

  void close() {
    asio::post(ws.get_executor(), [self = shared_from_this()] {
      if (!self->ws.is_open())
        return;
      self->ws.async_close(websocket::close_code::normal, [self](beast::error_code) {});
    });
  }
};

void load_test::state::open_more() {
  std::vector<std::shared_ptr<client>> start;
  {
    std::lock_guard lock{mu};
    while (opening < opts.connect_window && next_to_open < clients.size()) {
      ++opening;
      start.push_back(clients[next_to_open++]);
    }
  }
  for (auto& c : start)
    c->start();
}

void load_test::state::opened(bool) {
  {
    std::lock_guard lock{mu};
    --opening;
  }
  cv.notify_all();
  open_more();
}

load_test::load_test(load_options o) : state_(std::make_shared<state>(std::move(o))) {
  auto& st = *state_;
  const std::size_t total = st.opts.clients + st.opts.slow_clients;
  st.clients.reserve(total);
  // Slow clients first among the numbers: they spread over the source addresses like the others.
  for (std::size_t i = 0; i < total; ++i)
    st.clients.push_back(std::make_shared<state::client>(state_, i, i < st.opts.slow_clients));
  for (unsigned i = 0; i < std::max(1U, st.opts.threads); ++i)
    st.threads.emplace_back([s = state_] { s->ioc.run(); });
}

load_test::~load_test() { close(); }

bool load_test::connect() {
  auto& st = *state_;
  const auto t0 = std::chrono::steady_clock::now();
  st.open_more();
  std::unique_lock lock{st.mu};
  const bool all = st.cv.wait_for(lock, st.opts.connect_timeout,
                                  [&] { return st.next_to_open == st.clients.size() && st.opening == 0; });
  lock.unlock();
  // Every attempt finished; the subscribed ones are counted (a failed first attempt is not retried).
  connect_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  return all && st.subscribed.load() == st.clients.size();
}

void load_test::reset_stats() {
  auto& st = *state_;
  for (auto& b : st.histogram)
    b.store(0, std::memory_order_relaxed);
  st.max_us.store(0);
  st.errors.store(0);
  {
    std::lock_guard last_lock{st.last_mu};
    st.last_by_seq.clear();
  }
  std::lock_guard lock{st.mu};
  for (auto& c : st.clients)
    c->received.store(0, std::memory_order_relaxed);
}

load_report load_test::report() const {
  auto& st = *state_;
  load_report r;
  r.subscribed = st.subscribed.load();
  r.connect_failures = st.failures.load();
  r.reconnects = st.reconnects.load();
  r.errors = st.errors.load();
  r.connect_time = connect_time_;
  bool any = false;
  {
    std::lock_guard lock{st.mu};
    for (auto& c : st.clients) {
      if (c->slow)
        continue;
      const auto n = c->received.load(std::memory_order_relaxed);
      r.messages += n;
      r.min_per_client = any ? std::min(r.min_per_client, n) : n;
      r.max_per_client = any ? std::max(r.max_per_client, n) : n;
      any = true;
    }
  }
  {
    std::vector<std::uint64_t> lasts;
    {
      std::lock_guard lock{st.last_mu};
      for (const auto& [seq, us] : st.last_by_seq)
        lasts.push_back(us);
    }
    std::sort(lasts.begin(), lasts.end());
    if (!lasts.empty()) {
      auto rank = [&](std::size_t pct) {
        return lasts[std::min(lasts.size() - 1, (lasts.size() * pct + 99) / 100 - 1)];
      };
      r.last_delivery = {lasts.size(), rank(50), rank(99), lasts.back()};
    }
  }
  std::uint64_t count = 0;
  for (auto& b : st.histogram)
    count += b.load(std::memory_order_relaxed);
  r.latency.count = count;
  r.latency.max_us = st.max_us.load();
  if (count == 0)
    return r;
  const std::uint64_t p50_rank = (count + 1) / 2, p99_rank = std::max<std::uint64_t>(1, (count * 99 + 99) / 100);
  std::uint64_t seen = 0;
  bool have50 = false;
  for (std::size_t i = 0; i < st.histogram.size(); ++i) {
    seen += st.histogram[i].load(std::memory_order_relaxed);
    if (!have50 && seen >= p50_rank) {
      r.latency.p50_us = i * bucket_us;
      have50 = true;
    }
    if (seen >= p99_rank) {
      r.latency.p99_us = i * bucket_us;
      break;
    }
  }
  return r;
}

void load_test::close() {
  auto& st = *state_;
  if (st.closing.exchange(true))
    return;
  {
    std::lock_guard lock{st.mu};
    for (auto& c : st.clients)
      c->close();
  }
  // A moment for the close handshakes, then the threads stop whatever is left.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (st.subscribed.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  st.work.reset();
  st.ioc.stop();
  for (auto& t : st.threads)
    t.join();
  st.threads.clear();
  std::lock_guard lock{st.mu};
  st.clients.clear(); // breaks the client -> state references
}

std::optional<int> pid_listening_on(std::uint16_t port) {
  // Inodes of the listening sockets on the port (state 0A = LISTEN).
  std::vector<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (st != "0A" || colon == std::string::npos)
        continue;
      if (std::stoul(local.substr(colon + 1), nullptr, 16) == port)
        inodes.push_back("socket:[" + inode + "]");
    }
  }
  if (inodes.empty())
    return std::nullopt;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr)
    return std::nullopt;
  std::optional<int> found;
  while (dirent* e = ::readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const std::string fd_dir = "/proc/" + name + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr)
      continue;
    while (dirent* fe = ::readdir(fds)) {
      char target[256];
      const std::string link = fd_dir + "/" + fe->d_name;
      const auto n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0)
        continue;
      if (std::find(inodes.begin(), inodes.end(), std::string(target, static_cast<std::size_t>(n))) != inodes.end()) {
        found = std::stoi(name);
        break;
      }
    }
    ::closedir(fds);
    if (found)
      break;
  }
  ::closedir(proc);
  return found;
}

std::optional<std::uint64_t> rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) {
      std::istringstream f(line.substr(6));
      std::uint64_t kib = 0;
      if (f >> kib)
        return kib;
    }
  return std::nullopt;
}

} // namespace mi::gw
