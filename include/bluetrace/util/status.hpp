// Status and Result<T>: errors as values at every module boundary.
//
// A Status is either OK or an error code plus a human-readable message that names what
// went wrong (file, line, key, field). Result<T> holds either a T or a non-OK Status.
// Neither throws; both are cheap to move. Thread-compatible: distinct objects may be
// used from distinct threads, a shared one needs external synchronisation.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bluetrace::util {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,     // malformed input from a caller, a client or a file
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a unique thing exists already
  kCorruption,          // stored data violates its own format
  kIoError,             // the operating system refused (errno text in the message)
  kResourceExhausted,   // a configured limit was reached
  kPermissionDenied,    // not allowed (file modes, authentication)
  kUnavailable,         // temporarily unable; retrying later may succeed
  kFailedPrecondition,  // the system is not in a state where this is allowed
  kOutOfRange,          // a value lies outside its permitted range
  kInternal,            // an invariant of ours broke
};

// Short lower-case name of a code, e.g. "invalid argument".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK" or "<code name>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a value or a non-OK Status. Accessing value() of an error is a programming bug
// (asserted in debug builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace bluetrace::util

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define BLUETRACE_RETURN_IF_ERROR(expr)     \
  do {                                      \
    ::bluetrace::util::Status _st = (expr); \
    if (!_st.ok()) return _st;              \
  } while (false)

// `BLUETRACE_ASSIGN_OR_RETURN(auto x, Open(...));` evaluates a Result<T>, returns its
// Status from the enclosing function when it is an error, and otherwise moves the value
// into the declaration (or assignable expression) on the left.
#define BLUETRACE_ASSIGN_OR_RETURN(lhs, expr) \
  BLUETRACE_ASSIGN_OR_RETURN_IMPL(BLUETRACE_STATUS_CONCAT(_result_, __LINE__), lhs, expr)
#define BLUETRACE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
#define BLUETRACE_STATUS_CONCAT(a, b) BLUETRACE_STATUS_CONCAT_INNER(a, b)
#define BLUETRACE_STATUS_CONCAT_INNER(a, b) a##b
