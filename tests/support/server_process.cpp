#include "support/server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "support/temp_dir.hpp"

extern char** environ;

namespace bluetrace::test {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

std::string ProgramPath(const std::string& name) {
  const char* dir = std::getenv("BLUETRACE_BIN_DIR");
  return std::string(dir ? dir : BLUETRACE_BIN_DIR_DEFAULT) + "/" + name;
}

void PrepareServerDirForTest(const std::string& dir, const std::string& config_name,
                             const std::string& extra_toml) {
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0) << dir;
  CopyOriginalSample(dir, "credentials.txt");
  CopyOriginalSample(dir, "tempIDs.txt");
  WriteFileForTest(dir + "/" + config_name,
                   "[server]\nbind_address = \"127.0.0.1\"\n"
                   "[auth]\nargon2_memory_kib = 64\nargon2_iterations = 1\n"
                   "min_password_length = 8\n"
                   "[limits]\nlogins_burst = 1000.0\ntempids_burst = 1000.0\n"
                   "connections_burst = 1000.0\n" +
                       extra_toml);
}

ServerProcess::ServerProcess(std::string binary, std::string work_dir,
                             std::vector<std::string> args)
    : out_path_(work_dir + "/server.stdout"), err_path_(work_dir + "/server.stderr") {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addchdir_np(&actions, work_dir.c_str());
  std::vector<char*> argv;
  argv.push_back(binary.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ) == 0) pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::uint16_t ServerProcess::WaitReady(const std::string& ready_file,
                                       std::chrono::milliseconds timeout) {
  std::uint16_t port = 0;
  WaitFor(
      [&] {
        if (pid_ <= 0) return true;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
          pid_ = -1;
          return true;
        }
        const std::string text = Slurp(ready_file);
        if (!text.empty() && text.back() == '\n') {
          port = static_cast<std::uint16_t>(std::stoi(text));
          return true;
        }
        return false;
      },
      timeout);
  return port;
}

int ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  WaitFor(
      [&] {
        if (pid_ <= 0) return true;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
          pid_ = -1;
          return true;
        }
        return false;
      },
      timeout);
  return pid_ > 0 ? -1 : exit_status_;
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int ServerProcess::Stop(std::chrono::milliseconds timeout) {
  Signal(SIGTERM);
  return WaitExit(timeout);
}

std::string ServerProcess::Stdout() const { return Slurp(out_path_); }
std::string ServerProcess::Stderr() const { return Slurp(err_path_); }

}  // namespace bluetrace::test
