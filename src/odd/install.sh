#!/bin/sh
# Installs odd on a Linux bastion. Run as root from a checkout of the project:
#
#   sh src/odd/install.sh --even-url https://even.stups.example.org \
#     --even-key "ssh-ed25519 AAAA… even" [--prefix /opt/odd] [--group odd] \
#     [--state-dir /var/lib/odd] [--granting-user granting-service] \
#     [--sudoers-file /etc/sudoers.d/odd] [--sshd-dropin /etc/ssh/sshd_config.d/odd.conf] \
#     [--timer systemd|cron|none] [--max-lifetime-minutes 525600]
#
# Needs: sh, curl, useradd, sudo, OpenSSH ≥ 8.2 (for expiry-time), GNU or BusyBox date.
# Idempotent: running it again updates the programs and the configuration.
set -eu
set -f
LC_ALL=C
export LC_ALL
umask 022
source_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/bin" && pwd -P)

prefix=/opt/odd
even_url=''
even_key=''
group=odd
state_dir=/var/lib/odd
granting_user=granting-service
sudoers_file=/etc/sudoers.d/odd
sshd_dropin=''
timer=systemd
max_lifetime=525600

die() {
  printf 'install.sh: %s\n' "$1" >&2
  exit 1
}
while [ "$#" -gt 0 ]; do
  [ "$#" -ge 2 ] || die "$1 needs a value"
  case $1 in
    --prefix) prefix=$2 ;;
    --even-url) even_url=$2 ;;
    --even-key) even_key=$2 ;;
    --group) group=$2 ;;
    --state-dir) state_dir=$2 ;;
    --granting-user) granting_user=$2 ;;
    --sudoers-file) sudoers_file=$2 ;;
    --sshd-dropin) sshd_dropin=$2 ;;
    --timer) timer=$2 ;;
    --max-lifetime-minutes) max_lifetime=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done

[ "$(id -u)" -eq 0 ] || die "run as root"
[ -n "$even_url" ] || die "--even-url is required"
case $even_key in
  ssh-ed25519\ * | ssh-rsa\ * | ecdsa-sha2-*) ;;
  *) die "--even-key must be even's OpenSSH public key (ssh-ed25519 AAAA…)" ;;
esac
case $even_key in *[!A-Za-z0-9+/=@.\ _-]*) die "--even-key has unexpected characters" ;; esac
for path in "$prefix" "$state_dir" "$sudoers_file"; do
  case $path in /*) ;; *) die "$path must be an absolute path" ;; esac
  case $path in *[!A-Za-z0-9/._-]*) die "$path has unexpected characters" ;; esac
done
case $granting_user in '' | *[!a-z0-9-]*) die "--granting-user must be a user name" ;; esac
case $group in '' | *[!a-z0-9-]*) die "--group must be a group name" ;; esac
case $timer in systemd | cron | none) ;; *) die "--timer must be systemd, cron or none" ;; esac
command -v curl >/dev/null || die "curl is missing"
command -v sudo >/dev/null || die "sudo is missing"
command -v useradd >/dev/null || die "useradd is missing"

# Programs: root-owned, so neither the granting user nor granted users can change them.
mkdir -p -m 0755 "$prefix/bin" "$prefix/etc"
for program in grant-ssh-access revoke-ssh-access revoke-expired-ssh-access odd-forced-command; do
  install -m 0755 -o root -g root "$source_dir/$program" "$prefix/bin/$program"
done
install -m 0644 -o root -g root "$source_dir/odd-lib.sh" "$prefix/bin/odd-lib.sh"
cat >"$prefix/etc/odd.conf" <<CONF
# odd configuration (KEY=VALUE, read without evaluation). See docs/odd-bastion.md.
EVEN_URL=$even_url
ODD_GROUP=$group
ODD_STATE_DIR=$state_dir
ODD_MAX_LIFETIME_MINUTES=$max_lifetime
CONF
chmod 0644 "$prefix/etc/odd.conf"

getent group "$group" >/dev/null || groupadd "$group"
mkdir -p -m 0755 "$state_dir/grants" "$state_dir/users" "$state_dir/authorized_keys"

# even's account: its key may run only the forced command, with no shell, pty or forwarding.
if ! getent passwd "$granting_user" >/dev/null; then
  useradd --create-home --shell /bin/sh --password '*' --comment 'even granting service' "$granting_user"
fi
home=$(getent passwd "$granting_user" | cut -d: -f6)
mkdir -p "$home/.ssh"
chown root:root "$home/.ssh"
chmod 0755 "$home/.ssh"
printf 'restrict,command="%s/bin/odd-forced-command" %s\n' "$prefix" "$even_key" >"$home/.ssh/authorized_keys"
chown root:root "$home/.ssh/authorized_keys"
chmod 0644 "$home/.ssh/authorized_keys"

tmp_sudoers=$(mktemp)
printf '%s ALL=(root) NOPASSWD: %s/bin/grant-ssh-access, %s/bin/revoke-ssh-access\n' \
  "$granting_user" "$prefix" "$prefix" >"$tmp_sudoers"
if command -v visudo >/dev/null; then visudo -cqf "$tmp_sudoers" || die "the sudoers rule does not parse"; fi
install -m 0440 -o root -g root "$tmp_sudoers" "$sudoers_file"
rm -f "$tmp_sudoers"

# Keys of granted users live where only root can write, so nobody extends their own access.
cat >"$prefix/etc/sshd_config.snippet" <<CONF
# odd: keys of granted users, written by grant-ssh-access with an expiry-time.
Match Group $group
    AuthorizedKeysFile $state_dir/authorized_keys/%u
CONF
if [ -n "$sshd_dropin" ]; then
  install -m 0644 "$prefix/etc/sshd_config.snippet" "$sshd_dropin"
  echo "installed $sshd_dropin: reload sshd (systemctl reload ssh)"
fi

case $timer in
  systemd)
    cat >/etc/systemd/system/odd-revoke-expired.service <<UNIT
[Unit]
Description=odd: revoke expired SSH access

[Service]
Type=oneshot
ExecStart=$prefix/bin/revoke-expired-ssh-access
UNIT
    cat >/etc/systemd/system/odd-revoke-expired.timer <<UNIT
[Unit]
Description=odd: revoke expired SSH access every minute

[Timer]
OnCalendar=*-*-* *:*:00
AccuracySec=1s
Persistent=true

[Install]
WantedBy=timers.target
UNIT
    systemctl daemon-reload && systemctl enable --now odd-revoke-expired.timer
    ;;
  cron)
    printf '* * * * * root %s/bin/revoke-expired-ssh-access >/dev/null\n' "$prefix" >/etc/cron.d/odd
    chmod 0644 /etc/cron.d/odd
    ;;
  none) ;;
esac
echo "odd installed in $prefix (state in $state_dir, granted users in group $group)"
