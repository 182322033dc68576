#!/usr/bin/env bash
# Install or upgrade mdt on a Debian machine, as root, from a built package tree (the directory
# this script sits in, after `npm ci`, which builds dist/).
#
#   sudo deploy/install.sh vehicle             # a car's MDT: gpsd, user mdt, mdt-vehicle.service
#   sudo deploy/install.sh precinct            # a station: user mdt-precinct, mdt-precinct.service
#   sudo deploy/install.sh rollback vehicle    # back to the previous release (see docs/precinct-guide.md)
#
# Options: --offline (use this tree's node_modules instead of the npm registry), --dry-run (print
# what would be done, change nothing; needs no root).
#
# Layout: releases in /opt/mdt/releases/<version>, /opt/mdt/current -> the running one, the CLI
# as /usr/local/bin/mdt, config in /etc/mdt, state in /var/lib/mdt (car) or /var/lib/mdt-precinct
# (station). An upgrade backs the boards up, switches `current` and restarts the service; the
# previous release stays for a rollback.
set -euo pipefail

PREFIX=${MDT_PREFIX:-/opt/mdt}
ETC=/etc/mdt
UNIT_DIR=/etc/systemd/system
BIN=/usr/local/bin/mdt
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MIN_NODE=20.19
KEEP_RELEASES=3

DRY=0
OFFLINE=0
ACTION=install
ROLE=

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

for arg in "$@"; do
  case "$arg" in
    vehicle | precinct) ROLE=$arg ;;
    rollback) ACTION=rollback ;;
    --dry-run) DRY=1 ;;
    --offline) OFFLINE=1 ;;
    -h | --help) usage 0 ;;
    *) echo "install.sh: unknown argument \"$arg\"" >&2; usage 2 ;;
  esac
done
[ -n "$ROLE" ] || { echo "install.sh: say which: vehicle or precinct" >&2; usage 2; }

if [ "$ROLE" = vehicle ]; then
  USER_NAME=mdt
  UNIT=mdt-vehicle.service
  STATE=/var/lib/mdt
  CONFIG=$ETC/vehicle.json
  # gpsd reads the GPS receiver; the daemon is its client on 127.0.0.1:2947.
  DEBS=(gpsd ca-certificates)
  EXTRA_GROUPS=dialout
else
  USER_NAME=mdt-precinct
  UNIT=mdt-precinct.service
  STATE=/var/lib/mdt-precinct
  CONFIG=$ETC/precinct.json
  DEBS=(ca-certificates)
  EXTRA_GROUPS=
fi
BACKUPS=/var/backups/$USER_NAME

say() { printf '%s\n' "install.sh: $*"; }
die() { printf '%s\n' "install.sh: $*" >&2; exit 1; }
# Every change goes through run, so --dry-run shows exactly what an install does.
run() {
  if [ "$DRY" = 1 ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}
have_systemd() { [ -d /run/systemd/system ]; }

[ "$DRY" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (sudo $0 $*)"

NODE=$(command -v node || true)
[ -n "$NODE" ] || die "Node.js >= $MIN_NODE is required (Debian 13's nodejs, or NodeSource's nodejs 20)"
node_ok=$("$NODE" -e "const [a,b]=process.versions.node.split('.').map(Number);const [x,y]='$MIN_NODE'.split('.').map(Number);console.log(a>x||(a===x&&b>=y)?'yes':'no')")
[ "$node_ok" = yes ] || die "Node.js $("$NODE" --version) is too old: >= $MIN_NODE is required"

switch_current() {
  # Atomic: a new symlink renamed over the old one; systemd's ExecStart never sees a half state.
  run ln -sfn "$1" "$PREFIX/current.new"
  run mv -Tf "$PREFIX/current.new" "$PREFIX/current"
}

restart_if_configured() {
  if ! have_systemd; then
    say "no systemd running here: start it by hand (mdt $ROLE --config $CONFIG)"
  elif [ -f "$CONFIG" ]; then
    run systemctl restart "$UNIT"
    say "$UNIT restarted; check it with: systemctl status $UNIT, journalctl -u $UNIT -f"
  elif [ "$ROLE" = vehicle ]; then
    say "next: mdt provision ... (docs/technician-guide.md), then systemctl start $UNIT"
  else
    say "next: edit $CONFIG (from deploy/precinct.example.json), add a fleet operator (mdt precinct-admin add-operator ...), then systemctl start $UNIT"
  fi
}

backup_state() {
  # Boards, registry and operator tokens before the daemon changes: a downgrade after a board
  # schema upgrade needs them (the old daemon refuses a newer board).
  [ -d "$STATE" ] || return 0
  local stamp items=()
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  for f in boards vehicles.json operators.json; do
    if [ -e "$STATE/$f" ]; then items+=("$f"); fi
  done
  [ "${#items[@]}" -gt 0 ] || return 0
  run install -d -m 0700 "$BACKUPS"
  run tar -czf "$BACKUPS/pre-$1-$stamp.tar.gz" -C "$STATE" "${items[@]}"
  say "state backed up to $BACKUPS/pre-$1-$stamp.tar.gz"
}

if [ "$ACTION" = rollback ]; then
  [ -f "$PREFIX/previous" ] || die "no previous release recorded in $PREFIX/previous"
  prev=$(cat "$PREFIX/previous")
  [ -d "$prev" ] || die "previous release $prev is gone"
  cur=$(readlink -f "$PREFIX/current")
  backup_state "rollback"
  switch_current "$prev"
  if [ "$DRY" = 1 ]; then say "would record $cur as the previous release"; else printf '%s\n' "$cur" > "$PREFIX/previous"; fi
  say "rolled back to $prev (if it refuses a newer board, restore the pre-upgrade backup: docs/precinct-guide.md)"
  restart_if_configured
  exit 0
fi

[ -f "$SRC/dist/daemon/main.js" ] || die "$SRC/dist is missing: run npm ci (or npm run build) in $SRC first"
VERSION=$("$NODE" -p "require('$SRC/package.json').version")
RELEASE=$PREFIX/releases/$VERSION

# 1. Debian packages.
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  run apt-get update
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# 2. The service user: no login, no home outside its state directory.
if ! id -u "$USER_NAME" >/dev/null 2>&1; then
  run useradd --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
fi
[ -z "$EXTRA_GROUPS" ] || run usermod -a -G "$EXTRA_GROUPS" "$USER_NAME"

# 3. The release: built JS, shipped files, production dependencies only.
run install -d -m 0755 "$PREFIX/releases"
run rm -rf "$RELEASE.new"
run install -d -m 0755 "$RELEASE.new"
for f in package.json package-lock.json dist deploy docs README.md; do
  if [ -e "$SRC/$f" ]; then run cp -a "$SRC/$f" "$RELEASE.new/"; fi
done
if [ "$OFFLINE" = 1 ]; then
  [ -d "$SRC/node_modules" ] || die "--offline needs $SRC/node_modules"
  run cp -a "$SRC/node_modules" "$RELEASE.new/"
  run env -C "$RELEASE.new" npm prune --omit=dev --ignore-scripts --no-audit --no-fund
else
  # --ignore-scripts: `prepare` builds with dev tools; dist/ is already built.
  run env -C "$RELEASE.new" npm ci --omit=dev --ignore-scripts --no-audit --no-fund
fi
run rm -rf "$RELEASE"
run mv -T "$RELEASE.new" "$RELEASE"

# 4. Config directory: root writes it (mdt provision), the service group reads it.
run install -d -m 0750 -o root -g "$USER_NAME" "$ETC"
if [ "$ROLE" = precinct ] && [ ! -e "$CONFIG" ]; then
  run install -m 0640 -o root -g "$USER_NAME" "$SRC/deploy/precinct.example.json" "$CONFIG"
fi

# 5. Switch `current`, keeping the one it pointed to for a rollback; back the state up first.
old=$(readlink -f "$PREFIX/current" 2>/dev/null || true)
if [ -n "$old" ] && [ "$old" != "$(readlink -f "$RELEASE" 2>/dev/null || echo "$RELEASE")" ]; then
  backup_state "$(basename "$old")-to-$VERSION"
  if [ "$DRY" = 1 ]; then say "would record $old as the previous release"; else printf '%s\n' "$old" > "$PREFIX/previous"; fi
fi
switch_current "$RELEASE"
if [ "$DRY" = 1 ]; then
  say "would write $BIN (exec $NODE $PREFIX/current/dist/daemon/main.js)"
else
  printf '#!/bin/sh\nexec %s %s/current/dist/daemon/main.js "$@"\n' "$NODE" "$PREFIX" > "$BIN"
  chmod 0755 "$BIN"
fi

# 6. The unit, with this machine's node; a growing restart backoff where systemd has it (>= 254).
if [ "$DRY" = 1 ]; then
  say "would install $UNIT_DIR/$UNIT (ExecStart with $NODE)"
else
  sed "s|^ExecStart=/usr/bin/node |ExecStart=$NODE |" "$SRC/deploy/$UNIT" > "$UNIT_DIR/$UNIT"
  chmod 0644 "$UNIT_DIR/$UNIT"
fi
sd_version=$(systemctl --version 2>/dev/null | awk 'NR==1 {print $2}' || true)
if [ -n "$sd_version" ] && [ "$sd_version" -ge 254 ] 2>/dev/null; then
  run install -d -m 0755 "$UNIT_DIR/$UNIT.d"
  if [ "$DRY" = 1 ]; then
    say "would write $UNIT_DIR/$UNIT.d/backoff.conf (RestartSteps=6, RestartMaxDelaySec=2min)"
  else
    printf '[Service]\nRestartSteps=6\nRestartMaxDelaySec=2min\n' > "$UNIT_DIR/$UNIT.d/backoff.conf"
  fi
fi

# 7. Old releases: keep the newest few, never `current` or the rollback target.
keep_prev=$(cat "$PREFIX/previous" 2>/dev/null || true)
if [ -d "$PREFIX/releases" ]; then
  mapfile -t old_releases < <(ls -1dt "$PREFIX"/releases/*/ 2>/dev/null | sed 's|/$||' | tail -n +$((KEEP_RELEASES + 1)))
  for r in "${old_releases[@]}"; do
    [ "$r" = "$RELEASE" ] || [ "$r" = "$keep_prev" ] || run rm -rf "$r"
  done
fi

if have_systemd; then
  run systemctl daemon-reload
  run systemctl enable "$UNIT"
fi
say "mdt $VERSION installed in $RELEASE for the $ROLE role"
restart_if_configured
