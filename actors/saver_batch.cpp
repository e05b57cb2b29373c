#include "actors/saver_batch.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "messages/codec.hpp"

namespace mi::actors {

const char* kind_name(saver_kind k) { return k == saver_kind::trades ? "trades" : "klines"; }

const char* table_of(saver_kind k) { return k == saver_kind::trades ? "market_trades" : "market_klines"; }

saver_batch::saver_batch(saver_kind kind, const std::vector<std::string_view>& payloads)
    : kind_(kind), size_(payloads.size()) {
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    if (kind_ == saver_kind::trades) {
      auto t = mi::decode_trade_pb(payloads[i]);
      if (!t) {
        bad_.push_back({i, "undecodable trade: " + t.err().message});
        continue;
      }
      trade_rows_.push_back(std::move(*t));
      trade_messages_.push_back(i);
    } else {
      auto k = mi::decode_kline_pb(payloads[i]);
      if (!k)
        bad_.push_back({i, "undecodable kline: " + k.err().message});
      klines_.push_back(k ? std::optional<mi::kline>(std::move(*k)) : std::nullopt);
    }
  }
}

std::vector<std::size_t> saver_batch::decoded() const {
  if (kind_ == saver_kind::trades)
    return trade_messages_;
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < size_; ++i)
    if (klines_[i].has_value())
      out.push_back(i);
  return out;
}

mi::result<std::size_t> saver_batch::store(const batch_writer& w) { return store_isolating(w, decoded()); }

std::vector<bool> saver_batch::bad_mask() const {
  std::vector<bool> out(size_, false);
  for (const auto& p : bad_)
    out[p.index] = true;
  return out;
}

/// One transaction with the decodable rows of the messages `idx`.
mi::result<std::size_t> saver_batch::write_subset(const batch_writer& w, const std::vector<std::size_t>& idx) const {
  if (kind_ == saver_kind::trades) {
    auto write = [&w](const std::vector<mi::trade>& rows, const std::vector<std::size_t>& messages) {
      return w.write_trades_of ? w.write_trades_of(rows, messages) : w.write_trades(rows);
    };
    if (idx == trade_messages_)
      return write(trade_rows_, trade_messages_); // every decoded message: no copy
    std::vector<mi::trade> rows;
    std::vector<std::size_t> messages;
    rows.reserve(idx.size());
    messages.reserve(idx.size());
    for (auto i : idx) {
      auto at = std::lower_bound(trade_messages_.begin(), trade_messages_.end(), i);
      if (at != trade_messages_.end() && *at == i) {
        rows.push_back(trade_rows_[static_cast<std::size_t>(at - trade_messages_.begin())]);
        messages.push_back(i);
      }
    }
    return write(rows, messages);
  }
  std::vector<mi::kline> rows;
  for (auto i : idx)
    if (klines_[i])
      rows.push_back(*klines_[i]);
  return w.upsert_klines(finals_to_store(std::move(rows)));
}

mi::result<std::size_t> saver_batch::store_isolating(const batch_writer& w, const std::vector<std::size_t>& idx) {
  if (idx.empty())
    return std::size_t{0};
  auto written = write_subset(w, idx);
  if (written || written.err().code != mi::errc::rejected)
    return written;
  if (idx.size() == 1) {
    bad_.push_back({idx[0], written.err().message});
    return std::size_t{0};
  }
  const auto half = idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2);
  std::vector<std::size_t> left(idx.begin(), half);
  std::vector<std::size_t> right(half, idx.end());
  auto a = store_isolating(w, left);
  if (!a)
    return a;
  auto b = store_isolating(w, right);
  if (!b)
    return b;
  return *a + *b;
}

disposition disposition_of(bool is_poison, std::uint64_t delivered, int max_attempts) {
  if (!is_poison)
    return disposition::ack;
  return delivered >= static_cast<std::uint64_t>(max_attempts) ? disposition::dead_letter : disposition::nak;
}

std::vector<mi::kline> finals_to_store(std::vector<mi::kline> batch) {
  // Keyed lookup: a batch can hold thousands of finals when many symbols close together.
  std::map<std::tuple<std::string, std::string, std::string, std::int64_t>, std::size_t> index;
  std::vector<mi::kline> out;
  for (auto& k : batch) {
    if (!k.is_final)
      continue;
    auto key = std::make_tuple(k.exchange, k.symbol, k.interval, k.open_time_ms);
    auto it = index.find(key);
    if (it == index.end()) {
      index.emplace(std::move(key), out.size());
      out.push_back(std::move(k));
    } else if (k.revision >= out[it->second].revision) {
      out[it->second] = std::move(k);
    }
  }
  return out;
}

} // namespace mi::actors
