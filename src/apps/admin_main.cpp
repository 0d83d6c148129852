// bluetrace-admin: maintenance of a bluetrace server's state directory, safe while the
// server runs (locking rules in admin_commands.hpp and README "Administration").
//
//   bluetrace-admin [--state-dir DIR | --config FILE] <command> [args]
//
// Exit status: 0 done, 1 the command failed (or verify found problems), 2 bad usage (an
// unknown command or option, a malformed argument, a configuration that does not parse).
#include <pwd.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "admin_commands.hpp"
#include "bluetrace/protocol/phone.hpp"
#include "bluetrace/service/server_config.hpp"
#include "bluetrace/store/file_system.hpp"
#include "bluetrace/util/clock.hpp"
#include "bluetrace/util/random.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/version.hpp"

namespace {

using namespace bluetrace;  // NOLINT: a program's main wires every layer

// Where the package installs the schema migrations (packaging/sql/ in the source tree).
constexpr char kDefaultSqlDir[] = "/usr/share/bluetrace/sql";

// One line from `in` without its line end; false at end of input.
bool ReadLine(std::FILE* in, util::SecretString& out) {
  std::string line;
  int c = 0;
  while ((c = std::fgetc(in)) != EOF && c != '\n') line += static_cast<char>(c);
  if (c == EOF && line.empty()) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  out = util::SecretString(line);
  std::fill(line.begin(), line.end(), '\0');
  return true;
}

// The terminal mode a signal at the prompt (Ctrl-C) must put back before the program
// dies, or the operator's shell stays without echo. Set before the handler is installed.
constexpr int kPromptSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
termios g_terminal_mode{};

extern "C" void RestoreTerminalAndDie(int sig) {
  tcsetattr(STDIN_FILENO, TCSANOW, &g_terminal_mode);
  signal(sig, SIG_DFL);
  raise(sig);  // delivered on return, so the shell sees the usual death by `sig`
}

// From the terminal without echo (asked twice), or the first line of stdin otherwise.
std::optional<util::SecretString> PromptPassword() {
  if (!isatty(STDIN_FILENO)) {
    util::SecretString p;
    if (!ReadLine(stdin, p)) return std::nullopt;
    return p;
  }
  if (tcgetattr(STDIN_FILENO, &g_terminal_mode) != 0) return std::nullopt;
  struct sigaction restore {};
  restore.sa_handler = RestoreTerminalAndDie;
  sigemptyset(&restore.sa_mask);
  struct sigaction previous[std::size(kPromptSignals)]{};
  for (std::size_t i = 0; i < std::size(kPromptSignals); ++i) {
    sigaction(kPromptSignals[i], &restore, &previous[i]);
  }
  termios quiet = g_terminal_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  util::SecretString first, second;
  std::fputs("New password: ", stderr);
  bool ok = ReadLine(stdin, first);
  if (ok) {
    std::fputs("\nRepeat it: ", stderr);
    ok = ReadLine(stdin, second);
  }
  std::fputs("\n", stderr);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_terminal_mode);
  for (std::size_t i = 0; i < std::size(kPromptSignals); ++i) {
    sigaction(kPromptSignals[i], &previous[i], nullptr);
  }
  if (!ok) return std::nullopt;
  if (first.view() != second.view()) {
    std::fputs("bluetrace-admin: the passwords differ\n", stderr);
    return std::nullopt;
  }
  return first;
}

std::optional<util::SecretString> ReadPassword(const std::string& password_file) {
  if (password_file.empty()) return PromptPassword();
  std::FILE* f = std::fopen(password_file.c_str(), "r");
  if (f == nullptr) {
    std::fprintf(stderr, "bluetrace-admin: cannot read %s\n", password_file.c_str());
    return std::nullopt;
  }
  util::SecretString p;
  const bool ok = ReadLine(f, p);
  std::fclose(f);
  if (!ok) return std::nullopt;
  return p;
}

// Files the tool creates or replaces take its owner, and the server must still read them:
// changes are made only as the state directory's owner (e.g. sudo -u _bluetrace). With
// `explain`, says so on stderr when it is not.
bool RunsAsStateOwner(store::FileSystem& fs, const std::string& state_dir, bool explain = true) {
  auto st = fs.Stat(state_dir);
  if (!st.ok()) {
    if (explain) {
      std::fprintf(stderr, "bluetrace-admin: cannot open the state directory %s\n",
                   state_dir.c_str());
    }
    return false;
  }
  if (st->owner == geteuid()) return true;
  if (!explain) return false;
  const passwd* owner = getpwuid(st->owner);
  std::fprintf(stderr,
               "bluetrace-admin: run this as the owner of %s, so the server can still read "
               "what it writes: sudo -u %s bluetrace-admin ...\n",
               state_dir.c_str(), owner != nullptr ? owner->pw_name : "<owner>");
  return false;
}

// CLI11 says only "A subcommand is required" for a command it does not know: name it, and
// list the commands of that level. Any other error is CLI11's own message. Returns the
// exit status (0 for --help and --version).
int UsageError(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return app.exit(e);
  const CLI::App* level = &app;
  std::string path = "bluetrace-admin";
  while (!level->get_subcommands().empty()) {  // the deepest command given
    level = level->get_subcommands().front();
    path += " " + level->get_name();
  }
  const auto subcommands = level->get_subcommands({});  // all it has; none was given
  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !subcommands.empty()) {
    std::string names;
    for (const CLI::App* sub : subcommands) names += (names.empty() ? "" : ", ") + sub->get_name();
    const auto rest = level->remaining();
    if (rest.empty()) {
      std::fprintf(stderr, "%s: a command is required: %s\n", path.c_str(), names.c_str());
    } else if (rest.front().rfind("-", 0) == 0) {
      std::fprintf(stderr, "%s: unknown option \"%s\"; the commands are: %s\n", path.c_str(),
                   rest.front().c_str(), names.c_str());
    } else {
      std::fprintf(stderr, "%s: unknown command \"%s\"; the commands are: %s\n", path.c_str(),
                   rest.front().c_str(), names.c_str());
    }
  } else {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), e.what());
  }
  std::fprintf(stderr, "Run \"%s --help\" for more.\n", path.c_str());
  return admin::kExitUsage;
}

// A UserID as the commands take it: an international phone number; with `device`, also
// "<UserID>#<device>", a lockout entry of one device as `blocked` lists it.
bool CheckUserId(const std::string& user, bool device) {
  const std::size_t hash = device ? user.find('#') : std::string::npos;
  auto phone = protocol::CanonicalPhone(user.substr(0, hash));
  if (phone.ok() && (hash == std::string::npos || hash + 1 < user.size())) return true;
  std::fprintf(stderr, "bluetrace-admin: \"%s\" is not a UserID: %s (e.g. +61410888888)\n",
               user.c_str(), phone.ok() ? "nothing follows '#'" : phone.status().message().c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bluetrace-admin: maintain a bluetrace server's state directory (safe while the "
      "server runs)"};
  app.set_version_flag("--version", std::string("bluetrace-admin ") + kVersion);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 done; 1 the command failed, or verify found a problem; 2 bad usage "
      "(command, option, argument or configuration file).");
  std::string config_file, password_file, user, report_name, format = "text";
  std::optional<std::string> state_dir, since;
  std::vector<std::string> events;
  bool summary = false;
  app.add_option("-c,--config", config_file,
                 "the server's TOML configuration (for state_dir "
                 "and the Argon2 parameters)");
  app.add_option("--state-dir", state_dir, "the server's state directory (overrides --config)");
  const auto add_format = [&format](CLI::App* cmd) {
    cmd->add_option("--format", format, "text (default), json or csv (RFC 4180)")
        ->check(CLI::IsMember({"text", "json", "csv"}));
  };

  auto* user_cmd = app.add_subcommand("user", "add, remove or re-password a user");
  user_cmd->require_subcommand(1);
  auto* add = user_cmd->add_subcommand("add", "add a user (password hashed with Argon2id)");
  auto* remove = user_cmd->add_subcommand("remove", "remove a user");
  auto* passwd = user_cmd->add_subcommand("passwd", "set a user's password (Argon2id)");
  for (auto* sub : {add, remove, passwd}) {
    sub->add_option("UserID", user, "the user's phone number, e.g. +61410888888")->required();
  }
  for (auto* sub : {add, passwd}) {
    sub->add_option("--password-file", password_file,
                    "read the password from this file's first line (default: the terminal "
                    "without echo, or stdin's first line)");
  }
  auto* code_cmd = app.add_subcommand("code", "upload codes of the health authority");
  code_cmd->require_subcommand(1);
  auto* code_issue = code_cmd->add_subcommand(
      "issue", "issue a single-use upload code for a phone number and print it once");
  code_issue->add_option("UserID", user, "the user's phone number, e.g. +61410888888")->required();
  auto* staff_cmd =
      app.add_subcommand("staff", "the web console's staff accounts: add, remove, passwd, list");
  staff_cmd->require_subcommand(1);
  std::string staff_name, staff_role = "tracer";
  auto* staff_add = staff_cmd->add_subcommand("add", "add a staff account (Argon2id)");
  auto* staff_remove = staff_cmd->add_subcommand("remove", "remove a staff account");
  auto* staff_passwd = staff_cmd->add_subcommand(
      "passwd", "set a staff account's password (ends its console sessions)");
  auto* staff_list = staff_cmd->add_subcommand("list", "list the staff accounts and roles");
  for (auto* sub : {staff_add, staff_remove, staff_passwd}) {
    sub->add_option("name", staff_name, "the staff member's name, e.g. ana.tracer")->required();
  }
  staff_add->add_option("--role", staff_role, "tracer (default) or admin")
      ->check(CLI::IsMember({"tracer", "admin"}));
  for (auto* sub : {staff_add, staff_passwd}) {
    sub->add_option("--password-file", password_file,
                    "read the password from this file's first line (default: the terminal "
                    "without echo, or stdin's first line)");
  }
  auto* unblock = app.add_subcommand("unblock", "lift a user's login blocks");
  unblock
      ->add_option("UserID", user,
                   "the user's phone number (all its blocks), or one <UserID>#<device> entry "
                   "that `blocked` lists")
      ->required();
  auto* blocked = app.add_subcommand("blocked", "list blocked users and the seconds left");
  add_format(blocked);
  auto* migrate = app.add_subcommand(
      "migrate-credentials", "replace every plaintext password by its Argon2id hash at once");
  auto* verify = app.add_subcommand(
      "verify",
      "check every state file and the audit chain, remove temporary files left by "
      "interrupted writes; exit 1 on any problem");
  auto* reports = app.add_subcommand("reports", "list the contact-check reports, oldest first");
  reports->add_flag("--summary", summary,
                    "count reports and entries (matched, mismatched, unknown) per UTC day and "
                    "in total");
  add_format(reports);
  auto* show = reports->add_subcommand("show", "print one report");
  show->add_option("name", report_name, "report file name (from the list)")->required();
  auto* audit = app.add_subcommand(
      "audit", "print the audit log with UTC times, checking its chain (changes nothing)");
  audit->add_option("--since", since,
                    "only records from this UTC time on (2020-05-13, 2020-05-13T17:50:00Z) or "
                    "of this age (30m, 12h, 7d)");
  audit->add_option("--event", events,
                    "only this event (repeatable; a trailing * matches a prefix: admin_*)");
  std::optional<std::string> prune_before;
  auto* audit_prune = audit->add_subcommand(
      "prune",
      "drop the records older than audit.retention (or --before), leaving an anchor record "
      "from which the rest of the chain verifies");
  audit_prune->add_option("--before", prune_before,
                          "drop the records before this UTC time (2020-05-13, "
                          "2020-05-13T17:50:00Z) or older than this age (730d); at least a "
                          "day ago");
  auto* compact =
      app.add_subcommand("compact", "apply the TempID retention now (only while no server runs)");
  admin::DbTarget db{"", kDefaultSqlDir};
  std::string db_dir;
  bool merge = false;
  auto* db_cmd = app.add_subcommand(
      "db", "the PostgreSQL backend's database: create its schema, move state in or out");
  db_cmd->require_subcommand(1);
  // `db migrate --config owner.toml` as well as `--config owner.toml db migrate` (set before
  // the subcommands are added, which inherit it).
  db_cmd->fallthrough();
  db_cmd->add_option("--conninfo", db.conninfo,
                     "libpq connection string replacing postgres.conninfo of --config, e.g. "
                     "\"host=/run/postgresql dbname=bluetrace\"");
  db_cmd->add_option("--sql-dir", db.sql_dir,
                     "the schema migrations (default " + std::string(kDefaultSqlDir) + ")");
  auto* db_migrate =
      db_cmd->add_subcommand("migrate", "create or update the schema (safe to repeat)");
  auto* db_import = db_cmd->add_subcommand(
      "import",
      "copy a state directory into the database in one transaction (no server may "
      "run on the directory)");
  db_import->add_option("state_dir", db_dir, "the state directory to read")->required();
  db_import->add_flag("--merge", merge,
                      "import into a database that holds state already: what it holds wins");
  auto* db_export = db_cmd->add_subcommand(
      "export", "write the database's state as a state directory (new or empty)");
  db_export->add_option("dir", db_dir, "the directory to write")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return UsageError(app, e);
  }
  if ((*add || *passwd || *remove || *code_issue) && !CheckUserId(user, false)) {
    return admin::kExitUsage;
  }
  if (*unblock && !CheckUserId(user, true)) return admin::kExitUsage;
  const admin::OutputFormat output = format == "json"  ? admin::OutputFormat::kJson
                                     : format == "csv" ? admin::OutputFormat::kCsv
                                                       : admin::OutputFormat::kText;

  service::ServerConfig config;
  auto& fs = store::PosixFileSystem::Instance();
  if (!config_file.empty()) {
    auto text = fs.ReadFile(config_file, 1 << 20);
    util::Status st =
        text.ok() ? service::ParseServerConfig(*text, config_file, config) : text.status();
    if (!st.ok()) {
      std::fprintf(stderr, "bluetrace-admin: %s\n", st.ToString().c_str());
      return admin::kExitUsage;
    }
  }
  if (state_dir) config.state_dir = *state_dir;
  if (*db_cmd) {
    admin::AdminEnv env{
        fs, util::SystemClock::Instance(), util::OpenSslRandom::Instance(), config, stdout, stderr,
        {}};
    if (*db_migrate) return admin::DbMigrate(env, db);
    if (*db_import) return admin::DbImport(env, db, db_dir, merge);
    return admin::DbExport(env, db, db_dir);
  }
  // Every command works on an existing state directory; a mistyped one is an error, never
  // an empty state reported as consistent.
  if (auto st = store::RequireStateDirectory(fs, config.state_dir); !st.ok()) {
    std::fprintf(stderr, "bluetrace-admin: %s\n", st.message().c_str());
    return admin::kExitFailed;
  }

  auto& clock = util::SystemClock::Instance();
  admin::AuditQuery audit_query;
  audit_query.events = events;
  if (since) {
    auto t = admin::ParseSince(*since, clock.NowUnixSeconds());
    if (!t.ok()) {
      std::fprintf(stderr, "bluetrace-admin: %s\n", t.status().message().c_str());
      return admin::kExitUsage;
    }
    audit_query.since = *t;
  }
  std::optional<std::int64_t> prune_cutoff;
  if (prune_before) {
    auto t = admin::ParseSince(*prune_before, clock.NowUnixSeconds());
    if (!t.ok()) {
      std::fprintf(stderr, "bluetrace-admin: --before: %s\n", t.status().message().c_str());
      return admin::kExitUsage;
    }
    prune_cutoff = *t;
  }

  admin::AdminEnv env{fs,
                      clock,
                      util::OpenSslRandom::Instance(),
                      config,
                      stdout,
                      stderr,
                      admin::ResolveOperator(admin::CurrentOperatorFacts(fs, config.state_dir),
                                             admin::SystemUserDirectory())};
  const bool changes = *add || *passwd || *remove || *unblock || *migrate || *compact ||
                       *code_issue || *staff_add || *staff_remove || *staff_passwd || *audit_prune;
  if (changes && !RunsAsStateOwner(fs, config.state_dir)) return admin::kExitFailed;
  if (*add || *passwd) {
    auto password = ReadPassword(password_file);
    if (!password) {
      std::fputs("bluetrace-admin: no password given\n", stderr);
      return admin::kExitFailed;
    }
    return *add ? admin::UserAdd(env, user, password->view())
                : admin::UserPasswd(env, user, password->view());
  }
  if (*remove) return admin::UserRemove(env, user);
  if (*code_issue) return admin::CodeIssue(env, user);
  if (*staff_add || *staff_passwd) {
    if (auto st = store::ValidateStaffName(staff_name); !st.ok()) {
      return admin::Usage(env, st.message());
    }
    auto password = ReadPassword(password_file);
    if (!password) {
      std::fputs("bluetrace-admin: no password given\n", stderr);
      return admin::kExitFailed;
    }
    return *staff_add ? admin::StaffAdd(env, staff_name, *store::ParseStaffRole(staff_role),
                                        password->view())
                      : admin::StaffPasswd(env, staff_name, password->view());
  }
  if (*staff_remove) return admin::StaffRemove(env, staff_name);
  if (*staff_list) return admin::StaffList(env);
  if (*unblock) return admin::Unblock(env, user);
  if (*blocked) return admin::ListBlocked(env, output);
  if (*migrate) return admin::MigrateCredentials(env);
  // Removing leftover temporary files takes lock files, which must not get another owner.
  if (*verify) return admin::Verify(env, RunsAsStateOwner(fs, config.state_dir, false));
  if (*show) return admin::ShowReport(env, report_name);
  if (*reports) {
    return summary ? admin::SummarizeReports(env, output) : admin::ListReports(env, output);
  }
  if (*audit_prune) return admin::AuditPrune(env, prune_cutoff);
  if (*audit) return admin::ListAudit(env, audit_query);
  if (*compact) return admin::Compact(env);
  return admin::kExitUsage;
}
