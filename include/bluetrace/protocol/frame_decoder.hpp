// FrameDecoder: turns a byte stream, arriving in pieces split anywhere, into frames
// (docs/PROTOCOL.md, "Framing").
//
// Feed() takes bytes from the front of what the caller offers, but only up to the end of
// the frame being assembled: once a frame is complete it takes nothing more until Next()
// has handed it out. The decoder therefore never holds more than one frame (at most
// kFrameHeaderBytes + max_frame_bytes), whatever the peer sends; unconsumed bytes stay in
// the caller's read buffer. A typical read loop:
//
//   std::span<const std::uint8_t> rest = bytes_just_read;
//   for (;;) {
//     rest = rest.subspan(decoder.Feed(rest));
//     util::Result<std::optional<Message>> m = decoder.NextMessage();
//     if (!m.ok()) return Fail(m.status());   // send Error{FrameErrorCode(...)}, close
//     if (!m->has_value()) break;             // `rest` is empty now; read more
//     Handle(std::move(**m));
//   }
//
// The declared length is checked against max_frame_bytes as soon as the 4 header bytes are
// in, before any body byte is stored, and body storage grows only with bytes actually
// received. Errors are values and sticky: once failed, Feed() takes nothing and Next()
// returns the same error forever. Buffers are wiped as they are released (frames carry
// passwords). Single-threaded; owned by one session.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/protocol/wire.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

struct Frame {
  std::uint8_t type = 0;
  std::string body;  // without the type byte; N = 1 + body.size()
  friend bool operator==(const Frame&, const Frame&) = default;
};

class FrameDecoder {
 public:
  // Frames whose N exceeds `max_frame_bytes` are rejected (0 rejects every frame).
  explicit FrameDecoder(std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}
  ~FrameDecoder();
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Takes bytes from the front of `data` until the current frame is complete or an error
  // is found; returns how many it took (0 while a complete frame waits for Next(), and
  // after an error). Never fails itself: errors surface from Next().
  [[nodiscard]] std::size_t Feed(std::span<const std::uint8_t> data);
  [[nodiscard]] std::size_t Feed(std::string_view data) { return Feed(AsBytes(data)); }

  // The next complete frame; nullopt when more bytes are needed. Errors (sticky):
  // kInvalidArgument for a frame with N = 0 (no type byte); kResourceExhausted for
  // N > max_frame_bytes.
  util::Result<std::optional<Frame>> Next();

  // Next() followed by DecodeBody(). A body that does not decode (see DecodeBody: unknown
  // type kNotFound, malformed body kInvalidArgument) also puts the decoder in its sticky
  // error state, since the peer no longer speaks the protocol. The frame body is wiped.
  util::Result<std::optional<Message>> NextMessage();

  bool failed() const { return state_ == State::kFailed; }
  // True when no part of a frame is held: a clean place for the stream to end.
  bool AtBoundary() const { return state_ == State::kHeader && header_size_ == 0; }
  std::uint32_t max_frame_bytes() const { return max_frame_bytes_; }

 private:
  enum class State { kHeader, kType, kBody, kComplete, kFailed };

  void Fail(util::Status status);

  std::uint32_t max_frame_bytes_;
  State state_ = State::kHeader;
  std::array<std::uint8_t, kFrameHeaderBytes> header_{};
  std::size_t header_size_ = 0;
  std::uint32_t frame_size_ = 0;  // N of the frame being assembled
  std::uint8_t type_ = 0;
  std::string body_;
  util::Status error_;
};

// The Error code a server sends for an error from FrameDecoder::Next/NextMessage or
// DecodeBody: kResourceExhausted -> kTooLarge, kNotFound -> kUnknownMessage, anything else
// -> kBadFrame.
ErrorCode FrameErrorCode(const util::Status& decode_error);

// Decodes `bytes` holding exactly one complete frame (tests, tools). Errors: those of
// NextMessage(), kInvalidArgument for a truncated frame or bytes after it.
util::Result<Message> DecodeFrame(std::span<const std::uint8_t> bytes,
                                  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes);
inline util::Result<Message> DecodeFrame(std::string_view bytes,
                                         std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes) {
  return DecodeFrame(AsBytes(bytes), max_frame_bytes);
}

}  // namespace bluetrace::protocol
