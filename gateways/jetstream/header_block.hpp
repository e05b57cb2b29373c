#pragma once
// A message's headers in NATS's wire form, the header block of an HPUB (ADR-4): "NATS/1.0\r\n", one
// "Name: value\r\n" per header, then "\r\n". The gateway writes it once per publish into a reused buffer and hands it
// to nats.c with the payload, instead of building nats.c's header hash per message (docs/performance.md §28). Names
// and values come partly from outside (an exchange's trade id is part of Nats-Msg-Id): a header that would break the
// block is refused with the reason, never sent.
#include <cstddef>
#include <string>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// Appends the header block of `m` (Nats-Msg-Id, Content-Type, then m.headers in order; empty ones of the first two
/// left out) to `out` and returns its length; appends nothing and returns 0 when `m` has no header. An error names
/// the first header that cannot be sent: an empty name, a name with ':' or a character outside '!'..'~', a value with
/// CR or LF. `out` is unchanged on error.
mi::result<std::size_t> append_header_block(std::string& out, const outgoing& m);

} // namespace mi::gw
