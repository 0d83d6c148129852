#include "bluetrace/store/postgres/pg_report_store.hpp"

#include <utility>

namespace bluetrace::store {

std::unique_ptr<PgReportStore> PgReportStore::Open(PgPool& pool) {
  return std::unique_ptr<PgReportStore>(new PgReportStore(pool));
}

Result<std::string> PgReportStore::Write(std::string_view uploader, std::int64_t received_at,
                                         std::string_view text) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  const std::string body(text);
  for (std::uint64_t n = 1; n <= kMaxPerSecond; ++n) {
    std::string name = ReportName(uploader, received_at, n);
    BLUETRACE_ASSIGN_OR_RETURN(
        auto res, conn->Exec("write report",
                             "INSERT INTO reports (name, uploader, received_at, text) "
                             "VALUES ($1, $2, $3::bigint, $4) ON CONFLICT (name) DO NOTHING",
                             {name, std::string(uploader), std::to_string(received_at), body}));
    if (res.affected_rows() == 1) return name;
  }
  return util::ResourceExhausted("too many reports for one uploader within one second");
}

Result<std::vector<std::string>> PgReportStore::List() const {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  // COLLATE "C": byte order, as the file backend sorts.
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("list reports", "SELECT name FROM reports ORDER BY name COLLATE \"C\""));
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(res.rows()));
  for (int i = 0; i < res.rows(); ++i) names.emplace_back(res.Get(i, 0));
  return names;
}

Result<std::uint64_t> PgReportStore::CountSince(std::string_view uploader,
                                                std::int64_t since) const {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(auto res,
                             conn->Exec("count reports",
                                        "SELECT count(*) FROM reports WHERE uploader = $1 AND "
                                        "received_at >= $2::bigint",
                                        {std::string(uploader), std::to_string(since)}));
  BLUETRACE_ASSIGN_OR_RETURN(const std::int64_t n, res.GetInt(0, 0));
  return static_cast<std::uint64_t>(n);
}

Result<std::uint64_t> PgReportStore::PruneBefore(std::int64_t cutoff) {
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res, conn->Exec("prune reports", "DELETE FROM reports WHERE received_at < $1",
                           {std::to_string(cutoff)}));
  return res.affected_rows();
}

Result<std::string> PgReportStore::Read(std::string_view name) const {
  if (!IsReportName(name)) {
    return util::InvalidArgument("'" + std::string(name) + "' is not a report name");
  }
  BLUETRACE_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
  BLUETRACE_ASSIGN_OR_RETURN(
      auto res,
      conn->Exec("read report", "SELECT text FROM reports WHERE name = $1", {std::string(name)}));
  if (res.rows() == 0) return util::NotFound("no report named " + std::string(name));
  return std::string(res.Get(0, 0));
}

}  // namespace bluetrace::store
