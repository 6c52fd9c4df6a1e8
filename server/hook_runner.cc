#include "server/hook_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace tidewatch::server {

namespace {

constexpr size_t kMaxOutput = 64 << 10;

// orchestrator's placeholder → environment variable names
// (go/logic/topology_recovery.go, applyEnvironmentVariables).
constexpr std::pair<const char*, const char*> kEnvironment[] = {
    {"failureType", "ORC_FAILURE_TYPE"},
    {"instanceType", "ORC_INSTANCE_TYPE"},
    {"isMaster", "ORC_IS_MASTER"},
    {"isCoMaster", "ORC_IS_CO_MASTER"},
    {"failureDescription", "ORC_FAILURE_DESCRIPTION"},
    {"command", "ORC_COMMAND"},
    {"failedHost", "ORC_FAILED_HOST"},
    {"failedPort", "ORC_FAILED_PORT"},
    {"failureCluster", "ORC_FAILURE_CLUSTER"},
    {"failureClusterAlias", "ORC_FAILURE_CLUSTER_ALIAS"},
    {"failureClusterDomain", "ORC_FAILURE_CLUSTER_DOMAIN"},
    {"countReplicas", "ORC_COUNT_REPLICAS"},
    {"isDowntimed", "ORC_IS_DOWNTIMED"},
    {"autoMasterRecovery", "ORC_AUTO_MASTER_RECOVERY"},
    {"autoIntermediateMasterRecovery", "ORC_AUTO_INTERMEDIATE_MASTER_RECOVERY"},
    {"orchestratorHost", "ORC_ORCHESTRATOR_HOST"},
    {"isSuccessful", "ORC_IS_SUCCESSFUL"},
    {"lostReplicas", "ORC_LOST_REPLICAS"},
    {"replicaHosts", "ORC_REPLICA_HOSTS"},
    {"recoveryUID", "ORC_RECOVERY_UID"},
    {"successorHost", "ORC_SUCCESSOR_HOST"},
    {"successorPort", "ORC_SUCCESSOR_PORT"},
    {"successorBinlogCoordinates", "ORC_SUCCESSOR_BINLOG_COORDINATES"},
    {"successorAlias", "ORC_SUCCESSOR_ALIAS"},
};

double MillisSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

std::string ExpandPlaceholders(const std::string& command, const HookValues& values) {
  std::string out;
  out.reserve(command.size());
  for (size_t i = 0; i < command.size();) {
    if (command[i] == '{') {
      const size_t close = command.find('}', i + 1);
      if (close != std::string::npos) {
        auto it = values.find(command.substr(i + 1, close - i - 1));
        if (it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += command[i++];
  }
  return out;
}

std::vector<std::string> HookEnvironment(const HookValues& values) {
  std::vector<std::string> env;
  for (const auto& [name, var] : kEnvironment) {
    auto it = values.find(name);
    if (it != values.end()) env.push_back(std::string(var) + "=" + it->second);
  }
  return env;
}

HookResult RunHook(const std::string& command, const HookValues& values, std::chrono::milliseconds timeout) {
  const auto started = std::chrono::steady_clock::now();
  HookResult r;
  r.command = ExpandPlaceholders(command, values);
  std::string script = r.command;
  while (!script.empty() && (script.back() == ' ' || script.back() == '\t')) script.pop_back();
  if (!script.empty() && script.back() == '&' && (script.size() < 2 || script[script.size() - 2] != '&')) {
    r.background = true;
  }

  std::vector<std::string> env_strings = HookEnvironment(values);
  std::vector<char*> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.push_back(*e);
  for (auto& s : env_strings) env.push_back(s.data());
  env.push_back(nullptr);

  int out_pipe[2] = {-1, -1};
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.exit_code = -1;
    r.output = "pipe: " + std::string(std::strerror(errno));
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills what the command started too.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::string bash = "/bin/bash", dash_c = "-c";
  char* argv[] = {bash.data(), dash_c.data(), script.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/bash", &actions, &attr, argv, env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    r.exit_code = -1;
    r.output = "cannot run /bin/bash: " + std::string(std::strerror(rc));
    return r;
  }

  const auto deadline = started + timeout;
  bool open = true;
  int status = 0;
  bool exited = false;
  while (true) {
    if (open) {
      pollfd p{out_pipe[0], POLLIN, 0};
      const int wait_ms = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
      const int n = ::poll(&p, 1, std::min(wait_ms, 100));
      if (n > 0) {
        char buf[4096];
        const ssize_t got = ::read(out_pipe[0], buf, sizeof buf);
        if (got > 0) {
          if (r.output.size() < kMaxOutput) r.output.append(buf, std::min<size_t>(got, kMaxOutput - r.output.size()));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          open = false;
        }
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) exited = true;
    // A background command's children may hold the pipe: its shell's exit is enough.
    if (exited && (!open || r.background)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      r.timed_out = true;
      ::kill(-pid, SIGKILL);
      if (!exited) ::waitpid(pid, &status, 0);
      exited = true;
      break;
    }
  }
  ::close(out_pipe[0]);
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.exit_code = 128 + WTERMSIG(status);
  }
  r.millis = MillisSince(started);
  return r;
}

}  // namespace tidewatch::server
