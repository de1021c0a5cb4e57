// Peer credentials of a connected Unix-domain socket, for the server's check of who connects.
// Written against the plain Node-API C interface (node_api.h) so that it needs no npm package and
// keeps working across Node versions without a rebuild.
//
//   getPeerCredentials(fd) -> { pid, uid, gid, groups }
//     Linux: getsockopt(SO_PEERCRED), and SO_PEERGROUPS for the supplementary groups. The kernel
//     records both at connect(2), so a peer that changes its ids afterwards cannot fool the check.
//     macOS: getsockopt(LOCAL_PEERCRED) (uid and groups) and LOCAL_PEERPID.
//     `groups` is empty where the kernel cannot report them; `pid` is -1 where it is unknown.
//   groupId(name) -> number | undefined
//     The gid of a group name through the system's group database (NSS included), for the socket's group.

#include <node_api.h>

#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <vector>

#if defined(__APPLE__)
#include <sys/ucred.h>
#include <sys/un.h>
#endif

namespace {

// Throws a JS Error whose message names the failed call and the system's reason; returns nullptr
// so that callers can `return ThrowErrno(...)`.
napi_value ThrowErrno(napi_env env, const char* what, int err) {
  std::string message = std::string(what) + " failed: " + strerror(err) + " (errno " + std::to_string(err) + ")";
  napi_throw_error(env, "ERR_PEER_CREDENTIALS", message.c_str());
  return nullptr;
}

napi_value ThrowType(napi_env env, const char* message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return nullptr;
}

bool SetNumber(napi_env env, napi_value object, const char* key, double value) {
  napi_value number;
  return napi_create_double(env, value, &number) == napi_ok && napi_set_named_property(env, object, key, number) == napi_ok;
}

struct PeerCredentials {
  double pid = -1;
  double uid = 0;
  double gid = 0;
  std::vector<gid_t> groups;
};

#if defined(__linux__)

// Fills `creds`; returns 0 or an errno value naming what failed in `what`.
int ReadPeerCredentials(int fd, PeerCredentials* creds, const char** what) {
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    *what = "getsockopt(SO_PEERCRED)";
    return errno;
  }
  creds->pid = cred.pid;
  creds->uid = cred.uid;
  creds->gid = cred.gid;
#if defined(SO_PEERGROUPS)
  // Asked with a guess first; ERANGE reports the size the list needs.
  std::vector<gid_t> groups(64);
  socklen_t bytes = groups.size() * sizeof(gid_t);
  int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes);
  if (rc != 0 && errno == ERANGE) {
    groups.resize(bytes / sizeof(gid_t) + 1);
    bytes = groups.size() * sizeof(gid_t);
    rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &bytes);
  }
  if (rc == 0) {
    groups.resize(bytes / sizeof(gid_t));
    creds->groups = groups;
  } else if (errno != ENOPROTOOPT) {
    // Kernels before 4.13 lack the option: then only the primary gid is known, which is not an error.
    *what = "getsockopt(SO_PEERGROUPS)";
    return errno;
  }
#endif
  return 0;
}

#elif defined(__APPLE__)

int ReadPeerCredentials(int fd, PeerCredentials* creds, const char** what) {
  struct xucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERCRED, &cred, &len) != 0) {
    *what = "getsockopt(LOCAL_PEERCRED)";
    return errno;
  }
  if (cred.cr_version != XUCRED_VERSION) {
    *what = "getsockopt(LOCAL_PEERCRED) version check";
    return EINVAL;
  }
  creds->uid = cred.cr_uid;
  // cr_groups[0] is the effective gid; the rest are the supplementary groups.
  creds->gid = cred.cr_ngroups > 0 ? cred.cr_groups[0] : 0;
  creds->groups.assign(cred.cr_groups, cred.cr_groups + cred.cr_ngroups);
  pid_t pid;
  socklen_t pid_len = sizeof(pid);
  if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &pid, &pid_len) == 0) creds->pid = pid;
  return 0;
}

#else

int ReadPeerCredentials(int, PeerCredentials*, const char** what) {
  *what = "reading peer credentials on this platform";
  return ENOSYS;
}

#endif

napi_value GetPeerCredentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  napi_valuetype type;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_number) {
    return ThrowType(env, "getPeerCredentials(fd) needs a file descriptor number");
  }
  int32_t fd;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    return ThrowType(env, "getPeerCredentials(fd) needs a non-negative file descriptor");
  }

  PeerCredentials creds;
  const char* what = "";
  int err = ReadPeerCredentials(fd, &creds, &what);
  if (err != 0) return ThrowErrno(env, what, err);

  napi_value result;
  if (napi_create_object(env, &result) != napi_ok) return nullptr;
  if (!SetNumber(env, result, "pid", creds.pid) || !SetNumber(env, result, "uid", creds.uid) ||
      !SetNumber(env, result, "gid", creds.gid)) {
    return nullptr;
  }
  napi_value groups;
  if (napi_create_array_with_length(env, creds.groups.size(), &groups) != napi_ok) return nullptr;
  for (size_t i = 0; i < creds.groups.size(); i++) {
    napi_value gid;
    if (napi_create_double(env, creds.groups[i], &gid) != napi_ok || napi_set_element(env, groups, i, gid) != napi_ok) {
      return nullptr;
    }
  }
  if (napi_set_named_property(env, result, "groups", groups) != napi_ok) return nullptr;
  return result;
}

napi_value GroupId(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  napi_valuetype type;
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_string) {
    return ThrowType(env, "groupId(name) needs a group name string");
  }
  size_t length;
  if (napi_get_value_string_utf8(env, argv[0], nullptr, 0, &length) != napi_ok) return nullptr;
  std::string name(length, '\0');
  if (napi_get_value_string_utf8(env, argv[0], &name[0], length + 1, &length) != napi_ok) return nullptr;
  if (name.find('\0') != std::string::npos) return ThrowType(env, "groupId(name): a group name cannot contain NUL");

  // getgrnam_r, not getgrnam: the buffer is ours, so nothing is shared with other threads.
  struct group entry;
  struct group* found = nullptr;
  long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
  std::vector<char> buffer(hint > 0 ? static_cast<size_t>(hint) : 4096);
  int rc;
  while ((rc = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE && buffer.size() < (1u << 24)) {
    buffer.resize(buffer.size() * 2);
  }
  // Several C libraries report "no such group" as an error code rather than a null result.
  if (rc != 0 && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM) return ThrowErrno(env, "getgrnam_r", rc);
  napi_value result;
  if (found == nullptr) {
    if (napi_get_undefined(env, &result) != napi_ok) return nullptr;
    return result;
  }
  if (napi_create_double(env, found->gr_gid, &result) != napi_ok) return nullptr;
  return result;
}

}  // namespace

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor properties[] = {
      {"getPeerCredentials", nullptr, GetPeerCredentials, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"groupId", nullptr, GroupId, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties) != napi_ok) return nullptr;
  return exports;
}
