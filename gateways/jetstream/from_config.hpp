#pragma once

// The config -> JetStream gateway mapping, beside the gateway (one place for every role and tool).

#include "config/config.hpp"
#include "gateways/jetstream/jetstream.hpp"

namespace mi::gw {

/// A stream section (`nats.streams.*`) as the gateway creates or updates it.
stream_spec to_spec(const mi::cfg::stream_config& c);

/// The connection settings of `nats`: URL, timeouts, and nats.c's publish window sized above our
/// own in-flight limit (`max_in_flight`) so that nats.c never stalls first; a publish is retried
/// until stored. Callbacks (on_outcome, on_retry) are the caller's.
jetstream::options to_options(const mi::cfg::nats_config& c);

} // namespace mi::gw
