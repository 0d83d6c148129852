#include "bluetrace/util/status.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace bluetrace::util {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Corruption("tempIDs.txt line 3: bad timestamp");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.ToString(), "corruption: tempIDs.txt line 3: bad timestamp");
}

TEST(StatusTest, WithContextPrefixesErrorsOnly) {
  EXPECT_EQ(IoError("fsync failed").WithContext("credentials.txt").message(),
            "credentials.txt: fsync failed");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

Status FailIfNegative(int x) {
  if (x < 0) return InvalidArgument("negative");
  return Status::Ok();
}

Status Chain(int x) {
  BLUETRACE_RETURN_IF_ERROR(FailIfNegative(x));
  return AlreadyExists("reached the end");
}

TEST(StatusTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_EQ(Chain(-1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Chain(1).code(), StatusCode::kAlreadyExists);
}

Result<std::unique_ptr<int>> MakeIfPositive(int x) {
  if (x <= 0) return OutOfRange("not positive");
  return std::make_unique<int>(x);
}

Result<int> Doubled(int x) {
  BLUETRACE_ASSIGN_OR_RETURN(std::unique_ptr<int> p, MakeIfPositive(x));
  int twice = 0;
  BLUETRACE_ASSIGN_OR_RETURN(twice, Result<int>(*p * 2));  // into an existing variable
  return twice;
}

TEST(ResultTest, AssignOrReturnMovesTheValueOrReturnsTheStatus) {
  Result<int> good = Doubled(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 8);
  EXPECT_EQ(Doubled(0).status().code(), StatusCode::kOutOfRange);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(7);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_TRUE(good.status().ok());

  Result<int> bad(NotFound("no such user"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(StatusTest, EveryCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    EXPECT_NE(StatusCodeName(static_cast<StatusCode>(c)), "unknown") << c;
  }
}

}  // namespace
}  // namespace bluetrace::util
