#include "bluetrace/store/files/tempid_index.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "support/fake_random.hpp"

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;
using util::StatusCode;

TempId Id(std::string_view digits) {
  auto id = TempId::Parse(digits);
  EXPECT_TRUE(id.ok()) << digits;
  return id.ok() ? *id : TempId();
}

TempIdRecord Rec(std::string user, std::string_view id, std::int64_t start, std::int64_t expiry) {
  return TempIdRecord{std::move(user), Id(id), start, expiry};
}

// Sequential TempIDs (as in the original's samples) land on consecutive integers: the
// worst case for linear probing without a mixing hash.
TempId Sequential(std::uint64_t n) {
  return TempId::FromInteger(protocol::TempIdInteger{12345678901234567890ull} + n);
}

TEST(TempIdIndexTest, InsertThenLookupReturnsTheRecord) {
  TempIdIndex index;
  const TempIdRecord r = Rec("+61410999999", "12345678901234567890", 1589391906, 1589392805);
  ASSERT_TRUE(index.Insert(r).ok());
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.Lookup(r.id), r);
  EXPECT_TRUE(index.Contains(r.id));
  EXPECT_FALSE(index.Lookup(Id("12345678901234567891")).has_value());
}

TEST(TempIdIndexTest, EmptyIndexFindsNothing) {
  TempIdIndex index;
  EXPECT_FALSE(index.Lookup(Id("00000000000000000000")).has_value());
  EXPECT_FALSE(index.Erase(Id("00000000000000000000")));
  EXPECT_TRUE(index.empty());
}

TEST(TempIdIndexTest, DuplicateTempIdIsRejectedAndKeepsTheFirstRecord) {
  TempIdIndex index;
  const TempIdRecord first = Rec("+61410999999", "12345678901234567890", 100, 200);
  ASSERT_TRUE(index.Insert(first).ok());
  const TempIdRecord second = Rec("+61410888888", "12345678901234567890", 300, 400);
  EXPECT_EQ(index.Insert(second).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.Lookup(first.id), first);
}

TEST(TempIdIndexTest, ExtremeTempIdsRoundTrip) {
  // The smallest and largest 20-digit values exercise the high bits of the packed key.
  TempIdIndex index;
  const TempIdRecord low = Rec("+61410000000", "00000000000000000000", 0, 0);
  const TempIdRecord high = Rec("+61410000001", "99999999999999999999", 253402300799, 253402300799);
  ASSERT_TRUE(index.Insert(low).ok());
  ASSERT_TRUE(index.Insert(high).ok());
  EXPECT_EQ(index.Lookup(low.id), low);
  EXPECT_EQ(index.Lookup(high.id), high);
}

TEST(TempIdIndexTest, AcceptsStartsBeforeTheEpoch) {
  // Local-time files east of UTC can hold 01/01/1970 00:00:00 as a negative time.
  TempIdIndex index;
  const TempIdRecord r = Rec("+61410999999", "12345678901234567890", -36000, -35101);
  ASSERT_TRUE(index.Insert(r).ok());
  EXPECT_EQ(index.Lookup(r.id), r);
}

TEST(TempIdIndexTest, RejectsRecordsOutsideItsLimits) {
  TempIdIndex index;
  EXPECT_EQ(index.Insert(Rec("+61410999999", "12345678901234567890", 200, 100)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Insert(Rec("+61410999999", "12345678901234567890", 0, 1ll << 32)).code(),
            StatusCode::kOutOfRange);
  EXPECT_TRUE(index.Insert(Rec("+61410999999", "12345678901234567890", 0, (1ll << 32) - 1)).ok());
  EXPECT_EQ(index.Insert(Rec("+61410999999", "12345678901234567891", 1ll << 41, 1ll << 41)).code(),
            StatusCode::kOutOfRange);
  EXPECT_EQ(index.size(), 1u);
}

TEST(TempIdIndexTest, AcceptsOnlyCanonicalPhoneNumbersAsUsers) {
  TempIdIndex index;
  for (const char* user : {"", "+", "61410999999", "+61-410-999-999", "+01410999999", "+6141099",
                           "+6141099999x", "+1234567890123456"}) {
    EXPECT_EQ(index.Insert(Rec(user, "12345678901234567890", 0, 899)).code(),
              StatusCode::kInvalidArgument)
        << user;
  }
  // The shortest and longest numbers E.164 allows.
  const TempIdRecord shortest = Rec("+12345678", "12345678901234567890", 0, 899);
  const TempIdRecord longest = Rec("+123456789012345", "12345678901234567891", 0, 899);
  ASSERT_TRUE(index.Insert(shortest).ok());
  ASSERT_TRUE(index.Insert(longest).ok());
  EXPECT_EQ(index.Lookup(shortest.id), shortest);
  EXPECT_EQ(index.Lookup(longest.id), longest);
  EXPECT_EQ(index.user_count(), 2u);
}

TEST(TempIdIndexTest, InternsEachUserOnce) {
  TempIdIndex index;
  const std::array<std::string, 3> users = {"+61410777777", "+61410888888", "+61410999999"};
  for (std::uint64_t i = 0; i < 3000; ++i) {
    ASSERT_TRUE(index.Insert(TempIdRecord{users[i % 3], Sequential(i), 1000, 1899}).ok());
  }
  EXPECT_EQ(index.user_count(), 3u);
  EXPECT_EQ(index.Lookup(Sequential(2999))->user, users[2999 % 3]);
}

TEST(TempIdIndexTest, KeepsEveryUserApartAsTheUserTableGrows) {
  TempIdIndex index;
  for (std::uint64_t i = 0; i < 50000; ++i) {
    const std::string user = "+4479" + std::to_string(10000000 + i * 7919 % 50000);
    ASSERT_TRUE(index.Insert(TempIdRecord{user, Sequential(i), 0, 899}).ok());
  }
  EXPECT_EQ(index.user_count(), 50000u);
  for (std::uint64_t i = 0; i < 50000; ++i) {
    ASSERT_EQ(index.Lookup(Sequential(i))->user,
              "+4479" + std::to_string(10000000 + i * 7919 % 50000));
  }
}

TEST(TempIdIndexTest, GrowsAndKeepsTheLoadFactorAtMostThreeQuarters) {
  TempIdIndex index;
  for (std::uint64_t i = 0; i < 100000; ++i) {
    ASSERT_TRUE(
        index
            .Insert(TempIdRecord{"+61410999999", Sequential(i), static_cast<std::int64_t>(i),
                                 static_cast<std::int64_t>(i + 899)})
            .ok());
    ASSERT_LE(index.size() * 4, index.capacity() * 3);
  }
  for (std::uint64_t i = 0; i < 100000; ++i) {
    auto r = index.Lookup(Sequential(i));
    ASSERT_TRUE(r.has_value()) << i;
    ASSERT_EQ(r->start, static_cast<std::int64_t>(i));
  }
  EXPECT_FALSE(index.Contains(Sequential(100000)));
}

TEST(TempIdIndexTest, ReserveAvoidsLaterGrowth) {
  TempIdIndex index;
  index.Reserve(10000);
  const std::size_t capacity = index.capacity();
  for (std::uint64_t i = 0; i < 10000; ++i) {
    ASSERT_TRUE(index.Insert(TempIdRecord{"+61410999999", Sequential(i), 0, 899}).ok());
  }
  EXPECT_EQ(index.capacity(), capacity);
}

TEST(TempIdIndexTest, UsesWellUnderOneHundredBytesPerRecord) {
  TempIdIndex index;
  test::SeededRandom random(1);
  constexpr std::size_t kRecords = 200000;
  index.Reserve(kRecords);
  for (std::size_t i = 0; i < kRecords; ++i) {
    auto id = TempId::Generate(random);
    ASSERT_TRUE(id.ok());
    // 20,000 users, as phone numbers of the original's shape.
    const std::string user = "+6141" + std::to_string(1000000 + i % 20000);
    ASSERT_TRUE(index.Insert(TempIdRecord{user, *id, 1589391906, 1589392805}).ok());
  }
  // 200,000 records sit just above a power of two / (3/4), the worst case of the slot
  // array (two 24-byte slots per record); users add about 10 bytes per record here.
  const double per_record = static_cast<double>(index.MemoryBytes()) / kRecords;
  EXPECT_LT(per_record, 100.0);
  EXPECT_GT(per_record, 48.0);  // the slots at least: the figure is not made up
}

TEST(TempIdIndexTest, ForEachVisitsEveryRecordOnce) {
  TempIdIndex index;
  std::set<TempId> inserted;
  for (std::uint64_t i = 0; i < 500; ++i) {
    ASSERT_TRUE(index.Insert(TempIdRecord{"+61410999999", Sequential(i * 7), 0, 899}).ok());
    inserted.insert(Sequential(i * 7));
  }
  std::set<TempId> seen;
  std::size_t calls = 0;
  index.ForEach([&](const TempIdRecord& r) {
    ++calls;
    seen.insert(r.id);
  });
  EXPECT_EQ(calls, 500u);
  EXPECT_EQ(seen, inserted);
}

// Random inserts, erases and lookups checked against std::unordered_map, over a key space
// small enough to make clusters, collisions and erase-in-the-middle-of-a-run common.
TEST(TempIdIndexTest, MatchesAReferenceMapUnderRandomOperations) {
  TempIdIndex index;
  std::unordered_map<TempId, TempIdRecord> reference;
  test::SeededRandom random(42);
  for (int step = 0; step < 200000; ++step) {
    auto draw = util::UniformBelow(random, 3000);
    ASSERT_TRUE(draw.ok());
    const TempId id = Sequential(*draw);
    auto op = util::UniformBelow(random, 3);
    ASSERT_TRUE(op.ok());
    if (*op == 0) {
      const TempIdRecord r{"+614100000" + std::to_string(10 + *draw % 17), id, step, step + 899};
      const bool fresh = reference.emplace(id, r).second;
      ASSERT_EQ(index.Insert(r).ok(), fresh) << step;
    } else if (*op == 1) {
      ASSERT_EQ(index.Erase(id), reference.erase(id) == 1) << step;
    } else {
      auto it = reference.find(id);
      auto got = index.Lookup(id);
      ASSERT_EQ(got.has_value(), it != reference.end()) << step;
      if (got) {
        ASSERT_EQ(*got, it->second) << step;
      }
    }
    ASSERT_EQ(index.size(), reference.size());
  }
  // Every surviving key is still reachable after all the backward shifts.
  for (const auto& [id, r] : reference) ASSERT_EQ(index.Lookup(id), r);
}

TEST(TempIdIndexTest, EraseEverythingLeavesAnEmptyUsableIndex) {
  TempIdIndex index;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(index.Insert(TempIdRecord{"+61410999999", Sequential(i), 0, 899}).ok());
  }
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(index.Erase(Sequential(i)));
  EXPECT_TRUE(index.empty());
  std::size_t visited = 0;
  index.ForEach([&](const TempIdRecord&) { ++visited; });
  EXPECT_EQ(visited, 0u);
  ASSERT_TRUE(index.Insert(TempIdRecord{"+61410999999", Sequential(5), 0, 899}).ok());
  EXPECT_TRUE(index.Contains(Sequential(5)));
}

}  // namespace
}  // namespace bluetrace::store
