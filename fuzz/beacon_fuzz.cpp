// Fuzzes ParseBeacon. A beacon that parses must re-encode to the input (with the raw 0x01
// version byte written back as '1'); a rejection must be kInvalidArgument. Validity must
// hold exactly on [start, expiry].
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "bluetrace/protocol/beacon.hpp"

namespace {

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bluetrace::protocol;
  const std::span<const std::uint8_t> datagram(data, size);
  auto beacon = ParseBeacon(datagram);
  if (!beacon.ok()) {
    Check(beacon.status().code() == bluetrace::util::StatusCode::kInvalidArgument);
    return 0;
  }
  Check(size == kBeaconSize);
  Check(beacon->version == kBeaconVersion);
  const std::string encoded = EncodeBeacon(*beacon);
  std::string expected(reinterpret_cast<const char*>(data), size);
  Check(expected.back() == '1' || expected.back() == '\x01');
  expected.back() = '1';
  Check(encoded == expected);

  Check(IsBeaconValidAt(*beacon, beacon->start) == (beacon->start <= beacon->expiry));
  Check(IsBeaconValidAt(*beacon, beacon->expiry) == (beacon->start <= beacon->expiry));
  Check(!IsBeaconValidAt(*beacon, beacon->start - 1));
  Check(!IsBeaconValidAt(*beacon, beacon->expiry + 1));
  return 0;
}
