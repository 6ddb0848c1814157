#!/usr/bin/env bash
# Install pi2mqtt on a Raspberry Pi (Raspberry Pi OS Bookworm or Trixie, Pi 5 included):
#   the GPIO backend (Debian's python3-lgpio, python3-spidev), a virtual environment under
#   /opt/pi2mqtt that sees them, the hardened unit, an example config in /etc/pi2mqtt (only
#   if none is there), the device groups, then `systemctl daemon-reload`.
# Safe to run again: it upgrades the package and the unit and keeps your config.
#
#   sudo systemd/install.sh [--dry-run] [--enable] [--root DIR] [--python PY] [--no-apt]
#
#   --dry-run   print every command instead of running it (no root needed)
#   --enable    also `systemctl enable --now pi2mqtt`
#   --root DIR  install into DIR as if it were / (for packaging and tests): no groups,
#               no apt-get, no systemctl
#   --python PY interpreter for the venv (default: python3)
#   --no-apt    do not apt-get the GPIO backend (install lgpio and spidev yourself)
#   --machine M act as on a machine of this `uname -m` (for tests; default: this one)
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DRY=0
ENABLE=0
ROOT=""
PYTHON=python3
APT=1
MACHINE="$(uname -m)"
GROUPS_NEEDED=(dialout gpio i2c spi)
# gpiozero's backend on every Pi (the only one on a Pi 5) and hardware SPI for the MCP3008,
# built by Debian for the system's own Python: the venv sees them (--system-site-packages).
GPIO_PACKAGES=(python3-lgpio python3-spidev)

usage() { sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --enable) ENABLE=1 ;;
    --root) ROOT="${2:?--root needs a directory}"; shift ;;
    --python) PYTHON="${2:?--python needs an interpreter}"; shift ;;
    --no-apt) APT=0 ;;
    --machine) MACHINE="${2:?--machine needs a name such as aarch64}"; shift ;;
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

# 2. The GPIO backend: without it gpiozero falls back to "native" mode (broken on a Pi 5)
#    and the MCP3008 to software SPI. See docs/hardware.md, "Installing".
case "$MACHINE" in
  aarch64|armv7l|armv6l) ON_PI=1 ;;
  *) ON_PI=0 ;;
esac
if [ -n "$ROOT" ]; then
  say "GPIO backend: skipped (--root)"
elif [ "$ON_PI" = 0 ]; then
  say "GPIO backend: skipped (not a Raspberry Pi: $MACHINE)"
elif [ "$APT" = 0 ]; then
  say "GPIO backend: skipped (--no-apt); install ${GPIO_PACKAGES[*]} or pip install 'pi2mqtt[pi]'"
elif dpkg-query -W -f='${Status}\n' "${GPIO_PACKAGES[@]}" 2>/dev/null \
    | grep -c '^install ok installed' | grep -qx "${#GPIO_PACKAGES[@]}"; then
  say "GPIO backend: ${GPIO_PACKAGES[*]} present"
elif command -v apt-get >/dev/null 2>&1 || [ "$DRY" = 1 ]; then
  run apt-get update --quiet || say "warning: apt-get update failed; trying the install anyway"
  # Plain Debian Bookworm has python3-spidev but no python3-lgpio (Raspberry Pi OS's archive
  # has both): then the `pi` extra below takes lgpio from PyPI (wheels up to CPython 3.12).
  run apt-get install --yes --no-install-recommends "${GPIO_PACKAGES[@]}" \
    || say "warning: apt-get could not install ${GPIO_PACKAGES[*]}; pip tries the 'pi' extra (docs/hardware.md)"
else
  say "GPIO backend: no apt-get here; install lgpio and spidev for $PYTHON yourself"
fi

# 3. The virtual environment (seeing the system's site-packages) and the package.
if [ -x "$VENV/bin/python" ]; then
  say "venv $VENV: present"
  if grep -qi '^include-system-site-packages *= *false' "$VENV/pyvenv.cfg" 2>/dev/null; then
    run sed -i 's/^include-system-site-packages *= *false/include-system-site-packages = true/I' \
      "$VENV/pyvenv.cfg"
  fi
else
  run mkdir -p "$PREFIX"
  run "$PYTHON" -m venv --system-site-packages "$VENV"
fi
run "$VENV/bin/pip" install --quiet --upgrade pip
if [ "$ON_PI" = 1 ]; then
  run "$VENV/bin/pip" install --quiet --upgrade "$SRC[pi]"
else
  run "$VENV/bin/pip" install --quiet --upgrade "$SRC"
fi
if [ -d "$SRC/docs" ]; then
  run mkdir -p "$PREFIX/docs"
  run cp -r "$SRC/docs/." "$PREFIX/docs/"
fi

# 4. The unit (always the current one).
run install -d -m 0755 "$UNIT_DIR"
run install -m 0644 "$SRC/systemd/pi2mqtt.service" "$UNIT_DIR/pi2mqtt.service"

# 5. Configuration: an example only when there is none; never overwrite.
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

# 6. Tell systemd.
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
