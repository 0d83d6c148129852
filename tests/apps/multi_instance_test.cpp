// End-to-end tests of several real bluetrace-server processes sharing one PostgreSQL
// database (storage.backend = "postgres"): a lockout counted across instances, two
// instances racing to register one number, a TempID issued on one instance checked in an
// upload on another, and an instance killed under load losing nothing it acknowledged.
// The real bluetrace-client drives the users; the many-requests load speaks TLS through
// net::ClientConnection. Loopback only, a throwaway PostgreSQL on a Unix socket; every wait
// is bounded and every process is stopped by its pid.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bluetrace/net/client_connection.hpp"
#include "bluetrace/protocol/messages.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/postgres/migrations.hpp"
#include "bluetrace/store/postgres/pg_connection.hpp"
#include "support/client_process.hpp"
#include "support/postgres_server.hpp"
#include "support/run_command.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace bluetrace {
namespace {

using namespace std::chrono_literals;
using test::ClientProcess;
using test::WriteFileForTest;

constexpr auto kWait = 20s;
constexpr auto kCallTimeout = 5s;
constexpr const char* kWelcome = "Welcome to the BlueTrace Simulator!\n";
// The client's lines of docs/ORIGINAL.md §5.
constexpr const char* kWrongPassword = "Invalid Password. Please try again\n";
constexpr const char* kNowBlocked =
    "Invalid Password. Your account has been blocked. Please try again later\n";
constexpr const char* kStillBlocked =
    "Your account is blocked due to multiple login failures. Please try again later\n";

// A UDP port nothing listens on right now (the kernel's choice for port 0).
std::uint16_t FreeUdpPort() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// The line after `marker` in `text` (e.g. the TempID after "TempID:").
std::string LineAfter(const std::string& text, const std::string& marker) {
  const std::size_t at = text.find(marker + "\n");
  if (at == std::string::npos) return "";
  const std::size_t begin = at + marker.size() + 1;
  return text.substr(begin, text.find('\n', begin) - begin);
}

// One bluetrace-server process with its own state directory (its lock and certificate).
struct Instance {
  std::string name;
  std::string dir;
  std::unique_ptr<test::ServerProcess> process;
  std::uint16_t port = 0;

  std::string Cert() const { return dir + "/server.crt"; }
};

class MultiInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test::FreshPgDatabase::Create(/*migrate=*/false);
    ASSERT_NE(db_, nullptr);
    conninfo_ = db_->conninfo();
    conn_ = &db_->conn();
    // The schema as an operator applies it.
    const auto migrated = test::RunCommandForTest(
        test::ShellQuoteForTest(test::ProgramPath("bluetrace-admin")) + " db --conninfo " +
        test::ShellQuoteForTest(conninfo_) + " --sql-dir " +
        test::ShellQuoteForTest(test::SourcePath("packaging/sql")) + " migrate </dev/null");
    ASSERT_EQ(migrated.exit_code, 0) << migrated.output;

    // Three instances, started together.
    for (const char* name : {"a", "b", "c"}) {
      Instance& in = instances_[name];
      in.name = name;
      in.dir = dir_.File(std::string("server-") + name);
      ASSERT_EQ(mkdir(in.dir.c_str(), 0700), 0);
      WriteFileForTest(in.dir + "/server.toml", ServerToml(in.dir));
      in.process = std::make_unique<test::ServerProcess>(
          test::ProgramPath("bluetrace-server"), in.dir,
          std::vector<std::string>{"--config", "server.toml", "--ready-file", "ready"});
    }
    for (auto& [name, in] : instances_) {
      in.port = in.process->WaitReady(in.dir + "/ready", kWait);
      ASSERT_NE(in.port, 0) << name << ": " << in.process->Stderr();
    }
  }

  void TearDown() override {
    for (auto& [name, in] : instances_) {
      if (in.process && in.process->running()) {
        EXPECT_EQ(in.process->Stop(kWait), 0) << name << ": " << in.process->Stderr();
      }
    }
  }

  // Cheap Argon2 and rate limits no test reaches; everything else the defaults.
  std::string ServerToml(const std::string& state_dir) const {
    return "[server]\nbind_address = \"127.0.0.1\"\nport = 0\nstate_dir = \"" + state_dir +
           "\"\n"
           "[auth]\nargon2_memory_kib = 8\nargon2_iterations = 1\n"
           "[limits]\nconnections_per_second = 10000.0\nconnections_burst = 10000.0\n"
           "logins_per_second = 10000.0\nlogins_burst = 10000.0\n"
           "tempids_per_second = 10000.0\ntempids_burst = 10000.0\n"
           "max_connections_per_address = 1000\n"
           "[storage]\nbackend = \"postgres\"\n"
           "[postgres]\nconninfo = \"" +
           conninfo_ + "\"\n";
  }

  Instance& In(const std::string& name) { return instances_.at(name); }

  // A bluetrace-client of `in` in its own directory <tmp>/<name>, receiving beacons on a
  // free UDP port (udp_[name]).
  std::unique_ptr<ClientProcess> Client(const std::string& name, const Instance& in,
                                        std::vector<std::string> extra = {}) {
    const std::string dir = dir_.File(name);
    mkdir(dir.c_str(), 0700);
    udp_[name] = FreeUdpPort();
    std::vector<std::string> args = {
        "127.0.0.1", std::to_string(in.port), std::to_string(udp_[name]), "--data-dir",
        dir,         "--known-servers",       dir_.File("known_servers"), "--ca-file",
        in.Cert()};
    args.insert(args.end(), extra.begin(), extra.end());
    // HOME and XDG_STATE_HOME point into the test's directory: nothing of the user's is read.
    return std::make_unique<ClientProcess>(
        test::ProgramPath("bluetrace-client"), dir, name, args,
        std::vector<std::string>{"HOME=" + dir_.path(), "XDG_STATE_HOME=" + dir_.File("state")});
  }

  // Registers `user` through the client on `in` (then logs out).
  void RegisterWithClient(const std::string& name, const Instance& in, const std::string& user,
                          const std::string& password) {
    auto c = Client(name, in, {"--register"});
    c->Write(user + "\n" + password + "\n" + password + "\nlogout\n");
    ASSERT_EQ(c->WaitExit(kWait), 0) << c->Stdout() << c->Stderr();
    ASSERT_NE(c->Stdout().find("Registered " + user + "\n" + kWelcome), std::string::npos)
        << c->Stdout();
  }

  // A TLS connection to `in` that has said Hello (protocol version 1); null on failure.
  static std::unique_ptr<net::ClientConnection> Connect(const Instance& in) {
    net::ClientConnectOptions o;
    o.timeout = kCallTimeout;
    o.close_timeout = 200ms;
    auto c = net::ClientConnection::Connect(
        "127.0.0.1", in.port, net::TlsClientOptions{in.Cert(), "127.0.0.1", "1.3"}, o);
    if (!c.ok()) return nullptr;
    auto hello = (*c)->Call(protocol::Hello{1, 1, "multi_instance_test"}, kCallTimeout);
    if (!hello.ok() || !std::holds_alternative<protocol::HelloOk>(*hello)) return nullptr;
    return std::move(*c);
  }

  std::int64_t Count(const std::string& sql, const std::vector<store::PgParam>& params = {}) {
    auto res = conn_->Exec("count", sql, params);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res->GetInt(0, 0) : -1;
  }

  test::TempDir dir_;
  std::string conninfo_;
  std::unique_ptr<test::FreshPgDatabase> db_;
  store::PgConnection* conn_ = nullptr;
  std::map<std::string, Instance> instances_;
  std::map<std::string, std::uint16_t> udp_;
};

// docs/ORIGINAL.md §5: three wrong passwords in a row block the user "even from another IP
// address"; with one database, even on another instance.
TEST_F(MultiInstanceTest, WrongPasswordsOnTwoInstancesBlockTheUserOnTheThird) {
  const std::string user = "+61410000001";
  RegisterWithClient("reg", In("a"), user, "right-password");

  auto on_a = Client("on-a", In("a"));
  on_a->Write(user + "\nwrong-1\nwrong-2\n");
  ASSERT_TRUE(on_a->WaitForOutput(kWrongPassword, 2)) << on_a->Stdout() << on_a->Stderr();
  on_a->CloseStdin();  // the third password prompt is left unanswered
  EXPECT_EQ(on_a->WaitExit(kWait), 6) << on_a->Stderr();
  EXPECT_EQ(on_a->Stdout().rfind("Username: " + user + "\nPassword: \n" + kWrongPassword +
                                     "Password: \n" + kWrongPassword + "Password: ",
                                 0),
            0u)
      << on_a->Stdout();

  auto on_b = Client("on-b", In("b"));
  on_b->Write(user + "\nwrong-3\n");
  EXPECT_EQ(on_b->WaitExit(kWait), 5) << on_b->Stderr();
  EXPECT_EQ(on_b->Stdout(), "Username: " + user + "\nPassword: \n" + kNowBlocked);

  auto on_c = Client("on-c", In("c"));
  on_c->Write(user + "\nright-password\nDownload_tempID\n");
  EXPECT_EQ(on_c->WaitExit(kWait), 5) << on_c->Stderr();
  EXPECT_EQ(on_c->Stdout(), "Username: " + user + "\nPassword: \n" + kStillBlocked);

  EXPECT_EQ(Count("SELECT count(*) FROM lockouts WHERE blocked_until > 0"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM tempids"), 0);
}

// Register for one number sent to A and to B at the same moment: one RegisterOk, one "this
// UserID is already taken", one row; the row holds the winner's password. Ten numbers over
// protocol connections (released together by a latch), then one race of two real clients.
TEST_F(MultiInstanceTest, TwoInstancesRacingToRegisterOneNumberLetExactlyOneWin) {
  constexpr int kNumbers = 10;
  std::map<std::string, int> wins = {{"a", 0}, {"b", 0}};
  for (int i = 0; i < kNumbers; ++i) {
    const std::string user = "+6141100000" + std::to_string(i);
    std::array<std::string, 2> names = {"a", "b"};
    std::array<std::unique_ptr<net::ClientConnection>, 2> conns;
    for (std::size_t k = 0; k < 2; ++k) {
      conns[k] = Connect(In(names[k]));
      ASSERT_NE(conns[k], nullptr) << names[k];
    }
    std::array<std::optional<util::Result<protocol::Message>>, 2> replies;
    std::latch start(2);
    std::vector<std::thread> racers;
    for (std::size_t k = 0; k < 2; ++k) {
      racers.emplace_back([&, k] {
        start.arrive_and_wait();
        replies[k] = conns[k]->Call(
            protocol::Register{user, util::SecretString("password-of-" + names[k])}, kWait);
      });
    }
    for (auto& t : racers) t.join();

    int ok = 0, taken = 0;
    std::string winner;
    for (std::size_t k = 0; k < 2; ++k) {
      ASSERT_TRUE(replies[k].has_value());
      const auto& reply = *replies[k];
      ASSERT_TRUE(reply.ok()) << names[k] << ": " << reply.status().ToString();
      if (auto* r = std::get_if<protocol::RegisterOk>(&*reply)) {
        EXPECT_EQ(r->user, user);
        ++ok;
        winner = names[k];
      } else if (auto* e = std::get_if<protocol::Error>(&*reply)) {
        EXPECT_EQ(e->code, protocol::ErrorCode::kAlreadyExists);
        EXPECT_EQ(e->message, "this UserID is already taken");
        ++taken;
      } else {
        ADD_FAILURE() << names[k] << " answered "
                      << protocol::MessageName(protocol::TypeOf(*reply));
      }
    }
    EXPECT_EQ(ok, 1) << user;
    EXPECT_EQ(taken, 1) << user;
    if (ok != 1) continue;
    ++wins[winner];
    // The stored password is the winner's: it logs in on C, the loser's does not.
    const std::string loser = winner == "a" ? "b" : "a";
    auto c1 = Connect(In("c"));
    ASSERT_NE(c1, nullptr);
    auto wrong = c1->Call(protocol::Login{user, util::SecretString("password-of-" + loser)}, kWait);
    ASSERT_TRUE(wrong.ok()) << wrong.status().ToString();
    EXPECT_TRUE(std::holds_alternative<protocol::WrongPassword>(*wrong)) << user;
    auto c2 = Connect(In("c"));
    ASSERT_NE(c2, nullptr);
    auto right =
        c2->Call(protocol::Login{user, util::SecretString("password-of-" + winner)}, kWait);
    ASSERT_TRUE(right.ok()) << right.status().ToString();
    EXPECT_TRUE(std::holds_alternative<protocol::Welcome>(*right)) << user;
  }
  std::printf("[ info     ] register races won: A %d, B %d\n", wins["a"], wins["b"]);

  // The same race between two real clients, started at once: the loser prints the refusal.
  const std::string user = "+61411000099";
  std::array<std::unique_ptr<ClientProcess>, 2> clients;
  std::array<std::string, 2> names = {"a", "b"};
  for (std::size_t k = 0; k < 2; ++k) {
    clients[k] = Client("racer-" + names[k], In(names[k]), {"--register"});
  }
  for (auto& c : clients) {
    c->Write(user + "\nclient-password\nclient-password\nlogout\n");
  }
  std::array<int, 2> codes{};
  for (std::size_t k = 0; k < 2; ++k) codes[k] = clients[k]->WaitExit(kWait);
  int registered = 0, refused = 0;
  for (std::size_t k = 0; k < 2; ++k) {
    const std::string out = clients[k]->Stdout();
    if (codes[k] == 0) {
      ++registered;
      EXPECT_NE(out.find("Registered " + user + "\n" + kWelcome), std::string::npos) << out;
    } else {
      ++refused;
      EXPECT_EQ(codes[k], 6) << out << clients[k]->Stderr();
      EXPECT_NE(out.find("Registration failed: this UserID is already taken\n"), std::string::npos)
          << out;
      EXPECT_EQ(out.find(kWelcome), std::string::npos) << out;
    }
  }
  EXPECT_EQ(registered, 1);
  EXPECT_EQ(refused, 1);

  // Each number once in the users table.
  EXPECT_EQ(Count("SELECT count(*) FROM users"), kNumbers + 1);
  EXPECT_EQ(Count("SELECT count(DISTINCT phone) FROM users"), kNumbers + 1);
}

// A TempID issued by A, beaconed to a user logged in on C and uploaded there: C resolves it
// to A's user (the report says matched: 1) and prints the contact.
TEST_F(MultiInstanceTest, ATempIdIssuedOnOneInstanceIsResolvedInAnUploadOnAnother) {
  const std::string sender = "+61412000001";
  const std::string receiver = "+61412000002";
  RegisterWithClient("reg-1", In("b"), sender, "sender-password");
  RegisterWithClient("reg-2", In("b"), receiver, "receiver-password");

  auto x = Client("x", In("a"));
  x->Write(sender + "\nsender-password\n");
  ASSERT_TRUE(x->WaitForOutput(kWelcome)) << x->Stdout() << x->Stderr();
  auto y = Client("y", In("c"));
  y->Write(receiver + "\nreceiver-password\n");
  ASSERT_TRUE(y->WaitForOutput(kWelcome)) << y->Stdout() << y->Stderr();

  x->Write("Download_tempID\n");
  ASSERT_TRUE(x->WaitForOutput("TempID:\n")) << x->Stderr();
  ASSERT_TRUE(x->WaitForOutput("\n> ", 2)) << x->Stdout();
  const std::string id = LineAfter(x->Stdout(), "TempID:");
  ASSERT_EQ(id.size(), 20u) << x->Stdout();
  x->Write("Beacon 127.0.0.1 " + std::to_string(udp_["y"]) + "\n");
  ASSERT_TRUE(y->WaitForOutput("The beacon is valid.\n")) << y->Stdout() << x->Stdout();
  const std::string start = LineAfter(x->Stdout(), id + ",");  // "DD/MM/YYYY HH:MM:SS,"
  ASSERT_EQ(start.size(), 20u) << x->Stdout();

  y->Write("Upload_contact_log\n");
  ASSERT_TRUE(y->WaitForOutput("1 entry received by the server\n")) << y->Stdout() << y->Stderr();

  // Issued on A (A's console), resolved on C (C's console).
  EXPECT_NE(In("a").process->Stdout().find("user: " + sender + "\nTempID:\n" + id + "\n"),
            std::string::npos)
      << In("a").process->Stdout();
  ASSERT_TRUE(test::WaitFor([&] {
    return In("c").process->Stdout().find("Contact log checking\n") != std::string::npos;
  })) << In("c").process->Stdout();
  const std::string console = In("c").process->Stdout();
  EXPECT_NE(console.find("received contact log from " + receiver + "\n"), std::string::npos)
      << console;
  EXPECT_NE(console.find("Contact log checking\n" + sender + ",\n" + start + "\n" + id + ";\n"),
            std::string::npos)
      << console;

  auto report =
      conn_->Exec("report", "SELECT uploader, text FROM reports WHERE uploader = $1", {receiver});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->rows(), 1);
  const std::string text(report->Get(0, 1));
  EXPECT_NE(text.find("matched: 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find(sender + " " + start.substr(0, 19) + " " + id), std::string::npos) << text;
  EXPECT_EQ(Count("SELECT count(*) FROM reports"), 1);

  for (auto* p : {x.get(), y.get()}) {
    p->Write("logout\n");
    EXPECT_EQ(p->WaitExit(kWait), 0) << p->Stderr();
  }
}

// What the load drivers saw, under one mutex.
struct LoadRecord {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> tempids;  // acknowledged: (TempID, user)
  std::vector<std::string> registrations;                    // acknowledged numbers
  std::map<std::string, int> acked;                          // acknowledged requests per instance
  std::map<std::string, int> refused;     // connections refused (or not completed)
  std::map<std::string, int> lost;        // requests sent that got no answer
  std::map<std::string, int> unexpected;  // answers that were neither success nor expected
};

// SIGKILL B while three threads log in, download TempIDs and register fresh numbers on A,
// B and C in turn: every TempID and registration any of them saw acknowledged is in the
// database; what B had in flight was not acknowledged; A and C go on serving.
TEST_F(MultiInstanceTest, AnInstanceKilledUnderLoadLosesNothingItAcknowledged) {
  constexpr int kThreads = 3;
  const std::array<std::string, 3> order = {"a", "b", "c"};
  auto load_user = [](int t) { return "+6141300000" + std::to_string(t); };
  for (int t = 0; t < kThreads; ++t) {
    auto c = Connect(In("a"));
    ASSERT_NE(c, nullptr);
    auto r = c->Call(protocol::Register{load_user(t), util::SecretString("load-password")}, kWait);
    ASSERT_TRUE(r.ok() && std::holds_alternative<protocol::RegisterOk>(*r));
  }

  LoadRecord rec;
  std::atomic<bool> stop{false};
  std::atomic<bool> b_killed{false};
  std::atomic<int> acked_after_kill{0};
  std::atomic<int> sessions_on_b{0};  // drivers logged in on B right now
  // Counts one request's outcome; true when it succeeded.
  auto note = [&](const std::string& in, const util::Result<protocol::Message>& reply,
                  auto* success) {
    std::lock_guard lock(rec.mu);
    if (!reply.ok()) {
      ++rec.lost[in];
      return false;
    }
    if (success == nullptr) {
      ++rec.unexpected[in];
      ADD_FAILURE() << in << " answered " << protocol::MessageName(protocol::TypeOf(*reply));
      return false;
    }
    ++rec.acked[in];
    if (b_killed.load() && in != "b") acked_after_kill.fetch_add(1);
    return true;
  };
  auto driver = [&](int t) {
    const std::string user = load_user(t);
    for (int round = 0; !stop.load(); ++round) {
      const std::string& name = order[static_cast<std::size_t>(round + t) % order.size()];
      const Instance& in = In(name);
      auto c = Connect(in);
      if (c == nullptr) {
        std::lock_guard lock(rec.mu);
        ++rec.refused[name];
        continue;
      }
      auto w = c->Call(protocol::Login{user, util::SecretString("load-password")}, kCallTimeout);
      if (!note(name, w, w.ok() ? std::get_if<protocol::Welcome>(&*w) : nullptr)) continue;
      bool alive = true;
      if (name == "b") ++sessions_on_b;
      for (int i = 0; i < 3 && alive; ++i) {
        auto r = c->Call(protocol::TempIdRequest{}, kCallTimeout);
        auto* issued = r.ok() ? std::get_if<protocol::TempIdResponse>(&*r) : nullptr;
        alive = note(name, r, issued);
        if (!alive) break;
        std::lock_guard lock(rec.mu);
        rec.tempids.emplace_back(issued->id.ToString(), user);
      }
      if (name == "b") --sessions_on_b;
      if (!alive) continue;
      // A fresh number, on a new connection (a logged-in session registers nobody).
      std::string fresh = std::to_string(1'000'000 + round);  // "+614" 2X, then 6 digits
      fresh = "+614" + std::to_string(20 + t) + fresh.substr(fresh.size() - 6);
      auto r = Connect(in);
      if (r == nullptr) {
        std::lock_guard lock(rec.mu);
        ++rec.refused[name];
        continue;
      }
      auto reg =
          r->Call(protocol::Register{fresh, util::SecretString("fresh-password")}, kCallTimeout);
      if (note(name, reg, reg.ok() ? std::get_if<protocol::RegisterOk>(&*reg) : nullptr)) {
        std::lock_guard lock(rec.mu);
        rec.registrations.push_back(fresh);
      }
    }
  };

  const auto began = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(driver, t);
  // Kill B once it has served part of the load, while a driver is in a session on it,
  // then let A and C serve some more.
  const bool b_served = test::WaitFor(
      [&] {
        std::lock_guard lock(rec.mu);
        return rec.acked["b"] >= 60 && sessions_on_b.load() > 0;
      },
      5s);
  In("b").process->Signal(SIGKILL);
  b_killed = true;
  const bool served_after = test::WaitFor([&] { return acked_after_kill.load() >= 90; }, 5s);
  stop = true;
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_EQ(In("b").process->WaitExit(kWait), -1);  // killed, not exited
  EXPECT_TRUE(b_served);
  EXPECT_TRUE(served_after);

  std::printf(
      "[ info     ] %.1f s of load: %zu TempIDs and %zu registrations acknowledged; "
      "acknowledged A %d B %d C %d; B: %d requests lost in flight, %d connections refused\n",
      seconds, rec.tempids.size(), rec.registrations.size(), rec.acked["a"], rec.acked["b"],
      rec.acked["c"], rec.lost["b"], rec.refused["b"]);
  // Only B failed anything, and only by going away.
  for (const char* name : {"a", "c"}) {
    EXPECT_EQ(rec.lost[name], 0) << name;
    EXPECT_EQ(rec.refused[name], 0) << name;
  }
  EXPECT_EQ(rec.unexpected["b"], 0);

  // Everything acknowledged is in the database.
  int missing_tempids = 0, missing_users = 0;
  for (const auto& [id, user] : rec.tempids) {
    if (Count("SELECT count(*) FROM tempids WHERE tempid = $1 AND phone = $2", {id, user}) != 1) {
      ++missing_tempids;
      ADD_FAILURE() << "TempID " << id << " of " << user << " acknowledged but not stored";
    }
  }
  for (const auto& phone : rec.registrations) {
    if (Count("SELECT count(*) FROM users WHERE phone = $1", {phone}) != 1) {
      ++missing_users;
      ADD_FAILURE() << phone << " acknowledged but not stored";
    }
  }
  EXPECT_EQ(missing_tempids, 0);
  EXPECT_EQ(missing_users, 0);
  // Beyond that, the database holds only what B had in flight when it was killed.
  const std::int64_t extra_tempids =
      Count("SELECT count(*) FROM tempids") - static_cast<std::int64_t>(rec.tempids.size());
  const std::int64_t extra_users = Count("SELECT count(*) FROM users") - kThreads -
                                   static_cast<std::int64_t>(rec.registrations.size());
  EXPECT_GE(extra_tempids, 0);
  EXPECT_GE(extra_users, 0);
  EXPECT_LE(extra_tempids + extra_users, rec.lost["b"]);
  std::printf(
      "[ info     ] stored but not acknowledged (in flight on B): %lld TempIDs, %lld users\n",
      static_cast<long long>(extra_tempids), static_cast<long long>(extra_users));

  // A and C still serve a real client: a fresh login and a TempID, stored.
  for (const char* name : {"a", "c"}) {
    auto c = Client(std::string("after-") + name, In(name));
    c->Write(load_user(0) + "\nload-password\nDownload_tempID\nlogout\n");
    ASSERT_EQ(c->WaitExit(kWait), 0) << c->Stdout() << c->Stderr();
    const std::string id = LineAfter(c->Stdout(), "TempID:");
    ASSERT_EQ(id.size(), 20u) << c->Stdout();
    EXPECT_EQ(Count("SELECT count(*) FROM tempids WHERE tempid = $1", {id}), 1) << name;
  }
}

}  // namespace
}  // namespace bluetrace
