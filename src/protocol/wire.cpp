#include "bluetrace/protocol/wire.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "bluetrace/util/secret.hpp"

namespace bluetrace::protocol {
namespace {

template <typename T>
void PutBigEndian(T v, std::string& buffer) {
  std::array<char, sizeof(T)> bytes;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    bytes[sizeof(T) - 1 - i] = static_cast<char>(static_cast<std::uint8_t>(v & 0xffu));
    v = static_cast<T>(v >> 8);
  }
  AppendWiping(buffer, std::string_view(bytes.data(), bytes.size()));
}

template <typename T>
T FromBigEndian(std::string_view bytes) {
  T v = 0;
  for (char c : bytes) v = static_cast<T>((v << 8) | static_cast<std::uint8_t>(c));
  return v;
}

}  // namespace

void AppendWiping(std::string& buffer, std::string_view bytes) {
  const std::size_t needed = buffer.size() + bytes.size();
  if (needed > buffer.capacity()) {
    // Grow by hand so the old storage can be wiped; doubling keeps appends amortised O(1).
    std::string grown;
    grown.reserve(std::max(needed, 2 * buffer.capacity()));
    grown.append(buffer);
    util::WipeString(buffer);
    buffer = std::move(grown);
  }
  buffer.append(bytes);
}

WireWriter::~WireWriter() { util::WipeString(buffer_); }

void WireWriter::PutU8(std::uint8_t v) { PutBigEndian(v, buffer_); }
void WireWriter::PutU16(std::uint16_t v) { PutBigEndian(v, buffer_); }
void WireWriter::PutU32(std::uint32_t v) { PutBigEndian(v, buffer_); }
void WireWriter::PutU64(std::uint64_t v) { PutBigEndian(v, buffer_); }
void WireWriter::PutI64(std::int64_t v) { PutU64(static_cast<std::uint64_t>(v)); }

void WireWriter::PutString(std::string_view s) {
  if (s.size() > kMaxStringBytes) {
    if (status_.ok()) {
      status_ =
          util::InvalidArgument("string of " + std::to_string(s.size()) +
                                " bytes exceeds the limit of " + std::to_string(kMaxStringBytes));
    }
    return;
  }
  PutU16(static_cast<std::uint16_t>(s.size()));
  AppendWiping(buffer_, s);
}

void WireWriter::PutBlob(std::string_view b) {
  if (b.size() > std::numeric_limits<std::uint32_t>::max()) {
    if (status_.ok()) {
      status_ = util::InvalidArgument("blob of " + std::to_string(b.size()) +
                                      " bytes exceeds the u32 length limit");
    }
    return;
  }
  PutU32(static_cast<std::uint32_t>(b.size()));
  AppendWiping(buffer_, b);
}

void WireWriter::PutRaw(std::string_view bytes) { AppendWiping(buffer_, bytes); }

void WireWriter::PatchU32(std::size_t offset, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) {
    buffer_[offset + 3 - i] = static_cast<char>(static_cast<std::uint8_t>(v & 0xffu));
    v >>= 8;
  }
}

std::string WireWriter::Take() {
  std::string out = std::move(buffer_);
  buffer_ = std::string();
  status_ = util::Status::Ok();
  return out;
}

util::Status WireReader::Take(std::size_t n, std::string_view what, std::string_view& out) {
  if (n > remaining()) {
    return util::InvalidArgument("truncated: " + std::string(what) + " at offset " +
                                 std::to_string(offset_) + " needs " + std::to_string(n) +
                                 " bytes, " + std::to_string(remaining()) + " left");
  }
  out = data_.substr(offset_, n);
  offset_ += n;
  return util::Status::Ok();
}

util::Status WireReader::GetU8(std::uint8_t& out) {
  std::string_view b;
  BLUETRACE_RETURN_IF_ERROR(Take(1, "u8", b));
  out = FromBigEndian<std::uint8_t>(b);
  return util::Status::Ok();
}

util::Status WireReader::GetU16(std::uint16_t& out) {
  std::string_view b;
  BLUETRACE_RETURN_IF_ERROR(Take(2, "u16", b));
  out = FromBigEndian<std::uint16_t>(b);
  return util::Status::Ok();
}

util::Status WireReader::GetU32(std::uint32_t& out) {
  std::string_view b;
  BLUETRACE_RETURN_IF_ERROR(Take(4, "u32", b));
  out = FromBigEndian<std::uint32_t>(b);
  return util::Status::Ok();
}

util::Status WireReader::GetU64(std::uint64_t& out) {
  std::string_view b;
  BLUETRACE_RETURN_IF_ERROR(Take(8, "u64", b));
  out = FromBigEndian<std::uint64_t>(b);
  return util::Status::Ok();
}

util::Status WireReader::GetI64(std::int64_t& out) {
  std::string_view b;
  BLUETRACE_RETURN_IF_ERROR(Take(8, "i64", b));
  out = static_cast<std::int64_t>(FromBigEndian<std::uint64_t>(b));
  return util::Status::Ok();
}

util::Status WireReader::GetString(std::string_view& out) {
  const std::size_t start = offset_;
  std::string_view len_bytes;
  BLUETRACE_RETURN_IF_ERROR(Take(2, "string length", len_bytes));
  const std::uint16_t length = FromBigEndian<std::uint16_t>(len_bytes);
  util::Status st = Take(length, "string bytes", out);
  if (!st.ok()) offset_ = start;
  return st;
}

util::Status WireReader::GetBlob(std::string_view& out) {
  const std::size_t start = offset_;
  std::string_view len_bytes;
  BLUETRACE_RETURN_IF_ERROR(Take(4, "blob length", len_bytes));
  // The declared length is checked against what is left before anything is read or
  // allocated, so a forged length costs nothing.
  const std::uint32_t length = FromBigEndian<std::uint32_t>(len_bytes);
  util::Status st = Take(length, "blob bytes", out);
  if (!st.ok()) offset_ = start;
  return st;
}

util::Status WireReader::GetRaw(std::size_t n, std::string_view& out) {
  return Take(n, "raw bytes", out);
}

util::Status WireReader::ExpectEnd() const {
  if (remaining() == 0) return util::Status::Ok();
  return util::InvalidArgument(std::to_string(remaining()) + " trailing bytes at offset " +
                               std::to_string(offset_));
}

}  // namespace bluetrace::protocol
