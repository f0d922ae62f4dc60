#!/usr/bin/env bash
# Nudges ml-connector to sync one SYSPRO sales order now (instead of at the next poll).
#
#   nudge-order.sh <SalesOrder>
#
# Settings come from the environment, else from nudge-order.conf next to this script (or the file
# named by ML_CONNECTOR_NUDGE_CONF), KEY=VALUE lines, '#' comments:
#   URL=https://connector.example.com:8080   ML_CONNECTOR_URL         the connector's base URL
#   CONNECTION=main                          ML_CONNECTOR_CONNECTION  default main
#   TOKEN=...                                ML_CONNECTOR_TOKEN       the connection's api.token
#   TIMEOUT=10                               ML_CONNECTOR_TIMEOUT     seconds, default 10
#   LOG=/var/log/ml-connector-nudge.log      ML_CONNECTOR_NUDGE_LOG   optional: one line per call
# The token is never taken from the command line (it would show in process lists): it reaches curl
# on standard input. Keep the .conf file readable by the account that runs this only (chmod 600).
#
# Exit status: 0 queued, 2 usage or settings, 3 refused by the connector (401/404/400),
# 4 connector unreachable or failing (the poll still syncs the order later).
set -u

die() {
  local code=$1
  shift
  echo "nudge-order: $*" >&2
  log_line "error" "$*"
  exit "$code"
}

log_line() {
  [ -n "${LOG:-}" ] || return 0
  printf '%s %s order=%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "${ORDER:-}" "$2" >>"$LOG" 2>/dev/null || true
}

# Reads KEY=VALUE settings from a file; only the known keys, nothing is executed.
read_conf() {
  local file=$1 key value
  [ -r "$file" ] || return 0
  if [ -n "$(find "$file" -maxdepth 0 -perm /077 2>/dev/null)" ]; then
    echo "nudge-order: warning: $file may be read by other users (chmod 600 $file)" >&2
  fi
  while IFS='=' read -r key value || [ -n "$key" ]; do
    key=${key//[[:space:]]/}
    case "$key" in '' | \#*) continue ;; esac
    value=${value%$'\r'}
    value=${value#"${value%%[![:space:]]*}"}
    value=${value%"${value##*[![:space:]]}"}
    case "$key" in
      URL) CONF_URL=$value ;;
      CONNECTION) CONF_CONNECTION=$value ;;
      TOKEN) CONF_TOKEN=$value ;;
      TIMEOUT) CONF_TIMEOUT=$value ;;
      LOG) CONF_LOG=$value ;;
    esac
  done <"$file"
}

[ $# -eq 1 ] || die 2 "usage: nudge-order.sh <SalesOrder>"
ORDER=$1
ORDER=${ORDER#"${ORDER%%[![:space:]]*}"}
ORDER=${ORDER%"${ORDER##*[![:space:]]}"}

CONF_URL='' CONF_CONNECTION='' CONF_TOKEN='' CONF_TIMEOUT='' CONF_LOG=''
read_conf "${ML_CONNECTOR_NUDGE_CONF:-$(dirname "$0")/nudge-order.conf}"
URL=${ML_CONNECTOR_URL:-$CONF_URL}
CONNECTION=${ML_CONNECTOR_CONNECTION:-${CONF_CONNECTION:-main}}
TOKEN=${ML_CONNECTOR_TOKEN:-$CONF_TOKEN}
TIMEOUT=${ML_CONNECTOR_TIMEOUT:-${CONF_TIMEOUT:-10}}
LOG=${ML_CONNECTOR_NUDGE_LOG:-$CONF_LOG}

[[ "$ORDER" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$ ]] || die 2 "\"$ORDER\" is not a SYSPRO sales order number"
[ -n "$URL" ] || die 2 "no connector URL: set ML_CONNECTOR_URL or URL= in nudge-order.conf"
[ -n "$TOKEN" ] || die 2 "no token: set ML_CONNECTOR_TOKEN or TOKEN= in nudge-order.conf"
[[ "$CONNECTION" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die 2 "\"$CONNECTION\" is not a connection name"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die 2 "TIMEOUT must be a number of seconds"
command -v curl >/dev/null || die 2 "curl is not installed"

endpoint="${URL%/}/api/connections/$CONNECTION/orders/$ORDER/sync"
body=$(mktemp) || die 4 "cannot create a temporary file"
trap 'rm -f "$body"' EXIT
# The header goes through curl's config on stdin (escaped for its quoted strings), not argv.
escaped=${TOKEN//\\/\\\\}
escaped=${escaped//\"/\\\"}
status=$(printf 'header = "Authorization: Bearer %s"\n' "$escaped" |
  curl --config - -sS -X POST -H 'Content-Length: 0' --max-time "$TIMEOUT" --connect-timeout 5 \
    -o "$body" -w '%{http_code}' "$endpoint")
rc=$?
answer=$(head -c 500 "$body" 2>/dev/null)
if [ $rc -ne 0 ]; then
  die 4 "the connector at $URL did not answer (curl exit $rc)"
fi
case "$status" in
  202)
    echo "nudge-order: sales order $ORDER queued: $answer"
    log_line "ok" "$answer"
    exit 0
    ;;
  400 | 401 | 403 | 404) die 3 "refused (HTTP $status): $answer" ;;
  *) die 4 "the connector answered HTTP $status: $answer" ;;
esac
