// ConsoleRouter: the web console's pages, HTTP-agnostic (ConsoleServer carries the bytes).
// It maps a request to service::ConsoleService (which holds every rule) and renders the
// answer with mstch templates compiled into the binary (src/net/console/*.mustache; {{ }}
// escapes every value, and no template uses {{{ }}}).
//
// Adding a page: one template file in src/net/console/ (picked up by assets.cmake), one
// handler method, one row in the route table of console_pages.cpp (method, path, admin
// only?), and a link in layout.mustache's nav.
//
// Sessions: the cookie `bt_session` (Secure; HttpOnly; SameSite=Strict; Path=/); every POST
// carries the session's CSRF token in the field `csrf`, and the login form a pre-session one
// (double submit: the `bt_login` cookie and the field must match). Thread-safe (stateless
// besides the service, which is thread-safe).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bluetrace/service/console_service.hpp"

namespace bluetrace::net {

struct ConsoleRequest {
  std::string method;  // "GET", "POST", "HEAD", ...
  std::string target;  // path and query, as sent
  std::string cookie;  // the Cookie header, or empty
  std::string content_type;
  std::string body;  // POST form, application/x-www-form-urlencoded
  std::string peer;  // the client's address, for the audit trail
};

struct ConsoleResponse {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie, Location, ...
};

// The headers every console answer carries (CSP without any script, no framing, no sniffing,
// no referrer, no caching).
const std::vector<std::pair<std::string, std::string>>& ConsoleSecurityHeaders();

// A template or the stylesheet compiled into the binary ("contacts.mustache",
// "console.css"); empty when there is none.
std::string_view ConsoleAsset(std::string_view name);

// Decodes an application/x-www-form-urlencoded body ('+' is a space, %XX a byte). Keys seen
// twice keep the first value. kInvalidArgument for a bad escape or more than 32 fields.
util::Result<std::map<std::string, std::string>> ParseForm(std::string_view body);

// The value of cookie `name` in a Cookie header, or empty.
std::string CookieValue(std::string_view header, std::string_view name);

class ConsoleRouter {
 public:
  ConsoleRouter(service::ConsoleService& service, util::Random& random);

  ConsoleResponse Handle(const ConsoleRequest& request);

  struct Route;  // console_pages.cpp

 private:
  static const std::vector<Route>& Routes();
  // The login page with its pre-session CSRF token: `token` when it is one (the cookie's),
  // else a fresh one.
  ConsoleResponse LoginForm(std::string error, std::string name, int status,
                            std::string token = "");
  ConsoleResponse LoginPost(const ConsoleRequest& request);
  ConsoleResponse Contacts(const service::StaffIdentity& who, std::string flash);
  ConsoleResponse ContactsCsv(const service::StaffIdentity& who);
  ConsoleResponse SetStatus(const service::StaffIdentity& who,
                            const std::map<std::string, std::string>& form);
  ConsoleResponse Reports(const service::StaffIdentity& who);
  ConsoleResponse Report(const service::StaffIdentity& who, std::string_view name);
  // The upload code form (or, when the server requires no codes, a page saying so); `error`
  // and the phone number `typed` when a POST was refused.
  ConsoleResponse CodeForm(const service::StaffIdentity& who, std::string error, std::string typed,
                           int status);
  // Issues a code for the form's `phone` and shows it once.
  ConsoleResponse IssueCode(const service::StaffIdentity& who,
                            const std::map<std::string, std::string>& form);
  ConsoleResponse Activity(const service::StaffIdentity& who);
  ConsoleResponse Staff(const service::StaffIdentity& who);
  ConsoleResponse Logout(const service::StaffIdentity& who);

  service::ConsoleService& service_;
  util::Random& random_;
};

}  // namespace bluetrace::net
