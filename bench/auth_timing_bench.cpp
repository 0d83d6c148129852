// Prints how long FileUserStore::Verify takes for each kind of failed login, with the
// default Argon2id parameters: a wrong password for a hashed line, a wrong password for a
// plaintext line, and an unknown user. They must be indistinguishable (docs/ORIGINAL.md §6.2);
// the figures go to docs/BENCHMARKS.md.
//   auth_timing_bench [rounds]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bluetrace/store/file_system.hpp"
#include "bluetrace/store/files/file_user_store.hpp"
#include "bluetrace/util/random.hpp"

namespace {

using namespace bluetrace;  // NOLINT

struct Figures {
  double mean_ms, median_ms, p10_ms, p90_ms;
};

Figures Measure(store::FileUserStore& creds, const std::string& user, int rounds) {
  std::vector<double> ms;
  for (int i = 0; i < rounds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = creds.Verify(user, "definitely-wrong");
    const auto t1 = std::chrono::steady_clock::now();
    if (!r.ok() || *r == store::VerifyResult::kOk) std::abort();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  const auto at = [&](double q) {
    return ms[static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  return {sum / static_cast<double>(ms.size()), at(0.5), at(0.1), at(0.9)};
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 100;
  char tmpl[] = "/tmp/bluetrace-auth-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  auto& fs = store::PosixFileSystem::Instance();
  const std::string path = store::JoinPath(dir, "credentials.txt");
  if (!fs.ReplaceFileAtomically(path, "+61410666666 kara1234\n", 0600).ok()) return 1;
  auto creds =
      store::FileUserStore::Open(fs, path, store::Argon2Params{}, util::OpenSslRandom::Instance());
  if (!creds.ok()) return 1;
  if (!(*creds)->AddUser("+61410777777", "a-hashed-password").ok()) return 1;

  std::printf("FileUserStore::Verify, default Argon2id (m=19456 KiB, t=2, p=1), %d rounds\n",
              rounds);
  std::printf("%-34s %9s %9s %9s %9s\n", "case", "mean ms", "p10 ms", "median", "p90 ms");
  const std::pair<const char*, const char*> cases[] = {
      {"wrong password, Argon2id line", "+61410777777"},
      {"wrong password, plaintext line", "+61410666666"},
      {"unknown user", "+61400000000"},
      {"not a phone number", "admin"},
  };
  for (const auto& [label, user] : cases) {
    const Figures f = Measure(**creds, user, rounds);
    std::printf("%-34s %9.2f %9.2f %9.2f %9.2f\n", label, f.mean_ms, f.p10_ms, f.median_ms,
                f.p90_ms);
  }
  creds->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
