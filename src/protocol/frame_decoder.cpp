#include "bluetrace/protocol/frame_decoder.hpp"

#include <algorithm>
#include <utility>

#include "bluetrace/util/secret.hpp"

namespace bluetrace::protocol {

FrameDecoder::~FrameDecoder() { util::WipeString(body_); }

void FrameDecoder::Fail(util::Status status) {
  state_ = State::kFailed;
  error_ = std::move(status);
  util::WipeString(body_);
}

std::size_t FrameDecoder::Feed(std::span<const std::uint8_t> data) {
  std::size_t taken = 0;
  while (taken < data.size()) {
    switch (state_) {
      case State::kHeader: {
        const std::size_t n = std::min(kFrameHeaderBytes - header_size_, data.size() - taken);
        std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(taken), n,
                    header_.begin() + static_cast<std::ptrdiff_t>(header_size_));
        header_size_ += n;
        taken += n;
        if (header_size_ < kFrameHeaderBytes) break;
        frame_size_ = 0;
        for (std::uint8_t b : header_) frame_size_ = (frame_size_ << 8) | b;
        header_size_ = 0;
        // Both checks happen here, before a single body byte is stored.
        if (frame_size_ == 0) {
          Fail(util::InvalidArgument("frame of length 0 has no message type"));
          return taken;
        }
        if (frame_size_ > max_frame_bytes_) {
          Fail(util::ResourceExhausted("frame of " + std::to_string(frame_size_) +
                                       " bytes exceeds the limit of " +
                                       std::to_string(max_frame_bytes_)));
          return taken;
        }
        state_ = State::kType;
        break;
      }
      case State::kType:
        type_ = data[taken++];
        state_ = frame_size_ == 1 ? State::kComplete : State::kBody;
        if (state_ == State::kComplete) return taken;
        break;
      case State::kBody: {
        const std::size_t want = frame_size_ - 1 - body_.size();
        const std::size_t n = std::min(want, data.size() - taken);
        AppendWiping(body_, AsChars(data.subspan(taken, n)));
        taken += n;
        if (n == want) {
          state_ = State::kComplete;
          return taken;
        }
        break;
      }
      case State::kComplete:
      case State::kFailed:
        return taken;
    }
  }
  return taken;
}

util::Result<std::optional<Frame>> FrameDecoder::Next() {
  if (state_ == State::kFailed) return error_;
  if (state_ != State::kComplete) return std::optional<Frame>();
  std::optional<Frame> frame(Frame{type_, std::move(body_)});
  body_ = std::string();
  state_ = State::kHeader;
  return frame;
}

util::Result<std::optional<Message>> FrameDecoder::NextMessage() {
  util::Result<std::optional<Frame>> frame = Next();
  if (!frame.ok()) return frame.status();
  if (!frame->has_value()) return std::optional<Message>();
  Frame& f = **frame;
  util::Result<Message> message = DecodeBody(f.type, std::string_view(f.body));
  util::WipeString(f.body);
  if (!message.ok()) {
    Fail(message.status());
    return error_;
  }
  return std::optional<Message>(std::move(message).value());
}

ErrorCode FrameErrorCode(const util::Status& decode_error) {
  switch (decode_error.code()) {
    case util::StatusCode::kResourceExhausted:
      return ErrorCode::kTooLarge;
    case util::StatusCode::kNotFound:
      return ErrorCode::kUnknownMessage;
    default:
      return ErrorCode::kBadFrame;
  }
}

util::Result<Message> DecodeFrame(std::span<const std::uint8_t> bytes,
                                  std::uint32_t max_frame_bytes) {
  FrameDecoder decoder(max_frame_bytes);
  const std::size_t taken = decoder.Feed(bytes);
  util::Result<std::optional<Message>> message = decoder.NextMessage();
  if (!message.ok()) return message.status();
  if (!message->has_value()) {
    return util::InvalidArgument("truncated frame: " + std::to_string(bytes.size()) +
                                 " bytes end inside it");
  }
  if (taken != bytes.size()) {
    return util::InvalidArgument(std::to_string(bytes.size() - taken) +
                                 " bytes after the end of the frame");
  }
  return std::move(**message);
}

}  // namespace bluetrace::protocol
