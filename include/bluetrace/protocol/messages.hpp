// The messages of the client-server protocol, versions 1 to 3 (docs/PROTOCOL.md is the
// normative description; the codes and body layouts below are the same).
//
// One struct per message and `Message`, a variant over all of them. EncodeFrame turns a
// message into one complete frame (length prefix, type byte, body); DecodeBody parses the
// body of a frame whose type byte is known. Decoders check the wire level only (lengths,
// exact consumption, TempID digits, enum ranges); semantic checks such as phone formats or
// password rules belong to the service layer. Passwords travel in util::SecretString.
//
// Pure functions over value types; thread-safe. Nothing throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/wire.hpp"
#include "bluetrace/util/secret.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

enum class MessageType : std::uint8_t {
  kHello = 0x01,
  kHelloOk = 0x02,
  kRegister = 0x10,
  kRegisterOk = 0x11,
  kLogin = 0x12,
  kWelcome = 0x13,
  kWrongPassword = 0x14,
  kBlocked = 0x15,
  kStillBlocked = 0x16,
  kBusy = 0x17,
  kDeviceLogin = 0x18,    // version 2
  kDeviceWelcome = 0x19,  // version 2
  kRateLimited = 0x1a,    // version 2
  kTempIdRequest = 0x20,
  kTempIdResponse = 0x21,
  kUploadBegin = 0x30,
  kUploadChunk = 0x31,
  kUploadEnd = 0x32,
  kUploadAck = 0x33,
  kCodedUploadBegin = 0x34,  // version 3
  kLogout = 0x40,
  kLogoutOk = 0x41,
  kDeregister = 0x42,    // version 3
  kDeregisterOk = 0x43,  // version 3
  kPing = 0x50,
  kPong = 0x51,
  kError = 0x7f,
};

// Codes carried by the Error message. 0 is not a code; decoding rejects it and every value
// not listed here.
enum class ErrorCode : std::uint16_t {
  kBadFrame = 1,              // malformed frame or body; the server closes
  kUnsupportedVersion = 2,    // no common protocol version; the server closes
  kUnknownMessage = 3,        // undefined message type; the server closes
  kUnexpectedMessage = 4,     // valid message, wrong state (e.g. TempIdRequest before login)
  kInvalidArgument = 5,       // a field fails a semantic check (phone number, password rules)
  kNotFound = 6,              // a named thing does not exist
  kAlreadyExists = 7,         // Register for a user that exists
  kRegistrationDisabled = 8,  // the server does not accept registrations
  kRateLimited = 9,           // too many requests from this client or address
  kTooLarge = 10,             // frame or upload over the announced limit
  kBusy = 11,                 // the server cannot serve this request now; retry later
  kTimeout = 12,              // the connection was idle or slow too long; the server closes
  kInternal = 13,             // a server fault; the client may retry later
  kUploadCodeRequired = 14,   // uploads need a code, which needs protocol version 3
  kWrongUploadCode = 15,      // the code is wrong, used, expired or another user's
  kUploadQuota = 16,          // the user's uploads in the last 24 hours reached the limit
};

// HelloOk.flags (version 3 and later).
inline constexpr std::uint8_t kHelloFlagUploadCodeRequired = 0x01;

// The text the server sends in Welcome (docs/ORIGINAL.md §5).
inline constexpr std::string_view kWelcomeText = "Welcome to the BlueTrace Simulator!";

struct Hello {
  static constexpr MessageType kType = MessageType::kHello;
  std::uint16_t min_version = kMinProtocolVersion;
  std::uint16_t max_version = kProtocolVersion;
  std::string software;  // e.g. "bluetrace-client 0.1.0"; informational
  friend bool operator==(const Hello&, const Hello&) = default;
};
struct HelloOk {
  static constexpr MessageType kType = MessageType::kHelloOk;
  std::uint16_t version = kProtocolVersion;
  std::string software;
  std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes;  // largest N the server accepts
  std::uint64_t max_upload_bytes = 0;                     // largest UploadBegin.total_bytes
  // Version 3 and later: on the wire only when `version` >= 3 (kHelloFlag*).
  std::uint8_t flags = 0;
  friend bool operator==(const HelloOk&, const HelloOk&) = default;
};
struct Register {
  static constexpr MessageType kType = MessageType::kRegister;
  std::string user;
  util::SecretString password;
  friend bool operator==(const Register&, const Register&) = default;
};
struct RegisterOk {
  static constexpr MessageType kType = MessageType::kRegisterOk;
  std::string user;  // canonical form
  friend bool operator==(const RegisterOk&, const RegisterOk&) = default;
};
struct Login {
  static constexpr MessageType kType = MessageType::kLogin;
  std::string user;
  util::SecretString password;
  friend bool operator==(const Login&, const Login&) = default;
};
// Version 2's login: Login plus the device token this server issued to this device at an
// earlier login for this user (empty when it has none).
struct DeviceLogin {
  static constexpr MessageType kType = MessageType::kDeviceLogin;
  std::string user;
  util::SecretString password;
  util::SecretString device_token;
  friend bool operator==(const DeviceLogin&, const DeviceLogin&) = default;
};
// Version 2's answer to a right DeviceLogin: Welcome plus a new device token to keep for
// this server and user, or empty when the token the client sent stays valid.
struct DeviceWelcome {
  static constexpr MessageType kType = MessageType::kDeviceWelcome;
  std::string user;
  std::string text;
  util::SecretString device_token;
  friend bool operator==(const DeviceWelcome&, const DeviceWelcome&) = default;
};
struct Welcome {
  static constexpr MessageType kType = MessageType::kWelcome;
  std::string user;  // canonical form
  std::string text;  // kWelcomeText
  friend bool operator==(const Welcome&, const Welcome&) = default;
};
struct WrongPassword {
  static constexpr MessageType kType = MessageType::kWrongPassword;
  std::uint8_t attempts_left = 0;  // before the account is blocked
  friend bool operator==(const WrongPassword&, const WrongPassword&) = default;
};
struct Blocked {  // this failure has just blocked the account; the server closes
  static constexpr MessageType kType = MessageType::kBlocked;
  std::uint32_t block_seconds = 0;
  friend bool operator==(const Blocked&, const Blocked&) = default;
};
struct StillBlocked {  // the account was already blocked; the server closes
  static constexpr MessageType kType = MessageType::kStillBlocked;
  std::uint32_t seconds_left = 0;
  friend bool operator==(const StillBlocked&, const StillBlocked&) = default;
};
struct Busy {  // overloaded; the request was not processed
  static constexpr MessageType kType = MessageType::kBusy;
  std::uint32_t retry_after_ms = 0;
  friend bool operator==(const Busy&, const Busy&) = default;
};
// Version 2's form of Error{rate_limited}: the request was refused by a rate limit and may
// be sent again after `retry_after_ms` milliseconds.
struct RateLimited {
  static constexpr MessageType kType = MessageType::kRateLimited;
  std::uint32_t retry_after_ms = 0;
  std::string message;  // for people
  friend bool operator==(const RateLimited&, const RateLimited&) = default;
};
struct TempIdRequest {
  static constexpr MessageType kType = MessageType::kTempIdRequest;
  friend bool operator==(const TempIdRequest&, const TempIdRequest&) = default;
};
struct TempIdResponse {
  static constexpr MessageType kType = MessageType::kTempIdResponse;
  TempId id;                     // 20 ASCII digits on the wire, no length prefix
  std::int64_t start_unix = 0;   // seconds since the epoch, UTC
  std::int64_t expiry_unix = 0;  // inclusive
  friend bool operator==(const TempIdResponse&, const TempIdResponse&) = default;
};
struct UploadBegin {
  static constexpr MessageType kType = MessageType::kUploadBegin;
  std::uint64_t total_bytes = 0;  // of the contact-log text that the chunks will carry
  friend bool operator==(const UploadBegin&, const UploadBegin&) = default;
};
// Version 3's UploadBegin: the upload code the health authority gave the user (as typed;
// empty when the server does not require one).
struct CodedUploadBegin {
  static constexpr MessageType kType = MessageType::kCodedUploadBegin;
  std::uint64_t total_bytes = 0;
  util::SecretString code;
  friend bool operator==(const CodedUploadBegin&, const CodedUploadBegin&) = default;
};
struct UploadChunk {
  static constexpr MessageType kType = MessageType::kUploadChunk;
  std::string data;  // the next bytes of the contact log; boundaries are arbitrary
  friend bool operator==(const UploadChunk&, const UploadChunk&) = default;
};
struct UploadEnd {
  static constexpr MessageType kType = MessageType::kUploadEnd;
  friend bool operator==(const UploadEnd&, const UploadEnd&) = default;
};
struct UploadAck {
  static constexpr MessageType kType = MessageType::kUploadAck;
  std::uint32_t entries_received = 0;
  friend bool operator==(const UploadAck&, const UploadAck&) = default;
};
struct Logout {
  static constexpr MessageType kType = MessageType::kLogout;
  friend bool operator==(const Logout&, const Logout&) = default;
};
struct LogoutOk {
  static constexpr MessageType kType = MessageType::kLogoutOk;
  friend bool operator==(const LogoutOk&, const LogoutOk&) = default;
};
// Version 3: withdraws consent. The logged-in user's password again; answered
// DeregisterOk (and the server closes) once the account and its TempIDs are gone.
struct Deregister {
  static constexpr MessageType kType = MessageType::kDeregister;
  util::SecretString password;
  friend bool operator==(const Deregister&, const Deregister&) = default;
};
struct DeregisterOk {
  static constexpr MessageType kType = MessageType::kDeregisterOk;
  friend bool operator==(const DeregisterOk&, const DeregisterOk&) = default;
};
struct Ping {
  static constexpr MessageType kType = MessageType::kPing;
  std::uint64_t nonce = 0;
  friend bool operator==(const Ping&, const Ping&) = default;
};
struct Pong {
  static constexpr MessageType kType = MessageType::kPong;
  std::uint64_t nonce = 0;  // the Ping's nonce
  friend bool operator==(const Pong&, const Pong&) = default;
};
struct Error {
  static constexpr MessageType kType = MessageType::kError;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // for people; clients must act on `code` only
  friend bool operator==(const Error&, const Error&) = default;
};

// Move-only, because Register and Login hold SecretStrings.
using Message =
    std::variant<Hello, HelloOk, Register, RegisterOk, Login, Welcome, WrongPassword, Blocked,
                 StillBlocked, Busy, TempIdRequest, TempIdResponse, UploadBegin, UploadChunk,
                 UploadEnd, UploadAck, Logout, LogoutOk, Ping, Pong, Error, DeviceLogin,
                 DeviceWelcome, RateLimited, CodedUploadBegin, Deregister, DeregisterOk>;

MessageType TypeOf(const Message& message);

// "Hello", "TempIdResponse", ...; "unknown" for a byte that is no message type.
std::string_view MessageName(MessageType type);
std::string_view MessageName(std::uint8_t type);
bool IsKnownMessageType(std::uint8_t type);

// "bad_frame", "unsupported_version", ...; "unknown" for a value that is no code.
std::string_view ErrorCodeName(ErrorCode code);
bool IsKnownErrorCode(std::uint16_t code);

// The complete frame: 4-byte big-endian N, the type byte, the body (N = 1 + body size).
// kInvalidArgument when a string field exceeds 65,535 bytes; kResourceExhausted when N
// would exceed `max_frame_bytes` (pass the peer's announced limit). The result may hold a
// password (Register, Login): wipe it with util::WipeString once sent.
util::Result<std::string> EncodeFrame(const Message& message,
                                      std::uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

// Parses the body of a frame of type `type`. Errors: kNotFound for a byte that is no
// message type; kInvalidArgument for a body that is truncated, has trailing bytes, holds a
// TempID that is not 20 digits or an unknown ErrorCode. Messages name the message type.
util::Result<Message> DecodeBody(std::uint8_t type, std::span<const std::uint8_t> body);
inline util::Result<Message> DecodeBody(std::uint8_t type, std::string_view body) {
  return DecodeBody(type, AsBytes(body));
}

}  // namespace bluetrace::protocol
