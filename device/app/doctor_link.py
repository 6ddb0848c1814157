"""`pi2mqtt doctor`'s remote checks: the co-processor (serial port, handshake, firmware
version, the I2C chips by their ids) and the broker (reachable, TLS verified).

The link is opened with the daemon's own `LinkPort`, never with a reset line: doctor
looks, it does not pulse the co-processor. The broker check makes one MQTT connection
with the daemon's TLS settings and publishes nothing.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import threading
from dataclasses import replace

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device import __version__
from device.app.doctor_local import Finding
from device.config import Config
from device.errors import CommandError, LinkError
from device.link.messages import E_UNKNOWN_METHOD
from device.link.port import LinkPort
from device.mqtt.brokers import BrokerAddress, parse_broker_list

FIRMWARE_VERSION = __version__
"""The firmware of the same release (firmware/p2mfw/main.py FW_VERSION; a test keeps them equal)."""
BME280_ID = 0x60
BME280_LOOKALIKES = {0x56: "BMP280 (sample)", 0x57: "BMP280 (sample)", 0x58: "BMP280 (no humidity)",
                     0x61: "BME680"}
TUNER_IDS = {"rda5807m": 0x5804, "si4703": 0x1242}
FLASH = (
    "mpremote mkdir :lib",
    "mpremote cp -r firmware/p2mfw :lib/",
    "mpremote cp firmware/p2mfw/main.py :main.py",
    "mpremote reset",
)
FLASH_FIX = ("copy the firmware of this release to the Pico (GP22 safe-mode jumper to GND first, "
             "remove it after; firmware/README.md):")
WIRING = "docs/hardware.md, the co-processor"


def check_coprocessor(cfg: Config, *, timeout: float = 3.0) -> list[Finding]:
    """Serial port, handshake, firmware version, then each configured I2C chip."""
    cop = cfg.coprocessor
    if cop is None:
        return []
    path = cop.port
    if not os.path.exists(path):
        return [Finding("fail", "serial", f"{path}: no such device",
                        "plug the Pico in (USB: /dev/ttyACM0), or for the UART pins enable the serial "
                        "port (sudo raspi-config nonint do_serial_hw 0) and set coprocessor.port = "
                        "\"/dev/serial0\"; `ls -l /dev/ttyACM* /dev/serial*` lists what is there")]
    if not os.access(path, os.R_OK | os.W_OK):
        return [Finding("fail", "serial", f"{path}: permission denied",
                        "add yourself to the dialout group (sudo usermod -aG dialout $USER, then log in "
                        "again); the service has it already (SupplementaryGroups=)")]
    found = [Finding("ok", "serial", f"{path} present ({cop.baud} baud)")]
    port = LinkPort(path, cop.baud, hello_timeout=0.3, reconnect_cap=0.3)
    try:
        port.wait_up(timeout)
        found.extend(_handshake(port, path, timeout))
        if port.state == "up":
            found.extend(_chips(cfg, port))
    finally:
        port.close()
    return found


def _handshake(port: LinkPort, path: str, timeout: float) -> list[Finding]:
    if port.state == "version_mismatch":
        peer = port.peer
        fw = peer.fw_version if peer is not None else "?"
        return [Finding("fail", "firmware", f"firmware {fw} speaks another link protocol; this pi2mqtt "
                        f"expects firmware {FIRMWARE_VERSION}", FLASH_FIX, FLASH)]
    peer = port.peer
    if port.state != "up" or peer is None:
        return [Finding("fail", "link", f"no handshake on {path} within {timeout:g} s",
                        "is the pi2mqtt firmware on the Pico, and coprocessor.baud the firmware's BAUD? "
                        "Flash it:", FLASH)]
    caps = ", ".join(peer.caps) or "none"
    found = [Finding("ok", "link", f"handshake ok: protocol {peer.major}.{peer.minor}, capabilities {caps}")]
    if peer.fw_version != FIRMWARE_VERSION:
        found.append(Finding("fail", "firmware", f"firmware {peer.fw_version}; this pi2mqtt expects "
                             f"{FIRMWARE_VERSION}", FLASH_FIX, FLASH))
    else:
        found.append(Finding("ok", "firmware", f"version {peer.fw_version} (matches)"))
    return found


def _chips(cfg: Config, port: LinkPort) -> list[Finding]:
    found: list[Finding] = []
    if cfg.bme280:
        found.append(_bme280(port))
    if cfg.radio is not None:
        found.append(_tuner(port, cfg.radio.chip))
    return found


def _bme280(port: LinkPort) -> Finding:
    try:
        reply = port.request("bme280.id", timeout=0.5, retries=2)
    except CommandError as e:
        if e.code == E_UNKNOWN_METHOD:
            return Finding("warn", "i2c", "BME280 not checked: this firmware has no bme280.id",
                           FLASH_FIX, FLASH)
        return Finding("fail", "i2c", f"no BME280 answers at 0x76 ({e.code}: {e.message})",
                       f"check SDA (GP4), SCL (GP5), 3V3 and GND, and SDO to GND for 0x76 ({WIRING})")
    except LinkError as e:
        return Finding("fail", "i2c", f"BME280 not checked: {e}")
    chip = reply.get("id")
    if chip == BME280_ID:
        return Finding("ok", "i2c", f"BME280 at 0x76: chip id 0x{BME280_ID:02X}")
    shown = f"0x{chip:02X}" if isinstance(chip, int) else repr(chip)
    what = BME280_LOOKALIKES.get(chip, "not a BME280") if isinstance(chip, int) else "not a BME280"
    return Finding("fail", "i2c", f"the chip at 0x76 has id {shown}: {what}",
                   "fit a BME280 (id 0x60); a BMP280 has no humidity")


def _tuner(port: LinkPort, want: str) -> Finding:
    try:
        info = port.request("tuner.info", timeout=0.5, retries=2)
    except CommandError as e:
        why = ""
        if e.code == E_UNKNOWN_METHOD:  # the tuner driver did not attach: say why, if the firmware knows
            try:
                why = str(port.request("link.drivers", timeout=0.5).get("p2mfw.tuner", ""))
            except (CommandError, LinkError):
                why = ""
            why = "" if why == "ok" else why  # attached, but found no chip
        return Finding("fail", "i2c", "no FM tuner answers at 0x10/0x11" + (f" ({why})" if why else ""),
                       f"check SDIO (GP4), SCLK (GP5), 3V3 and GND; the Si4703 also needs its RST line ({WIRING})")
    except LinkError as e:
        return Finding("fail", "i2c", f"FM tuner not checked: {e}")
    chip, chip_id = str(info.get("chip")), info.get("id")
    shown = f"0x{chip_id:04X}" if isinstance(chip_id, int) else repr(chip_id)
    if want != "auto" and chip != want:
        return Finding("fail", "i2c", f"the tuner is a {chip} (chip id {shown}), radio.chip says {want}",
                       f"set radio.chip = \"{chip}\" or \"auto\"")
    if TUNER_IDS.get(chip) not in (None, chip_id):
        return Finding("warn", "i2c", f"{chip} tuner with an unexpected chip id {shown}")
    return Finding("ok", "i2c", f"{chip} tuner: chip id {shown}")


# -- the broker -------------------------------------------------------------------------
def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_broker(cfg: Config, *, password: str | None = None, timeout: float = 5.0) -> list[Finding]:
    """Connect once to each configured broker URL with the daemon's settings."""
    return [_broker(cfg, b, password, timeout) for b in parse_broker_list(cfg.mqtt.urls)]


def _broker(cfg: Config, b: BrokerAddress, password: str | None, timeout: float) -> Finding:
    from device.mqtt.client import UNSUPPORTED_PROTOCOL

    v5 = cfg.mqtt.protocol == "5"
    answer = _connect_once(cfg, b, v5, password, timeout)
    fell_back = v5 and isinstance(answer, tuple) and answer[0] in UNSUPPORTED_PROTOCOL
    if fell_back:  # as the daemon does: a broker that refuses MQTT 5 gets 3.1.1
        answer = _connect_once(cfg, b, False, password, timeout)
    if isinstance(answer, Finding):
        return answer
    if answer is not None:
        return Finding("fail", "broker", f"{b.where} refused us: {answer[1]}",
                       "check mqtt.username and the password (/etc/credstore/mqtt-password)")
    found = _broker_ok(cfg, b.url, b.where, b.tls, b.host)
    if fell_back:
        found = replace(found, text=f"{found.text}; MQTT 3.1.1, as the broker refuses MQTT 5 "
                                    "(the daemon falls back the same way)")
    return found


def _connect_once(cfg: Config, b: BrokerAddress, v5: bool, password: str | None,
                  timeout: float) -> Finding | tuple[int, str] | None:
    """One CONNECT: None when accepted, the CONNACK reason (code, name) when refused, or the
    Finding of a connection that failed before any CONNACK."""
    from device.mqtt.failures import explain_connect_error

    m = cfg.mqtt
    where, tls = b.where, b.tls
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pi2mqtt-doctor-{os.getpid()}",
                         protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, transport=b.transport)
    if b.websocket:
        client.ws_set_options(path=b.path)
    user = b.username or m.username
    if user:
        client.username_pw_set(user, b.password or password)
    if tls:
        t = m.tls
        try:
            client.tls_set(ca_certs=str(t.ca_file) if t.ca_file else None,
                           certfile=str(t.cert_file) if t.cert_file else None,
                           keyfile=str(t.key_file) if t.key_file else None,
                           cert_reqs=ssl.CERT_NONE if t.insecure else ssl.CERT_REQUIRED)
        except (OSError, ssl.SSLError, ValueError) as e:
            return Finding("fail", "broker", f"{where}: TLS set-up failed: {e}", "check mqtt.tls.* paths")
        if t.insecure:
            client.tls_insecure_set(True)
    done = threading.Event()
    result: list[tuple[int, str] | None] = []

    def on_connect(c: mqtt.Client, userdata: object, flags: object, rc: mqtt.ReasonCode,
                   props: object = None) -> None:
        result.append((rc.value, str(rc)) if rc.is_failure else None)
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(b.host, b.port, keepalive=10)
    except OSError as e:
        msg, _ = explain_connect_error(e, where, tls=tls, client_cert=bool(m.tls.cert_file))
        return Finding("fail", "broker", msg, "is the broker running and mqtt.url right?")
    client.loop_start()
    try:
        if not done.wait(timeout):
            return Finding("fail", "broker", f"{where}: no answer to CONNECT within {timeout:g} s",
                           "is it an MQTT port? is a firewall in the way?")
    finally:
        client.disconnect()
        client.loop_stop()
    return result[0] if result else None


def _broker_ok(cfg: Config, url: str, where: str, tls: bool, host: str) -> Finding:
    if tls and cfg.mqtt.tls.insecure:
        return Finding("warn", "broker", f"{where} reachable, but TLS is NOT verified (mqtt.tls.insecure)",
                       "set mqtt.tls.ca_file to the broker's CA and drop insecure")
    if tls:
        return Finding("ok", "broker", f"{url}: connected, TLS certificate verified")
    if _is_local(host):
        return Finding("ok", "broker", f"{url}: connected (loopback, no TLS needed)")
    return Finding("warn", "broker", f"{url}: connected without TLS: passwords and readings cross the "
                   "network in clear", "use mqtts:// (docs/security.md)")
