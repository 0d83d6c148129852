// Replays a libFuzzer corpus through LLVMFuzzerTestOneInput without libFuzzer, so the g++
// build re-checks every corpus under CTest. Usage: <target>_replay <file-or-dir>...
// Exit status 0 when every input ran (a crash aborts the process, failing the test); 1 on a
// usage error or an empty corpus.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool RunFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << p << "\n";
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " <corpus file or directory>...\n";
    return 1;
  }
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) count += RunFile(f) ? 1u : 0u;
    } else {
      count += RunFile(arg) ? 1u : 0u;
    }
  }
  // An empty input is always worth one run too.
  LLVMFuzzerTestOneInput(nullptr, 0);
  std::cout << "replayed " << count << " inputs\n";
  return count > 0 ? 0 : 1;
}
