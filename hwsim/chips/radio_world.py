"""The simulated FM broadcast world: stations, their signal, and their RDS streams.

Theory of operation
-------------------
A `RadioWorld` holds `Station`s. A tuner chip model asks it two things:

* `signal(khz)` — what the antenna sees at a frequency now: RSSI in dBµV, an SNR
  estimate, whether a stereo pilot is usable, and the station (or None). Empty
  channels sit at the noise floor plus a small fixed per-channel ripple; a station
  is received within ±30 kHz of its frequency (losing 0.3 dB per kHz of offset).
  A fading station's RSSI follows a slow sine around its base level.
* `next_group(station, rssi)` — the next RDS group the station puts on air
  (blocks A-D as 16-bit ints) together with the block error levels the receiver
  reports (0 none, 1 = 1-2 bits corrected, 2 = 3-5 corrected, 3 = uncorrectable;
  an uncorrectable block carries corrupted data). The chip model calls it once per
  87.6 ms while it is tuned to the station.

Each station runs its own group scheduler: a repeating pattern of group types
(default four 0A/0B for the PS name — one two-character segment each — then two
2A/2B radiotext groups), with a 4A clock-time group inserted at the first group
after each minute boundary. AFs travel in block C of 0A groups, method A. A
station's radiotexts rotate every `rt_period_s` seconds and the A/B flag flips on
each change.

The groups are built by `hwsim.chips.rds_groups` (the project's one RDS encoder,
written from EN 50067). A station can instead broadcast *recorded* groups (off-air
captures, `Station.recorded`): they go out in order, looping, at the same rate;
a block lost in the recording (None) arrives uncorrectable (grade 3, random
data), and the station's and the world's block error rates apply on top.

Randomness (block errors, RDS phase, channel ripple) comes from a seeded
xorshift generator, so runs are repeatable. Everything here is editable at run
time (hwsim control topics call these methods): add/remove/move stations, set
RSSI, PS, radiotext, error rates, fading, the clock epoch.

Time comes from a clock: `Clock` is real time through `p2mfw.compat`; `SimClock`
is virtual (its `sleep_ms` advances it at once), so tests run a 12-second seek in
microseconds, repeatably. Chip models use their world's clock; the firmware drivers
take any object with `ticks_ms`, `ticks_diff` and `sleep_ms`.

Runs under MicroPython too: no typing, no dataclasses.
"""

import math
import time

from p2mfw import compat

from hwsim.chips.rds_groups import (
    RTPLUS_AID,
    af_pairs,
    clock_fields,
    group_0a,
    group_0b,
    group_1a,
    group_2a,
    group_2b,
    group_3a,
    group_4a,
    group_10a,
    rt_segments,
    rtplus_group,
)
from hwsim.chips.rng import XorShift32

NOISE_FLOOR_DBUV = 8
RECEIVE_WINDOW_KHZ = 30
STEREO_MIN_DBUV = 30
RDS_SYNC_MIN_DBUV = 18
DEFAULT_PATTERN = (0, 0, 0, 0, 2, 2)
RTPLUS_GROUP = 11  # RadioText+ in group 11A, announced by 3A
RTPLUS_ARTIST = 4  # RT+ content types (item.artist, item.title)
RTPLUS_TITLE = 1

# Seconds between 1970-01-01 and this port's time.time() epoch (2000 on some MicroPython ports).
_EPOCH_SHIFT = 946684800 if time.gmtime(0)[0] == 2000 else 0

class Clock:
    """Real time, through `p2mfw.compat`."""

    def ticks_ms(self) -> int:
        return int(compat.ticks_ms())

    def ticks_diff(self, a: int, b: int) -> int:
        return int(compat.ticks_diff(a, b))

    def sleep_ms(self, ms: int) -> None:
        if ms > 0:
            compat.sleep_ms(int(ms))


class SimClock(Clock):
    """Virtual milliseconds: time moves only when someone sleeps or calls `advance`."""

    def __init__(self, start_ms: int = 1000) -> None:
        self.now = start_ms

    def ticks_ms(self) -> int:
        return self.now

    def ticks_diff(self, a: int, b: int) -> int:
        return a - b

    def sleep_ms(self, ms: int) -> None:
        if ms > 0:
            self.now += int(ms)

    def advance(self, ms: int) -> None:
        """Let `ms` milliseconds pass (same as sleeping)."""
        self.sleep_ms(ms)


REAL_CLOCK = Clock()


class Rng(XorShift32):
    """The radio world's random source (a different default seed)."""

    def __init__(self, seed: int = 0x2545F491) -> None:
        super().__init__(seed, 1)


# -- stations ------------------------------------------------------------------
class Station:
    """One transmitter as heard at the antenna. Attributes are editable at run time."""

    def __init__(self, khz: int, rssi: float = 55, stereo: bool = True, pi: int = 0xD000,
                 ps: str = "", radiotexts: list[str] | None = None, rt_period_s: float = 20,
                 pty: int = 0, tp: bool = False, ta: bool = False, music: bool = True,
                 af: list[int] | None = None, clock: bool = True, tz_half_hours: int = 2,
                 fade_depth: float = 0, fade_period_s: float = 30, error_rate: float = 0.0,
                 rds: bool = True, version_b: bool = False,
                 pattern: tuple[int, ...] = DEFAULT_PATTERN,
                 recorded: list[tuple] | None = None, ecc: int | None = None,
                 language: int | None = None, ptyn: str = "", rtplus: bool = False) -> None:
        self.khz = khz
        self.rssi = rssi
        self.stereo = stereo
        self.pi = pi
        self.ps = ps
        self.radiotexts = list(radiotexts or [])
        self.rt_period_s = rt_period_s
        self.pty = pty
        self.tp = tp
        self.ta = ta
        self.music = music
        self.af = list(af or [])
        self.clock = clock
        self.tz_half_hours = tz_half_hours
        self.fade_depth = fade_depth
        self.fade_period_s = fade_period_s
        self.error_rate = error_rate
        self.rds = rds
        self.version_b = version_b
        self.pattern = tuple(pattern)
        # Recorded groups (A, B, C, D; None = a block lost in the recording), looped.
        self.recorded = list(recorded or [])
        self.rec_index = 0
        # Beyond the basics, sent in an extra slot after each pattern when any is set:
        # 1A (ECC, language), 10A (PTYN), 3A + 11A (RadioText+ tagging "artist - title").
        self.ecc = ecc
        self.language = language
        self.ptyn = ptyn
        self.rtplus = rtplus
        self.extra_index = 0
        # scheduler state
        self.slot = 0
        self.ps_seg = 0
        self.rt_seg = 0
        self.af_index = 0
        self.rt_index = -1
        self.ab = 0
        self.last_minute = -1

    def rssi_at(self, t_ms: int) -> float:
        """Base RSSI, plus the slow sine of a fading station."""
        if self.fade_depth and self.fade_period_s > 0:
            phase = 2 * math.pi * t_ms / (self.fade_period_s * 1000.0)
            return self.rssi + self.fade_depth * math.sin(phase)
        return float(self.rssi)

    def describe(self) -> dict:
        return {
            "khz": self.khz, "rssi": self.rssi, "stereo": self.stereo, "pi": self.pi,
            "ps": self.ps, "radiotexts": list(self.radiotexts), "rt_period_s": self.rt_period_s,
            "pty": self.pty, "tp": self.tp, "ta": self.ta, "af": list(self.af),
            "fade_depth": self.fade_depth, "fade_period_s": self.fade_period_s,
            "error_rate": self.error_rate, "rds": self.rds, "version_b": self.version_b,
            "recorded_groups": len(self.recorded), "ecc": self.ecc, "language": self.language,
            "ptyn": self.ptyn, "rtplus": self.rtplus,
        }


def default_stations() -> list[Station]:
    """The demo's fictional band: ~6 clean stations, one at 87.2 MHz (RDA's 87.0 band only),
    one weak, one fading."""
    return [
        Station(87200, rssi=50, pi=0xD201, ps="LOWBAND", pty=3, stereo=True,
                radiotexts=["Below 87.5 MHz - only the 87 MHz band reaches us"]),
        Station(88400, rssi=63, pi=0xD311, ps="ALPHA FM", pty=10, tp=True,
                af=[88400, 95100, 101300],
                radiotexts=["ALPHA FM - the hits, all day", "Now: The Examples - Test Pattern"],
                rt_period_s=15),
        Station(91700, rssi=57, pi=0xD412, ps="KLASSIK", pty=14,
                radiotexts=["Symphony No. 5 in C minor"]),
        Station(95100, rssi=45, pi=0xD311, ps="ALPHA FM", pty=10, tp=True,
                af=[88400, 95100, 101300], radiotexts=["ALPHA FM - the hits, all day"]),
        Station(99900, rssi=60, pi=0xD513, ps="NEWS 24", pty=1, stereo=False, music=False,
                tp=True, ta=False, radiotexts=["Headlines every half hour"], version_b=True),
        Station(101300, rssi=52, pi=0xD311, ps="ALPHA FM", pty=10, tp=True,
                af=[88400, 95100, 101300], radiotexts=["ALPHA FM - the hits, all day"]),
        Station(103700, rssi=24, pi=0xD614, ps="WEAKLING", pty=5,
                radiotexts=["Barely here"]),
        Station(106500, rssi=40, pi=0xD715, ps="DRIFTER", pty=11, fade_depth=18,
                fade_period_s=20, radiotexts=["Coming and going"]),
        Station(107900, rssi=58, pi=0xD816, ps="TOP END", pty=4,
                radiotexts=["At the top of the dial"]),
    ]


class RadioWorld:
    """The stations on air and the signal a receiver sees; see the module docstring."""

    def __init__(self, stations: list[Station] | None = None, clock: Clock | None = None,
                 seed: int = 1, epoch_s: int | None = None) -> None:
        self.clock = clock or REAL_CLOCK
        self.stations = list(stations) if stations is not None else default_stations()
        self.rng = Rng(seed)
        self.error_rate = 0.0
        self.noise_floor = NOISE_FLOOR_DBUV
        self._origin = self.clock.ticks_ms()
        self._epoch_s: int | None = None
        self._epoch_at = 0
        self.set_clock(epoch_s)

    # -- time ----------------------------------------------------------------
    def elapsed_ms(self) -> int:
        return self.clock.ticks_diff(self.clock.ticks_ms(), self._origin)

    def set_clock(self, epoch_s: int | None) -> None:
        """Broadcast clock time: a Unix time that advances from now, or None for the real clock."""
        self._epoch_s = epoch_s
        self._epoch_at = self.elapsed_ms()

    def now_s(self) -> int:
        """The Unix time the stations broadcast."""
        if self._epoch_s is None:
            return int(time.time()) + _EPOCH_SHIFT
        return self._epoch_s + (self.elapsed_ms() - self._epoch_at) // 1000

    # -- editing -------------------------------------------------------------
    def station(self, khz: int) -> Station | None:
        for s in self.stations:
            if s.khz == khz:
                return s
        return None

    def _need(self, khz: int) -> Station:
        s = self.station(khz)
        if s is None:
            raise KeyError(f"no station at {khz} kHz")
        return s

    def add_station(self, station: Station) -> None:
        self.remove_station(station.khz)
        self.stations.append(station)

    def remove_station(self, khz: int) -> bool:
        s = self.station(khz)
        if s is None:
            return False
        self.stations.remove(s)
        return True

    def move_station(self, khz: int, new_khz: int) -> None:
        s = self._need(khz)
        self.remove_station(new_khz)
        s.khz = new_khz

    def set_rssi(self, khz: int, rssi: float) -> None:
        self._need(khz).rssi = rssi

    def set_ps(self, khz: int, ps: str) -> None:
        self._need(khz).ps = ps

    def set_pi(self, khz: int, pi: int) -> None:
        self._need(khz).pi = pi

    def set_radiotext(self, khz: int, texts: list[str], period_s: float | None = None) -> None:
        s = self._need(khz)
        s.radiotexts = list(texts)
        if period_s is not None:
            s.rt_period_s = period_s
        s.rt_index = -1

    def set_fading(self, khz: int, depth: float, period_s: float = 30) -> None:
        s = self._need(khz)
        s.fade_depth = depth
        s.fade_period_s = period_s

    def set_error_rate(self, rate: float, khz: int | None = None) -> None:
        """Block error probability added to one station's, or to all (khz None)."""
        if khz is None:
            self.error_rate = rate
        else:
            self._need(khz).error_rate = rate

    def describe(self) -> list[dict]:
        return [s.describe() for s in sorted(self.stations, key=lambda s: s.khz)]

    # -- signal --------------------------------------------------------------
    def _ripple(self, khz: int) -> float:
        return ((khz // 25 * 2654435761) >> 7) % 5

    def signal(self, khz: int) -> tuple[float, float, bool, Station | None]:
        """(rssi dBµV, snr dB, stereo pilot usable, station or None) at a frequency now."""
        t = self.elapsed_ms()
        best = None
        best_rssi = -1.0
        for s in self.stations:
            off = abs(s.khz - khz)
            if off <= RECEIVE_WINDOW_KHZ:
                r = s.rssi_at(t) - 0.3 * off
                if r > best_rssi:
                    best, best_rssi = s, r
        floor = self.noise_floor + self._ripple(khz)
        if best is None or best_rssi <= floor:
            return floor, floor - self.noise_floor, False, None
        stereo = best.stereo and best_rssi >= STEREO_MIN_DBUV
        return best_rssi, best_rssi - self.noise_floor, stereo, best

    def block_error_probability(self, station: Station, rssi: float) -> float:
        """Chance that one block arrives damaged: the knobs plus a rise below 40 dBµV."""
        weak = 0.0
        if rssi < 40:
            weak = min(1.0, ((40 - rssi) / 25.0) ** 2)
        return min(1.0, self.error_rate + station.error_rate + weak)

    # -- RDS -----------------------------------------------------------------
    def _radiotext(self, s: Station) -> str | None:
        if not s.radiotexts:
            return None
        period = max(1, int(s.rt_period_s * 1000))
        idx = (self.elapsed_ms() // period) % len(s.radiotexts)
        if idx != s.rt_index:
            if s.rt_index != -1:
                s.ab ^= 1
            s.rt_index = idx
            s.rt_seg = 0
        return s.radiotexts[idx]

    def clean_group(self, s: Station) -> tuple[int, int, int, int]:
        """The next group station `s` transmits (advances its scheduler); a recorded
        group may hold None for a block lost in the recording."""
        if s.recorded:
            group = s.recorded[s.rec_index % len(s.recorded)]
            s.rec_index = (s.rec_index + 1) % len(s.recorded)
            return group
        minute = self.now_s() // 60
        if s.clock and minute != s.last_minute:
            s.last_minute = minute
            mjd, hour, mnt = clock_fields(minute * 60)
            return group_4a(s.pi, mjd, hour, mnt, s.tz_half_hours, s.pty, s.tp)
        extras = self._extra_groups(s)
        if extras and s.pattern and s.slot % (len(s.pattern) + 1) == len(s.pattern):
            s.slot += 1
            s.extra_index += 1
            return extras[(s.extra_index - 1) % len(extras)]
        cycle = len(s.pattern) + (1 if extras else 0)
        kind = s.pattern[(s.slot % cycle) % len(s.pattern)] if s.pattern else 0
        s.slot += 1
        text = self._radiotext(s) if kind == 2 else None
        if text is None:
            seg = s.ps_seg
            s.ps_seg = (seg + 1) % 4
            di = 0b1001 if s.stereo else 0b1000
            if s.version_b:
                return group_0b(s.pi, seg, s.ps, s.pty, s.tp, s.ta, s.music, di)
            pairs = af_pairs(s.af)
            pair = pairs[s.af_index % len(pairs)]
            s.af_index += 1
            return group_0a(s.pi, seg, s.ps, s.pty, s.tp, s.ta, s.music, di, pair)
        seg = s.rt_seg
        s.rt_seg = (seg + 1) % rt_segments(text, s.version_b)
        if s.version_b:
            return group_2b(s.pi, seg, text, s.ab, s.pty, s.tp)
        return group_2a(s.pi, seg, text, s.ab, s.pty, s.tp)

    def _extra_groups(self, s: Station) -> list[tuple[int, int, int, int]]:
        """The station's 1A, 10A and RT+ groups (one goes out per pattern cycle)."""
        out = []
        if s.ecc is not None:
            out.append(group_1a(s.pi, 0, s.ecc & 0xFF, s.pty, s.tp))
        if s.language is not None:
            out.append(group_1a(s.pi, 3, s.language & 0xFFF, s.pty, s.tp))
        if s.ptyn:
            out += [group_10a(s.pi, seg, s.ptyn, 0, s.pty, s.tp) for seg in (0, 1)]
        text = self._radiotext(s) if s.rtplus else None
        at = text.find(" - ") if text else -1
        if text and 0 < at < len(text) - 3:
            tags = [(RTPLUS_ARTIST, 0, min(at, 64)), (RTPLUS_TITLE, at + 3, min(len(text) - at - 3, 32))]
            out.append(group_3a(s.pi, RTPLUS_GROUP, False, RTPLUS_AID, 0, s.pty, s.tp))
            out.append(rtplus_group(s.pi, RTPLUS_GROUP, tags, s.rt_index & 1, True, s.pty, s.tp))
        return out

    def next_group(self, s: Station, rssi: float) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        """The next group as received at `rssi`: (blocks, error levels per block)."""
        blocks = list(self.clean_group(s))
        p = self.block_error_probability(s, rssi)
        errors = [0, 0, 0, 0]
        for i in range(4):
            if blocks[i] is None:  # lost in the recording: uncorrectable, random data
                errors[i] = 3
                blocks[i] = self.rng.next() & 0xFFFF
            elif p > 0 and self.rng.random() < p:
                r = self.rng.random()
                level = 1 if r < 0.35 else (2 if r < 0.6 else 3)
                errors[i] = level
                if level == 3:
                    blocks[i] ^= (self.rng.next() & 0xFFFF) or 0x0101
        return ((blocks[0], blocks[1], blocks[2], blocks[3]),
                (errors[0], errors[1], errors[2], errors[3]))
