// TempIdIndex: the in-memory map TempID -> (user, start, expiry) behind the TempID store,
// built to hold every line of a large tempIDs.txt (10 million records) in little memory.
//
// Layout: an open-addressing hash table with linear probing over 24-byte slots. A slot
// holds the TempID as a 128-bit integer (its low 64 bits plus the 3 high bits, packed with
// the start time), the start time, the number of the user in a user table and the validity
// (expiry - start) as 32 bits. Users are canonical phone numbers (protocol/phone.hpp), kept
// once each and found by the integer of their digits, so loading never compares strings.
// The slot table keeps its load factor at or below 3/4 and doubles by rehashing, so a record
// costs 32-64 bytes of slots plus its share of the user table; Reserve() sizes it once when
// the count is known in advance (loading a file). Erase shifts later entries back (no
// tombstones), so lookups stay short after compactions.
//
// Limits (checked by Insert, kOutOfRange): expiry - start < 2^32 s (136 years), start within
// +-2^40 s of the epoch, fewer than 2^32 - 1 distinct users. The user table only grows
// (users are not dropped when their last record is erased); it is bounded by the number of
// accounts.
//
// Not thread-safe: the owner (FileTempIdStore) serialises access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
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
  // kOutOfRange when it exceeds the limits above; kInvalidArgument when expiry < start or
  // the user is not a canonical phone number.
  util::Status Insert(const protocol::TempIdRecord& record);

  // Starts fetching the memory `record` will touch without waiting for it. Bulk loads call
  // this a few records ahead of Insert so that the cache misses of a large table overlap
  // (one random memory access costs several hundred nanoseconds on a busy virtual machine).
  void Prefetch(const protocol::TempIdRecord& record) const;

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
  struct Slot {  // all zeros = empty
    std::uint64_t key_lo = 0;
    // (start - kMinStart) << 8 | key_hi: the high bits of a TempID are 0-5 (10^20 < 6*2^64).
    std::uint64_t start_and_key_hi = 0;
    std::uint32_t user = 0;      // 1 + index into user_names_; 0 marks an empty slot
    std::uint32_t validity = 0;  // expiry - start
  };
  static_assert(sizeof(Slot) == 24);

  // Zero-filled slot storage. Large arrays are mapped on transparent huge pages: random
  // probes into hundreds of megabytes otherwise miss the TLB on nearly every access, which
  // on a virtual machine made loading several times slower.
  class SlotArray {
   public:
    SlotArray() = default;
    explicit SlotArray(std::size_t count);  // throws std::bad_alloc like std::vector
    ~SlotArray();
    SlotArray(SlotArray&& other) noexcept;
    SlotArray& operator=(SlotArray&& other) noexcept;

    Slot& operator[](std::size_t i) { return data_[i]; }
    const Slot& operator[](std::size_t i) const { return data_[i]; }
    std::size_t size() const { return size_; }

   private:
    void Release();

    Slot* data_ = nullptr;
    std::size_t size_ = 0;
    void* mapping_ = nullptr;  // non-null when mmap'ed (then munmap'ed), else calloc'ed
    std::size_t mapping_bytes_ = 0;
  };

  // Slot index holding `key`, or the empty slot where it would go.
  std::size_t FindSlot(std::uint64_t lo, std::uint64_t hi) const;
  void Rehash(std::size_t new_capacity);
  protocol::TempIdRecord ToRecord(const Slot& slot, const protocol::TempId& id) const;
  protocol::TempIdRecord ToRecord(const Slot& slot) const;
  // Slot of `phone` in user_slots_ (or the empty one where it would go); 0 when empty.
  std::size_t FindUser(std::uint64_t phone) const;
  // Adds a user not yet present; returns its number (1-based).
  std::uint32_t AddUser(std::uint64_t phone, const std::string& name);

  SlotArray slots_;  // size 0 or a power of two
  std::size_t size_ = 0;
  // Users by phone number: an open-addressing table at most half full, and the names.
  struct UserSlot {
    std::uint64_t phone = 0;  // digits of the canonical number as an integer
    std::uint32_t user = 0;   // 1 + index into user_names_; 0 marks an empty slot
  };
  std::vector<UserSlot> user_slots_;  // size 0 or a power of two
  std::vector<std::string> user_names_;
};

}  // namespace bluetrace::store
