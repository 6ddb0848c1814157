"""Board bindings for the Raspberry Pi Pico (RP2040): link port, I2C bus, watchdog, safe mode.

Only this module (and main.py) import `machine`; the firmware core gets the
objects built here injected. Pins follow firmware/README.md.
"""

import sys

import machine
import micropython

UART_ID = 0
UART_TX = 0        # GP0 -> Pi RXD (GPIO15)
UART_RX = 1        # GP1 <- Pi TXD (GPIO14)
I2C_ID = 0
I2C_SDA = 4        # GP4
I2C_SCL = 5        # GP5
I2C_FREQ = 400000
TUNER_RST = 6      # GP6 -> Si4703 RST (2-wire bus-mode reset; unused by the RDA5807M)
SAFE_PIN = 22      # GP22 tied to GND at boot: do not start the firmware
RX_BUF = 2048
TX_BUF = 1024


class UartPort:
    """machine.UART as the link port: read(n) never blocks."""

    def __init__(self, baud):
        self.uart = machine.UART(
            UART_ID, baudrate=baud, bits=8, parity=None, stop=1,
            tx=machine.Pin(UART_TX), rx=machine.Pin(UART_RX),
            rxbuf=RX_BUF, txbuf=TX_BUF, timeout=0,
        )

    def read(self, n):
        avail = self.uart.any()
        if not avail:
            return None
        return self.uart.read(min(n, avail))

    def write(self, buf):
        return self.uart.write(buf)


class UsbCdcPort:
    """The USB serial port (stdin/stdout) as the link port.

    Ctrl-C (0x03) is ordinary data on the link, so keyboard interrupts are turned
    off, and nothing may ever print() on this port.
    """

    def __init__(self):
        import select

        micropython.kbd_intr(-1)
        self._in = sys.stdin.buffer
        self._out = sys.stdout.buffer
        self._poll = select.poll()
        self._poll.register(sys.stdin, select.POLLIN)

    def read(self, n):
        buf = bytearray()
        while len(buf) < n and self._poll.poll(0):
            b = self._in.read(1)
            if not b:
                break
            buf += b
        return bytes(buf) if buf else None

    def write(self, buf):
        return self._out.write(buf)


def safe_mode():
    """True when the safe-mode pin is pulled to ground (skip the firmware, keep the REPL)."""
    pin = machine.Pin(SAFE_PIN, machine.Pin.IN, machine.Pin.PULL_UP)
    return pin.value() == 0


def make_port(kind="uart", baud=115200):
    if kind == "usb":
        return UsbCdcPort()
    return UartPort(baud)


def make_i2c():
    return machine.I2C(I2C_ID, sda=machine.Pin(I2C_SDA), scl=machine.Pin(I2C_SCL), freq=I2C_FREQ)


def make_pins():
    """The pins drivers may drive: the tuner's RST, the I2C SDA line, and a bus re-init.

    The Si4703 reset (`p2mfw.tuner.bus_mode_reset`) takes SDA over as a plain output
    to hold it low while RST rises; `i2c_init` then builds I2C0 again, which hands
    GP4 back to the I2C block (the RP2040 port keeps one I2C0 object, so the bus
    object the other drivers hold stays valid).
    """
    return {"tuner_rst": machine.Pin(TUNER_RST, machine.Pin.OUT, value=1),
            "sda": machine.Pin(I2C_SDA), "i2c_init": make_i2c}


def make_wdt(timeout_ms=4000):
    """The hardware watchdog (RP2040 maximum ~8.3 s); it cannot be stopped once started."""
    return machine.WDT(timeout=timeout_ms)
