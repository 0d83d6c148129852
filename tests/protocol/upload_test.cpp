#include "bluetrace/protocol/upload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bluetrace/protocol/frame_decoder.hpp"

namespace bluetrace::protocol {
namespace {

// A contact log of `lines` entries in the original's format.
std::string ContactLog(int lines) {
  std::string log;
  for (int i = 0; i < lines; ++i) {
    log += "1234567890123456" + std::to_string(1000 + i % 9000) +
           " 13/05/2020 17:45:06 13/05/2020 18:00:05\r\n";
  }
  return log;
}

TEST(UploadTest, ChunkLimitLeavesRoomForTypeAndLength) {
  EXPECT_EQ(MaxUploadChunkBytes(kDefaultMaxFrameBytes), kDefaultMaxFrameBytes - 5);
  EXPECT_EQ(MaxUploadChunkBytes(6), 1u);
  EXPECT_EQ(MaxUploadChunkBytes(5), 0u);
  EXPECT_EQ(MaxUploadChunkBytes(0), 0u);
}

TEST(UploadTest, LogLargerThanOneFrameTravelsInChunksAndReassembles) {
  const std::string log = ContactLog(40'000);  // ~2.4 MB: more than two 1 MiB frames
  ASSERT_GT(log.size(), 2 * kDefaultMaxFrameBytes);
  const std::vector<Message> messages =
      SplitUpload(log, MaxUploadChunkBytes(kDefaultMaxFrameBytes));
  ASSERT_EQ(messages.size(), 5u);  // Begin, 3 chunks, End

  // Every message fits a frame; the receiver sees them through its decoder and assembler.
  std::string stream;
  for (const Message& m : messages) {
    util::Result<std::string> frame = EncodeFrame(m);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    stream += *frame;
  }
  FrameDecoder decoder;
  UploadAssembler assembler(/*max_upload_bytes=*/8u << 20);
  std::string_view rest = stream;
  util::Result<std::string> received = util::Internal("UploadEnd never arrived");
  for (;;) {
    rest.remove_prefix(decoder.Feed(rest));
    util::Result<std::optional<Message>> m = decoder.NextMessage();
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    if (!m->has_value()) break;
    if (auto* begin = std::get_if<UploadBegin>(&**m)) {
      ASSERT_TRUE(assembler.Begin(*begin).ok());
    } else if (auto* chunk = std::get_if<UploadChunk>(&**m)) {
      ASSERT_TRUE(assembler.Add(*chunk).ok());
    } else {
      ASSERT_TRUE(std::holds_alternative<UploadEnd>(**m));
      received = assembler.Finish();
    }
  }
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  EXPECT_EQ(*received, log);
  EXPECT_FALSE(assembler.active());
}

TEST(UploadTest, EmptyLogIsBeginAndEndOnly) {
  const std::vector<Message> messages = SplitUpload("", 10);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_TRUE(messages[0] == Message(UploadBegin{0}));
  EXPECT_TRUE(messages[1] == Message(UploadEnd{}));
  UploadAssembler assembler(100);
  ASSERT_TRUE(assembler.Begin(UploadBegin{0}).ok());
  util::Result<std::string> log = assembler.Finish();
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(*log, "");
}

TEST(UploadTest, ChunkBoundariesNeedNotFollowLines) {
  const std::vector<Message> messages = SplitUpload("abcdefg", 3);
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(std::get<UploadChunk>(messages[1]).data, "abc");
  EXPECT_EQ(std::get<UploadChunk>(messages[3]).data, "g");
}

TEST(UploadAssemblerTest, AnnouncedTotalOverTheLimitIsRefused) {
  UploadAssembler assembler(100);
  EXPECT_TRUE(assembler.Begin(UploadBegin{100}).ok());
  assembler.Reset();
  util::Status st = assembler.Begin(UploadBegin{101});
  EXPECT_EQ(st.code(), util::StatusCode::kResourceExhausted);
  EXPECT_FALSE(assembler.active());
}

TEST(UploadAssemblerTest, ChunksBeyondTheAnnouncedTotalAbandonTheUpload) {
  UploadAssembler assembler(100);
  ASSERT_TRUE(assembler.Begin(UploadBegin{5}).ok());
  EXPECT_TRUE(assembler.Add(UploadChunk{"abc"}).ok());
  EXPECT_EQ(assembler.Add(UploadChunk{"def"}).code(), util::StatusCode::kInvalidArgument);
  EXPECT_FALSE(assembler.active());
  EXPECT_EQ(assembler.Finish().status().code(), util::StatusCode::kFailedPrecondition);
}

TEST(UploadAssemblerTest, EndBeforeTheAnnouncedTotalIsAnError) {
  UploadAssembler assembler(100);
  ASSERT_TRUE(assembler.Begin(UploadBegin{5}).ok());
  ASSERT_TRUE(assembler.Add(UploadChunk{"abc"}).ok());
  util::Result<std::string> log = assembler.Finish();
  EXPECT_EQ(log.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(log.status().message(), "UploadEnd after 3 of 5 announced bytes");
  EXPECT_FALSE(assembler.active());
}

TEST(UploadAssemblerTest, OutOfOrderMessagesAreFailedPreconditions) {
  UploadAssembler assembler(100);
  EXPECT_EQ(assembler.Add(UploadChunk{"a"}).code(), util::StatusCode::kFailedPrecondition);
  EXPECT_EQ(assembler.Finish().status().code(), util::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(assembler.Begin(UploadBegin{1}).ok());
  EXPECT_EQ(assembler.Begin(UploadBegin{1}).code(), util::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(assembler.active()) << "a second Begin does not disturb the first upload";
  EXPECT_EQ(assembler.Add(UploadChunk{""}).code(), util::StatusCode::kInvalidArgument);
  EXPECT_FALSE(assembler.active());
}

}  // namespace
}  // namespace bluetrace::protocol
