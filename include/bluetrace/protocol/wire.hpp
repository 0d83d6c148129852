// Wire primitives of the client-server protocol (docs/PROTOCOL.md, "Primitive encodings"),
// and the protocol's constants, declared here once.
//
// WireWriter appends fixed-width big-endian integers, strings (u16 length + bytes), blobs
// (u32 length + bytes) and raw bytes to a buffer it owns; a value that cannot be encoded
// (a string over 65,535 bytes) records a sticky error instead of writing a wrong length.
// WireReader reads the same primitives from a borrowed byte range, checking every length
// against what is left before touching a byte; it never reads out of bounds and never
// allocates. Both are single-threaded value types; neither throws.
//
// Buffers that may carry passwords are wiped before they are freed (AppendWiping, and the
// writer's destructor), so a Login frame leaves no copies behind in freed memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "bluetrace/util/status.hpp"

namespace bluetrace::protocol {

// The protocol versions this build speaks, oldest to newest; Hello/HelloOk negotiate one.
// Version 2 adds device tokens (DeviceLogin, DeviceWelcome); version 3 upload codes
// (HelloOk's flags, CodedUploadBegin) and Deregister. Versions 1 and 2 stay served.
inline constexpr std::uint16_t kMinProtocolVersion = 1;
inline constexpr std::uint16_t kProtocolVersion = 3;
// Every frame starts with a 4-byte big-endian length N (type byte + body), excluded from N.
inline constexpr std::size_t kFrameHeaderBytes = 4;
// The default largest N either side accepts (1 MiB); the server announces its own in HelloOk.
inline constexpr std::uint32_t kDefaultMaxFrameBytes = 1u << 20;
// Strings carry a u16 length.
inline constexpr std::size_t kMaxStringBytes = 0xffff;

// Views bytes as characters and back without copying (the protocol treats both as octets).
inline std::string_view AsChars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const std::uint8_t> AsBytes(std::string_view chars) {
  return {reinterpret_cast<const std::uint8_t*>(chars.data()), chars.size()};
}

// Appends `bytes` to `buffer`. When the buffer has to grow, its old storage is wiped
// (util::WipeString) before it is released, so secrets never linger in freed memory.
void AppendWiping(std::string& buffer, std::string_view bytes);

class WireWriter {
 public:
  WireWriter() = default;
  ~WireWriter();  // wipes whatever was not taken
  WireWriter(const WireWriter&) = delete;
  WireWriter& operator=(const WireWriter&) = delete;

  void PutU8(std::uint8_t v);
  void PutU16(std::uint16_t v);
  void PutU32(std::uint32_t v);
  void PutU64(std::uint64_t v);
  void PutI64(std::int64_t v);  // two's complement, as a u64
  // u16 length + bytes. Over kMaxStringBytes: writes nothing and records kInvalidArgument.
  void PutString(std::string_view s);
  // u32 length + bytes. Over 2^32 - 1 bytes: writes nothing and records kInvalidArgument.
  void PutBlob(std::string_view b);
  // Bytes with no length (fixed-size fields such as a TempID).
  void PutRaw(std::string_view bytes);
  // Overwrites 4 bytes at `offset` (< size() - 3) with `v`: the frame length, once known.
  void PatchU32(std::size_t offset, std::uint32_t v);

  // OK, or the first encoding error.
  const util::Status& status() const { return status_; }
  std::size_t size() const { return buffer_.size(); }
  // Moves the bytes out; the writer is empty (and OK) afterwards.
  std::string Take();

 private:
  std::string buffer_;
  util::Status status_;
};

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  explicit WireReader(std::span<const std::uint8_t> data) : data_(AsChars(data)) {}

  // Each Get reads one value and advances, or returns kInvalidArgument naming the offset
  // and what was missing; on error nothing is consumed and `out` is unchanged.
  util::Status GetU8(std::uint8_t& out);
  util::Status GetU16(std::uint16_t& out);
  util::Status GetU32(std::uint32_t& out);
  util::Status GetU64(std::uint64_t& out);
  util::Status GetI64(std::int64_t& out);
  // The views point into the reader's input and live as long as it does.
  util::Status GetString(std::string_view& out);
  util::Status GetBlob(std::string_view& out);
  util::Status GetRaw(std::size_t n, std::string_view& out);

  // OK when every byte has been consumed, else kInvalidArgument ("N trailing bytes").
  util::Status ExpectEnd() const;

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return data_.size() - offset_; }

 private:
  util::Status Take(std::size_t n, std::string_view what, std::string_view& out);

  std::string_view data_;
  std::size_t offset_ = 0;
};

}  // namespace bluetrace::protocol
