#include "bluetrace/store/files/tempid_index.hpp"

#include "bluetrace/protocol/phone.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>
#include <utility>

namespace bluetrace::store {
namespace {

using protocol::TempId;
using protocol::TempIdRecord;

// Start times are stored biased by 2^40 s in 56 bits; either side of the epoch fits.
constexpr std::int64_t kMinStart = -(std::int64_t{1} << 40);
constexpr std::int64_t kMaxStart = std::int64_t{1} << 40;
constexpr std::size_t kMinCapacity = 16;
constexpr std::size_t kHugePage = std::size_t{2} << 20;

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

// A canonical phone number ("+" then 8-15 digits, the first not 0) as the integer of its
// digits: unique, since there is no leading zero, and it fits 50 bits.
std::optional<std::uint64_t> PhoneKey(std::string_view user) {
  const std::size_t digits = user.size() - 1;
  if (user.empty() || user[0] != '+' || digits < protocol::kMinPhoneDigits ||
      digits > protocol::kMaxPhoneDigits || user[1] == '0') {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  for (const char c : user.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// Smallest power-of-two capacity that keeps `records` at a load factor <= 3/4.
std::size_t CapacityFor(std::size_t records) {
  const std::size_t needed = records + records / 3 + 1;
  return std::bit_ceil(needed < kMinCapacity ? kMinCapacity : needed);
}

}  // namespace

TempIdIndex::SlotArray::SlotArray(std::size_t count) : size_(count) {
  const std::size_t bytes = count * sizeof(Slot);
  if (bytes < kHugePage) {
    data_ = static_cast<Slot*>(std::calloc(count, sizeof(Slot)));
    if (data_ == nullptr) throw std::bad_alloc();
    return;
  }
  // One extra huge page lets the slots start on a 2 MiB boundary. Anonymous mappings are
  // zero-filled and only take memory as they are touched.
  mapping_bytes_ = bytes + kHugePage;
  mapping_ =
      ::mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw std::bad_alloc();
  }
  const std::uintptr_t base = reinterpret_cast<std::uintptr_t>(mapping_);
  const std::uintptr_t aligned = (base + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
  data_ = reinterpret_cast<Slot*>(aligned);
  // Advisory: without transparent huge pages the index still works, only slower.
  static_cast<void>(::madvise(data_, bytes, MADV_HUGEPAGE));
}

TempIdIndex::SlotArray::~SlotArray() { Release(); }

TempIdIndex::SlotArray::SlotArray(SlotArray&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_bytes_(std::exchange(other.mapping_bytes_, 0)) {}

TempIdIndex::SlotArray& TempIdIndex::SlotArray::operator=(SlotArray&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
  }
  return *this;
}

void TempIdIndex::SlotArray::Release() {
  if (mapping_ != nullptr) {
    ::munmap(mapping_, mapping_bytes_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  size_ = 0;
  mapping_ = nullptr;
  mapping_bytes_ = 0;
}

std::size_t TempIdIndex::FindSlot(std::uint64_t lo, std::uint64_t hi) const {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>(Mix(lo, hi)) & mask;
  while (true) {
    const Slot& s = slots_[i];
    if (s.user == 0 || (s.key_lo == lo && (s.start_and_key_hi & 0xff) == hi)) return i;
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
  if (slots_[i].user != 0) {
    return util::AlreadyExists("TempID " + record.id.ToString() + " is already issued");
  }
  const std::optional<std::uint64_t> phone = PhoneKey(record.user);
  if (!phone) {
    return util::InvalidArgument("user '" + record.user + "' is not a canonical phone number");
  }
  const std::size_t u = FindUser(*phone);
  std::uint32_t user = user_slots_.empty() ? 0 : user_slots_[u].user;
  if (user == 0) {
    if (user_names_.size() >= 0xfffffffeu) {
      return util::OutOfRange("too many distinct users in the TempID index");
    }
    user = AddUser(*phone, record.user);
  }
  Slot& s = slots_[i];
  s.key_lo = lo;
  s.start_and_key_hi = (static_cast<std::uint64_t>(record.start - kMinStart) << 8) | hi;
  s.user = user;
  s.validity = static_cast<std::uint32_t>(validity);
  ++size_;
  return util::Status::Ok();
}

std::size_t TempIdIndex::FindUser(std::uint64_t phone) const {
  if (user_slots_.empty()) return 0;
  const std::size_t mask = user_slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>(Mix(phone, 0)) & mask;
  while (user_slots_[i].user != 0 && user_slots_[i].phone != phone) i = (i + 1) & mask;
  return i;
}

std::uint32_t TempIdIndex::AddUser(std::uint64_t phone, const std::string& name) {
  user_names_.push_back(name);
  const auto user = static_cast<std::uint32_t>(user_names_.size());
  // At most half full, so probes for users (one per loaded line) stay short.
  if (user_names_.size() * 2 > user_slots_.size()) {
    std::vector<UserSlot> old = std::exchange(
        user_slots_, std::vector<UserSlot>(std::max<std::size_t>(64, user_slots_.size() * 2)));
    for (const UserSlot& slot : old) {
      if (slot.user != 0) user_slots_[FindUser(slot.phone)] = slot;
    }
  }
  user_slots_[FindUser(phone)] = UserSlot{phone, user};
  return user;
}

void TempIdIndex::Prefetch(const TempIdRecord& record) const {
  if (slots_.size() == 0) return;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(record.id, lo, hi);
  const std::size_t i = static_cast<std::size_t>(Mix(lo, hi)) & (slots_.size() - 1);
  __builtin_prefetch(&slots_[i], 1);
  const std::optional<std::uint64_t> phone = PhoneKey(record.user);
  if (phone && !user_slots_.empty()) {
    __builtin_prefetch(
        &user_slots_[static_cast<std::size_t>(Mix(*phone, 0)) & (user_slots_.size() - 1)]);
  }
}

std::optional<TempIdRecord> TempIdIndex::Lookup(const TempId& id) const {
  if (size_ == 0) return std::nullopt;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(id, lo, hi);
  const Slot& s = slots_[FindSlot(lo, hi)];
  if (s.user == 0) return std::nullopt;
  return ToRecord(s, id);
}

bool TempIdIndex::Contains(const TempId& id) const {
  if (size_ == 0) return false;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(id, lo, hi);
  return slots_[FindSlot(lo, hi)].user != 0;
}

bool TempIdIndex::Erase(const TempId& id) {
  if (size_ == 0) return false;
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  SplitKey(id, lo, hi);
  std::size_t hole = FindSlot(lo, hi);
  if (slots_[hole].user == 0) return false;

  // Backward-shift deletion: move every later entry of the probe run whose home lies at or
  // before the hole into it, so no lookup ever stops early at the emptied slot.
  const std::size_t mask = slots_.size() - 1;
  std::size_t j = hole;
  while (true) {
    j = (j + 1) & mask;
    const Slot& s = slots_[j];
    if (s.user == 0) break;
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
  SlotArray old = std::exchange(slots_, SlotArray(new_capacity));
  const std::size_t mask = new_capacity - 1;
  for (std::size_t j = 0; j < old.size(); ++j) {
    const Slot& s = old[j];
    if (s.user == 0) continue;
    std::size_t i = static_cast<std::size_t>(Mix(s.key_lo, s.start_and_key_hi & 0xff)) & mask;
    while (slots_[i].user != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

TempIdRecord TempIdIndex::ToRecord(const Slot& s, const TempId& id) const {
  TempIdRecord r;
  r.user = user_names_[s.user - 1];
  r.id = id;
  r.start = static_cast<std::int64_t>(s.start_and_key_hi >> 8) + kMinStart;
  r.expiry = r.start + static_cast<std::int64_t>(s.validity);
  return r;
}

TempIdRecord TempIdIndex::ToRecord(const Slot& s) const {
  const protocol::TempIdInteger key =
      (static_cast<protocol::TempIdInteger>(s.start_and_key_hi & 0xff) << 64) | s.key_lo;
  return ToRecord(s, TempId::FromInteger(key));
}

void TempIdIndex::ForEach(const std::function<void(const TempIdRecord&)>& fn) const {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].user != 0) fn(ToRecord(slots_[i]));
  }
}

std::uint64_t TempIdIndex::MemoryBytes() const {
  std::uint64_t bytes = slots_.size() * sizeof(Slot) + user_slots_.capacity() * sizeof(UserSlot) +
                        user_names_.capacity() * sizeof(std::string);
  for (const std::string& name : user_names_) {
    if (name.capacity() > 15) bytes += name.capacity() + 1;  // beyond the inline buffer
  }
  return bytes;
}

}  // namespace bluetrace::store
