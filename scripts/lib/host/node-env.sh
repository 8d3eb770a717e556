# Sourced by scripts/bootstrap.sh and .ci/run: environment for native addons (better-sqlite3).
# node-gyp would fetch Node's headers from nodejs.org, which some machines cannot reach, and a
# user-level npmrc may point `nodedir` at another Node's headers. The Node tarball we install
# ships its headers in include/node, so point node-gyp there.
_node_bin=$(command -v node 2>/dev/null || true)
if [ -n "$_node_bin" ]; then
  _node_home=$(cd "$(dirname "$(readlink -f "$_node_bin")")/.." && pwd)
  if [ -f "$_node_home/include/node/node.h" ]; then
    export npm_config_nodedir="$_node_home"
  fi
fi
unset _node_bin _node_home
