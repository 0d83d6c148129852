#include "bluetrace/protocol/frame_decoder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/random_messages.hpp"

namespace bluetrace::protocol {
namespace {

using namespace std::string_literals;

std::string Encode(const Message& m) {
  util::Result<std::string> frame = EncodeFrame(m);
  EXPECT_TRUE(frame.ok()) << frame.status().ToString();
  return frame.ok() ? *frame : std::string();
}

// A stream of a few different frames, small enough to split at every pair of points.
std::string SmallStream() {
  return Encode(Hello{1, 1, "bluetrace-client"}) + Encode(TempIdRequest{}) +
         Encode(Login{"+61410888888", util::SecretString("comp3331")}) +
         Encode(UploadChunk{"12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n"}) +
         Encode(Ping{7}) + Encode(Logout{});
}

struct Outcome {
  std::vector<Frame> frames;
  util::Status error;
};

// Feeds `stream` in pieces of the given sizes (cycled; 0 is read as 1) and pulls every
// frame as soon as it is complete, as a session would.
Outcome FeedInPieces(FrameDecoder& decoder, std::string_view stream,
                     const std::vector<std::size_t>& pieces) {
  Outcome out;
  std::size_t next_piece = 0;
  while (!stream.empty() && !decoder.failed()) {
    const std::size_t size = std::max<std::size_t>(1, pieces[next_piece++ % pieces.size()]);
    std::string_view piece = stream.substr(0, size);
    stream.remove_prefix(piece.size());
    for (;;) {
      piece.remove_prefix(decoder.Feed(piece));
      util::Result<std::optional<Frame>> frame = decoder.Next();
      if (!frame.ok()) {
        out.error = frame.status();
        return out;
      }
      if (!frame->has_value()) break;
      out.frames.push_back(std::move(**frame));
    }
    EXPECT_TRUE(piece.empty()) << "Next() said it needs more bytes, yet some were not taken";
  }
  return out;
}

std::vector<Frame> FramesOf(std::string_view stream) {
  FrameDecoder decoder;
  Outcome whole = FeedInPieces(decoder, stream, {stream.size()});
  EXPECT_TRUE(whole.error.ok()) << whole.error.ToString();
  return whole.frames;
}

TEST(FrameDecoderTest, DecodesOneFrame) {
  FrameDecoder decoder;
  const std::string frame = Encode(Ping{0x0102030405060708});
  EXPECT_EQ(decoder.Feed(frame), frame.size());
  util::Result<std::optional<Frame>> f = decoder.Next();
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ((*f)->type, 0x50);
  EXPECT_EQ((*f)->body, "\x01\x02\x03\x04\x05\x06\x07\x08"s);
  EXPECT_TRUE(decoder.AtBoundary());
  EXPECT_FALSE(decoder.Next()->has_value());
}

TEST(FrameDecoderTest, NeedsMoreBytesUntilTheFrameIsComplete) {
  FrameDecoder decoder;
  EXPECT_TRUE(decoder.AtBoundary());
  const std::string frame = Encode(Ping{1});
  for (std::size_t i = 0; i + 1 < frame.size(); ++i) {
    EXPECT_EQ(decoder.Feed(frame.substr(i, 1)), 1u);
    util::Result<std::optional<Frame>> f = decoder.Next();
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->has_value()) << "after " << i + 1 << " bytes";
    EXPECT_FALSE(decoder.AtBoundary());
  }
  EXPECT_EQ(decoder.Feed(frame.substr(frame.size() - 1)), 1u);
  EXPECT_TRUE(decoder.Next()->has_value());
  EXPECT_TRUE(decoder.AtBoundary());
}

TEST(FrameDecoderTest, FeedStopsAtTheEndOfACompleteFrame) {
  FrameDecoder decoder;
  const std::string first = Encode(Ping{1});
  const std::string stream = first + Encode(Pong{2}) + Encode(Logout{});
  EXPECT_EQ(decoder.Feed(stream), first.size());
  // A complete frame waits for Next(); nothing more is buffered meanwhile.
  EXPECT_EQ(decoder.Feed(std::string_view(stream).substr(first.size())), 0u);
  util::Result<std::optional<Message>> m = decoder.NextMessage();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_TRUE(**m == Message(Ping{1}));
}

TEST(FrameDecoderTest, ZeroLengthFrameIsAnError) {
  FrameDecoder decoder;
  EXPECT_EQ(decoder.Feed("\x00\x00\x00\x00"s), 4u);
  util::Result<std::optional<Frame>> f = decoder.Next();
  EXPECT_EQ(f.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.status().message(), "frame of length 0 has no message type");
  EXPECT_EQ(FrameErrorCode(f.status()), ErrorCode::kBadFrame);
}

TEST(FrameDecoderTest, OversizeLengthIsRejectedFromTheHeaderAlone) {
  // No body byte is sent: the error must come from the 4 header bytes.
  for (const std::string& header : {"\x00\x10\x00\x01"s, "\xff\xff\xff\xff"s}) {
    FrameDecoder decoder;
    EXPECT_EQ(decoder.Feed(header + "more bytes"), 4u);
    util::Result<std::optional<Frame>> f = decoder.Next();
    EXPECT_EQ(f.status().code(), util::StatusCode::kResourceExhausted);
    EXPECT_EQ(FrameErrorCode(f.status()), ErrorCode::kTooLarge);
    EXPECT_TRUE(decoder.failed());
  }
}

TEST(FrameDecoderTest, LengthExactlyAtTheLimitIsAccepted) {
  const std::string chunk = Encode(UploadChunk{"abc"});  // N = 8
  FrameDecoder at_limit(8);
  EXPECT_EQ(at_limit.Feed(chunk), chunk.size());
  util::Result<std::optional<Message>> at = at_limit.NextMessage();
  EXPECT_TRUE(at.ok() && at->has_value()) << at.status().ToString();

  FrameDecoder below(7);
  EXPECT_EQ(below.Feed(chunk), 4u);
  EXPECT_EQ(below.Next().status().message(), "frame of 8 bytes exceeds the limit of 7");

  const std::string biggest(kDefaultMaxFrameBytes - 5, 'x');
  const std::string max_frame = Encode(UploadChunk{biggest});
  ASSERT_EQ(max_frame.size(), kFrameHeaderBytes + kDefaultMaxFrameBytes);
  FrameDecoder by_default;
  EXPECT_EQ(by_default.Feed(max_frame), max_frame.size());
  util::Result<std::optional<Message>> m = by_default.NextMessage();
  ASSERT_TRUE(m.ok() && m->has_value()) << m.status().ToString();
  EXPECT_EQ(std::get<UploadChunk>(**m).data.size(), biggest.size());
}

TEST(FrameDecoderTest, ErrorsAreSticky) {
  FrameDecoder decoder(4);
  EXPECT_EQ(decoder.Feed("\x00\x00\x00\x05"s), 4u);
  const util::Status first = decoder.Next().status();
  ASSERT_FALSE(first.ok());
  const std::string valid = Encode(Logout{});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(decoder.Feed(valid), 0u);
    EXPECT_EQ(decoder.Next().status(), first);
    EXPECT_EQ(decoder.NextMessage().status(), first);
    EXPECT_TRUE(decoder.failed());
  }
}

TEST(FrameDecoderTest, NextMessageRejectsUnknownTypesAndBadBodiesForGood) {
  FrameDecoder unknown;
  EXPECT_EQ(unknown.Feed("\x00\x00\x00\x01\x03"s), 5u);
  util::Result<std::optional<Message>> m = unknown.NextMessage();
  EXPECT_EQ(m.status().code(), util::StatusCode::kNotFound);
  EXPECT_EQ(FrameErrorCode(m.status()), ErrorCode::kUnknownMessage);
  EXPECT_EQ(unknown.Feed(Encode(Logout{})), 0u);
  EXPECT_EQ(unknown.NextMessage().status(), m.status());

  FrameDecoder bad_body;  // a Logout with a body byte
  EXPECT_EQ(bad_body.Feed("\x00\x00\x00\x02\x40\x00"s), 6u);
  EXPECT_EQ(bad_body.NextMessage().status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_TRUE(bad_body.failed());

  // Next() alone hands the unknown frame out: the caller decides.
  FrameDecoder raw;
  EXPECT_EQ(raw.Feed("\x00\x00\x00\x01\x03"s), 5u);
  util::Result<std::optional<Frame>> f = raw.Next();
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ(**f, (Frame{0x03, ""}));
}

TEST(FrameDecoderTest, SplitAtAnyOneOrTwoPointsGivesTheSameFrames) {
  const std::string stream = SmallStream();
  const std::vector<Frame> expected = FramesOf(stream);
  ASSERT_EQ(expected.size(), 6u);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); ++j) {
      FrameDecoder decoder;
      Outcome out = FeedInPieces(decoder, stream, {i, j - i, stream.size()});
      ASSERT_TRUE(out.error.ok()) << i << "," << j;
      ASSERT_EQ(out.frames, expected) << "split at " << i << " and " << j;
      ASSERT_TRUE(decoder.AtBoundary());
    }
  }
}

TEST(FrameDecoderTest, OneByteAtATimeGivesTheSameFrames) {
  test::RandomMessages gen(7);
  std::string stream;
  for (int i = 0; i < 40; ++i) stream += Encode(gen.Next());
  FrameDecoder decoder;
  Outcome out = FeedInPieces(decoder, stream, {1});
  ASSERT_TRUE(out.error.ok()) << out.error.ToString();
  EXPECT_EQ(out.frames, FramesOf(stream));
  EXPECT_EQ(out.frames.size(), 40u);
}

TEST(FrameDecoderTest, RandomPieceSizesGiveTheSameMessages) {
  test::RandomMessages gen(42);
  for (int round = 0; round < 20; ++round) {
    std::vector<Message> sent;
    std::string stream;
    for (int i = 0; i < 25; ++i) {
      sent.push_back(gen.Next());
      stream += Encode(sent.back());
    }
    std::vector<std::size_t> pieces;
    for (int i = 0; i < 16; ++i) pieces.push_back(static_cast<std::size_t>(gen.Below(3000)));
    FrameDecoder decoder;
    Outcome out = FeedInPieces(decoder, stream, pieces);
    ASSERT_TRUE(out.error.ok()) << out.error.ToString();
    ASSERT_EQ(out.frames.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
      util::Result<Message> m = DecodeBody(out.frames[i].type, out.frames[i].body);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      EXPECT_TRUE(*m == sent[i]) << "round " << round << " message " << i;
    }
  }
}

TEST(FrameDecoderTest, ErrorAfterGoodFramesIsFoundWhereverTheSplitFalls) {
  const std::string good = Encode(Ping{1}) + Encode(Pong{1});
  const std::string stream = good + "\x00\x20\x00\x00"s + std::string(64, 'x');
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
    FrameDecoder decoder;
    Outcome out = FeedInPieces(decoder, stream, {piece});
    EXPECT_EQ(out.frames.size(), 2u) << piece;
    EXPECT_EQ(out.error.code(), util::StatusCode::kResourceExhausted) << piece;
  }
}

TEST(FrameDecoderTest, DecodeFrameWantsExactlyOneFrame) {
  const std::string frame = Encode(Ping{9});
  ASSERT_TRUE(DecodeFrame(frame).ok());
  EXPECT_EQ(DecodeFrame(frame + frame).status().message(), "13 bytes after the end of the frame");
  EXPECT_EQ(DecodeFrame(frame.substr(0, 6)).status().message(),
            "truncated frame: 6 bytes end inside it");
  EXPECT_EQ(DecodeFrame(std::string_view{}).status().code(), util::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bluetrace::protocol
