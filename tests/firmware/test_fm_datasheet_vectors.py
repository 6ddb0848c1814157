"""FM chips against their datasheets' own tables: band and spacing codes, the channel formula.

No Python driver for the RDA5807M or the Si4702/03 is published on PyPI (searched for
issue 10: only transmitter and SDR packages), so the cross-check of the FM chip models
is the datasheets' tables, taken as test vectors; they check the firmware drivers and
the hwsim models at once (the driver programs the codes, the model decodes them):

* RDA5807M datasheet v1.1, register 03H: BAND 00 = 87-108 MHz, 01 = 76-91, 10 = 76-108,
  11 = 65-76 (65M_50M_MODE, 07H bit 9, = 1 at reset; 0 gives 50-76); SPACE 00 = 100 kHz,
  01 = 200, 10 = 50, 11 = 25; "Frequency = Channel Spacing (kHz) x CHAN + band bottom".
  Register 00H CHIPID reads 0x58 in the high byte.
* Si4702/03-C19 datasheet, registers 03h/05h: BAND 00 = 87.5-108 MHz, 01 = 76-108,
  10 = 76-90; SPACE 00 = 200 kHz, 01 = 100, 10 = 50; "Freq (MHz) = Spacing (MHz) x
  Channel + Bottom of Band (MHz)". Register 00h DEVICEID = 0x1242.

Runs under CPython (pytest) and MicroPython (tests/test_micropython.py).
"""

from p2mfw.rda5807m import Rda5807m as RdaDriver
from p2mfw.si4703 import Si4703 as SiDriver

from hwsim.chips.radio_world import RadioWorld, SimClock
from hwsim.chips.rda5807m import Rda5807m as RdaModel
from hwsim.chips.si4703 import Si4703 as SiModel
from hwsim.i2c import McuPin, SimI2C

# (kHz, band code, spacing code, channel) from the formula and tables above
RDA_VECTORS = (
    (87000, 0, 0, 0), (104300, 0, 0, 173), (88400, 0, 1, 7), (93000, 2, 0, 170),
    (90950, 1, 2, 299), (66450, 3, 3, 58), (75975, 3, 3, 439),
)
SI_VECTORS = (
    (87500, 0, 0, 0), (107900, 0, 0, 102), (101100, 0, 1, 136), (93000, 1, 1, 170),
    (89950, 2, 2, 279), (76000, 2, 1, 0),
)


def _rda():
    clock = SimClock()
    bus = SimI2C()
    model = RdaModel(RadioWorld(stations=[], clock=clock, seed=3))
    model.attach(bus)
    return model, RdaDriver(bus, clock)


def _si():
    clock = SimClock()
    bus = SimI2C()
    rst = McuPin("tuner_rst", 0)
    model = SiModel(RadioWorld(stations=[], clock=clock, seed=3))
    model.attach(bus, rst)
    return model, SiDriver(bus, clock, {"tuner_rst": rst, "sda": bus.sda, "i2c_init": bus.init})


def test_rda5807m_channel_formula_and_codes():
    model, drv = _rda()
    assert drv.identify() >> 8 == 0x58
    drv.power_up()
    for khz, band, spacing, ch in RDA_VECTORS:
        st = drv.set_band(band, spacing)
        st = drv.tune(khz)
        assert (model.regs[0x03] >> 2) & 3 == band and model.regs[0x03] & 3 == spacing, khz
        assert model.regs[0x03] >> 6 == ch and st["channel"] == ch, (khz, st)
        assert model.freq_khz() == khz and st["khz"] == khz, (khz, model.freq_khz())
    assert model.violations == []


def test_rda5807m_band_11_is_50_mhz_with_register_07_bit_9_clear():
    model, drv = _rda()
    drv.power_up()
    drv.set_band(3, 3)
    assert model.band_limits() == (65000, 76000)
    model.regs[0x07] &= ~0x0200  # 65M_50M_MODE = 0
    assert model.band_limits() == (50000, 76000)


def test_si4703_channel_formula_and_codes():
    model, drv = _si()
    assert drv.identify() == 0x1242
    drv.power_up()
    for khz, band, spacing, ch in SI_VECTORS:
        drv.set_band(band, spacing)
        st = drv.tune(khz)
        assert (model.regs[0x05] >> 6) & 3 == band and (model.regs[0x05] >> 4) & 3 == spacing, khz
        assert model.regs[0x03] & 0x3FF == ch and st["channel"] == ch, (khz, st)
        assert model.freq_khz() == khz and st["khz"] == khz, (khz, model.freq_khz())
    assert model.violations == []
