// libFuzzer target for the kraken book codec and sync state machine (connectors/kraken/book.*): frames split at '\n',
// fed in order to one codec; see book_fuzz.hpp for what is checked. Built by mi_add_venue(); run by scripts/fuzz,
// seeded with ../shared/fixtures/books and tests/data/books.
#include "connectors/kraken/book.hpp"
#include "tests/fuzz/book_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mi::kraken::book_sync codec; // a fresh book per input: the input is the whole session
  mi::fuzz::run_frames(codec, data, size);
  return 0;
}
