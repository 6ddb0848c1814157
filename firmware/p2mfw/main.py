"""Firmware entry point: build the board's port, I2C bus and watchdog, attach the drivers, serve.

On the Pico this file is also copied to the root as ``main.py`` (see
firmware/README.md), so it runs at boot. `attach_drivers` is importable without
`machine`: hwsim calls it to attach the same driver list to the simulated bus.

Add a driver by adding its module to `DRIVERS`; each module provides
``attach(server, i2c)``, and a module with ``USES_PINS = True`` gets the board's
pins too (``attach(server, i2c, pins=pins)``: "tuner_rst", "sda", "i2c_init" —
see `board_pico.make_pins`). A module that is not installed is skipped; one whose
attach fails is reported in the ``link.drivers`` method and the rest go on.
"""

FW_VERSION = "0.1.0"

# The link: "uart" (UART0 on GP0/GP1, wired to the Pi's UART) or "usb" (USB-CDC).
LINK = "uart"
BAUD = 115200
WDT_TIMEOUT_MS = 4000

# Every driver module, in attach order. Each one has `attach(server, i2c)`.
DRIVERS = (
    "p2mfw.bme280",
    "p2mfw.tuners",  # detects the RDA5807M or the Si4703
)


def attach_drivers(server, i2c, names=DRIVERS, pins=None):
    """Attach each driver module in `names`; returns {name: "ok" | "missing" | "failed: ..."}."""
    status = {}
    for name in names:
        try:
            mod = __import__(name, None, None, ["attach"])
        except ImportError:
            status[name] = "missing"
            continue
        try:
            if pins is not None and getattr(mod, "USES_PINS", False):
                mod.attach(server, i2c, pins=pins)
            else:
                mod.attach(server, i2c)
            status[name] = "ok"
        except Exception as e:
            status[name] = f"failed: {e!r}"
    server.register("link.drivers", lambda args: status)
    return status


def main():
    from p2mfw import board_pico
    from p2mfw.server import LinkServer

    if board_pico.safe_mode():
        return  # jumper on the safe-mode pin: stay in the REPL for mpremote
    port = board_pico.make_port(LINK, BAUD)
    i2c = board_pico.make_i2c()
    server = LinkServer(port, fw_version=FW_VERSION)
    attach_drivers(server, i2c, pins=board_pico.make_pins())
    wdt = board_pico.make_wdt(WDT_TIMEOUT_MS)
    server.run_forever(wdt)


if __name__ == "__main__":
    main()
