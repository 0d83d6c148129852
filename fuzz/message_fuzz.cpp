// Fuzzes DecodeBody. Input: the first byte is the message type, the rest the body. Whatever
// decodes must re-encode to exactly the same bytes (one encoding per message), carry the
// type it was decoded as, and decode again to an equal message; a body that does not decode
// must fail with a typed error, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "bluetrace/protocol/frame_decoder.hpp"
#include "bluetrace/protocol/messages.hpp"

namespace {

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bluetrace::protocol;
  if (size == 0) return 0;
  const std::uint8_t type = data[0];
  const std::span<const std::uint8_t> body(data + 1, size - 1);

  bluetrace::util::Result<Message> message = DecodeBody(type, body);
  if (!message.ok()) {
    const bluetrace::util::StatusCode code = message.status().code();
    Check(IsKnownMessageType(type) ? code == bluetrace::util::StatusCode::kInvalidArgument
                                   : code == bluetrace::util::StatusCode::kNotFound);
    return 0;
  }
  Check(IsKnownMessageType(type));
  Check(static_cast<std::uint8_t>(TypeOf(*message)) == type);

  bluetrace::util::Result<std::string> frame = EncodeFrame(*message, 0xffffffffu);
  Check(frame.ok());
  const std::size_t n = body.size() + 1;
  Check(frame->size() == kFrameHeaderBytes + n);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(frame->data());
  Check(((std::size_t{bytes[0]} << 24) | (std::size_t{bytes[1]} << 16) |
         (std::size_t{bytes[2]} << 8) | std::size_t{bytes[3]}) == n);
  Check(bytes[4] == type);
  for (std::size_t i = 0; i < body.size(); ++i) Check(bytes[5 + i] == body[i]);

  bluetrace::util::Result<Message> again = DecodeFrame(*frame, 0xffffffffu);
  Check(again.ok() && *again == *message);
  return 0;
}
