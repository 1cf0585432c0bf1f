# Shared helpers for deploy/local/*.sh (sourced, not executed).
# Computes AAP_REPO (repo root, two levels above this file), AAP_VAR (state dir)
# and AAP_CACHE (download cache shared between checkouts).

AAP_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
AAP_REPO="$(cd "$AAP_LOCAL_DIR/../.." && pwd -P)"
AAP_VAR="${AAP_VAR:-$AAP_REPO/var}"
mkdir -p "$AAP_VAR"
AAP_VAR="$(cd "$AAP_VAR" && pwd -P)"
AAP_CACHE="${AAP_CACHE:-${HOME:-/root}/.cache/aap}"
export AAP_REPO AAP_VAR AAP_CACHE

# pid_alive PIDFILE -> 0 if the pidfile names a live process
pid_alive() {
  local f="$1" pid
  [[ -s "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null
}

# port_open HOST PORT -> 0 if something accepts TCP connections there
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}
