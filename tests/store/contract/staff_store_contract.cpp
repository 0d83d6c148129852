// The contracts of StaffStore and ContactStatusStore (store/staff_store.hpp,
// contact_status_store.hpp), for every backend.
#include <string>
#include <vector>

#include "backend_harness.hpp"

namespace bluetrace::test {
namespace {

using store::ConsoleSession;
using store::ContactStatus;
using store::ContactStatusRecord;
using store::StaffMember;
using store::StaffRole;

const std::string kHash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaA";

TEST_P(StaffStoreContract, AccountsAreUniqueAndSeenByEveryHandle) {
  auto a = backend().OpenStaff();
  auto b = backend().OpenStaff();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Add({"ana", StaffRole::kAdmin, kHash}).ok());
  ASSERT_TRUE(a->Add({"bo.tracer", StaffRole::kTracer, kHash}).ok());
  EXPECT_EQ(b->Add({"ana", StaffRole::kTracer, kHash}).code(), util::StatusCode::kAlreadyExists);
  EXPECT_EQ(b->Add({"Bad Name", StaffRole::kTracer, kHash}).code(),
            util::StatusCode::kInvalidArgument);
  auto found = b->Find("ana");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->role, StaffRole::kAdmin);
  EXPECT_EQ((*found)->password_hash, kHash);
  auto list = b->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "ana");
  EXPECT_EQ((*list)[1].name, "bo.tracer");

  ASSERT_TRUE(b->SetPasswordHash("ana", kHash + "x").ok());
  EXPECT_EQ((*a->Find("ana"))->password_hash, kHash + "x");
  EXPECT_EQ(a->SetPasswordHash("nobody", kHash).code(), util::StatusCode::kNotFound);
  ASSERT_TRUE(a->Remove("bo.tracer").ok());
  EXPECT_FALSE(b->Find("bo.tracer")->has_value());
  EXPECT_EQ(b->Remove("bo.tracer").code(), util::StatusCode::kNotFound);
}

TEST_P(StaffStoreContract, ConsecutiveFailuresBlockAcrossHandlesUntilTheBlockRunsOut) {
  auto a = backend().OpenStaff();
  auto b = backend().OpenStaff();
  ASSERT_TRUE(a->Add({"ana", StaffRole::kTracer, kHash}).ok());
  const std::int64_t now = 1'600'000'000;
  EXPECT_EQ(*a->RecordFailure("ana", now, 3, 600), 0);
  EXPECT_EQ(*b->RecordFailure("ana", now, 3, 600), 0);
  EXPECT_EQ(*a->BlockedUntil("ana", now), 0);
  EXPECT_EQ(*b->RecordFailure("ana", now + 1, 3, 600), now + 601);  // the third, elsewhere
  EXPECT_EQ(*a->BlockedUntil("ana", now + 2), now + 601);
  EXPECT_EQ(*a->RecordFailure("ana", now + 5, 3, 600), now + 601);  // not extended
  EXPECT_EQ(*a->BlockedUntil("ana", now + 601), 0);                 // ran out
  EXPECT_EQ(*a->RecordFailure("ana", now + 602, 3, 600), 0);        // counts from zero
  ASSERT_TRUE(b->RecordSuccess("ana").ok());
  EXPECT_EQ(*a->RecordFailure("ana", now + 603, 3, 600), 0);
  EXPECT_EQ(*a->RecordFailure("ana", now + 603, 3, 600), 0);
  EXPECT_EQ(a->RecordFailure("nobody", now, 3, 600).status().code(), util::StatusCode::kNotFound);
}

TEST_P(StaffStoreContract, SessionsAreFoundTouchedAndEnded) {
  auto a = backend().OpenStaff();
  ASSERT_TRUE(a->Add({"ana", StaffRole::kTracer, kHash}).ok());
  ConsoleSession s{std::string(64, 'a'), "ana", "csrf", 100, 100};
  ASSERT_TRUE(a->CreateSession(s).ok());
  EXPECT_EQ(a->CreateSession(s).code(), util::StatusCode::kAlreadyExists);
  auto found = a->FindSession(s.token_hash);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->staff, "ana");
  EXPECT_EQ((*found)->csrf_token, "csrf");
  ASSERT_TRUE(a->TouchSession(s.token_hash, 150).ok());
  EXPECT_EQ((*a->FindSession(s.token_hash))->last_seen, 150);
  if (backend().shared_sessions()) {
    auto b = backend().OpenStaff();
    EXPECT_TRUE(b->FindSession(s.token_hash)->has_value());
  }
  ASSERT_TRUE(a->DeleteSession(s.token_hash).ok());
  EXPECT_FALSE(a->FindSession(s.token_hash)->has_value());
  EXPECT_EQ(a->TouchSession(s.token_hash, 200).code(), util::StatusCode::kNotFound);
  EXPECT_TRUE(a->DeleteSession(s.token_hash).ok());

  ConsoleSession idle{std::string(64, 'b'), "ana", "c", 100, 100};
  ConsoleSession old{std::string(64, 'c'), "ana", "c", 50, 500};
  ConsoleSession fresh{std::string(64, 'd'), "ana", "c", 400, 500};
  for (const auto& x : {idle, old, fresh}) ASSERT_TRUE(a->CreateSession(x).ok());
  ASSERT_TRUE(a->DeleteExpiredSessions(/*idle_before=*/200, /*created_before=*/60).ok());
  EXPECT_FALSE(a->FindSession(idle.token_hash)->has_value());
  EXPECT_FALSE(a->FindSession(old.token_hash)->has_value());
  EXPECT_TRUE(a->FindSession(fresh.token_hash)->has_value());
}

TEST_P(StaffStoreContract, RemovingAnAccountOrChangingItsPasswordEndsItsSessions) {
  auto a = backend().OpenStaff();
  ASSERT_TRUE(a->Add({"ana", StaffRole::kTracer, kHash}).ok());
  ASSERT_TRUE(a->Add({"bo", StaffRole::kTracer, kHash}).ok());
  ASSERT_TRUE(a->CreateSession({std::string(64, 'a'), "ana", "c", 1, 1}).ok());
  ASSERT_TRUE(a->CreateSession({std::string(64, 'b'), "bo", "c", 1, 1}).ok());
  ASSERT_TRUE(a->SetPasswordHash("ana", kHash).ok());
  EXPECT_FALSE(a->FindSession(std::string(64, 'a'))->has_value());
  ASSERT_TRUE(a->Remove("bo").ok());
  EXPECT_FALSE(a->FindSession(std::string(64, 'b'))->has_value());
}

TEST_P(ContactStatusStoreContract, ARecordPerPhoneReplacedAndSeenByEveryHandle) {
  auto a = backend().OpenContactStatuses();
  auto b = backend().OpenContactStatuses();
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(b->List()->empty());
  const std::string hostile =
      "<script>alert(\"x\")</script> 'quoted' % 100\nnext line \u00e9\u6f22";
  ASSERT_TRUE(a->Set({"+61410000002", ContactStatus::kReached, hostile, "ana", 10}).ok());
  ASSERT_TRUE(a->Set({"+61410000001", ContactStatus::kToCall, "", "bo", 11}).ok());
  ASSERT_TRUE(b->Set({"+61410000001", ContactStatus::kUnreachable, "no answer", "ana", 12}).ok());
  auto list = a->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].phone, "+61410000001");
  EXPECT_EQ((*list)[0].status, ContactStatus::kUnreachable);
  EXPECT_EQ((*list)[0].note, "no answer");
  EXPECT_EQ((*list)[0].updated_at, 12);
  EXPECT_EQ((*list)[1].note, hostile);
  EXPECT_EQ((*list)[1].updated_by, "ana");
  EXPECT_EQ((*list)[1].status, ContactStatus::kReached);
}

TEST_P(ContactStatusStoreContract, BadRecordsAreRefused) {
  auto a = backend().OpenContactStatuses();
  EXPECT_EQ(a->Set({"0410000001", ContactStatus::kReached, "", "ana", 1}).code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      a->Set({"+61410000001", ContactStatus::kReached, std::string(3000, 'x'), "ana", 1}).code(),
      util::StatusCode::kInvalidArgument);
  EXPECT_EQ(a->Set({"+61410000001", ContactStatus::kReached, "\xff", "ana", 1}).code(),
            util::StatusCode::kInvalidArgument);
  EXPECT_TRUE(a->List()->empty());
}

}  // namespace
}  // namespace bluetrace::test
