# The one native addon of model-runner: peer credentials of Unix-socket connections.
# Built by `make build` (node-gyp configure build, against the headers of the node that runs).
{
  "targets": [
    {
      "target_name": "peer_credentials",
      "sources": ["native/peer-credentials.cc"],
      "cflags": ["-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-Wall", "-Wextra"] }
    }
  ]
}
