// ConsoleServer and ConsoleRouter (net/console_server.hpp, console_pages.hpp) over real TLS
// on 127.0.0.1, port 0: login, the CSRF checks, a cookie replayed after logout, a tracer on
// an admin page, hostile data rendered as text, the security headers, the CSV, the limits
// and the upload code page. The file backend's stores in a temporary directory; the clock
// is injected.
#include "bluetrace/net/console_server.hpp"

#include <gtest/gtest.h>

#include <utility>

#include <boost/beast/http/string_body.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "bluetrace/net/certificate.hpp"
#include "bluetrace/net/tls_context.hpp"
#include "bluetrace/store/files/file_audit_trail.hpp"
#include "bluetrace/store/files/file_contact_status_store.hpp"
#include "bluetrace/store/files/file_lockout_store.hpp"
#include "bluetrace/store/files/file_report_store.hpp"
#include "bluetrace/store/files/file_staff_store.hpp"
#include "bluetrace/store/files/file_upload_code_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"
#include "support/console_client.hpp"
#include "support/fake_random.hpp"
#include "support/temp_dir.hpp"
#include "support/test_certificate.hpp"

namespace bluetrace::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr store::Argon2Params kFast{.memory_kib = 8, .iterations = 1, .parallelism = 1};

using Reply = test::ConsoleReply;

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto& fs = store::PosixFileSystem::Instance();
    const store::StateDir dir(tmp_.path());
    auto tls = test::MakeTestServerTls(tmp_.File("c.crt"), tmp_.File("c.key"));
    ASSERT_NE(tls, nullptr);
    staff_ = store::FileStaffStore::Open(fs, dir.staff(), dir.staff_lock()).value();
    statuses_ =
        store::FileContactStatusStore::Open(fs, dir.contact_status(), dir.contact_status_lock())
            .value();
    reports_ = store::FileReportStore::Open(fs, dir.reports()).value();
    audit_ =
        store::FileAuditTrail::Open(fs, clock_, dir.audit_log(), dir.audit_lock(), nullptr).value();
    codes_ = store::FileUploadCodeStore::Open(fs, dir.upload_codes(), {}).value();
    code_failures_ = store::FileLockoutStore::Open(fs, dir.code_failures(), {}, clock_).value();
    code_service_ = std::make_unique<service::UploadCodeService>(
        service::UploadCodeDeps{*codes_, *code_failures_, *audit_, clock_, random_, nullptr},
        util::SecretString(std::string(64, 'k')), 3600);
    service::ConsoleOptions options;
    options.argon2 = kFast;
    options.max_failed_logins = 3;
    options.idle_timeout_seconds = 600;
    options.absolute_timeout_seconds = 3600;
    service_ = std::make_unique<service::ConsoleService>(
        service::ConsoleStores{*staff_, *statuses_, *reports_, *audit_, *codes_},
        require_codes_ ? code_service_.get() : nullptr, clock_, random_, options);
    router_ = std::make_unique<ConsoleRouter>(*service_, random_);
    for (auto [name, role] : {std::pair{"ana", store::StaffRole::kTracer},
                              std::pair{"root", store::StaffRole::kAdmin}}) {
      auto hash = store::HashPassword("a long password", kFast, random_);
      ASSERT_TRUE(staff_->Add({name, role, *hash}).ok());
    }
    ASSERT_TRUE(reports_
                    ->Write("+61410000001", 1'589'393'400,
                            "# bluetrace contact check report\nuploader: +61410000001\n"
                            "received: 13/05/2020 18:10:00 UTC\nentries: 1\nmatched: 1\n"
                            "mismatched: 0\nunknown: 0\n\n[matched]\n# c\n+61410000009 "
                            "13/05/2020 17:45:06 12345678901234567890\n\n[mismatched]\n\n"
                            "[unknown]\n")
                    .ok());
    server_ = std::make_unique<ConsoleServer>(options_, tls, *router_);
    auto listener = Listener::Open("127.0.0.1", 0);
    ASSERT_TRUE(listener.ok());
    ASSERT_TRUE(server_->Start(std::move(*listener)).ok());
  }

  // One request over a fresh TLS connection.
  Reply Send(http::verb method, const std::string& target, const std::string& cookie = "",
             const std::string& body = "", const std::string& extra_header = "") {
    return test::ConsoleSend(server_->port(), method, target, cookie, body, extra_header);
  }

  static std::string Field(const std::string& html, const std::string& name) {
    return test::FormField(html, name);
  }

  // Logs in; returns the session cookie ("bt_session=...") and sets csrf_.
  std::string LogIn(const std::string& name, const std::string& password = "a long password") {
    Reply form = Send(http::verb::get, "/login");
    EXPECT_EQ(form.status, 200);
    const std::string login_csrf = Field(form.body, "csrf");
    EXPECT_EQ(login_csrf.size(), 64u);
    Reply done = Send(http::verb::post, "/login", "bt_login=" + login_csrf,
                      "csrf=" + login_csrf + "&name=" + name + "&password=" + password);
    EXPECT_EQ(done.status, 303) << done.body;
    EXPECT_EQ(done.location, "/contacts");
    std::string cookie;
    for (const auto& c : done.cookies) {
      if (c.rfind("bt_session=", 0) == 0) cookie = c.substr(0, c.find(';'));
    }
    EXPECT_EQ(cookie.size(), 11u + 64u);
    Reply page = Send(http::verb::get, "/contacts", cookie);
    EXPECT_EQ(page.status, 200);
    csrf_ = Field(page.body, "csrf");
    return cookie;
  }

  test::TempDir tmp_;
  util::ManualClock clock_{1'600'000'000};
  test::SeededRandom random_{11};
  ConsoleServerOptions options_;
  std::unique_ptr<store::StaffStore> staff_;
  std::unique_ptr<store::ContactStatusStore> statuses_;
  std::unique_ptr<store::ReportStore> reports_;
  std::unique_ptr<store::AuditTrail> audit_;
  std::unique_ptr<store::UploadCodeStore> codes_;
  std::unique_ptr<store::LockoutStore> code_failures_;
  std::unique_ptr<service::UploadCodeService> code_service_;
  bool require_codes_ = true;  // upload.require_code
  std::unique_ptr<service::ConsoleService> service_;
  std::unique_ptr<ConsoleRouter> router_;
  std::unique_ptr<ConsoleServer> server_;
  std::string csrf_;
};

TEST_F(ConsoleServerTest, LoginSetsAStrictSessionCookieAndShowsTheContacts) {
  Reply form = Send(http::verb::get, "/login");
  const std::string login_csrf = Field(form.body, "csrf");
  Reply done = Send(http::verb::post, "/login", "bt_login=" + login_csrf,
                    "csrf=" + login_csrf + "&name=ana&password=a+long+password");
  ASSERT_EQ(done.status, 303);
  ASSERT_FALSE(done.cookies.empty());
  bool session = false;
  for (const auto& c : done.cookies) {
    if (c.rfind("bt_session=", 0) != 0) continue;
    session = true;
    EXPECT_NE(c.find("; Secure"), std::string::npos);
    EXPECT_NE(c.find("; HttpOnly"), std::string::npos);
    EXPECT_NE(c.find("; SameSite=Strict"), std::string::npos);
    EXPECT_NE(c.find("; Path=/"), std::string::npos);
  }
  EXPECT_TRUE(session);
  const std::string cookie = LogIn("ana");
  Reply page = Send(http::verb::get, "/contacts", cookie);
  EXPECT_NE(page.body.find("+61410000009"), std::string::npos);
  EXPECT_EQ(page.raw["Content-Security-Policy"],
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'");
  EXPECT_EQ(page.raw["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(page.raw["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
}

// A second login page (the browser's favicon request was redirected to one) must not
// invalidate the first one's form: the pre-session token stays the cookie's.
TEST_F(ConsoleServerTest, ASecondLoginPageKeepsThePreSessionToken) {
  Reply first = Send(http::verb::get, "/login");
  const std::string token = Field(first.body, "csrf");
  Reply second = Send(http::verb::get, "/login", "bt_login=" + token);
  EXPECT_EQ(Field(second.body, "csrf"), token);
  EXPECT_EQ(Send(http::verb::get, "/favicon.ico").status, 404);
  Reply forged = Send(http::verb::get, "/login", "bt_login=" + std::string(64, 'Z'));
  EXPECT_NE(Field(forged.body, "csrf"), std::string(64, 'Z'));  // not a token of ours: fresh
}

TEST_F(ConsoleServerTest, AWrongPasswordIsRefusedAndRepeatedOnesBlock) {
  for (int i = 0; i < 3; ++i) {
    Reply form = Send(http::verb::get, "/login");
    const std::string t = Field(form.body, "csrf");
    Reply r =
        Send(http::verb::post, "/login", "bt_login=" + t, "csrf=" + t + "&name=ana&password=wrong");
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("Wrong name or password."), std::string::npos);
  }
  Reply form = Send(http::verb::get, "/login");
  const std::string t = Field(form.body, "csrf");
  Reply r = Send(http::verb::post, "/login", "bt_login=" + t,
                 "csrf=" + t + "&name=ana&password=a+long+password");
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("Too many failed logins"), std::string::npos);
}

TEST_F(ConsoleServerTest, FormsWithoutTheirCsrfTokenAreRefused) {
  // The login form: no token, or one that is not the cookie's.
  EXPECT_EQ(Send(http::verb::post, "/login", "", "name=ana&password=a+long+password").status, 403);
  const std::string other(64, 'a');
  EXPECT_EQ(Send(http::verb::post, "/login", "bt_login=" + std::string(64, 'b'),
                 "csrf=" + other + "&name=ana&password=a+long+password")
                .status,
            403);
  const std::string cookie = LogIn("ana");
  Reply no_token = Send(http::verb::post, "/contacts/status", cookie,
                        "phone=%2B61410000009&status=reached&note=x");
  EXPECT_EQ(no_token.status, 403);
  Reply wrong = Send(http::verb::post, "/contacts/status", cookie,
                     "csrf=" + std::string(64, '0') + "&phone=%2B61410000009&status=reached");
  EXPECT_EQ(wrong.status, 403);
  EXPECT_TRUE(statuses_->List()->empty());
  Reply ok = Send(http::verb::post, "/contacts/status", cookie,
                  "csrf=" + csrf_ + "&phone=%2B61410000009&status=reached&note=called");
  EXPECT_EQ(ok.status, 303);
  ASSERT_EQ(statuses_->List()->size(), 1u);
}

TEST_F(ConsoleServerTest, ACookieReplayedAfterLogoutIsRefused) {
  const std::string cookie = LogIn("ana");
  Reply out = Send(http::verb::post, "/logout", cookie, "csrf=" + csrf_);
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.location, "/login");
  Reply replay = Send(http::verb::get, "/contacts", cookie);
  EXPECT_EQ(replay.status, 303);
  EXPECT_EQ(replay.location, "/login");
  EXPECT_EQ(Send(http::verb::get, "/contacts.csv", cookie).status, 303);
  EXPECT_EQ(Send(http::verb::post, "/contacts/status", cookie,
                 "csrf=" + csrf_ + "&phone=%2B61410000009&status=reached")
                .status,
            403);
}

TEST_F(ConsoleServerTest, SessionsEndWhenIdleOnTheInjectedClock) {
  const std::string cookie = LogIn("ana");
  clock_.AdvanceSeconds(599);
  EXPECT_EQ(Send(http::verb::get, "/activity", cookie).status, 200);
  clock_.AdvanceSeconds(600);
  EXPECT_EQ(Send(http::verb::get, "/activity", cookie).status, 303);
}

TEST_F(ConsoleServerTest, ATracerCannotReachAnAdminPage) {
  const std::string tracer = LogIn("ana");
  Reply r = Send(http::verb::get, "/staff", tracer);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("root"), std::string::npos);
  const std::string admin = LogIn("root");
  Reply a = Send(http::verb::get, "/staff", admin);
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find("<td>ana</td><td>tracer</td>"), std::string::npos);
}

TEST_F(ConsoleServerTest, HostileNotesAreRenderedAsText) {
  const std::string cookie = LogIn("ana");
  // <script>alert("x")</script> 'q' & é漢, form-encoded.
  const std::string note = "%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E+%27q%27+%26+%C3%A9%E6%BC%A2";
  ASSERT_EQ(Send(http::verb::post, "/contacts/status", cookie,
                 "csrf=" + csrf_ + "&phone=%2B61410000009&status=unreachable&note=" + note)
                .status,
            303);
  Reply page = Send(http::verb::get, "/contacts", cookie);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &#39;q&#39; &amp; "
                           "\xC3\xA9\xE6\xBC\xA2"),
            std::string::npos)
      << page.body;
  Reply csv = Send(http::verb::get, "/contacts.csv", cookie);
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.raw[http::field::content_type], "text/csv; charset=utf-8");
  EXPECT_NE(csv.body.find("\"'+61410000009\""), std::string::npos);
  EXPECT_NE(csv.body.find("\"<script>alert(\"\"x\"\")</script> 'q' & \xC3\xA9\xE6\xBC\xA2\""),
            std::string::npos)
      << csv.body;
}

TEST_F(ConsoleServerTest, ReportAndActivityPagesRender) {
  const std::string cookie = LogIn("ana");
  auto names = reports_->List();
  ASSERT_EQ(names->size(), 1u);
  Reply report = Send(http::verb::get, "/reports/" + names->front(), cookie);
  EXPECT_EQ(report.status, 200);
  EXPECT_NE(report.body.find("12345678901234567890"), std::string::npos);
  EXPECT_EQ(Send(http::verb::get, "/reports/..%2F..%2Fstaff.txt", cookie).status, 400);
  Reply activity = Send(http::verb::get, "/activity", cookie);
  EXPECT_EQ(activity.status, 200);
  EXPECT_NE(activity.body.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_NE(activity.body.find("2020-05-13"), std::string::npos);
  Reply css = Send(http::verb::get, "/static/console.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.raw[http::field::content_type], "text/css; charset=utf-8");
}

// A certificate reload (SIGHUP: net/server_daemon.hpp) hands the console a new context: new
// connections get the new certificate; one whose handshake was before is still served.
TEST_F(ConsoleServerTest, AReplacedCertificateServesNewConnectionsWhileOpenOnesContinue) {
  const Reply before = Send(http::verb::get, "/login");
  ASSERT_EQ(before.status, 200);
  ASSERT_FALSE(before.peer_fingerprint.empty());

  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> open(io, ctx);
  open.next_layer().connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  open.handshake(asio::ssl::stream_base::client);
  EXPECT_EQ(test::PeerFingerprint(open.native_handle()), before.peer_fingerprint);

  auto tls = test::MakeTestServerTls(tmp_.File("n.crt"), tmp_.File("n.key"));
  ASSERT_NE(tls, nullptr);
  server_->ReplaceTlsContext(tls);
  tls.reset();                          // the server alone holds the new context now
  server_->ReplaceTlsContext(nullptr);  // ignored

  const Reply after = Send(http::verb::get, "/login");
  EXPECT_EQ(after.status, 200);
  auto expected = CertificateFingerprintSha256(test::ReadFileForTest(tmp_.File("n.crt")));
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(after.peer_fingerprint, *expected);
  EXPECT_NE(after.peer_fingerprint, before.peer_fingerprint);

  // The connection opened before the reload: its request is answered on the old context.
  http::request<http::string_body> req(http::verb::get, "/login", 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(open, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  boost::system::error_code ec;
  http::read(open, buffer, res, ec);
  EXPECT_TRUE(!ec || ec == http::error::end_of_stream) << ec.message();
  EXPECT_EQ(res.result_int(), 200u);
}

TEST_F(ConsoleServerTest, OversizedHeadersAndBodiesAreRefused) {
  EXPECT_EQ(Send(http::verb::get, "/login", "", "", std::string(9000, 'x')).status, 431);
  EXPECT_EQ(Send(http::verb::post, "/login", "", std::string(20000, 'x')).status, 413);
}

// The code shown on the page, or empty.
std::string ShownCode(const std::string& html) {
  std::smatch m;
  static const std::regex re("id=\"upload-code\">([^<]*)<");
  return std::regex_search(html, m, re) ? std::string(m[1]) : "";
}

TEST_F(ConsoleServerTest, ATracerIssuesAnUploadCodeShownOnceAndNeverStored) {
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  spdlog::default_logger()->sinks().push_back(log);
  const auto old_level = spdlog::default_logger()->level();
  spdlog::default_logger()->set_level(spdlog::level::trace);
  const std::string cookie = LogIn("ana");
  Reply form = Send(http::verb::get, "/codes", cookie);
  EXPECT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("action=\"/codes\""), std::string::npos);
  EXPECT_NE(form.body.find("<a href=\"/codes\">"), std::string::npos);  // in the nav
  EXPECT_EQ(ShownCode(form.body), "");

  Reply issued =
      Send(http::verb::post, "/codes", cookie, "csrf=" + csrf_ + "&phone=%2B61+410+000+002");
  spdlog::default_logger()->sinks().pop_back();
  spdlog::default_logger()->set_level(old_level);
  ASSERT_EQ(issued.status, 200) << issued.body;
  const std::string code = ShownCode(issued.body);
  ASSERT_EQ(code.size(), 11u) << issued.body;                                 // "ABCDE-FGHJK"
  EXPECT_NE(issued.body.find("+61410000002"), std::string::npos);             // canonical
  EXPECT_NE(issued.body.find("13/09/2020 13:26:40 UTC"), std::string::npos);  // now + 1 h
  EXPECT_EQ(issued.raw[http::field::cache_control], "no-store");
  EXPECT_EQ(issued.location, "");  // not a redirect: the code is in no URL
  EXPECT_EQ(issued.raw.count(http::field::set_cookie), 0u);
  // Issued by ana, in the audit trail; the code in neither the audit trail, the store nor
  // the server's log.
  const std::string audit = test::ReadFileForTest(tmp_.File("audit.log"));
  EXPECT_NE(audit.find("upload_code_issued"), std::string::npos) << audit;
  EXPECT_NE(audit.find("by=ana"), std::string::npos) << audit;
  const std::string bare = code.substr(0, 5) + code.substr(6);
  for (const std::string& text : {audit, test::ReadFileForTest(tmp_.File("upload-codes.txt"))}) {
    EXPECT_EQ(text.find(bare), std::string::npos);
    EXPECT_EQ(text.find(code), std::string::npos);
  }
  for (const auto& line : log->last_formatted()) {
    EXPECT_EQ(line.find(bare), std::string::npos) << line;
    EXPECT_EQ(line.find(code), std::string::npos) << line;
  }
  // It is a real code: the person's upload redeems it.
  EXPECT_EQ(code_service_->Redeem("+61410000002", code, "127.0.0.1").status,
            service::RedeemStatus::kRedeemed);
  // And the activity counts it for today.
  Reply activity = Send(http::verb::get, "/activity", cookie);
  EXPECT_NE(activity.body.find("<td>2020-09-13</td><td>0</td><td>0</td><td>1</td>"),
            std::string::npos)
      << activity.body;
  EXPECT_NE(activity.body.find("1 upload codes issued"), std::string::npos);
}

TEST_F(ConsoleServerTest, TheCodeFormRefusesAMissingTokenAndABadNumberClearly) {
  const std::string cookie = LogIn("root");  // admins issue codes too
  EXPECT_EQ(Send(http::verb::post, "/codes", cookie, "phone=%2B61410000002").status, 403);
  EXPECT_EQ(Send(http::verb::post, "/codes", cookie,
                 "csrf=" + std::string(64, '0') + "&phone=%2B61410000002")
                .status,
            403);
  Reply bad = Send(http::verb::post, "/codes", cookie, "csrf=" + csrf_ + "&phone=0410+000+002");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("Not a phone number: "), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("value=\"0410 000 002\""), std::string::npos);  // to correct it
  EXPECT_EQ(ShownCode(bad.body), "");
  EXPECT_TRUE(codes_->CountIssuedPerDay(0)->empty());  // nothing issued
  Reply ok = Send(http::verb::post, "/codes", cookie, "csrf=" + csrf_ + "&phone=%2B61410000002");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ShownCode(ok.body).size(), 11u);
}

class ConsoleServerWithoutCodesTest : public ConsoleServerTest {
 protected:
  ConsoleServerWithoutCodesTest() { require_codes_ = false; }
};

TEST_F(ConsoleServerWithoutCodesTest, TheCodePageSaysCodesAreNotRequired) {
  const std::string cookie = LogIn("ana");
  Reply page = Send(http::verb::get, "/codes", cookie);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Upload codes are not required on this server"), std::string::npos);
  EXPECT_EQ(page.body.find("action=\"/codes\""), std::string::npos);  // no form
  Reply post = Send(http::verb::post, "/codes", cookie, "csrf=" + csrf_ + "&phone=%2B61410000002");
  EXPECT_EQ(post.status, 409);
  EXPECT_NE(post.body.find("Upload codes are not required on this server"), std::string::npos);
  EXPECT_EQ(ShownCode(post.body), "");
  EXPECT_TRUE(codes_->CountIssuedPerDay(0)->empty());
}

}  // namespace
}  // namespace bluetrace::net
