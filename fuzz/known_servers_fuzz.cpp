// Fuzzes the client's known_servers file (KnownServers) on an in-memory file. Invariants:
// a rejected file is kCorruption naming the file and the line; in a file that parses,
// Lookup finds for every server line the fingerprint of its first line for that key, and
// that is a well-formed fingerprint; Remember re-serialises the file so that it parses to
// the same entries (the remembered one changed or added, comments kept), and remembering
// the same again changes nothing.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bluetrace/store/known_servers.hpp"
#include "memory_file_system.hpp"

namespace {

using namespace bluetrace;  // NOLINT

constexpr char kPath[] = "/home/user/.local/state/bluetrace/known_servers";
constexpr char kNewFingerprint[] =
    "SHA256:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

void Check(bool invariant) {
  if (!invariant) __builtin_trap();
}

struct Parsed {
  std::size_t lines = 0;
  std::size_t comments = 0;                         // comment and blank lines
  std::vector<std::string> keys;                    // in file order, repeats included
  std::map<std::string, std::string> fingerprints;  // the first line of each key
};

// The file as its header describes it; only called on files KnownServers accepted.
Parsed Split(std::string_view text) {
  Parsed p;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++p.lines;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') {
      ++p.comments;
      continue;
    }
    const std::size_t space = line.find(' ');
    const std::string key(line.substr(0, space));
    p.keys.push_back(key);
    p.fingerprints.emplace(key, line.substr(space + 1));
  }
  return p;
}

void CheckLookups(const store::KnownServers& known, const Parsed& p) {
  for (const auto& [key, fingerprint] : p.fingerprints) {
    auto found = known.Lookup(key);
    Check(found.ok() && found->has_value() && **found == fingerprint);
    Check(store::IsSha256Fingerprint(fingerprint));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  fuzz::MemoryFileSystem fs;
  fs.Put(kPath, content);
  store::KnownServers known(fs, kPath);
  auto probe = known.Lookup("203.0.113.7:4000");
  if (!probe.ok()) {
    Check(probe.status().code() == util::StatusCode::kCorruption);
    Check(probe.status().message().rfind(std::string(kPath) + " line ", 0) == 0);
    return 0;
  }
  const Parsed before = Split(content);
  Check(probe->has_value() == (before.fingerprints.count("203.0.113.7:4000") != 0));
  CheckLookups(known, before);

  // Replace a server's fingerprint (one from the file, chosen by the input) or add one.
  const std::string key = before.keys.empty() || size % 3 == 0
                              ? store::KnownServerKey("::1", 4000)
                              : before.keys[size % before.keys.size()];
  Check(known.Remember(key, kNewFingerprint).ok());
  const Parsed after = Split(*fs.Find(kPath));
  Parsed expected = before;
  expected.fingerprints[key] = kNewFingerprint;
  Check(after.fingerprints == expected.fingerprints);
  Check(after.comments == before.comments);
  // Lines keep their order; repeats of the key collapse into its first line.
  std::vector<std::string> expected_keys;
  bool seen = false;
  for (const std::string& k : before.keys) {
    if (k == key && seen) continue;
    seen = seen || k == key;
    expected_keys.push_back(k);
  }
  if (!seen) expected_keys.push_back(key);
  Check(after.keys == expected_keys);
  CheckLookups(known, after);

  // Remembering the same again changes no entry. (Not byte for byte: a comment ending in
  // a stray CR before its CRLF loses one CR per rewrite, as line ends are written as LF.)
  Check(known.Remember(key, kNewFingerprint).ok());
  const Parsed again = Split(*fs.Find(kPath));
  Check(again.keys == after.keys && again.fingerprints == after.fingerprints &&
        again.comments == after.comments);
  return 0;
}
