#include "bluetrace/protocol/wire.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace bluetrace::protocol {
namespace {

using namespace std::string_literals;

TEST(WireWriterTest, IntegersAreBigEndianAndFixedWidth) {
  // The byte examples of docs/PROTOCOL.md, "Primitive encodings".
  WireWriter w;
  w.PutU8(0x2a);
  w.PutU16(0x0102);
  w.PutU32(0x00100000);
  w.PutU64(0x0102030405060708);
  w.PutI64(-2);
  EXPECT_TRUE(w.status().ok());
  EXPECT_EQ(w.Take(),
            "\x2a"
            "\x01\x02"
            "\x00\x10\x00\x00"
            "\x01\x02\x03\x04\x05\x06\x07\x08"
            "\xff\xff\xff\xff\xff\xff\xff\xfe"s);
}

TEST(WireWriterTest, StringsAndBlobsCarryTheirLength) {
  WireWriter w;
  w.PutString("abc");
  w.PutString("");
  w.PutBlob("xy");
  w.PutRaw("12");
  EXPECT_EQ(w.Take(),
            "\x00\x03"
            "abc"
            "\x00\x00"
            "\x00\x00\x00\x02"
            "xy"
            "12"s);
}

TEST(WireWriterTest, LongestStringFitsOneLongerIsAnError) {
  WireWriter w;
  w.PutString(std::string(kMaxStringBytes, 'a'));
  EXPECT_TRUE(w.status().ok());
  EXPECT_EQ(w.size(), 2 + kMaxStringBytes);

  w.PutString(std::string(kMaxStringBytes + 1, 'a'));
  EXPECT_EQ(w.status().code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(w.size(), 2 + kMaxStringBytes) << "nothing is written for a rejected string";
}

TEST(WireWriterTest, PatchOverwritesALengthInPlace) {
  WireWriter w;
  w.PutU32(0);
  w.PutU8(7);
  w.PatchU32(0, 1);
  EXPECT_EQ(w.Take(), "\x00\x00\x00\x01\x07"s);
  EXPECT_EQ(w.size(), 0u);
}

TEST(WireReaderTest, ReadsWhatTheWriterWrote) {
  WireWriter w;
  w.PutU8(200);
  w.PutU16(65535);
  w.PutU32(4'000'000'000u);
  w.PutU64(18'000'000'000'000'000'000u);
  w.PutI64(-1'589'000'000);
  w.PutString("héllo");
  w.PutBlob(std::string(1000, '\0'));
  w.PutRaw("12345678901234567890");
  const std::string bytes = w.Take();

  WireReader r(bytes);
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  std::uint32_t u32 = 0;
  std::uint64_t u64 = 0;
  std::int64_t i64 = 0;
  std::string_view s, blob, raw;
  ASSERT_TRUE(r.GetU8(u8).ok());
  ASSERT_TRUE(r.GetU16(u16).ok());
  ASSERT_TRUE(r.GetU32(u32).ok());
  ASSERT_TRUE(r.GetU64(u64).ok());
  ASSERT_TRUE(r.GetI64(i64).ok());
  ASSERT_TRUE(r.GetString(s).ok());
  ASSERT_TRUE(r.GetBlob(blob).ok());
  ASSERT_TRUE(r.GetRaw(20, raw).ok());
  EXPECT_TRUE(r.ExpectEnd().ok());
  EXPECT_EQ(u8, 200);
  EXPECT_EQ(u16, 65535);
  EXPECT_EQ(u32, 4'000'000'000u);
  EXPECT_EQ(u64, 18'000'000'000'000'000'000u);
  EXPECT_EQ(i64, -1'589'000'000);
  EXPECT_EQ(s, "héllo");
  EXPECT_EQ(blob, std::string(1000, '\0'));
  EXPECT_EQ(raw, "12345678901234567890");
}

TEST(WireReaderTest, TruncatedIntegerConsumesNothing) {
  const std::string bytes = "\x01\x02\x03"s;
  WireReader r(bytes);
  std::uint32_t v = 99;
  util::Status st = r.GetU32(v);
  EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "truncated: u32 at offset 0 needs 4 bytes, 3 left");
  EXPECT_EQ(v, 99u);
  EXPECT_EQ(r.offset(), 0u);
  std::uint16_t u16 = 0;
  EXPECT_TRUE(r.GetU16(u16).ok());
  EXPECT_EQ(u16, 0x0102);
}

TEST(WireReaderTest, StringLongerThanTheInputIsRejectedWithoutConsuming) {
  const std::string bytes =
      "\x00\x05"
      "abcd"s;
  WireReader r(bytes);
  std::string_view s = "unchanged";
  EXPECT_EQ(r.GetString(s).code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(s, "unchanged");
  EXPECT_EQ(r.offset(), 0u);
}

TEST(WireReaderTest, ForgedHugeBlobLengthFailsCheaply) {
  // A 4 GiB declared length over 3 bytes of data must fail on the length check alone.
  const std::string bytes =
      "\xff\xff\xff\xff"
      "abc"s;
  WireReader r(bytes);
  std::string_view blob;
  util::Status st = r.GetBlob(blob);
  EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("needs 4294967295 bytes, 3 left"), std::string::npos) << st.message();
  EXPECT_EQ(r.remaining(), bytes.size());
}

TEST(WireReaderTest, EveryPrimitiveFailsOnEmptyInput) {
  WireReader r(std::string_view{});
  std::uint8_t u8;
  std::uint16_t u16;
  std::uint32_t u32;
  std::uint64_t u64;
  std::int64_t i64;
  std::string_view view;
  EXPECT_FALSE(r.GetU8(u8).ok());
  EXPECT_FALSE(r.GetU16(u16).ok());
  EXPECT_FALSE(r.GetU32(u32).ok());
  EXPECT_FALSE(r.GetU64(u64).ok());
  EXPECT_FALSE(r.GetI64(i64).ok());
  EXPECT_FALSE(r.GetString(view).ok());
  EXPECT_FALSE(r.GetBlob(view).ok());
  EXPECT_FALSE(r.GetRaw(1, view).ok());
  EXPECT_TRUE(r.GetRaw(0, view).ok());
  EXPECT_TRUE(r.ExpectEnd().ok());
}

TEST(WireReaderTest, ExpectEndReportsTrailingBytes) {
  const std::string bytes = "\x01\x02\x03"s;
  WireReader r(bytes);
  std::uint8_t v;
  ASSERT_TRUE(r.GetU8(v).ok());
  util::Status st = r.ExpectEnd();
  EXPECT_EQ(st.code(), util::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "2 trailing bytes at offset 1");
}

TEST(AppendWipingTest, AppendsAcrossManyGrowths) {
  std::string buffer;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string piece(static_cast<std::size_t>(i % 7), static_cast<char>('a' + i % 26));
    AppendWiping(buffer, piece);
    expected += piece;
  }
  EXPECT_EQ(buffer, expected);
  EXPECT_GE(buffer.capacity(), buffer.size());
}

}  // namespace
}  // namespace bluetrace::protocol
