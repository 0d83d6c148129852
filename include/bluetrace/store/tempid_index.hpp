// TempIdIndex: the in-memory map TempID -> (user, start, expiry) behind the TempID store,
// built to hold every line of a large tempIDs.txt (10 million records) in little memory.
//
// Layout: an open-addressing hash table with linear probing over 24-byte slots. A slot
// holds the TempID as a 128-bit integer (its low 64 bits plus the 3 high bits, packed with
// the start time), the start time, the index of the user in an interned user table and the
// validity (expiry - start) as 32 bits. Each distinct user string is stored once. The
// table keeps its load factor at or below 3/4 and doubles by rehashing, so a record costs
// 32-64 bytes of slots plus its share of the user table; Reserve() sizes it once when the
// count is known in advance (loading a file). Erase shifts later entries back (no
// tombstones), so lookups stay short after compactions.
//
// Limits (checked by Insert, kOutOfRange): expiry - start < 2^32 s (136 years), start within
// +-2^40 s of the epoch, fewer than 2^32 - 1 distinct users. The user table only grows
// (users are not dropped when their last record is erased); it is bounded by the number of
// accounts.
//
// Not thread-safe: the owner (TempIdStore) serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bluetrace/protocol/tempid.hpp"
#include "bluetrace/protocol/text_records.hpp"
#include "bluetrace/util/status.hpp"

namespace bluetrace::store {

class TempIdIndex {
 public:
  TempIdIndex() = default;
  TempIdIndex(const TempIdIndex&) = delete;
  TempIdIndex& operator=(const TempIdIndex&) = delete;
  TempIdIndex(TempIdIndex&&) noexcept = default;
  TempIdIndex& operator=(TempIdIndex&&) noexcept = default;

  // Adds a record. kAlreadyExists when its TempID is present (the index is unchanged);
  // kOutOfRange when it exceeds the limits above; kInvalidArgument when expiry < start.
  util::Status Insert(const protocol::TempIdRecord& record);

  // The record of `id`, if present.
  std::optional<protocol::TempIdRecord> Lookup(const protocol::TempId& id) const;
  bool Contains(const protocol::TempId& id) const;

  // Removes `id`; false when it was absent.
  bool Erase(const protocol::TempId& id);

  // Makes room for `records` entries in total without further rehashing.
  void Reserve(std::size_t records);

  // Calls `fn` for every record, in no particular order. `fn` must not modify the index.
  void ForEach(const std::function<void(const protocol::TempIdRecord&)>& fn) const;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return slots_.size(); }
  std::size_t user_count() const { return user_names_.size(); }

  // Approximate heap bytes held: the slot array plus the interned user table.
  std::uint64_t MemoryBytes() const;

 private:
  struct Slot {
    std::uint64_t key_lo = 0;
    // (start - kMinStart) << 8 | key_hi: the high bits of a TempID are 0-5 (10^20 < 6*2^64).
    std::uint64_t start_and_key_hi = 0;
    std::uint32_t user = kEmpty;
    std::uint32_t validity = 0;  // expiry - start
  };
  static_assert(sizeof(Slot) == 24);
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  // Slot index holding `key`, or the empty slot where it would go.
  std::size_t FindSlot(std::uint64_t lo, std::uint64_t hi) const;
  void Rehash(std::size_t new_capacity);
  protocol::TempIdRecord ToRecord(const Slot& slot) const;
  std::uint32_t InternUser(const std::string& user);

  std::vector<Slot> slots_;  // size 0 or a power of two
  std::size_t size_ = 0;
  std::unordered_map<std::string, std::uint32_t> user_ids_;
  std::vector<const std::string*> user_names_;  // keys of user_ids_ (node-stable)
};

}  // namespace bluetrace::store
