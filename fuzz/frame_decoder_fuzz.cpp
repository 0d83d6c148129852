// Fuzzes FrameDecoder with input split into pieces chosen by the input itself.
//
// Input layout: [limit][k][k piece sizes][stream...]. `limit` < 0x80 selects a small
// max_frame_bytes (limit * 3, 0 included), anything else the 1 MiB default. The stream is
// fed in pieces of the given sizes, cycled (0 means "all that is left"), pulling every
// complete frame as a session would. Invariants (a break traps):
//  - Feed never takes more than offered, and takes all of it whenever Next() asks for more;
//  - every frame respects the limit, and every frame that decodes re-encodes to its bytes;
//  - errors are sticky: afterwards Feed takes nothing and Next() repeats the error;
//  - the frames and the outcome are the same as when the stream arrives in one piece.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bluetrace/protocol/frame_decoder.hpp"
#include "bluetrace/protocol/messages.hpp"

namespace {

using bluetrace::protocol::Frame;
using bluetrace::protocol::FrameDecoder;

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

struct Outcome {
  std::vector<Frame> frames;
  bluetrace::util::Status error;
  std::size_t taken = 0;
};

Outcome Run(std::uint32_t limit, std::span<const std::uint8_t> stream,
            std::span<const std::uint8_t> pieces) {
  FrameDecoder decoder(limit);
  Outcome out;
  std::size_t next_piece = 0;
  while (!stream.empty()) {
    std::size_t size = stream.size();
    if (!pieces.empty()) {
      const std::uint8_t p = pieces[next_piece++ % pieces.size()];
      if (p != 0 && p < size) size = p;
    }
    std::span<const std::uint8_t> piece = stream.first(size);
    stream = stream.subspan(size);
    for (;;) {
      const std::size_t taken = decoder.Feed(piece);
      Check(taken <= piece.size());
      out.taken += taken;
      piece = piece.subspan(taken);
      bluetrace::util::Result<std::optional<Frame>> frame = decoder.Next();
      if (!frame.ok()) {
        Check(decoder.failed());
        out.error = frame.status();
        // Sticky: nothing more is taken and the same error comes back.
        Check(decoder.Feed(piece) == 0);
        Check(decoder.Next().status() == out.error);
        Check(decoder.NextMessage().status() == out.error);
        return out;
      }
      if (!frame->has_value()) {
        Check(piece.empty());
        break;
      }
      Check(1 + (*frame)->body.size() <= limit);
      out.frames.push_back(std::move(**frame));
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bluetrace::protocol;
  if (size < 2) return 0;
  const std::uint32_t limit = data[0] < 0x80 ? data[0] * 3u : kDefaultMaxFrameBytes;
  const std::size_t k = std::min<std::size_t>(data[1], size - 2);
  const std::span<const std::uint8_t> all(data, size);
  const std::span<const std::uint8_t> pieces = all.subspan(2, k);
  const std::span<const std::uint8_t> stream = all.subspan(2 + k);

  const Outcome split = Run(limit, stream, pieces);
  const Outcome whole = Run(limit, stream, {});
  Check(split.frames == whole.frames);
  Check(split.error == whole.error);
  Check(split.taken == whole.taken);
  if (split.error.ok()) Check(split.taken == stream.size());

  for (const Frame& frame : split.frames) {
    bluetrace::util::Result<Message> message = DecodeBody(frame.type, frame.body);
    if (!message.ok()) continue;
    bluetrace::util::Result<std::string> encoded = EncodeFrame(*message, limit);
    Check(encoded.ok());
    Check(encoded->size() == kFrameHeaderBytes + 1 + frame.body.size());
    Check(static_cast<std::uint8_t>((*encoded)[4]) == frame.type);
    Check(encoded->compare(5, std::string::npos, frame.body) == 0);
  }
  return 0;
}
