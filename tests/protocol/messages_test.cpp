#include "bluetrace/protocol/messages.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "bluetrace/protocol/frame_decoder.hpp"
#include "protocol/random_messages.hpp"

namespace bluetrace::protocol {
namespace {

using namespace std::string_literals;

// "00 0a ff" -> the bytes 0x00 0x0a 0xff. Spaces are ignored.
std::string Hex(std::string_view hex) {
  std::string out;
  int pending = -1;
  for (char c : hex) {
    if (c == ' ') continue;
    const int nibble = c <= '9' ? c - '0' : c - 'a' + 10;
    if (pending < 0) {
      pending = nibble;
    } else {
      out.push_back(static_cast<char>(pending * 16 + nibble));
      pending = -1;
    }
  }
  return out;
}

const std::string kUser = "+61410888888";
const std::string kUserHex = "00 0c 2b 36 31 34 31 30 38 38 38 38 38 38";

struct Golden {
  std::string name;
  std::function<Message()> make;  // a factory: Message is move-only
  std::string frame;
};

// Every message with its exact frame. docs/PROTOCOL.md shows the same bytes.
std::vector<Golden> Goldens() {
  const TempId id = TempId::Parse("12345678901234567890").value();
  return {
      {"Hello",
       [] {
         return Hello{1, 1, "bt"};
       },
       Hex("00 00 00 09 01 0001 0001 0002 62 74")},
      {"HelloOk",
       [] {
         return HelloOk{1, "srv", 1u << 20, 1'000'000};
       },
       Hex("00 00 00 14 02 0001 0003 73 72 76 00100000 00000000000f4240")},
      {"Register",
       [] {
         return Register{kUser, util::SecretString("comp3331")};
       },
       Hex("00 00 00 19 10" + kUserHex + "0008 63 6f 6d 70 33 33 33 31")},
      {"RegisterOk", [] { return RegisterOk{kUser}; }, Hex("00 00 00 0f 11" + kUserHex)},
      {"Login",
       [] {
         return Login{kUser, util::SecretString("comp3331")};
       },
       Hex("00 00 00 19 12" + kUserHex + "0008 63 6f 6d 70 33 33 33 31")},
      {"Welcome",
       [] {
         return Welcome{kUser, std::string(kWelcomeText)};
       },
       Hex("00 00 00 34 13" + kUserHex + "0023") + std::string(kWelcomeText)},
      {"WrongPassword", [] { return WrongPassword{2}; }, Hex("00 00 00 02 14 02")},
      {"Blocked", [] { return Blocked{60}; }, Hex("00 00 00 05 15 0000003c")},
      {"StillBlocked", [] { return StillBlocked{42}; }, Hex("00 00 00 05 16 0000002a")},
      {"Busy", [] { return Busy{250}; }, Hex("00 00 00 05 17 000000fa")},
      {"TempIdRequest", [] { return TempIdRequest{}; }, Hex("00 00 00 01 20")},
      {"TempIdResponse",
       [id] {
         return TempIdResponse{id, 1589391906, 1589392805};
       },
       Hex("00 00 00 25 21") + "12345678901234567890" + Hex("00000000 5ebc3222 00000000 5ebc35a5")},
      {"UploadBegin", [] { return UploadBegin{122}; }, Hex("00 00 00 09 30 00000000 0000007a")},
      {"UploadChunk", [] { return UploadChunk{"abc"}; }, Hex("00 00 00 08 31 00000003 61 62 63")},
      {"UploadEnd", [] { return UploadEnd{}; }, Hex("00 00 00 01 32")},
      {"UploadAck", [] { return UploadAck{2}; }, Hex("00 00 00 05 33 00000002")},
      {"Logout", [] { return Logout{}; }, Hex("00 00 00 01 40")},
      {"LogoutOk", [] { return LogoutOk{}; }, Hex("00 00 00 01 41")},
      // Version 3: HelloOk's flags byte, the upload code, withdrawal of consent.
      {"HelloOk",
       [] {
         return HelloOk{3, "srv", 1u << 20, 1'000'000, kHelloFlagUploadCodeRequired};
       },
       Hex("00 00 00 15 02 0003 0003 73 72 76 00100000 00000000000f4240 01")},
      {"CodedUploadBegin",
       [] {
         return CodedUploadBegin{5, util::SecretString("ABC")};
       },
       Hex("00 00 00 0e 34 0000000000000005 0003 41 42 43")},
      {"Deregister", [] { return Deregister{util::SecretString("pw")}; },
       Hex("00 00 00 05 42 0002 70 77")},
      {"DeregisterOk", [] { return DeregisterOk{}; }, Hex("00 00 00 01 43")},
      {"Ping", [] { return Ping{0x0102030405060708}; },
       Hex("00 00 00 09 50 01 02 03 04 05 06 07 08")},
      {"Pong", [] { return Pong{0x0102030405060708}; },
       Hex("00 00 00 09 51 01 02 03 04 05 06 07 08")},
      {"Error",
       [] {
         return Error{ErrorCode::kUnexpectedMessage, "log in first"};
       },
       Hex("00 00 00 11 7f 0004 000c") + "log in first"},
      {"DeviceLogin",
       [] {
         return DeviceLogin{kUser, util::SecretString("comp3331"), util::SecretString("ab12")};
       },
       Hex("00 00 00 1f 18" + kUserHex + "0008 63 6f 6d 70 33 33 33 31 0004 61 62 31 32")},
      {"DeviceWelcome",
       [] {
         return DeviceWelcome{kUser, std::string(kWelcomeText), util::SecretString("ab12")};
       },
       Hex("00 00 00 3a 19" + kUserHex + "0023") + std::string(kWelcomeText) +
           Hex("0004 61 62 31 32")},
      {"RateLimited",
       [] {
         return RateLimited{1500, "retry"};
       },
       Hex("00 00 00 0c 1a 000005dc 0005 72 65 74 72 79")},
  };
}

std::uint8_t TypeByte(const std::string& frame) { return static_cast<std::uint8_t>(frame[4]); }
std::string Body(const std::string& frame) { return frame.substr(5); }

TEST(MessagesTest, GoldensCoverEveryMessageType) {
  std::set<MessageType> types;
  for (const Golden& g : Goldens()) {
    types.insert(TypeOf(g.make()));
    EXPECT_EQ(MessageName(TypeOf(g.make())), g.name);
  }
  EXPECT_EQ(types.size(), std::variant_size_v<Message>);
}

TEST(MessagesTest, EveryMessageEncodesToItsExactBytes) {
  for (const Golden& g : Goldens()) {
    util::Result<std::string> frame = EncodeFrame(g.make());
    ASSERT_TRUE(frame.ok()) << g.name << ": " << frame.status().ToString();
    EXPECT_EQ(*frame, g.frame) << g.name;
  }
}

TEST(MessagesTest, EveryMessageDecodesFromItsExactBytes) {
  for (const Golden& g : Goldens()) {
    util::Result<Message> body = DecodeBody(TypeByte(g.frame), Body(g.frame));
    ASSERT_TRUE(body.ok()) << g.name << ": " << body.status().ToString();
    EXPECT_TRUE(*body == g.make()) << g.name;

    util::Result<Message> whole = DecodeFrame(g.frame);
    ASSERT_TRUE(whole.ok()) << g.name << ": " << whole.status().ToString();
    EXPECT_TRUE(*whole == g.make()) << g.name;
  }
}

TEST(MessagesTest, EveryTruncationOfEveryBodyIsRejected) {
  for (const Golden& g : Goldens()) {
    const std::string body = Body(g.frame);
    for (std::size_t len = 0; len < body.size(); ++len) {
      util::Result<Message> m = DecodeBody(TypeByte(g.frame), body.substr(0, len));
      EXPECT_EQ(m.status().code(), util::StatusCode::kInvalidArgument)
          << g.name << " cut to " << len << " of " << body.size() << " bytes";
    }
  }
}

TEST(MessagesTest, EveryTruncationOfEveryFrameIsRejected) {
  for (const Golden& g : Goldens()) {
    for (std::size_t len = 0; len < g.frame.size(); ++len) {
      EXPECT_FALSE(DecodeFrame(g.frame.substr(0, len)).ok()) << g.name << " cut to " << len;
    }
  }
}

TEST(MessagesTest, EveryMessageWithATrailingByteIsRejected) {
  for (const Golden& g : Goldens()) {
    util::Result<Message> m = DecodeBody(TypeByte(g.frame), Body(g.frame) + '\0');
    EXPECT_EQ(m.status().code(), util::StatusCode::kInvalidArgument) << g.name;
    EXPECT_NE(m.status().message().find(g.name + ": 1 trailing bytes"), std::string::npos)
        << m.status().message();

    // The same byte counted inside N is trailing body too; outside N it follows the frame.
    std::string inside = g.frame + '\0';
    inside[3] = static_cast<char>(inside[3] + 1);
    EXPECT_FALSE(DecodeFrame(inside).ok()) << g.name;
    EXPECT_FALSE(DecodeFrame(g.frame + '\0').ok()) << g.name;
  }
}

TEST(MessagesTest, UnknownTypesAreRejectedWithNotFound) {
  int known = 0;
  for (int t = 0; t < 256; ++t) {
    const auto type = static_cast<std::uint8_t>(t);
    if (IsKnownMessageType(type)) {
      ++known;
      EXPECT_NE(MessageName(type), "unknown");
      continue;
    }
    EXPECT_EQ(MessageName(type), "unknown");
    util::Result<Message> m = DecodeBody(type, std::string_view{});
    EXPECT_EQ(m.status().code(), util::StatusCode::kNotFound) << t;
  }
  EXPECT_EQ(known, static_cast<int>(std::variant_size_v<Message>));
  EXPECT_EQ(DecodeBody(0x03, std::string_view{}).status().message(), "unknown message type 0x03");
}

TEST(MessagesTest, TempIdResponseRequiresTwentyDigits) {
  std::string frame = Goldens()[11].frame;
  ASSERT_EQ(TypeByte(frame), 0x21);
  for (char bad : {'a', ' ', '\0', '/', ':'}) {
    std::string body = Body(frame);
    body[7] = bad;
    EXPECT_EQ(DecodeBody(0x21, body).status().code(), util::StatusCode::kInvalidArgument)
        << static_cast<int>(bad);
  }
}

TEST(MessagesTest, ErrorCodesHaveNamesAndUnknownOnesAreRejected) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kBadFrame), "bad_frame");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUnexpectedMessage), "unexpected_message");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kRegistrationDisabled), "registration_disabled");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kInternal), "internal");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUploadCodeRequired), "upload_code_required");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kWrongUploadCode), "wrong_upload_code");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUploadQuota), "upload_quota");
  for (std::uint16_t code = 1; code <= 16; ++code) {
    EXPECT_TRUE(IsKnownErrorCode(code)) << code;
    const std::string body = std::string{'\0', static_cast<char>(code)} + Hex("0000");
    util::Result<Message> m = DecodeBody(0x7f, body);
    ASSERT_TRUE(m.ok()) << code;
    EXPECT_EQ(static_cast<std::uint16_t>(std::get<Error>(*m).code), code);
  }
  for (int c : {0, 17, 0x7f, 0xffff}) {
    const auto code = static_cast<std::uint16_t>(c);
    EXPECT_FALSE(IsKnownErrorCode(code)) << code;
    const std::string body = std::string{static_cast<char>(code >> 8), static_cast<char>(code)};
    EXPECT_EQ(DecodeBody(0x7f, body + Hex("0000")).status().code(),
              util::StatusCode::kInvalidArgument)
        << code;
  }
}

TEST(MessagesTest, EncodingRejectsOverlongStringsAndOversizeFrames) {
  util::Result<std::string> overlong = EncodeFrame(Welcome{kUser, std::string(70'000, 'x')});
  EXPECT_EQ(overlong.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(overlong.status().message().find("Welcome"), std::string::npos);

  // UploadChunk{"abc"} is N = 8: exactly at the limit it encodes, one below it does not.
  EXPECT_TRUE(EncodeFrame(UploadChunk{"abc"}, 8).ok());
  EXPECT_EQ(EncodeFrame(UploadChunk{"abc"}, 7).status().code(),
            util::StatusCode::kResourceExhausted);
  EXPECT_EQ(EncodeFrame(UploadChunk{std::string(kDefaultMaxFrameBytes, 'x')}).status().code(),
            util::StatusCode::kResourceExhausted);
}

TEST(MessagesTest, PasswordsSurviveAnyBytes) {
  const std::string password = "p\0ss w\xffrd"s;
  util::Result<std::string> frame = EncodeFrame(Login{kUser, util::SecretString(password)});
  ASSERT_TRUE(frame.ok());
  util::Result<Message> m = DecodeFrame(*frame);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Login>(*m).password.view(), password);
}

TEST(MessagesPropertyTest, RandomMessagesRoundTrip) {
  test::RandomMessages gen(20200513);
  std::set<MessageType> seen;
  for (int i = 0; i < 5000; ++i) {
    const Message original = gen.Next();
    seen.insert(TypeOf(original));
    util::Result<std::string> frame = EncodeFrame(original);
    ASSERT_TRUE(frame.ok()) << i << ": " << frame.status().ToString();
    ASSERT_GE(frame->size(), kFrameHeaderBytes + 1);
    EXPECT_EQ(static_cast<std::uint8_t>((*frame)[4]), static_cast<std::uint8_t>(TypeOf(original)));

    util::Result<Message> decoded = DecodeFrame(*frame);
    ASSERT_TRUE(decoded.ok()) << i << " " << MessageName(TypeOf(original)) << ": "
                              << decoded.status().ToString();
    ASSERT_TRUE(*decoded == original) << i << " " << MessageName(TypeOf(original));

    // Re-encoding the decoded message gives the same bytes: one encoding per message.
    util::Result<std::string> again = EncodeFrame(*decoded);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(*again, *frame) << i;
  }
  EXPECT_EQ(seen.size(), std::variant_size_v<Message>);
}

}  // namespace
}  // namespace bluetrace::protocol
