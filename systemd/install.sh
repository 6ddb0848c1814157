#!/usr/bin/env bash
# Install pi2mqtt on a Raspberry Pi (Raspberry Pi OS Bookworm, systemd 252):
#   a virtual environment under /opt/pi2mqtt, the hardened unit, an example config in
#   /etc/pi2mqtt (only if none is there), the device groups, then `systemctl daemon-reload`.
# Safe to run again: it upgrades the package and the unit and keeps your config.
#
#   sudo systemd/install.sh [--dry-run] [--enable] [--root DIR] [--python PY]
#
#   --dry-run   print every command instead of running it (no root needed)
#   --enable    also `systemctl enable --now pi2mqtt`
#   --root DIR  install into DIR as if it were / (for packaging and tests): no groups,
#               no systemctl
#   --python PY interpreter for the venv (default: python3)
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRY=0
ENABLE=0
ROOT=""
PYTHON=python3
GROUPS_NEEDED=(dialout gpio i2c spi)

usage() { sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --enable) ENABLE=1 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --python) PYTHON="${2:?--python needs an interpreter}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

PREFIX="$ROOT/opt/pi2mqtt"
VENV="$PREFIX/venv"
ETC="$ROOT/etc/pi2mqtt"
CREDSTORE="$ROOT/etc/credstore"
UNIT_DIR="$ROOT/etc/systemd/system"

# run CMD...: execute, or print it under --dry-run.
run() {
  if [ "$DRY" = 1 ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}
say() { printf '%s\n' "$*"; }

if [ "$DRY" = 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (sudo), or try --dry-run" >&2
  exit 1
fi

# 1. Groups that own the device nodes (Raspberry Pi OS has them; other systems may not).
if [ -z "$ROOT" ]; then
  for g in "${GROUPS_NEEDED[@]}"; do
    if getent group "$g" >/dev/null; then
      say "group $g: present"
    else
      run groupadd --system "$g"
    fi
  done
else
  say "groups: skipped (--root)"
fi

# 2. The virtual environment and the package.
if [ -x "$VENV/bin/python" ]; then
  say "venv $VENV: present"
else
  run mkdir -p "$PREFIX"
  run "$PYTHON" -m venv "$VENV"
fi
run "$VENV/bin/pip" install --quiet --upgrade pip
run "$VENV/bin/pip" install --quiet --upgrade "$SRC"
if [ -d "$SRC/docs" ]; then
  run mkdir -p "$PREFIX/docs"
  run cp -r "$SRC/docs/." "$PREFIX/docs/"
fi

# 3. The unit (always the current one).
run install -d -m 0755 "$UNIT_DIR"
run install -m 0644 "$SRC/systemd/pi2mqtt.service" "$UNIT_DIR/pi2mqtt.service"

# 4. Configuration: an example only when there is none; never overwrite.
run install -d -m 0755 "$ETC"
if [ -e "$ETC/pi2mqtt.toml" ]; then
  say "config $ETC/pi2mqtt.toml: present, kept"
elif [ -f "$SRC/examples/pi2mqtt.toml" ]; then
  run install -m 0644 "$SRC/examples/pi2mqtt.toml" "$ETC/pi2mqtt.toml"
else
  if [ "$DRY" = 1 ]; then
    say "+ write a minimal $ETC/pi2mqtt.toml"
  else
    cat > "$ETC/pi2mqtt.toml" <<'TOML'
# pi2mqtt configuration: see /opt/pi2mqtt/docs/ for every key.
# The MQTT password goes in /etc/credstore/mqtt-password (mode 0600), never here.
[device]
state_dir = "/var/lib/pi2mqtt"

[mqtt]
url = "mqtt://localhost:1883"
TOML
    chmod 0644 "$ETC/pi2mqtt.toml"
  fi
fi
# The credential store the unit's LoadCredential=mqtt-password reads from.
if [ -d "$CREDSTORE" ]; then
  say "credential store $CREDSTORE: present"
else
  run install -d -m 0700 "$CREDSTORE"
fi

if [ -z "$ROOT" ]; then
  run "$VENV/bin/pi2mqtt" check --config "$ETC/pi2mqtt.toml" \
    || say "warning: $ETC/pi2mqtt.toml does not validate yet; fix it before starting"
fi

# 5. Tell systemd.
if [ -n "$ROOT" ]; then
  say "systemctl: skipped (--root)"
elif [ -d /run/systemd/system ] || [ "$DRY" = 1 ]; then
  run systemctl daemon-reload
  if [ "$ENABLE" = 1 ]; then
    run systemctl enable --now pi2mqtt.service
  fi
else
  say "systemd is not running here: skipped systemctl daemon-reload"
fi

if [ "$ENABLE" = 0 ]; then
  say "next: edit $ETC/pi2mqtt.toml, check it with '$VENV/bin/pi2mqtt check --config $ETC/pi2mqtt.toml',"
  say "      put the MQTT password (if any) in $CREDSTORE/mqtt-password (chmod 600),"
  say "      then: systemctl enable --now pi2mqtt"
fi
