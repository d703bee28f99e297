# Shared by the odd programs; sourced, never run. POSIX sh, no bashisms.
#
# Security rules of this file and every program that sources it:
#  - every argument is checked against a strict pattern before use;
#  - user input is never given to eval, to `sh -c`, or to any command that parses it as code;
#  - expansions are always quoted, and globbing is off.
set -eu
set -f
# Bracket ranges like [a-z] match other letters in some locales: pin the C locale.
LC_ALL=C
export LC_ALL
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
umask 022

ODD_PROGRAM=${0##*/}
ODD_BIN_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)

die() {
  printf '%s: %s\n' "$ODD_PROGRAM" "$1" >&2
  exit "${2:-1}"
}

# Usernames as even accepts them: ^[a-z][a-z0-9-]{0,31}$
valid_username() {
  case $1 in
    '' | *[!a-z0-9-]*) return 1 ;;
    [a-z]*) [ "${#1}" -le 32 ] ;;
    *) return 1 ;;
  esac
}

# Host names and addresses: ^[a-z0-9.-]{1,255}$, not starting with "-" (it would read as an option).
valid_hostname() {
  case $1 in
    '' | -* | *[!a-z0-9.-]*) return 1 ;;
    *) [ "${#1}" -le 255 ] ;;
  esac
}

# Whole minutes 1..525600 without leading zeros.
valid_minutes() {
  case $1 in
    '' | 0* | *[!0-9]*) return 1 ;;
    *) [ "${#1}" -le 6 ] && [ "$1" -ge 1 ] && [ "$1" -le 525600 ] ;;
  esac
}

valid_epoch() {
  case $1 in
    '' | *[!0-9]*) return 1 ;;
    *) [ "${#1}" -le 12 ] ;;
  esac
}

# Reads KEY=VALUE lines without evaluating them. Config: $ODD_CONFIG, else <prefix>/etc/odd.conf
# beside the installed programs, else /etc/odd/odd.conf. sudo clears ODD_CONFIG, so a caller of the
# forced command cannot choose another file.
load_config() {
  EVEN_URL=''
  ODD_GROUP='odd'
  ODD_STATE_DIR='/var/lib/odd'
  ODD_MAX_LIFETIME_MINUTES='525600'
  ODD_CURL_TIMEOUT='10'
  ODD_FORWARD_IDENTITY=''
  ODD_FORWARD_USER='granting-service'
  ODD_FORWARD_PORT='22'
  ODD_FORWARD_KNOWN_HOSTS=''
  if [ -n "${ODD_CONFIG:-}" ]; then
    config=$ODD_CONFIG
  elif [ -f "$ODD_BIN_DIR/../etc/odd.conf" ]; then
    config=$ODD_BIN_DIR/../etc/odd.conf
  else
    config=/etc/odd/odd.conf
  fi
  [ -r "$config" ] || die "cannot read the configuration $config"
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in '' | '#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    [ "$key" != "$line" ] || die "$config: expected KEY=VALUE, got: $line"
    case $key in
      EVEN_URL) EVEN_URL=$value ;;
      ODD_GROUP) ODD_GROUP=$value ;;
      ODD_STATE_DIR) ODD_STATE_DIR=$value ;;
      ODD_MAX_LIFETIME_MINUTES) ODD_MAX_LIFETIME_MINUTES=$value ;;
      ODD_CURL_TIMEOUT) ODD_CURL_TIMEOUT=$value ;;
      ODD_FORWARD_IDENTITY) ODD_FORWARD_IDENTITY=$value ;;
      ODD_FORWARD_USER) ODD_FORWARD_USER=$value ;;
      ODD_FORWARD_PORT) ODD_FORWARD_PORT=$value ;;
      ODD_FORWARD_KNOWN_HOSTS) ODD_FORWARD_KNOWN_HOSTS=$value ;;
      *) die "$config: unknown key $key" ;;
    esac
  done <"$config"
  case $EVEN_URL in
    http://* | https://*) ;;
    *) die "$config: EVEN_URL must be an http(s) URL" ;;
  esac
  case $EVEN_URL in *[!A-Za-z0-9.:/_-]*) die "$config: EVEN_URL has unexpected characters" ;; esac
  EVEN_URL=${EVEN_URL%/}
  valid_username "$ODD_GROUP" || die "$config: ODD_GROUP must be a group name"
  case $ODD_STATE_DIR in /*) ;; *) die "$config: ODD_STATE_DIR must be an absolute path" ;; esac
  case $ODD_STATE_DIR in *[!A-Za-z0-9/._-]*) die "$config: ODD_STATE_DIR has unexpected characters" ;; esac
  valid_minutes "$ODD_MAX_LIFETIME_MINUTES" || die "$config: ODD_MAX_LIFETIME_MINUTES must be 1..525600"
  case $ODD_CURL_TIMEOUT in '' | *[!0-9]*) die "$config: ODD_CURL_TIMEOUT must be seconds" ;; esac
  case $ODD_FORWARD_IDENTITY in '' | /*) ;; *) die "$config: ODD_FORWARD_IDENTITY must be an absolute path" ;; esac
  valid_username "$ODD_FORWARD_USER" || die "$config: ODD_FORWARD_USER must be a user name"
  case $ODD_FORWARD_PORT in '' | 0* | *[!0-9]*) die "$config: ODD_FORWARD_PORT must be a port" ;; esac
  ODD_FORWARD_KNOWN_HOSTS=${ODD_FORWARD_KNOWN_HOSTS:-$ODD_STATE_DIR/forward_known_hosts}
  case $ODD_FORWARD_KNOWN_HOSTS in /*) ;; *) die "$config: ODD_FORWARD_KNOWN_HOSTS must be an absolute path" ;; esac
  GRANTS_DIR=$ODD_STATE_DIR/grants
  USERS_DIR=$ODD_STATE_DIR/users
  KEYS_DIR=$ODD_STATE_DIR/authorized_keys
}

require_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (the forced command runs it through sudo)"
}

now_epoch() {
  # ODD_NOW moves the clock in tests. sudo and sshd both drop it, so the forced command cannot.
  if [ -n "${ODD_NOW:-}" ]; then
    valid_epoch "$ODD_NOW" || die "ODD_NOW must be seconds since the epoch"
    printf '%s\n' "$ODD_NOW"
  else
    date +%s
  fi
}

# One line per action, for the bastion's own audit trail: a file in the state directory and syslog.
audit() {
  line="$(date -u +%Y-%m-%dT%H:%M:%SZ) $ODD_PROGRAM $*"
  if [ -d "$ODD_STATE_DIR" ]; then printf '%s\n' "$line" >>"$ODD_STATE_DIR/audit.log" || true; fi
  if command -v logger >/dev/null 2>&1; then logger -t odd -- "$ODD_PROGRAM $*" 2>/dev/null || true; fi
}

# Only users that odd created may be granted or revoked: never root, never a local account.
is_managed_user() {
  [ -f "$USERS_DIR/$1" ]
}

# Removes a user's keys and grant, then ends the user's sessions.
revoke_user() {
  rm -f -- "$KEYS_DIR/$1" "$GRANTS_DIR/$1"
  if command -v pkill >/dev/null 2>&1; then pkill -KILL -u "$1" 2>/dev/null || true; fi
  audit "revoked user=$1"
}
