#include "bluetrace/net/console_pages.hpp"

#include <mstch/mstch.hpp>

#include <algorithm>
#include <charconv>
#include <functional>
#include <mutex>

#include "bluetrace/protocol/timestamp.hpp"
#include "bluetrace/service/upload_code.hpp"

namespace bluetrace::net {

extern const std::pair<std::string_view, std::string_view> kConsoleAssets[];
extern const std::size_t kConsoleAssetCount;

namespace {

using service::StaffIdentity;
using Form = std::map<std::string, std::string>;

constexpr std::string_view kSessionCookie = "bt_session";
constexpr std::string_view kLoginCookie = "bt_login";
constexpr std::size_t kMaxFormFields = 32;

// HTML escaping of every {{ }} value: &, <, >, ", ' and the backtick and = that matter in
// unquoted attributes (all ours are quoted; belt and braces). Set once, before any render.
std::string EscapeHtml(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '`':
        out += "&#96;";
        break;
      case '=':
        out += "&#61;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Cookie(std::string_view name, std::string_view value, bool clear = false) {
  return std::string(name) + "=" + std::string(value) + (clear ? "; Max-Age=0" : "") +
         "; Secure; HttpOnly; SameSite=Strict; Path=/";
}

ConsoleResponse Redirect(std::string location) {
  ConsoleResponse r;
  r.status = 303;
  r.body = "";
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

// A whole page: the layout with `page` as its body partial.
ConsoleResponse Page(const StaffIdentity* who, std::string_view title, std::string_view page,
                     mstch::map context, int status = 200, std::string flash = "") {
  context["title"] = std::string(title);
  if (who != nullptr) {
    context["staff"] = mstch::map{{"name", who->name},
                                  {"role", std::string(store::StaffRoleName(who->role))},
                                  {"csrf", who->csrf_token},
                                  {"admin", who->admin()}};
  }
  if (!flash.empty()) context["flash"] = std::move(flash);
  ConsoleResponse r;
  r.status = status;
  const std::map<std::string, std::string> partials = {
      {"body", std::string(ConsoleAsset(page))},
      {"chart", std::string(ConsoleAsset("chart.mustache"))}};
  static std::once_flag once;
  std::call_once(once, [] { mstch::config::escape = EscapeHtml; });
  r.body = mstch::render(std::string(ConsoleAsset("layout.mustache")), context, partials);
  return r;
}

ConsoleResponse ErrorPage(const StaffIdentity* who, int status, std::string heading,
                          std::string message) {
  return Page(who, heading, "error.mustache",
              mstch::map{{"heading", heading}, {"message", std::move(message)}}, status);
}

// The answer to a service error: the status its code means, and its message.
ConsoleResponse ServiceError(const StaffIdentity* who, const util::Status& st) {
  switch (st.code()) {
    case util::StatusCode::kPermissionDenied:
      return ErrorPage(who, 403, "Not allowed", st.message());
    case util::StatusCode::kNotFound:
      return ErrorPage(who, 404, "Not found", st.message());
    case util::StatusCode::kInvalidArgument:
      return ErrorPage(who, 400, "Refused", st.message());
    default:
      return ErrorPage(who, 503, "Unavailable", st.message());
  }
}

std::string UtcTime(std::int64_t t) { return protocol::FormatTimestamp(t) + " UTC"; }

}  // namespace

std::string_view ConsoleAsset(std::string_view name) {
  for (std::size_t i = 0; i < kConsoleAssetCount; ++i) {
    if (kConsoleAssets[i].first == name) return kConsoleAssets[i].second;
  }
  return {};
}

const std::vector<std::pair<std::string, std::string>>& ConsoleSecurityHeaders() {
  static const std::vector<std::pair<std::string, std::string>> kHeaders = {
      {"Content-Security-Policy",
       "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Strict-Transport-Security", "max-age=31536000"},
  };
  return kHeaders;
}

util::Result<Form> ParseForm(std::string_view body) {
  Form form;
  std::size_t fields = 0;
  auto decode = [](std::string_view s) -> util::Result<std::string> {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%') {
        unsigned v = 0;
        if (i + 3 > s.size()) return util::InvalidArgument("a cut %-escape in the form");
        const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (ec != std::errc() || p != s.data() + i + 3) {
          return util::InvalidArgument("a bad %-escape in the form");
        }
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    if (++fields > kMaxFormFields) return util::InvalidArgument("too many form fields");
    const std::size_t eq = pair.find('=');
    BLUETRACE_ASSIGN_OR_RETURN(std::string key, decode(pair.substr(0, eq)));
    BLUETRACE_ASSIGN_OR_RETURN(
        std::string value,
        decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    form.emplace(std::move(key), std::move(value));
  }
  return form;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > name.size() && part.substr(0, name.size()) == name &&
        part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
  }
  return {};
}

// One row of the route table: the pages behind the login.
struct ConsoleRouter::Route {
  std::string_view method;
  std::string_view path;  // exact, or a prefix ending in '/' (the rest is the argument)
  bool admin_only;
  std::function<ConsoleResponse(ConsoleRouter&, const StaffIdentity&, const Form&,
                                std::string_view rest)>
      handle;
};

// The route table. A new page: a row here, a method, a template.
const std::vector<ConsoleRouter::Route>& ConsoleRouter::Routes() {
  using R = ConsoleRouter;
  static const std::vector<ConsoleRouter::Route> kRoutes = {
      {"GET", "/contacts", false,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view) {
         return r.Contacts(w, "");
       }},
      {"GET", "/contacts.csv", false,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view) {
         return r.ContactsCsv(w);
       }},
      {"POST", "/contacts/status", false,
       [](R& r, const StaffIdentity& w, const Form& f, std::string_view) {
         return r.SetStatus(w, f);
       }},
      {"GET", "/reports", false,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view) { return r.Reports(w); }},
      {"GET", "/reports/", false,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view name) {
         return r.Report(w, name);
       }},
      {"GET", "/codes", false,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view) {
         return r.CodeForm(w, "", "", 200);
       }},
      {"POST", "/codes", false,
       [](R& r, const StaffIdentity& w, const Form& f, std::string_view) {
         return r.IssueCode(w, f);
       }},
      {"GET", "/activity", false,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view) { return r.Activity(w); }},
      {"GET", "/staff", true,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view) { return r.Staff(w); }},
      {"POST", "/logout", false,
       [](R& r, const StaffIdentity& w, const Form&, std::string_view) { return r.Logout(w); }},
  };
  return kRoutes;
}

ConsoleRouter::ConsoleRouter(service::ConsoleService& service, util::Random& random)
    : service_(service), random_(random) {}

ConsoleResponse ConsoleRouter::Handle(const ConsoleRequest& req) {
  std::string_view path = req.target;
  path = path.substr(0, path.find('?'));
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (req.method != "GET" && req.method != "HEAD" && req.method != "POST") {
    ConsoleResponse r = ErrorPage(nullptr, 405, "Method not allowed", "GET, HEAD or POST");
    r.headers.emplace_back("Allow", "GET, HEAD, POST");
    return r;
  }
  if (get && path == "/static/console.css") {
    ConsoleResponse r;
    r.content_type = "text/css; charset=utf-8";
    r.body = std::string(ConsoleAsset("console.css"));
    return r;
  }
  Form form;
  if (req.method == "POST") {
    if (req.content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
      return ErrorPage(nullptr, 415, "Unsupported", "a form is expected");
    }
    auto parsed = ParseForm(req.body);
    if (!parsed.ok()) return ErrorPage(nullptr, 400, "Bad form", parsed.status().message());
    form = std::move(*parsed);
  }
  if (get && path == "/favicon.ico") {  // none; and no redirect to /login for it
    ConsoleResponse r;
    r.status = 404;
    r.content_type = "text/plain; charset=utf-8";
    return r;
  }
  if (path == "/login") {
    // The pre-session token stays what the cookie holds, so that a second login page (a
    // second tab) does not invalidate the first one's form.
    if (get) return LoginForm("", "", 200, CookieValue(req.cookie, kLoginCookie));
    // The pre-session CSRF check (double submit).
    service::StaffIdentity login_form;
    login_form.csrf_token = CookieValue(req.cookie, kLoginCookie);
    auto it = form.find("csrf");
    if (login_form.csrf_token.size() != 64 || it == form.end() ||
        !service::ConsoleService::CsrfMatches(login_form, it->second)) {
      return LoginForm("The form expired: please log in again.", "", 403);
    }
    return LoginPost(req);
  }
  auto who = service_.Authenticate(CookieValue(req.cookie, kSessionCookie));
  if (!who.ok()) {
    if (who.status().code() != util::StatusCode::kPermissionDenied) {
      return ServiceError(nullptr, who.status());
    }
    if (get) return Redirect("/login");
    return ErrorPage(nullptr, 403, "Not logged in", "Log in again.");
  }
  if (path == "/") return Redirect("/contacts");
  if (req.method == "POST") {
    auto it = form.find("csrf");
    if (it == form.end() || !service::ConsoleService::CsrfMatches(*who, it->second)) {
      return ErrorPage(&*who, 403, "Refused", "The form's security token is missing or wrong.");
    }
  }
  for (const Route& route : Routes()) {
    const bool method_ok = route.method == (get ? "GET" : "POST");
    std::string_view rest;
    bool match = false;
    if (route.path.ends_with('/')) {
      match = path.size() > route.path.size() && path.substr(0, route.path.size()) == route.path;
      if (match) rest = path.substr(route.path.size());
    } else {
      match = path == route.path;
    }
    if (!match || !method_ok) continue;
    if (route.admin_only && !who->admin()) {
      return ErrorPage(&*who, 403, "Not allowed", "This page is for admins.");
    }
    return route.handle(*this, *who, form, rest);
  }
  return ErrorPage(&*who, 404, "Not found", "No such page.");
}

ConsoleResponse ConsoleRouter::LoginForm(std::string error, std::string name, int status,
                                         std::string token) {
  const bool reuse = token.size() == 64 && std::all_of(token.begin(), token.end(), [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
  std::vector<std::uint8_t> bytes(32);
  if (!reuse) token.clear();
  if (!reuse && random_.Fill(bytes).ok()) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (auto b : bytes) {
      token += kHex[b >> 4];
      token += kHex[b & 0xF];
    }
  }
  mstch::map context{{"csrf", token}, {"name", std::move(name)}};
  if (!error.empty()) context["error"] = std::move(error);
  ConsoleResponse r = Page(nullptr, "Log in", "login.mustache", std::move(context), status);
  r.headers.emplace_back("Set-Cookie", Cookie(kLoginCookie, token));
  return r;
}

ConsoleResponse ConsoleRouter::LoginPost(const ConsoleRequest& req) {
  auto form = ParseForm(req.body);
  const std::string name = form.ok() && form->count("name") ? form->at("name") : "";
  const std::string password = form.ok() && form->count("password") ? form->at("password") : "";
  auto login = service_.Login(name, password, req.peer);
  if (!login.ok()) {
    const auto code = login.status().code();
    if (code == util::StatusCode::kPermissionDenied) {
      return LoginForm("Wrong name or password.", name, 401, CookieValue(req.cookie, kLoginCookie));
    }
    if (code == util::StatusCode::kUnavailable &&
        login.status().message().rfind("too many failed logins", 0) == 0) {
      return LoginForm("Too many failed logins: " + login.status().message().substr(24) + ".", name,
                       429, CookieValue(req.cookie, kLoginCookie));
    }
    return ServiceError(nullptr, login.status());
  }
  ConsoleResponse r = Redirect("/contacts");
  r.headers.emplace_back("Set-Cookie", Cookie(kSessionCookie, login->token));
  r.headers.emplace_back("Set-Cookie", Cookie(kLoginCookie, "", /*clear=*/true));
  return r;
}

ConsoleResponse ConsoleRouter::Contacts(const StaffIdentity& who, std::string flash) {
  auto rows = service_.Contacts(who);
  if (!rows.ok()) return ServiceError(&who, rows.status());
  mstch::array contacts;
  for (const auto& row : *rows) {
    mstch::array options;
    for (store::ContactStatus s : store::kAllContactStatuses) {
      options.push_back(mstch::map{{"value", std::string(store::ContactStatusName(s))},
                                   {"label", std::string(store::ContactStatusLabel(s))},
                                   {"selected", s == row.status}});
    }
    mstch::array reports;
    for (const auto& n : row.reports) reports.push_back(n);
    mstch::map c{
        {"phone", row.phone},         {"first", row.first_encounter},
        {"last", row.last_encounter}, {"uploads", static_cast<int>(row.reports.size())},
        {"reports", reports},         {"status", std::string(store::ContactStatusName(row.status))},
        {"note", row.note},           {"csrf", who.csrf_token},
        {"options", options}};
    if (!row.updated_by.empty()) {
      c["updated_by"] = row.updated_by;
      c["updated_at"] = UtcTime(row.updated_at);
    }
    contacts.push_back(std::move(c));
  }
  return Page(&who, "Contacts to call", "contacts.mustache",
              mstch::map{{"contacts", contacts}, {"count", static_cast<int>(rows->size())}}, 200,
              std::move(flash));
}

ConsoleResponse ConsoleRouter::ContactsCsv(const StaffIdentity& who) {
  auto csv = service_.ContactsCsv(who);
  if (!csv.ok()) return ServiceError(&who, csv.status());
  ConsoleResponse r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(*csv);
  r.headers.emplace_back("Content-Disposition", "attachment; filename=\"contacts.csv\"");
  return r;
}

ConsoleResponse ConsoleRouter::SetStatus(const StaffIdentity& who, const Form& form) {
  auto get = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  auto status = store::ParseContactStatus(get("status"));
  if (!status.ok()) return ErrorPage(&who, 400, "Refused", status.status().message());
  util::Status st = service_.SetContactStatus(who, get("phone"), *status, get("note"));
  if (!st.ok()) return ServiceError(&who, st);
  return Redirect("/contacts");
}

ConsoleResponse ConsoleRouter::Reports(const StaffIdentity& who) {
  auto reports = service_.Reports(who);
  if (!reports.ok()) return ServiceError(&who, reports.status());
  mstch::array rows;
  for (const auto& r : *reports) {
    rows.push_back(mstch::map{{"name", r.name},
                              {"received", r.received},
                              {"uploader", r.header.uploader},
                              {"entries", std::to_string(r.header.entries)},
                              {"matched", std::to_string(r.header.matched)},
                              {"mismatched", std::to_string(r.header.mismatched)},
                              {"unknown", std::to_string(r.header.unknown)}});
  }
  return Page(&who, "Reports", "reports.mustache", mstch::map{{"reports", rows}});
}

ConsoleResponse ConsoleRouter::Report(const StaffIdentity& who, std::string_view name) {
  auto report = service_.Report(who, name);
  if (!report.ok()) return ServiceError(&who, report.status());
  auto entries = [](const std::vector<service::ReportEntry>& list) {
    mstch::array out;
    for (const auto& e : list) {
      out.push_back(mstch::map{{"tempid", e.tempid},
                               {"phone", e.phone},
                               {"start", e.start},
                               {"expiry", e.expiry},
                               {"issued_start", e.issued_start},
                               {"issued_expiry", e.issued_expiry}});
    }
    return out;
  };
  return Page(&who, "Report", "report.mustache",
              mstch::map{{"name", std::string(name)},
                         {"uploader", report->header.uploader},
                         {"received", report->received},
                         {"entries", std::to_string(report->header.entries)},
                         {"matched_count", std::to_string(report->matched.size())},
                         {"mismatched_count", std::to_string(report->mismatched.size())},
                         {"unknown_count", std::to_string(report->unknown.size())},
                         {"matched", entries(report->matched)},
                         {"mismatched", entries(report->mismatched)},
                         {"unknown", entries(report->unknown)}});
}

ConsoleResponse ConsoleRouter::CodeForm(const StaffIdentity& who, std::string error,
                                        std::string typed, int status) {
  mstch::map context{{"csrf", who.csrf_token}, {"typed", std::move(typed)}};
  if (service_.upload_codes_required()) {
    context["required"] = true;
  } else {
    context["not_required"] = std::string(
        "Upload codes are not required on this server (upload.require_code is off): uploads "
        "need no code, so none is issued here.");
  }
  if (!error.empty()) context["error"] = std::move(error);
  return Page(&who, "Issue an upload code", "code.mustache", std::move(context), status);
}

ConsoleResponse ConsoleRouter::IssueCode(const StaffIdentity& who, const Form& form) {
  auto it = form.find("phone");
  const std::string typed = it == form.end() ? std::string() : it->second;
  auto issued = service_.IssueUploadCode(who, typed);
  if (!issued.ok()) {
    switch (issued.status().code()) {
      case util::StatusCode::kFailedPrecondition:
        return CodeForm(who, "", "", 409);
      case util::StatusCode::kInvalidArgument:
        return CodeForm(who, "Not a phone number: " + issued.status().message() + ".", typed, 400);
      default:
        return ServiceError(&who, issued.status());
    }
  }
  // The code goes into this one page (never a URL, a redirect or a log); every console
  // answer carries Cache-Control: no-store, so the browser keeps no copy either.
  return Page(
      &who, "Upload code issued", "code.mustache",
      mstch::map{{"csrf", who.csrf_token},
                 {"required", true},
                 {"issued", mstch::map{{"phone", issued->phone},
                                       {"code", service::FormatUploadCode(issued->code.view())},
                                       {"expires", UtcTime(issued->expires_at)}}}});
}

ConsoleResponse ConsoleRouter::Activity(const StaffIdentity& who) {
  auto days = service_.Activity(who);
  if (!days.ok()) return ServiceError(&who, days.status());
  // The newest 60 days at most in the chart; the table lists every day.
  constexpr int kBarWidth = 12, kGap = 8, kPlotHeight = 200, kTop = 24, kLeft = 8;
  const std::size_t shown = std::min<std::size_t>(days->size(), 60);
  std::uint64_t max = 1;
  for (std::size_t i = days->size() - shown; i < days->size(); ++i) {
    max = std::max({max, (*days)[i].uploads, (*days)[i].matched_contacts, (*days)[i].codes_issued});
  }
  auto height = [&](std::uint64_t v) {
    return static_cast<int>(v * static_cast<std::uint64_t>(kPlotHeight) / max);
  };
  mstch::array bars;
  int x = kLeft;
  for (std::size_t i = days->size() - shown; i < days->size(); ++i) {
    const auto& d = (*days)[i];
    const int hu = height(d.uploads), hm = height(d.matched_contacts), hc = height(d.codes_issued);
    bars.push_back(mstch::map{{"x_uploads", x},
                              {"x_matched", x + kBarWidth},
                              {"x_codes", x + 2 * kBarWidth},
                              {"y_uploads", kTop + kPlotHeight - hu},
                              {"y_matched", kTop + kPlotHeight - hm},
                              {"y_codes", kTop + kPlotHeight - hc},
                              {"h_uploads", hu},
                              {"h_matched", hm},
                              {"h_codes", hc},
                              {"bar_width", kBarWidth},
                              {"day", d.day},
                              {"label", d.day.substr(5)},
                              {"label_y", kTop + kPlotHeight + 14},
                              {"uploads", std::to_string(d.uploads)},
                              {"matched", std::to_string(d.matched_contacts)},
                              {"codes", std::to_string(d.codes_issued)}});
    x += 3 * kBarWidth + kGap;
  }
  mstch::array rows;
  for (const auto& d : *days) {
    rows.push_back(mstch::map{{"day", d.day},
                              {"uploads", std::to_string(d.uploads)},
                              {"matched", std::to_string(d.matched_contacts)},
                              {"codes", std::to_string(d.codes_issued)}});
  }
  return Page(&who, "Activity", "activity.mustache",
              mstch::map{{"days", rows},
                         {"bars", bars},
                         {"width", std::max(x + kLeft, 480)},
                         {"height", kTop + kPlotHeight + 44},
                         {"legend_y", kTop + kPlotHeight + 22},
                         {"legend_text_y", kTop + kPlotHeight + 31},
                         {"max", std::to_string(max)}});
}

ConsoleResponse ConsoleRouter::Staff(const StaffIdentity& who) {
  auto members = service_.Staff(who);
  if (!members.ok()) return ServiceError(&who, members.status());
  mstch::array rows;
  for (const auto& m : *members) {
    rows.push_back(
        mstch::map{{"name", m.name}, {"role", std::string(store::StaffRoleName(m.role))}});
  }
  return Page(&who, "Staff", "staff.mustache", mstch::map{{"staff_members", rows}});
}

ConsoleResponse ConsoleRouter::Logout(const StaffIdentity& who) {
  util::Status st = service_.Logout(who);
  if (!st.ok()) return ServiceError(&who, st);
  ConsoleResponse r = Redirect("/login");
  r.headers.emplace_back("Set-Cookie", Cookie(kSessionCookie, "", /*clear=*/true));
  return r;
}

}  // namespace bluetrace::net
