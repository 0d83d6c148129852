#include "bluetrace/service/metrics.hpp"

#include <cstdio>
#include <initializer_list>
#include <utility>

namespace bluetrace::service {

namespace {

// Appends metric families; each Family() writes the HELP and TYPE lines once.
class PromWriter {
 public:
  void Family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void Sample(const std::string& name, const std::string& labels, std::uint64_t value) {
    Line(name, labels, std::to_string(value));
  }
  void Sample(const std::string& name, const std::string& labels, std::int64_t value) {
    Line(name, labels, std::to_string(value));
  }
  void SampleSeconds(const std::string& name, const std::string& labels, std::uint64_t nanos) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9f", static_cast<double>(nanos) / 1e9);
    Line(name, labels, buf);
  }

  void Counter(const char* name, const char* help, std::uint64_t value) {
    Family(name, "counter", help);
    Sample(name, "", value);
  }
  void Gauge(const char* name, const char* help, std::int64_t value) {
    Family(name, "gauge", help);
    Sample(name, "", value);
  }
  void LabelledCounter(const char* name, const char* help, const char* label,
                       std::initializer_list<std::pair<const char*, std::uint64_t>> values) {
    Family(name, "counter", help);
    for (const auto& [key, value] : values) {
      Sample(name, std::string(label) + "=\"" + key + "\"", value);
    }
  }

  // `labels` (may be empty) are added to every sample of the histogram.
  void Histogram(const char* name, const std::string& labels,
                 const util::LatencyHistogram::Snapshot& h) {
    const std::string prefix = labels.empty() ? "" : labels + ",";
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", h.bounds[i]);
      Sample(std::string(name) + "_bucket", prefix + "le=\"" + le + "\"", h.buckets[i]);
    }
    Sample(std::string(name) + "_bucket", prefix + "le=\"+Inf\"", h.count);
    SampleSeconds(std::string(name) + "_sum", labels, h.sum_nanos);
    Sample(std::string(name) + "_count", labels, h.count);
  }

  std::string Take() { return std::move(out_); }

 private:
  void Line(const std::string& name, const std::string& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }

  std::string out_;
};

std::uint64_t Get(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }

}  // namespace

std::string RenderMetrics(const ReportingService& service, const TransportMetrics& t,
                          const store::InstrumentedFileSystem* fs) {
  const ServiceStats& s = service.stats();
  const AuthStats& a = service.auth_stats();
  PromWriter w;

  w.Gauge("bluetrace_connections_open", "TLS connections admitted and not yet closed.",
          t.connections_open);
  w.Counter("bluetrace_connections_accepted_total", "Connections admitted since start.",
            t.connections_accepted);
  w.Counter(
      "bluetrace_connections_refused_total",
      "Connections closed on accept by a connection limit (see bluetrace_rate_limited_total).",
      t.refused_total_limit + t.refused_address_limit + t.refused_rate);
  w.Counter("bluetrace_tls_handshakes_failed_total",
            "TLS handshakes that failed (not counting handshake timeouts).",
            t.tls_handshakes_failed);
  w.Counter("bluetrace_frames_in_total", "Messages decoded from clients.", t.frames_in);
  w.Counter("bluetrace_frames_out_total", "Messages written to clients.", t.frames_out);
  w.Counter("bluetrace_frame_errors_total", "Frames from clients that did not decode.",
            t.protocol_errors);
  w.Counter("bluetrace_timeouts_total",
            "Connections closed by a handshake, login, idle, write or close deadline.", t.timeouts);

  w.LabelledCounter("bluetrace_rate_limited_total",
                    "Events refused by a limit: connections in total, per address and per "
                    "address rate; logins and TempID requests per address rate.",
                    "limit",
                    {{"connections_total", t.refused_total_limit},
                     {"connections_per_address", t.refused_address_limit},
                     {"connection_rate", t.refused_rate},
                     {"login_rate", Get(a.rate_limited)},
                     {"tempid_rate", Get(s.rate_limited_tempids)}});

  w.LabelledCounter("bluetrace_logins_total",
                    "Login attempts by result: ok, failed (wrong password or unknown user), "
                    "blocked (the user is blocked), busy (the Argon2 queue was full).",
                    "result",
                    {{"ok", Get(a.logins_ok)},
                     {"failed", Get(a.logins_failed)},
                     {"blocked", Get(a.logins_blocked)},
                     {"busy", Get(a.logins_busy)}});
  w.Counter("bluetrace_password_verifications_total",
            "Passwords checked against their hash (each one an Argon2 computation).",
            Get(a.verifications));
  w.Counter("bluetrace_device_tokens_issued_total",
            "Device tokens handed to clients at a successful login (protocol version 2).",
            Get(a.device_tokens_issued));
  w.Counter("bluetrace_registrations_total", "New users registered.", Get(a.registrations));
  w.Counter("bluetrace_sessions_total", "Protocol sessions started.", Get(s.sessions_started));
  w.Counter("bluetrace_tempids_issued_total", "TempIDs issued to clients.", Get(s.tempids_issued));
  w.LabelledCounter("bluetrace_uploads_total",
                    "Contact log uploads by result: ok (checked), rejected (malformed or over a "
                    "limit).",
                    "result", {{"ok", Get(s.uploads)}, {"rejected", Get(s.uploads_rejected)}});
  w.LabelledCounter("bluetrace_upload_entries_total",
                    "Uploaded contact entries by result: matched (a known TempID, times agree), "
                    "mismatched (a known TempID, times disagree), unknown (no such TempID).",
                    "result",
                    {{"matched", Get(s.entries_matched)},
                     {"unknown", Get(s.entries_unknown)},
                     {"mismatched", Get(s.entries_mismatched)}});
  w.Counter("bluetrace_protocol_errors_total", "Messages refused in the wrong session state.",
            Get(s.protocol_errors));
  w.Counter("bluetrace_internal_errors_total", "Requests that failed inside the server.",
            Get(s.internal_errors));
  w.Counter("bluetrace_store_unavailable_total",
            "Requests answered Busy because the storage could not be reached in time.",
            Get(s.store_unavailable));

  w.Gauge("bluetrace_argon2_queue_depth", "Password hashing jobs waiting for a worker.",
          static_cast<std::int64_t>(service.auth_queue_depth()));
  w.Family("bluetrace_argon2_queue_wait_seconds", "histogram",
           "Time a password hashing job waited in the queue before a worker took it.");
  w.Histogram("bluetrace_argon2_queue_wait_seconds", "", service.auth_queue_wait().Read());

  const store::TempIdStoreStats ts = service.tempids().stats();
  w.Counter("bluetrace_tempid_store_syncs_total", "Group-commit fsyncs of tempIDs.txt.", ts.syncs);
  w.Family("bluetrace_tempid_store_sync_seconds_total", "counter",
           "Time spent in those fsyncs, including the batch's writes.");
  w.SampleSeconds("bluetrace_tempid_store_sync_seconds_total", "", ts.sync_nanos_total);
  w.Gauge("bluetrace_store_healthy",
          "1 while the TempID store accepts writes, 0 after a failed fsync.",
          service.tempids().health().ok() ? 1 : 0);
  w.Gauge("bluetrace_audit_log_healthy",
          "1 while the audit log can be written, 0 while it cannot (audited events are "
          "refused then).",
          service.audit_healthy() ? 1 : 0);
  if (fs != nullptr) {
    w.Family("bluetrace_store_fsync_seconds", "histogram",
             "Latency of durable writes of every store: op=\"sync\" is an fdatasync of an "
             "appended file, op=\"replace\" a whole atomic replace (write, fsync, rename, "
             "fsync of the directory).");
    w.Histogram("bluetrace_store_fsync_seconds", "op=\"sync\"", fs->sync_latency().Read());
    w.Histogram("bluetrace_store_fsync_seconds", "op=\"replace\"", fs->replace_latency().Read());
  }
  return w.Take();
}

}  // namespace bluetrace::service
