// bluetrace-admin reports: the contact-check reports (in <state_dir>/reports/, or in the
// database with storage.backend = "postgres"), listed, summed up per day, or shown one at
// a time. Reads only; a missing reports/ is no reports.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "admin_commands.hpp"
#include "bluetrace/service/contact_check.hpp"
#include "bluetrace/store/files/file_report_store.hpp"
#include "bluetrace/store/files/state_dir.hpp"

namespace bluetrace::admin {
namespace {

struct ReportRow {
  std::string name;
  std::string received;  // ISO 8601 UTC, from the name
  service::ReportHeader header;
};

struct Counts {
  std::uint64_t reports = 0, entries = 0, matched = 0, mismatched = 0, unknown = 0;
  void Add(const service::ReportHeader& h) {
    ++reports;
    entries += h.entries;
    matched += h.matched;
    mismatched += h.mismatched;
    unknown += h.unknown;
  }
};

// "20200513T175000Z-61410888888-1.txt" -> "2020-05-13T17:50:00Z" (names are UTC).
std::string ReceivedOf(const std::string& name) {
  return name.substr(0, 4) + "-" + name.substr(4, 2) + "-" + name.substr(6, 2) + "T" +
         name.substr(9, 2) + ":" + name.substr(11, 2) + ":" + name.substr(13, 2) + "Z";
}

// reports/ of the state directory; nullptr when it does not exist yet (no reports);
// false, said on env.err, when it cannot be read or the state directory is missing.
util::Result<std::unique_ptr<store::ReportStore>> OpenReportFiles(AdminEnv& env) {
  const std::string dir = store::StateDir(env.config.state_dir).reports();
  auto exists = env.fs.Exists(dir);
  if (!exists.ok()) {
    std::fprintf(env.err, "bluetrace-admin: %s\n", exists.status().ToString().c_str());
    return exists.status();
  }
  if (!*exists) {
    if (auto state = env.fs.Exists(env.config.state_dir); !state.ok() || !*state) {
      std::fprintf(env.err, "bluetrace-admin: no state directory %s\n",
                   env.config.state_dir.c_str());
      return util::NotFound("no state directory");
    }
    return std::unique_ptr<store::ReportStore>();
  }
  auto reports = store::FileReportStore::Open(env.fs, dir);
  if (!reports.ok()) {
    std::fprintf(env.err, "bluetrace-admin: %s\n", reports.status().ToString().c_str());
    return reports.status();
  }
  return std::unique_ptr<store::ReportStore>(std::move(reports).value());
}

// Every report of `reports` with its header, oldest first; false (problems said on
// env.err) when one cannot be read.
bool ReadReportsFrom(AdminEnv& env, const store::ReportStore& reports, bool with_headers,
                     std::vector<ReportRow>& rows) {
  auto names = reports.List();
  if (!names.ok()) {
    std::fprintf(env.err, "bluetrace-admin: %s\n", names.status().ToString().c_str());
    return false;
  }
  bool ok = true;
  for (const auto& n : *names) {
    ReportRow row{n, ReceivedOf(n), {}};
    if (with_headers) {
      auto text = reports.Read(n);
      auto header = text.ok() ? service::ParseReportHeader(*text) : text.status();
      if (!header.ok()) {
        std::fprintf(env.err, "bluetrace-admin: reports/%s: %s\n", n.c_str(),
                     header.status().message().c_str());
        ok = false;
        continue;
      }
      row.header = std::move(*header);
    }
    rows.push_back(std::move(row));
  }
  return ok;
}

// Every report of the configured storage with its header, oldest first; false (problems
// said on env.err) when one cannot be read. No reports/ directory is no reports: listing
// never creates it.
bool ReadReports(AdminEnv& env, bool with_headers, std::vector<ReportRow>& rows) {
  store::Stores db;
  std::unique_ptr<store::ReportStore> files;
  store::ReportStore* reports = nullptr;
  if (OnDatabase(env)) {
    auto opened = OpenDatabase(env);
    if (!opened.ok()) {
      std::fprintf(env.err, "bluetrace-admin: %s\n", opened.status().ToString().c_str());
      return false;
    }
    db = std::move(opened).value();
    reports = db.reports.get();
  } else {
    auto opened = OpenReportFiles(env);
    if (!opened.ok()) return false;
    if (*opened == nullptr) return true;  // no reports/ yet
    files = std::move(opened).value();
    reports = files.get();
  }
  return ReadReportsFrom(env, *reports, with_headers, rows);
}

std::string JsonCounts(const Counts& c) {
  return "\"reports\": " + std::to_string(c.reports) +
         ", \"entries\": " + std::to_string(c.entries) +
         ", \"matched\": " + std::to_string(c.matched) +
         ", \"mismatched\": " + std::to_string(c.mismatched) +
         ", \"unknown\": " + std::to_string(c.unknown);
}

std::vector<std::string> CsvCounts(const std::string& first, const Counts& c) {
  return {first,
          std::to_string(c.reports),
          std::to_string(c.entries),
          std::to_string(c.matched),
          std::to_string(c.mismatched),
          std::to_string(c.unknown)};
}

}  // namespace

int ListReports(AdminEnv& env, OutputFormat format) {
  std::vector<ReportRow> rows;
  if (!ReadReports(env, format != OutputFormat::kText, rows)) return kExitFailed;
  std::string out;
  if (format == OutputFormat::kText) {
    if (rows.empty()) std::fputs("no reports\n", env.err);
    for (const auto& r : rows) out += r.name + "\n";
  } else if (format == OutputFormat::kJson) {
    out = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      out += std::string(i == 0 ? "\n" : ",\n") + "  {\"name\": " + JsonString(r.name) +
             ", \"received\": " + JsonString(r.received) +
             ", \"uploader\": " + JsonString(r.header.uploader) +
             ", \"entries\": " + std::to_string(r.header.entries) +
             ", \"matched\": " + std::to_string(r.header.matched) +
             ", \"mismatched\": " + std::to_string(r.header.mismatched) +
             ", \"unknown\": " + std::to_string(r.header.unknown) + "}";
    }
    out += rows.empty() ? "]\n" : "\n]\n";
  } else {
    out =
        CsvRecord({"name", "received", "uploader", "entries", "matched", "mismatched", "unknown"});
    for (const auto& r : rows) {
      out += CsvRecord({r.name, r.received, r.header.uploader, std::to_string(r.header.entries),
                        std::to_string(r.header.matched), std::to_string(r.header.mismatched),
                        std::to_string(r.header.unknown)});
    }
  }
  std::fputs(out.c_str(), env.out);
  return kExitOk;
}

int SummarizeReports(AdminEnv& env, OutputFormat format) {
  std::vector<ReportRow> rows;
  if (!ReadReports(env, true, rows)) return kExitFailed;
  std::map<std::string, Counts> days;  // "YYYY-MM-DD" (UTC) -> counts; sorted
  Counts total;
  for (const auto& r : rows) {
    days[r.received.substr(0, 10)].Add(r.header);
    total.Add(r.header);
  }
  std::string out;
  if (format == OutputFormat::kText) {
    if (rows.empty()) {
      std::fputs("no reports\n", env.err);
      return kExitOk;
    }
    auto line = [](const std::string& first, const Counts& c) {
      char buf[160];
      std::snprintf(
          buf, sizeof buf, "%-10s %8llu %8llu %8llu %10llu %8llu\n", first.c_str(),
          static_cast<unsigned long long>(c.reports), static_cast<unsigned long long>(c.entries),
          static_cast<unsigned long long>(c.matched), static_cast<unsigned long long>(c.mismatched),
          static_cast<unsigned long long>(c.unknown));
      return std::string(buf);
    };
    out = "day (UTC)   reports  entries  matched mismatched  unknown\n";
    for (const auto& [day, c] : days) out += line(day, c);
    out += line("total", total);
  } else if (format == OutputFormat::kJson) {
    out = "{\n  \"days\": [";
    bool first = true;
    for (const auto& [day, c] : days) {
      out += std::string(first ? "\n" : ",\n") + "    {\"day\": " + JsonString(day) + ", " +
             JsonCounts(c) + "}";
      first = false;
    }
    out += std::string(days.empty() ? "]" : "\n  ]") + ",\n  \"total\": {" + JsonCounts(total) +
           "}\n}\n";
  } else {
    out = CsvRecord({"day", "reports", "entries", "matched", "mismatched", "unknown"});
    for (const auto& [day, c] : days) out += CsvRecord(CsvCounts(day, c));
    out += CsvRecord(CsvCounts("total", total));
  }
  std::fputs(out.c_str(), env.out);
  return kExitOk;
}

int ShowReport(AdminEnv& env, const std::string& name) {
  if (!store::IsReportName(name)) {
    return Usage(env, "\"" + name +
                          "\" is not a report's name (<YYYYMMDD>T<HHMMSS>Z-<digits>-<n>.txt, "
                          "as `reports` lists them)");
  }
  if (OnDatabase(env)) {
    auto db = OpenDatabase(env);
    auto text = db.ok() ? db->reports->Read(name) : db.status();
    if (!text.ok()) {
      std::fprintf(env.err, "bluetrace-admin: %s\n",
                   text.status().code() == util::StatusCode::kNotFound
                       ? ("no report " + name + " in the database").c_str()
                       : text.status().ToString().c_str());
      return kExitFailed;
    }
    std::fputs(text->c_str(), env.out);
    return kExitOk;
  }
  const std::string dir = store::StateDir(env.config.state_dir).reports();
  auto text = env.fs.ReadFile(store::JoinPath(dir, name));
  if (!text.ok()) {
    std::fprintf(env.err, "bluetrace-admin: %s\n",
                 text.status().code() == util::StatusCode::kNotFound
                     ? ("no report " + name + " in " + dir).c_str()
                     : text.status().ToString().c_str());
    return kExitFailed;
  }
  std::fputs(text->c_str(), env.out);
  return kExitOk;
}

}  // namespace bluetrace::admin
