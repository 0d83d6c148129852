#include "bluetrace/protocol/messages.hpp"

#include <cstdio>
#include <type_traits>
#include <utility>

namespace bluetrace::protocol {
namespace {

using util::Status;

// --- bodies: one Write and one Read per message, in the order of docs/PROTOCOL.md.

void Write(WireWriter& w, const Hello& m) {
  w.PutU16(m.min_version);
  w.PutU16(m.max_version);
  w.PutString(m.software);
}
Status Read(WireReader& r, Hello& m) {
  BLUETRACE_RETURN_IF_ERROR(r.GetU16(m.min_version));
  BLUETRACE_RETURN_IF_ERROR(r.GetU16(m.max_version));
  std::string_view software;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(software));
  m.software = software;
  return Status::Ok();
}

void Write(WireWriter& w, const HelloOk& m) {
  w.PutU16(m.version);
  w.PutString(m.software);
  w.PutU32(m.max_frame_bytes);
  w.PutU64(m.max_upload_bytes);
  if (m.version >= 3) w.PutU8(m.flags);
}
Status Read(WireReader& r, HelloOk& m) {
  BLUETRACE_RETURN_IF_ERROR(r.GetU16(m.version));
  std::string_view software;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(software));
  m.software = software;
  BLUETRACE_RETURN_IF_ERROR(r.GetU32(m.max_frame_bytes));
  BLUETRACE_RETURN_IF_ERROR(r.GetU64(m.max_upload_bytes));
  m.flags = 0;
  if (m.version >= 3) return r.GetU8(m.flags);
  return Status::Ok();
}

// Register and Login share one layout: user, then password.
template <typename T>
void WriteCredentials(WireWriter& w, const T& m) {
  w.PutString(m.user);
  w.PutString(m.password.view());
}
template <typename T>
Status ReadCredentials(WireReader& r, T& m) {
  std::string_view user;
  std::string_view password;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(user));
  BLUETRACE_RETURN_IF_ERROR(r.GetString(password));
  m.user = user;
  m.password = util::SecretString(password);
  return Status::Ok();
}
void Write(WireWriter& w, const Register& m) { WriteCredentials(w, m); }
Status Read(WireReader& r, Register& m) { return ReadCredentials(r, m); }
void Write(WireWriter& w, const Login& m) { WriteCredentials(w, m); }
Status Read(WireReader& r, Login& m) { return ReadCredentials(r, m); }

void Write(WireWriter& w, const DeviceLogin& m) {
  WriteCredentials(w, m);
  w.PutString(m.device_token.view());
}
Status Read(WireReader& r, DeviceLogin& m) {
  BLUETRACE_RETURN_IF_ERROR(ReadCredentials(r, m));
  std::string_view token;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(token));
  m.device_token = util::SecretString(token);
  return Status::Ok();
}

void Write(WireWriter& w, const RegisterOk& m) { w.PutString(m.user); }
Status Read(WireReader& r, RegisterOk& m) {
  std::string_view user;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(user));
  m.user = user;
  return Status::Ok();
}

void Write(WireWriter& w, const Welcome& m) {
  w.PutString(m.user);
  w.PutString(m.text);
}
Status Read(WireReader& r, Welcome& m) {
  std::string_view user;
  std::string_view text;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(user));
  BLUETRACE_RETURN_IF_ERROR(r.GetString(text));
  m.user = user;
  m.text = text;
  return Status::Ok();
}

void Write(WireWriter& w, const DeviceWelcome& m) {
  w.PutString(m.user);
  w.PutString(m.text);
  w.PutString(m.device_token.view());
}
Status Read(WireReader& r, DeviceWelcome& m) {
  std::string_view user;
  std::string_view text;
  std::string_view token;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(user));
  BLUETRACE_RETURN_IF_ERROR(r.GetString(text));
  BLUETRACE_RETURN_IF_ERROR(r.GetString(token));
  m.user = user;
  m.text = text;
  m.device_token = util::SecretString(token);
  return Status::Ok();
}

void Write(WireWriter& w, const RateLimited& m) {
  w.PutU32(m.retry_after_ms);
  w.PutString(m.message);
}
Status Read(WireReader& r, RateLimited& m) {
  BLUETRACE_RETURN_IF_ERROR(r.GetU32(m.retry_after_ms));
  std::string_view message;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(message));
  m.message = message;
  return Status::Ok();
}

void Write(WireWriter& w, const WrongPassword& m) { w.PutU8(m.attempts_left); }
Status Read(WireReader& r, WrongPassword& m) { return r.GetU8(m.attempts_left); }
void Write(WireWriter& w, const Blocked& m) { w.PutU32(m.block_seconds); }
Status Read(WireReader& r, Blocked& m) { return r.GetU32(m.block_seconds); }
void Write(WireWriter& w, const StillBlocked& m) { w.PutU32(m.seconds_left); }
Status Read(WireReader& r, StillBlocked& m) { return r.GetU32(m.seconds_left); }
void Write(WireWriter& w, const Busy& m) { w.PutU32(m.retry_after_ms); }
Status Read(WireReader& r, Busy& m) { return r.GetU32(m.retry_after_ms); }

void Write(WireWriter& w, const TempIdResponse& m) {
  w.PutRaw(m.id.view());
  w.PutI64(m.start_unix);
  w.PutI64(m.expiry_unix);
}
Status Read(WireReader& r, TempIdResponse& m) {
  std::string_view digits;
  BLUETRACE_RETURN_IF_ERROR(r.GetRaw(TempId::kSize, digits));
  util::Result<TempId> id = TempId::Parse(digits);
  if (!id.ok()) return id.status();
  m.id = *id;
  BLUETRACE_RETURN_IF_ERROR(r.GetI64(m.start_unix));
  return r.GetI64(m.expiry_unix);
}

void Write(WireWriter& w, const UploadBegin& m) { w.PutU64(m.total_bytes); }
Status Read(WireReader& r, UploadBegin& m) { return r.GetU64(m.total_bytes); }
void Write(WireWriter& w, const CodedUploadBegin& m) {
  w.PutU64(m.total_bytes);
  w.PutString(m.code.view());
}
Status Read(WireReader& r, CodedUploadBegin& m) {
  BLUETRACE_RETURN_IF_ERROR(r.GetU64(m.total_bytes));
  std::string_view code;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(code));
  m.code = util::SecretString(code);
  return Status::Ok();
}
void Write(WireWriter& w, const Deregister& m) { w.PutString(m.password.view()); }
Status Read(WireReader& r, Deregister& m) {
  std::string_view password;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(password));
  m.password = util::SecretString(password);
  return Status::Ok();
}
void Write(WireWriter& w, const UploadChunk& m) { w.PutBlob(m.data); }
Status Read(WireReader& r, UploadChunk& m) {
  std::string_view data;
  BLUETRACE_RETURN_IF_ERROR(r.GetBlob(data));
  m.data = data;
  return Status::Ok();
}
void Write(WireWriter& w, const UploadAck& m) { w.PutU32(m.entries_received); }
Status Read(WireReader& r, UploadAck& m) { return r.GetU32(m.entries_received); }

void Write(WireWriter& w, const Ping& m) { w.PutU64(m.nonce); }
Status Read(WireReader& r, Ping& m) { return r.GetU64(m.nonce); }
void Write(WireWriter& w, const Pong& m) { w.PutU64(m.nonce); }
Status Read(WireReader& r, Pong& m) { return r.GetU64(m.nonce); }

void Write(WireWriter& w, const Error& m) {
  w.PutU16(static_cast<std::uint16_t>(m.code));
  w.PutString(m.message);
}
Status Read(WireReader& r, Error& m) {
  std::uint16_t code = 0;
  BLUETRACE_RETURN_IF_ERROR(r.GetU16(code));
  if (!IsKnownErrorCode(code)) {
    return util::InvalidArgument("unknown error code " + std::to_string(code));
  }
  m.code = static_cast<ErrorCode>(code);
  std::string_view message;
  BLUETRACE_RETURN_IF_ERROR(r.GetString(message));
  m.message = message;
  return Status::Ok();
}

// Messages without a body.
template <typename T>
requires std::is_empty_v<T>
void Write(WireWriter&, const T&) {}
template <typename T>
requires std::is_empty_v<T> Status Read(WireReader&, T&) { return Status::Ok(); }

template <typename T>
util::Result<Message> DecodeAs(std::span<const std::uint8_t> body) {
  WireReader reader(body);
  T m;
  Status st = Read(reader, m);
  if (st.ok()) st = reader.ExpectEnd();
  if (!st.ok()) return st.WithContext(MessageName(T::kType));
  return Message(std::move(m));
}

}  // namespace

MessageType TypeOf(const Message& message) {
  return std::visit([](const auto& m) { return std::decay_t<decltype(m)>::kType; }, message);
}

std::string_view MessageName(MessageType type) {
  switch (type) {
    case MessageType::kHello:
      return "Hello";
    case MessageType::kHelloOk:
      return "HelloOk";
    case MessageType::kRegister:
      return "Register";
    case MessageType::kRegisterOk:
      return "RegisterOk";
    case MessageType::kLogin:
      return "Login";
    case MessageType::kWelcome:
      return "Welcome";
    case MessageType::kDeviceLogin:
      return "DeviceLogin";
    case MessageType::kDeviceWelcome:
      return "DeviceWelcome";
    case MessageType::kRateLimited:
      return "RateLimited";
    case MessageType::kWrongPassword:
      return "WrongPassword";
    case MessageType::kBlocked:
      return "Blocked";
    case MessageType::kStillBlocked:
      return "StillBlocked";
    case MessageType::kBusy:
      return "Busy";
    case MessageType::kTempIdRequest:
      return "TempIdRequest";
    case MessageType::kTempIdResponse:
      return "TempIdResponse";
    case MessageType::kUploadBegin:
      return "UploadBegin";
    case MessageType::kUploadChunk:
      return "UploadChunk";
    case MessageType::kUploadEnd:
      return "UploadEnd";
    case MessageType::kUploadAck:
      return "UploadAck";
    case MessageType::kCodedUploadBegin:
      return "CodedUploadBegin";
    case MessageType::kDeregister:
      return "Deregister";
    case MessageType::kDeregisterOk:
      return "DeregisterOk";
    case MessageType::kLogout:
      return "Logout";
    case MessageType::kLogoutOk:
      return "LogoutOk";
    case MessageType::kPing:
      return "Ping";
    case MessageType::kPong:
      return "Pong";
    case MessageType::kError:
      return "Error";
  }
  return "unknown";
}

std::string_view MessageName(std::uint8_t type) {
  return MessageName(static_cast<MessageType>(type));
}

bool IsKnownMessageType(std::uint8_t type) { return MessageName(type) != "unknown"; }

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadFrame:
      return "bad_frame";
    case ErrorCode::kUnsupportedVersion:
      return "unsupported_version";
    case ErrorCode::kUnknownMessage:
      return "unknown_message";
    case ErrorCode::kUnexpectedMessage:
      return "unexpected_message";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kRegistrationDisabled:
      return "registration_disabled";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kUploadCodeRequired:
      return "upload_code_required";
    case ErrorCode::kWrongUploadCode:
      return "wrong_upload_code";
    case ErrorCode::kUploadQuota:
      return "upload_quota";
  }
  return "unknown";
}

bool IsKnownErrorCode(std::uint16_t code) {
  return ErrorCodeName(static_cast<ErrorCode>(code)) != "unknown";
}

util::Result<std::string> EncodeFrame(const Message& message, std::uint32_t max_frame_bytes) {
  WireWriter w;
  w.PutU32(0);  // N, patched below once the body is written
  w.PutU8(static_cast<std::uint8_t>(TypeOf(message)));
  std::visit([&w](const auto& m) { Write(w, m); }, message);
  if (!w.status().ok()) return w.status().WithContext(MessageName(TypeOf(message)));
  const std::size_t n = w.size() - kFrameHeaderBytes;
  if (n > max_frame_bytes) {
    return util::ResourceExhausted(std::string(MessageName(TypeOf(message))) + ": frame of " +
                                   std::to_string(n) + " bytes exceeds the limit of " +
                                   std::to_string(max_frame_bytes));
  }
  w.PatchU32(0, static_cast<std::uint32_t>(n));
  return w.Take();
}

util::Result<Message> DecodeBody(std::uint8_t type, std::span<const std::uint8_t> body) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kHello:
      return DecodeAs<Hello>(body);
    case MessageType::kHelloOk:
      return DecodeAs<HelloOk>(body);
    case MessageType::kRegister:
      return DecodeAs<Register>(body);
    case MessageType::kRegisterOk:
      return DecodeAs<RegisterOk>(body);
    case MessageType::kLogin:
      return DecodeAs<Login>(body);
    case MessageType::kWelcome:
      return DecodeAs<Welcome>(body);
    case MessageType::kDeviceLogin:
      return DecodeAs<DeviceLogin>(body);
    case MessageType::kDeviceWelcome:
      return DecodeAs<DeviceWelcome>(body);
    case MessageType::kRateLimited:
      return DecodeAs<RateLimited>(body);
    case MessageType::kWrongPassword:
      return DecodeAs<WrongPassword>(body);
    case MessageType::kBlocked:
      return DecodeAs<Blocked>(body);
    case MessageType::kStillBlocked:
      return DecodeAs<StillBlocked>(body);
    case MessageType::kBusy:
      return DecodeAs<Busy>(body);
    case MessageType::kTempIdRequest:
      return DecodeAs<TempIdRequest>(body);
    case MessageType::kTempIdResponse:
      return DecodeAs<TempIdResponse>(body);
    case MessageType::kUploadBegin:
      return DecodeAs<UploadBegin>(body);
    case MessageType::kUploadChunk:
      return DecodeAs<UploadChunk>(body);
    case MessageType::kUploadEnd:
      return DecodeAs<UploadEnd>(body);
    case MessageType::kUploadAck:
      return DecodeAs<UploadAck>(body);
    case MessageType::kCodedUploadBegin:
      return DecodeAs<CodedUploadBegin>(body);
    case MessageType::kDeregister:
      return DecodeAs<Deregister>(body);
    case MessageType::kDeregisterOk:
      return DecodeAs<DeregisterOk>(body);
    case MessageType::kLogout:
      return DecodeAs<Logout>(body);
    case MessageType::kLogoutOk:
      return DecodeAs<LogoutOk>(body);
    case MessageType::kPing:
      return DecodeAs<Ping>(body);
    case MessageType::kPong:
      return DecodeAs<Pong>(body);
    case MessageType::kError:
      return DecodeAs<Error>(body);
  }
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned>(type));
  return util::NotFound(std::string("unknown message type ") + hex);
}

}  // namespace bluetrace::protocol
