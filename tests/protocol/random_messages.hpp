// Random protocol messages for property tests: every message type, every field drawn from
// a seeded generator (tests/support/fake_random.hpp), strings from empty to the 65,535-byte
// limit, so runs are reproducible from the seed alone. Header-only, test-only.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "bluetrace/protocol/messages.hpp"
#include "support/fake_random.hpp"

namespace bluetrace::protocol::test {

class RandomMessages {
 public:
  explicit RandomMessages(std::uint64_t seed) : random_(seed) {}

  template <typename T>
  T Int() {
    std::array<std::uint8_t, sizeof(T)> bytes{};
    static_cast<void>(random_.Fill(bytes));
    std::uint64_t v = 0;
    for (std::uint8_t b : bytes) v = (v << 8) | b;
    return static_cast<T>(v);
  }

  std::uint64_t Below(std::uint64_t bound) { return Int<std::uint64_t>() % bound; }

  // Mostly short, sometimes empty, rarely at the limit; any byte values.
  std::string Bytes(std::size_t max_size) {
    std::size_t size = 0;
    switch (Below(8)) {
      case 0:
        size = 0;
        break;
      case 1:
        size = max_size;
        break;
      case 2:
        size = static_cast<std::size_t>(Below(max_size + 1));
        break;
      default:
        size = static_cast<std::size_t>(Below(std::min<std::size_t>(max_size, 40) + 1));
    }
    std::vector<std::uint8_t> bytes(size);
    static_cast<void>(random_.Fill(bytes));
    return std::string(bytes.begin(), bytes.end());
  }
  std::string String() { return Bytes(kMaxStringBytes); }

  TempId Id() {
    std::string digits(TempId::kSize, '0');
    for (char& c : digits) c = static_cast<char>('0' + Below(10));
    return TempId::Parse(digits).value();
  }

  ErrorCode Code() { return static_cast<ErrorCode>(1 + Below(16)); }

  // One message of a type chosen uniformly among them all.
  Message Next() {
    switch (Below(std::variant_size_v<Message>)) {
      case 0:
        return Hello{Int<std::uint16_t>(), Int<std::uint16_t>(), String()};
      case 1: {
        HelloOk ok{Int<std::uint16_t>(), String(), Int<std::uint32_t>(), Int<std::uint64_t>()};
        if (ok.version >= 3) ok.flags = Int<std::uint8_t>();  // on the wire from version 3
        return ok;
      }
      case 2:
        return Register{String(), util::SecretString(String())};
      case 3:
        return RegisterOk{String()};
      case 4:
        return Login{String(), util::SecretString(String())};
      case 5:
        return Welcome{String(), String()};
      case 6:
        return WrongPassword{Int<std::uint8_t>()};
      case 7:
        return Blocked{Int<std::uint32_t>()};
      case 8:
        return StillBlocked{Int<std::uint32_t>()};
      case 9:
        return Busy{Int<std::uint32_t>()};
      case 10:
        return TempIdRequest{};
      case 11:
        return TempIdResponse{Id(), Int<std::int64_t>(), Int<std::int64_t>()};
      case 12:
        return UploadBegin{Int<std::uint64_t>()};
      case 13:
        return UploadChunk{Bytes(100'000)};
      case 14:
        return UploadEnd{};
      case 15:
        return UploadAck{Int<std::uint32_t>()};
      case 16:
        return Logout{};
      case 17:
        return LogoutOk{};
      case 18:
        return Ping{Int<std::uint64_t>()};
      case 19:
        return Pong{Int<std::uint64_t>()};
      case 20:
        return Error{Code(), String()};
      case 21:
        return DeviceLogin{String(), util::SecretString(String()), util::SecretString(String())};
      case 22:
        return DeviceWelcome{String(), String(), util::SecretString(String())};
      case 23:
        return RateLimited{Int<std::uint32_t>(), String()};
      case 24:
        return CodedUploadBegin{Int<std::uint64_t>(), util::SecretString(String())};
      case 25:
        return Deregister{util::SecretString(String())};
      default:
        return DeregisterOk{};
    }
  }

 private:
  bluetrace::test::SeededRandom random_;
};

}  // namespace bluetrace::protocol::test
