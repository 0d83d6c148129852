#include "bluetrace/store/tempid_index.hpp"

#include <bit>
#include <utility>

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;

// Start times are stored biased by 2^40 s in 56 bits; either side of the epoch fits.
constexpr std::int64_t kMinStart = -(std::int64_t{1} << 40);
constexpr std::int64_t kMaxStart = std::int64_t{1} << 40;
constexpr std::size_t kMinCapacity = 16;

// TempIDs from the CSPRNG are uniform already, but a file may hold sequential ones (the
// original's samples do): the splitmix64 finaliser spreads them over the table.
std::uint64_t Mix(std::uint64_t lo, std::uint64_t hi) {
  std::uint64_t h = lo ^ (hi * 0x9e3779b97f4a7c15ull);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

void SplitKey(const TempId& id, std::uint64_t& lo, std::uint64_t& hi) {
  const protocol::TempIdInteger value = id.ToInteger();
  lo = static_cast<std::uint64_t>(value);
  hi = static_cast<std::uint64_t>(value >> 64);
}

// Smallest power-of-two capacity that keeps `records` at a load factor <= 3/4.
std::size_t CapacityFor(std::size_t records) {
  const std::size_t needed = records + records / 3 + 1;
  return std::bit_ceil(needed < kMinCapacity ? kMinCapacity : needed);
}

}  // namespace

std::size_t TempIdIndex::FindSlot(std::uint64_t lo, std::uint64_t hi) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>(Mix(lo, hi)) & mask;
  while (true) {
    const Slot& s = slots_[i];
    if (s.user == kEmpty || (s.key_lo == lo && (s.start_and_key_hi & 0xff) == hi)) return i;
    i = (i + 1) & mask;
  }
}

util::Status TempIdIndex::Insert(const TempIdRecord& record) {
  if (record.expiry < record.start) {
    return util::InvalidArgument("TempID " + record.id.ToString() + " expires before it starts");
  }
  if (record.start < kMinStart || record.start >= kMaxStart) {
    return util::OutOfRange("TempID " + record.id.ToString() + " start time out of range");
  }
  // expiry >= start and both are bounded above, so the difference cannot overflow.
  const std::uint64_t validity =
      static_cast<std::uint64_t>(record.expiry) - static_cast<std::uint64_t>(record.start);
  if (validity > 0xffffffffull) {
    return util::OutOfRange("TempID " + record.id.ToString() + " valid for over 2^32 seconds");
  }
  if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(CapacityFor(size_ + 1));

  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(record.id, lo, hi);
  const std::size_t i = FindSlot(lo, hi);
  if (slots_[i].user != kEmpty) {
    return util::AlreadyExists("TempID " + record.id.ToString() + " is already issued");
  }
  if (user_ids_.find(record.user) == user_ids_.end() && user_names_.size() >= kEmpty) {
    return util::OutOfRange("too many distinct users in the TempID index");
  }
  Slot& s = slots_[i];
  s.key_lo = lo;
  s.start_and_key_hi = (static_cast<std::uint64_t>(record.start - kMinStart) << 8) | hi;
  s.user = InternUser(record.user);
  s.validity = static_cast<std::uint32_t>(validity);
  ++size_;
  return util::Status::Ok();
}

std::uint32_t TempIdIndex::InternUser(const std::string& user) {
  auto [it, inserted] = user_ids_.try_emplace(user, static_cast<std::uint32_t>(user_names_.size()));
  if (inserted) user_names_.push_back(&it->first);
  return it->second;
}

std::optional<TempIdRecord> TempIdIndex::Lookup(const TempId& id) const {
  if (size_ == 0) return std::nullopt;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(id, lo, hi);
  const Slot& s = slots_[FindSlot(lo, hi)];
  if (s.user == kEmpty) return std::nullopt;
  return ToRecord(s);
}

bool TempIdIndex::Contains(const TempId& id) const {
  if (size_ == 0) return false;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(id, lo, hi);
  return slots_[FindSlot(lo, hi)].user != kEmpty;
}

bool TempIdIndex::Erase(const TempId& id) {
  if (size_ == 0) return false;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(id, lo, hi);
  std::size_t hole = FindSlot(lo, hi);
  if (slots_[hole].user == kEmpty) return false;

  // Backward-shift deletion: move every later entry of the probe run whose home lies at or
  // before the hole into it, so no lookup ever stops early at the emptied slot.
  const std::size_t mask = slots_.size() - 1;
  std::size_t j = hole;
  while (true) {
    j = (j + 1) & mask;
    const Slot& s = slots_[j];
    if (s.user == kEmpty) break;
    const std::size_t home =
        static_cast<std::size_t>(Mix(s.key_lo, s.start_and_key_hi & 0xff)) & mask;
    // Distance travelled from home to j versus from home to the hole (cyclically).
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      slots_[hole] = s;
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
  return true;
}

void TempIdIndex::Reserve(std::size_t records) {
  const std::size_t capacity = CapacityFor(records);
  if (capacity > slots_.size()) Rehash(capacity);
}

void TempIdIndex::Rehash(std::size_t new_capacity) {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(new_capacity));
  const std::size_t mask = new_capacity - 1;
  for (const Slot& s : old) {
    if (s.user == kEmpty) continue;
    std::size_t i = static_cast<std::size_t>(Mix(s.key_lo, s.start_and_key_hi & 0xff)) & mask;
    while (slots_[i].user != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

TempIdRecord TempIdIndex::ToRecord(const Slot& s) const {
  TempIdRecord r;
  r.user = *user_names_[s.user];
  const protocol::TempIdInteger key =
      (static_cast<protocol::TempIdInteger>(s.start_and_key_hi & 0xff) << 64) | s.key_lo;
  r.id = TempId::FromInteger(key);
  r.start = static_cast<std::int64_t>(s.start_and_key_hi >> 8) + kMinStart;
  r.expiry = r.start + static_cast<std::int64_t>(s.validity);
  return r;
}

void TempIdIndex::ForEach(const std::function<void(const TempIdRecord&)>& fn) const {
  for (const Slot& s : slots_) {
    if (s.user != kEmpty) fn(ToRecord(s));
  }
}

std::uint64_t TempIdIndex::MemoryBytes() const {
  // Per user: the map node (key string, value, next pointer, cached hash), its bucket and
  // the name pointer; plus the string's heap buffer when it outgrows the inline one.
  constexpr std::uint64_t kPerUser = sizeof(std::string) + 4 + 8 + 8 + 8 + 8 + 16;
  std::uint64_t bytes = slots_.capacity() * sizeof(Slot);
  bytes += user_names_.size() * kPerUser + user_ids_.bucket_count() * sizeof(void*);
  for (const std::string* name : user_names_) {
    if (name->capacity() > 15) bytes += name->capacity() + 1;
  }
  return bytes;
}

}  // namespace bluetrace::store
