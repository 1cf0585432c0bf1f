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

# pid_alive PIDFILE -> 0 if the pidfile names a live process. A process killed but not yet
# reaped by its parent (a zombie, state Z) still answers `kill -0`: it is dead all the same.
pid_alive() {
  local f="$1" pid state
  [[ -s "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    # the field after the command name in parentheses (which may itself hold spaces)
    state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo '?')"
    [[ "$state" != "Z" && "$state" != "X" ]] || return 1
  fi
  return 0
}

# ephemeral_port PORT -> 0 if PORT lies in the range the kernel gives clients as source ports:
# a server there can find it taken by a client's own socket (a retry that connects to itself).
ephemeral_port() {
  local low high
  read -r low high < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 1
  (( $1 >= low && $1 <= high ))
}

# port_held PORT -> 0 if some socket (listening, connected or in TIME-WAIT) holds PORT locally
port_held() {
  command -v ss >/dev/null 2>&1 || return 1
  [[ -n "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]]
}

# port_open HOST PORT -> 0 if something accepts TCP connections there
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}
