// Who bluetrace-admin records as the operator (admin_operator.hpp): the rules on fixed
// facts and a fake user directory. admin_test.cpp checks the real program under SUDO_USER.
#include "admin_operator.hpp"

#include <gtest/gtest.h>

#include <map>

namespace bluetrace::admin {
namespace {

constexpr uid_t kService = 998;  // _bluetrace
constexpr uid_t kAlice = 1000;

UserDirectory Fake() {
  static const std::map<std::string, uid_t> kUsers = {
      {"root", 0}, {"_bluetrace", kService}, {"alice", kAlice}, {"bob", 1001}};
  UserDirectory users;
  users.uid_of = [](const std::string& name) -> std::optional<uid_t> {
    auto it = kUsers.find(name);
    if (it == kUsers.end()) return std::nullopt;
    return it->second;
  };
  users.name_of = [](uid_t uid) -> std::optional<std::string> {
    for (const auto& [name, u] : kUsers) {
      if (u == uid) return name;
    }
    return std::nullopt;
  };
  return users;
}

OperatorFacts AsService() {
  OperatorFacts f;
  f.euid = kService;
  f.euid_owns_state = true;
  f.loginuid = "4294967295";
  return f;
}

TEST(ParseLoginUidTest, UnsetAndMalformedAreNone) {
  EXPECT_EQ(ParseLoginUid("1000"), 1000u);
  EXPECT_EQ(ParseLoginUid("0"), 0u);
  EXPECT_EQ(ParseLoginUid("1000\n"), 1000u);
  EXPECT_EQ(ParseLoginUid("4294967295"), std::nullopt);
  EXPECT_EQ(ParseLoginUid(""), std::nullopt);
  EXPECT_EQ(ParseLoginUid("-1"), std::nullopt);
  EXPECT_EQ(ParseLoginUid("12a"), std::nullopt);
}

TEST(ResolveOperatorTest, SudoUserIsTheOperatorAndTheServiceUserIsRecordedToo) {
  OperatorFacts f = AsService();
  f.sudo_user = "alice";
  f.sudo_uid = "1000";
  auto id = ResolveOperator(f, Fake());
  EXPECT_EQ(id.by, "alice");
  EXPECT_EQ(id.as, "_bluetrace");

  // sudo as root (sudo bluetrace-admin ... on a state directory root owns) works alike.
  f.euid = 0;
  f.euid_owns_state = false;
  id = ResolveOperator(f, Fake());
  EXPECT_EQ(id.by, "alice");
  EXPECT_EQ(id.as, "root");
}

TEST(ResolveOperatorTest, SudoUserBeatsTheLoginUid) {
  OperatorFacts f = AsService();
  f.sudo_user = "bob";
  f.loginuid = "1000";
  EXPECT_EQ(ResolveOperator(f, Fake()).by, "bob");
}

TEST(ResolveOperatorTest, ASudoUserThatDoesNotHoldUpIsIgnored) {
  OperatorFacts f = AsService();
  f.loginuid = "1000";
  for (const char* bad : {"", "mallory"}) {  // empty, or no such account
    f.sudo_user = bad;
    EXPECT_EQ(ResolveOperator(f, Fake()).by, "alice") << bad;
  }
  f.sudo_user = "bob";
  f.sudo_uid = "1000";  // bob's uid is 1001: not what sudo would have set
  EXPECT_EQ(ResolveOperator(f, Fake()).by, "alice");
  // Neither root nor the state's owner: not the account sudo was asked for.
  f.sudo_uid.reset();
  f.euid = 1001;
  f.euid_owns_state = false;
  EXPECT_EQ(ResolveOperator(f, Fake()).by, "alice");
}

TEST(ResolveOperatorTest, LoginUidWithoutSudo) {
  OperatorFacts f = AsService();  // e.g. runuser -u _bluetrace from alice's root shell
  f.loginuid = "1000";
  auto id = ResolveOperator(f, Fake());
  EXPECT_EQ(id.by, "alice");
  EXPECT_EQ(id.as, "_bluetrace");
  f.loginuid = "4242";  // an account deleted since the login
  EXPECT_EQ(ResolveOperator(f, Fake()).by, "uid4242");
}

TEST(ResolveOperatorTest, EffectiveUserAloneWhenNothingElseIsKnown) {
  OperatorFacts f = AsService();
  auto id = ResolveOperator(f, Fake());
  EXPECT_EQ(id.by, "_bluetrace");
  EXPECT_EQ(id.as, "");
  f.loginuid.reset();  // no /proc
  f.euid = 4243;       // no passwd entry
  id = ResolveOperator(f, Fake());
  EXPECT_EQ(id.by, "uid4243");
  EXPECT_EQ(id.as, "");
  // The same person logged in and running the tool: one name.
  f.euid = kAlice;
  f.loginuid = "1000";
  id = ResolveOperator(f, Fake());
  EXPECT_EQ(id.by, "alice");
  EXPECT_EQ(id.as, "");
}

}  // namespace
}  // namespace bluetrace::admin
