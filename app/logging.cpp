#include "app/logging.hpp"

#include <chrono>
#include <mutex>
#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <string>

#include "messages/util/civil_time.hpp"
#include "messages/util/json_writer.hpp"
#include "messages/util/repeat_limiter.hpp"

namespace mi::app {
namespace {

class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    std::string line = R"({"ts":")";
    line += mi::util::rfc3339(ms * 1'000'000); // millisecond precision, trailing zeros dropped
    line += R"(","level":")";
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += R"(","msg":)";
    mi::util::append_json_string(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_formatter>(); }
};

/// Passes info and below through; warnings and errors through a repeat_limiter (3 lines of a kind per 10 s,
/// then a count). Its flush (every
/// second, spdlog::flush_every) writes the summaries of the windows that ended.
class limited_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit limited_sink(spdlog::sink_ptr target) : target_(std::move(target)) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level < spdlog::level::warn) {
      target_->log(msg);
      return;
    }
    auto v = limiter_.offer(std::string_view(msg.payload.data(), msg.payload.size()), static_cast<int>(msg.level),
                            mi::util::repeat_limiter::clock::now());
    if (v.held)
      emit(*v.held);
    if (v.write)
      target_->log(msg);
  }
  void flush_() override {
    for (const auto& s : limiter_.expire(mi::util::repeat_limiter::clock::now()))
      emit(s);
    target_->flush();
  }
  void set_pattern_(const std::string& pattern) override { target_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override { target_->set_formatter(std::move(f)); }

private:
  void emit(const mi::util::repeat_limiter::summary& s) {
    spdlog::details::log_msg m(spdlog::string_view_t{}, static_cast<spdlog::level::level_enum>(s.level),
                               spdlog::string_view_t(s.text.data(), s.text.size()));
    target_->log(m);
  }

  spdlog::sink_ptr target_;
  mi::util::repeat_limiter limiter_{std::chrono::seconds(10), 3};
};

} // namespace

std::unique_ptr<spdlog::formatter> make_json_formatter() { return std::make_unique<json_formatter>(); }

void setup_logging(mi::cfg::log_format format) {
  spdlog::sink_ptr target;
  if (format == mi::cfg::log_format::json)
    target = std::make_shared<spdlog::sinks::stdout_sink_mt>(); // no colour codes inside JSON
  else
    target = std::make_shared<spdlog::sinks::stdout_color_sink_mt>();
  auto sink = std::make_shared<limited_sink>(std::move(target));
  auto logger = std::make_shared<spdlog::logger>("", sink);
  if (format == mi::cfg::log_format::json)
    logger->set_formatter(make_json_formatter());
  logger->set_level(spdlog::default_logger()->level());
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_every(std::chrono::seconds(1));
}

} // namespace mi::app
