#!/usr/bin/env bash
# Operates the genai-obs Docker Compose stack; the Makefile's up/down/clean/ps/logs call this.
#   ./scripts/stack.sh up            create .env if missing, start everything, wait until healthy
#   ./scripts/stack.sh down          stop and remove containers; data volumes are kept
#   ./scripts/stack.sh clean [--yes] stop and DELETE the data volumes (asks first)
#   ./scripts/stack.sh ps            services and their health
#   ./scripts/stack.sh logs [svc]    follow logs (all services, or one)
#   ./scripts/stack.sh env           only create .env from .env.example (no Docker needed)
set -euo pipefail
cd "$(dirname "$0")/.."

# Oldest Compose v2 known to handle this file and `up --wait --wait-timeout`.
MIN_COMPOSE=2.20.0
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}

say() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

version_ge() {  # version_ge A B: is A >= B (dotted numbers)?
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n1)" = "$2" ]
}

check_docker() {
  command -v docker >/dev/null 2>&1 || die "docker not found on PATH.
  Install Docker Engine (Linux: https://docs.docker.com/engine/install/) or Docker Desktop
  (macOS/Windows), then run this again."
  local out
  if ! out=$(docker info 2>&1 >/dev/null); then
    die "the Docker daemon is not reachable: ${out##*$'\n'}
  Start it (Linux: sudo systemctl start docker; Desktop: start Docker Desktop). If it runs but
  you get 'permission denied', add yourself to the docker group: sudo usermod -aG docker \$USER
  (then log out and in)."
  fi
  local version
  if ! version=$(docker compose version --short 2>/dev/null); then
    die "Docker Compose v2 is missing (the 'docker compose' plugin).
  Install it: sudo apt-get install docker-compose-plugin (Docker's apt repository), or see
  https://docs.docker.com/compose/install/linux/ ; Docker Desktop includes it. The old
  Python 'docker-compose' v1 cannot read compose.yaml."
  fi
  version=${version#v}
  version_ge "${version%%[-+]*}" "$MIN_COMPOSE" || die "Docker Compose $version is too old (need >= $MIN_COMPOSE).
  Upgrade: sudo apt-get install --only-upgrade docker-compose-plugin, or update Docker Desktop."
}

random_secret() {  # 24 random bytes as hex; od reads the whole input, so no SIGPIPE under pipefail
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

env_value() {  # env_value NAME: value of NAME= in .env (last one wins, like Compose)
  sed -n "s/^$1=//p" .env | tail -n1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

ensure_env() {
  if [ ! -f .env ]; then
    [ -f .env.example ] || die ".env.example is missing; restore it from git."
    local password token
    password=$(random_secret)
    token=$(random_secret)
    sed -e "s/^GRAFANA_ADMIN_PASSWORD=.*/GRAFANA_ADMIN_PASSWORD=$password/" \
        -e "s/^ADMIN_TOKEN=.*/ADMIN_TOKEN=$token/" .env.example >.env.tmp
    chmod 600 .env.tmp
    mv .env.tmp .env
    say "created .env from .env.example with a random Grafana admin password and ADMIN_TOKEN"
    say "Grafana admin password (shown once; it stays in .env): $password"
  fi
  # The credential Alertmanager presents to rag-api's webhook: a compose secret file (both
  # containers are read-only, so it cannot come from the environment). The directory keeps other
  # local users out; the file itself must be readable by the containers' users.
  if [ ! -s .secrets/alerts_webhook_token ]; then
    mkdir -p .secrets
    chmod 700 .secrets
    (umask 022 && random_secret >.secrets/alerts_webhook_token.tmp)
    mv .secrets/alerts_webhook_token.tmp .secrets/alerts_webhook_token
    say "wrote a random webhook credential to .secrets/alerts_webhook_token (Alertmanager -> rag-api)"
  fi
  # API keys (key -> tier) are newer too: an older .env without the line gets the demo keys
  # (an existing empty API_KEYS= is a choice and stays).
  if [ -z "$(sed -n '/^API_KEYS=/p' .env)" ]; then
    [ -z "$(tail -c1 .env)" ] || echo >>.env  # an edited .env may lack its final newline
    sed -n '/^API_KEYS=/p' .env.example >>.env
    say "added the demo API_KEYS to .env (X-API-Key -> tier; see docs/configuration.md)"
  fi
  chmod 600 .env  # it holds secrets, whoever created it
  local current
  current=$(env_value GRAFANA_ADMIN_PASSWORD)
  if [ -z "$current" ] || [ "$current" = admin ]; then
    die "GRAFANA_ADMIN_PASSWORD in .env is empty or 'admin'. Set a real password there
  (or delete .env and run make up again to generate one)."
  fi
}

print_urls() {
  local bind host
  bind=$(env_value BIND_ADDRESS)
  host=${bind:-127.0.0.1}
  [ "$host" = 0.0.0.0 ] && host=localhost
  port() { local v; v=$(env_value "$1"); echo "${v:-$2}"; }
  printf '\n%-16s %-34s %s\n' SERVICE URL CREDENTIALS
  printf '%-16s %-34s %s\n' grafana "http://$host:$(port GRAFANA_PORT 3000)" \
    "anonymous viewer; admin / GRAFANA_ADMIN_PASSWORD in .env"
  printf '%-16s %-34s %s\n' prometheus "http://$host:$(port PROMETHEUS_PORT 9090)" "none"
  printf '%-16s %-34s %s\n' alertmanager "http://$host:$(port ALERTMANAGER_PORT 9093)" "none"
  printf '%-16s %-34s %s\n' loki "http://$host:$(port LOKI_PORT 3100)" "none (API only)"
  printf '%-16s %-34s %s\n' tempo "http://$host:$(port TEMPO_PORT 3200)" "none (API only)"
  printf '%-16s %-34s %s\n' otlp-grpc "$host:$(port OTLP_GRPC_PORT 4317)" "none (OTLP/gRPC in)"
  printf '%-16s %-34s %s\n' otlp-http "http://$host:$(port OTLP_HTTP_PORT 4318)" "none (OTLP/HTTP in)"
  printf '%-16s %-34s %s\n' rag-api "http://$host:$(port RAG_API_PORT 8000)" \
    "/admin/*: Bearer ADMIN_TOKEN in .env; /v1/alerts: .secrets/alerts_webhook_token"
  printf '\nNext: make load (demo traffic), make incident SCENARIO=..., make smoke, make down.\n'
}

# Compose interpolates the whole file for every command and compose.yaml refuses an empty
# Grafana password; stopping or inspecting the stack needs none, so give those a placeholder.
not_starting() { export GRAFANA_ADMIN_PASSWORD=${GRAFANA_ADMIN_PASSWORD:-not-used-when-stopping}; }

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  up)
    check_docker
    ensure_env
    say "building rag-api and starting the stack (waiting up to ${WAIT_TIMEOUT}s for health)"
    if ! docker compose up -d --build --wait --wait-timeout "$WAIT_TIMEOUT"; then
      docker compose ps -a || true
      die "the stack did not become healthy. See: make logs SERVICE=<name> (or make ps)."
    fi
    print_urls
    ;;
  down)
    check_docker
    not_starting
    # --profile load: also stops loadgen if it was started.
    docker compose --profile load down --remove-orphans
    say "stopped; data volumes kept (make clean deletes them)"
    ;;
  clean)
    check_docker
    not_starting
    if [ "${1:-}" != --yes ]; then
      [ -t 0 ] || die "clean deletes all stack data; run it in a terminal or pass --yes."
      printf 'Delete ALL genai-obs data volumes (metrics, logs, traces, alerts, Grafana state)? [y/N] '
      read -r answer
      case "$answer" in y | Y | yes | YES) ;; *) say "nothing deleted"; exit 0 ;; esac
    fi
    docker compose --profile load down --volumes --remove-orphans
    say "stack stopped and data volumes deleted (.env kept)"
    ;;
  env)
    ensure_env
    ;;
  ps)
    check_docker
    not_starting
    docker compose --profile load ps -a
    ;;
  logs)
    check_docker
    not_starting
    docker compose --profile load logs --follow --tail=200 "$@"
    ;;
  *)
    echo "usage: $0 up | down | clean [--yes] | ps | logs [service] | env" >&2
    exit 2
    ;;
esac
