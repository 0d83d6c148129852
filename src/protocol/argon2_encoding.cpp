#include "bluetrace/protocol/argon2_encoding.hpp"

#include <charconv>
#include <string>

#include "text_detail.hpp"

namespace bluetrace::protocol {
namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$v=19$";

util::Status HashError(const std::string& why) {
  return util::InvalidArgument("password hash is not a valid Argon2id encoding: " + why);
}

// Reads "<key>=<decimal>" from the front of `s`: digits only, no leading zero, fits 32 bits.
bool ConsumeParam(std::string_view& s, std::string_view key, std::uint32_t& out) {
  if (s.substr(0, key.size()) != key) return false;
  s.remove_prefix(key.size());
  std::size_t len = 0;
  while (len < s.size() && detail::IsDigit(s[len])) ++len;
  if (len == 0 || (len > 1 && s[0] == '0')) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + len, out);
  if (ec != std::errc() || end != s.data() + len) return false;
  s.remove_prefix(len);
  return true;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Decodes unpadded standard base64 as libargon2 writes and reads it: no '=', a length that
// is not 1 mod 4, and zero bits in the unused tail of the last character (so every byte
// string has exactly one accepted spelling). The decoded length must lie in [min, max].
// Errors name `field`.
util::Result<std::vector<std::uint8_t>> DecodeBase64Field(std::string_view text,
                                                          const std::string& field, std::size_t min,
                                                          std::size_t max) {
  if (text.empty()) return HashError(field + " is empty");
  for (const char c : text) {
    if (Base64Value(c) < 0) {
      return HashError(field + " contains " + detail::DescribeByte(c) +
                       ", which is not unpadded base64");
    }
  }
  const std::size_t tail = text.size() % 4;
  if (tail == 1) return HashError(field + " has an impossible base64 length");
  // 2 trailing characters carry 1 byte (4 spare bits), 3 carry 2 bytes (2 spare bits).
  const int spare_mask = tail == 2 ? 0x0f : tail == 3 ? 0x03 : 0;
  if ((Base64Value(text.back()) & spare_mask) != 0) {
    return HashError(field + " has non-zero padding bits");
  }
  const std::size_t bytes = text.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1);
  if (bytes < min) return HashError(field + " is shorter than " + std::to_string(min) + " bytes");
  if (bytes > max) return HashError(field + " is longer than " + std::to_string(max) + " bytes");
  std::vector<std::uint8_t> out;
  out.reserve(bytes);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    acc = (acc << 6) | static_cast<std::uint32_t>(Base64Value(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  return out;
}

}  // namespace

util::Status ValidateArgon2Params(const Argon2Params& params) {
  if (params.parallelism < 1 || params.parallelism > kMaxArgon2Parallelism) {
    return util::InvalidArgument("argon2 parallelism must be 1-" +
                                 std::to_string(kMaxArgon2Parallelism) + ", got " +
                                 std::to_string(params.parallelism));
  }
  if (params.iterations < 1 || params.iterations > kMaxArgon2Iterations) {
    return util::InvalidArgument("argon2 iterations must be 1-" +
                                 std::to_string(kMaxArgon2Iterations) + ", got " +
                                 std::to_string(params.iterations));
  }
  // Argon2 needs at least 8 KiB per lane.
  const std::uint32_t min_memory = 8 * params.parallelism;
  if (params.memory_kib < min_memory || params.memory_kib > kMaxArgon2MemoryKib) {
    return util::InvalidArgument("argon2 memory_kib must be " + std::to_string(min_memory) + "-" +
                                 std::to_string(kMaxArgon2MemoryKib) + ", got " +
                                 std::to_string(params.memory_kib));
  }
  return util::Status::Ok();
}

util::Result<Argon2Encoding> ParseArgon2Encoding(std::string_view encoded) {
  if (encoded.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) {
    if (encoded.substr(0, 10) != "$argon2id$") {
      return HashError("only Argon2id (\"$argon2id$\") is accepted");
    }
    return HashError("expected version \"v=19\" after \"$argon2id$\"");
  }
  std::string_view rest = encoded.substr(kArgon2idPrefix.size());
  Argon2Encoding out;
  Argon2Params& p = out.params;
  if (!ConsumeParam(rest, "m=", p.memory_kib) || !ConsumeParam(rest, ",t=", p.iterations) ||
      !ConsumeParam(rest, ",p=", p.parallelism)) {
    return HashError("expected \"m=<KiB>,t=<passes>,p=<lanes>\" in decimal");
  }
  if (const util::Status st = ValidateArgon2Params(p); !st.ok()) return HashError(st.message());
  if (rest.empty() || rest[0] != '$') return HashError("expected '$' before the salt");
  rest.remove_prefix(1);
  const std::size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos) return HashError("expected '$' between salt and hash");
  BLUETRACE_ASSIGN_OR_RETURN(out.salt, DecodeBase64Field(rest.substr(0, dollar), "salt",
                                                         kMinArgon2SaltBytes, kMaxArgon2SaltBytes));
  BLUETRACE_ASSIGN_OR_RETURN(out.hash, DecodeBase64Field(rest.substr(dollar + 1), "hash",
                                                         kMinArgon2HashBytes, kMaxArgon2HashBytes));
  return out;
}

}  // namespace bluetrace::protocol
