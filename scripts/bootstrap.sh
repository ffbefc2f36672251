#!/usr/bin/env bash
# Sets up everything `make test` needs on a fresh Debian/Ubuntu machine, and nothing when it is
# already there: the Python venv (locked deps), Debian's prometheus + alertmanager (real promtool,
# amtool and engines for the tests), the npm grammar packages used to parse LogQL/TraceQL/PromQL and
# the Node.js test app of tests/ownapp.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
say() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

# --- Python -----------------------------------------------------------------------------------
find_python() {
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}
stamp="$VENV/.installed"
if [ ! -x "$VENV/bin/python" ]; then
  py=$(find_python) || die "Python >= 3.11 not found. Install it: sudo apt-get install python3 python3-venv"
  say "creating $VENV with $py"
  "$py" -m venv "$VENV" || die "python venv failed. Install it: sudo apt-get install python3-venv"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
  say "installing Python dependencies (locked by constraints.txt)"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  if ! "$VENV/bin/python" -m pip install -q -c constraints.txt -e '.[dev]' >"$VENV/pip.log" 2>&1; then
    grep -v "is ignored: it is neither" "$VENV/pip.log" >&2 || true
    die "Python dependency install failed (full log: $VENV/pip.log)"
  fi
  touch "$stamp"
fi

# --- Prometheus and Alertmanager (Debian packages) ---------------------------------------------
missing=()
for bin in promtool amtool prometheus prometheus-alertmanager; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if [ ${#missing[@]} -gt 0 ]; then
  pkgs="prometheus prometheus-alertmanager"
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    msg="missing ${missing[*]}. Install them: sudo apt-get install --no-install-recommends $pkgs"
    if [ "${CI:-}" = true ]; then die "$msg"; fi
    say "WARNING: $msg (tests needing them will be skipped outside CI)"
  else
    say "installing Debian packages: $pkgs"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
    # The packages enable systemd units; the tests start their own instances on free ports.
  fi
fi

# --- npm packages: grammars (dashboard queries), kube-validate (exported manifests) and the ------
# --- Node.js app of tests/ownapp (the official OpenTelemetry JS instrumentations, measured live) -
for dir in tools/grammars tools/kube-validate tests/ownapp/node_app; do
  [ -f "$dir/package.json" ] || continue
  gstamp=$dir/node_modules/.installed
  if [ ! -f "$gstamp" ] || [ "$dir/package-lock.json" -nt "$gstamp" ]; then
    command -v npm >/dev/null 2>&1 || die "npm not found. Install Node.js >= 20: sudo apt-get install nodejs npm"
    say "installing npm packages of $dir"
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
    touch "$gstamp"
  fi
done
say "ready"
