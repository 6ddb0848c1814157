"""The tuner chips on the bus: addresses, ids, the Si4703 bus-mode reset, chip detection.

Split from `p2mfw.tuner` (the drivers' shared logic), which re-exports these names.
Nothing here imports a driver, so the drivers can import it freely.

* RDA5807M: I2C 0x10 (sequential: reads start at 0x0A) and 0x11 (random access,
  register pointer); CHIPID 0x5804 in register 0x00.
* Si4702/03: I2C 0x10 only, sequential; reads start at 0x0A and the counter wraps
  from 0x0F to 0x00 (Si4702/03-C19 datasheet §4.8.2); DEVICEID 0x1242 in 0x00.
  The chip answers I2C only after its 2-wire bus mode was selected: SDIO low at
  the rising edge of RST (datasheet §4.9, table "Bus Mode Select"; AN230 §2).
"""

from p2mfw import compat

ADDR = 0x10
RDA_RANDOM_ADDR = 0x11
RDA_CHIP_ID = 0x5804
SI470X_DEVICE_ID = 0x1242
RESET_PULSE_MS = 1


class TunerError(Exception):
    """A tuner request that cannot be done; `code` is one of the daemon's error codes."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def bus_mode_reset(pins, clock=None):
    """Select the Si4702/03 2-wire mode: SDIO low at the rising edge of RST; False without pins.

    `pins` is the board's dict (`board_pico.make_pins`): "tuner_rst" and "sda"
    (machine.Pin-like) and "i2c_init" (hands SDA back to the I2C block). SCLK is
    left alone (idle high, pulled up, as the datasheet wants at the edge). Harmless
    for the RDA5807M, which has no RST pin.
    """
    if not pins:
        return False
    rst = pins.get("tuner_rst")
    sda = pins.get("sda")
    if rst is None or sda is None:
        return False
    clock = clock if clock is not None else compat
    sda.init(sda.OUT, value=0)
    rst.init(rst.OUT, value=0)
    clock.sleep_ms(RESET_PULSE_MS)
    rst.value(1)
    clock.sleep_ms(RESET_PULSE_MS)
    restore = pins.get("i2c_init")
    if restore is not None:
        restore()  # SDA back to the I2C block, released high
    return True


def detect(i2c):
    """'rda5807m', 'si4703' or None, from the chip id registers."""
    try:
        d = i2c.readfrom_mem(RDA_RANDOM_ADDR, 0x00, 2)
        if ((d[0] << 8) | d[1]) == RDA_CHIP_ID:
            return "rda5807m"
    except OSError:
        pass
    try:
        d = i2c.readfrom(ADDR, 32)  # 0x0A..0x0F, then 0x00..: only the Si4702/03 documents the wrap
    except OSError:
        return None
    if ((d[12] << 8) | d[13]) == SI470X_DEVICE_ID:
        return "si4703"
    return None
