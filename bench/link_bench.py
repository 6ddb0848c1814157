"""Link benchmark: round-trip time, sustained frame throughput, bytes on the wire per reading.

Runs the real firmware LinkServer in hwsim's SimMcu (a pty, paced at the line
rate) against the host's LinkPort (pyserial), at 115 200 and 1 000 000 baud:

* RTT: sequential ``echo`` requests with a 32-byte request payload; p50 / p99.
* MCU -> host: the firmware emits EVENT frames with a 32-byte payload (42 bytes
  on the wire) back to back; frames/s at the host vs. the line-rate limit.
* host -> MCU: pipelined ``echo`` requests (32-byte payload, 16 in flight);
  requests/s vs. the line-rate limit.
* Bytes on the wire for one BME280 reading event, versus the same data as JSON.

usage: python bench/link_bench.py [--quick]
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device.link.messages import Event, Request, encode_message, encode_payload  # noqa: E402
from device.link.port import LinkPort  # noqa: E402
from hwsim.mcu import SimMcu  # noqa: E402

BAUDS = (115_200, 1_000_000)
PAYLOAD = 32
WINDOW = 16
REQ_ARGS = {"b": b"\x55" * 24}  # REQUEST payload: 2 (method "e") + 30 (args) = 32 bytes
EVENT_DATA = b"\xaa" * 28       # EVENT payload: 2 (name "b") + 30 (bytes value) = 32 bytes


def _check_sizes() -> int:
    req = encode_payload(Request("e", REQ_ARGS))
    ev = encode_payload(Event("b", EVENT_DATA))
    assert len(req) == PAYLOAD and len(ev) == PAYLOAD, (len(req), len(ev))
    wire = len(encode_message(Event("b", EVENT_DATA), 1))
    assert wire == 42, wire
    return wire


def _build(server: Any, i2c: Any) -> None:
    server.register("e", lambda args: args)

    def stream(args: dict[str, Any]) -> dict[str, Any]:
        for _ in range(int(args.get("n", 100))):
            server.emit("b", EVENT_DATA)
        return {}

    server.register("stream", stream)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def _pipelined_rate(port: LinkPort, n_req: int) -> float:
    """host -> MCU: requests per second with WINDOW in flight."""
    inflight: deque[Future[Any]] = deque()
    t0 = time.perf_counter()
    for _ in range(n_req):
        if len(inflight) >= WINDOW:
            inflight.popleft().result(timeout=5)
        inflight.append(port.submit("e", REQ_ARGS, timeout=1.0))
    while inflight:
        inflight.popleft().result(timeout=5)
    return n_req / (time.perf_counter() - t0)


def bench_baud(baud: int, quick: bool) -> dict[str, Any]:
    wire = 42
    limit = baud / 10 / wire
    arrivals: deque[float] = deque()
    done = threading.Event()
    want = {"n": 0}

    def on_event(name: str, data: Any) -> None:
        if name == "b":
            arrivals.append(time.monotonic())
            if len(arrivals) >= want["n"]:
                done.set()

    with tempfile.TemporaryDirectory() as d:
        mcu = SimMcu(Path(d) / "ttyBENCH", baud, build=_build)
        port = LinkPort(str(mcu.link_path), baud, on_event=on_event)
        try:
            assert port.wait_up(3.0), "link did not come up"
            # Round-trip time, one request at a time.
            n_rtt = 200 if quick else (500 if baud < 500_000 else 2000)
            rtts = []
            for _ in range(n_rtt):
                t0 = time.perf_counter()
                port.request("e", REQ_ARGS, timeout=1.0)
                rtts.append((time.perf_counter() - t0) * 1000)
            line_rtt = (42 + 40) * 10 / baud * 1000  # request 42 B + reply 40 B on the wire
            # MCU -> host: back-to-back events.
            n_ev = int(limit * (2 if quick else 5))
            want["n"] = n_ev
            port.request("stream", {"n": n_ev}, timeout=n_ev / limit * 2 + 5, retries=0)
            done.wait(5.0)
            got = len(arrivals)
            span = arrivals[-1] - arrivals[0] if got > 1 else float("nan")
            ev_rate = (got - 1) / span if got > 1 else 0.0
            req_rate = _pipelined_rate(port, int(limit * (2 if quick else 5)))
            counters = port.counters()
        finally:
            port.close()
            mcu.close()
    return {
        "baud": baud,
        "line_limit_fps": round(limit, 1),
        "rtt_ms_p50": round(_pct(rtts, 0.50), 3),
        "rtt_ms_p99": round(_pct(rtts, 0.99), 3),
        "rtt_ms_line_floor": round(line_rtt, 3),
        "events_fps": round(ev_rate, 1),
        "events_pct_of_line": round(100 * ev_rate / limit, 1),
        "events_received": f"{got}/{n_ev}",
        "requests_fps": round(req_rate, 1),
        "requests_pct_of_line": round(100 * req_rate / limit, 1),
        "retries": counters["retries"],
        "crc_errors": counters["crc_errors"],
    }


def recovery(baud: int, unplugged_s: float) -> dict[str, float]:
    """Seconds from replug (after `unplugged_s` unplugged) and from an MCU reboot to a good reply."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        mcu = SimMcu(Path(d) / "ttyBENCH", baud, build=_build)
        port = LinkPort(str(mcu.link_path), baud)
        try:
            assert port.wait_up(3.0)
            for name, fault, fix in (
                ("replug", mcu.unplug, mcu.replug),
                ("reboot", lambda: None, mcu.reboot),
            ):
                fault()
                time.sleep(unplugged_s if name == "replug" else 0.2)
                t0 = time.monotonic()
                fix()
                while True:
                    try:
                        port.request("e", REQ_ARGS, timeout=0.2, retries=1)
                        break
                    except Exception:
                        if time.monotonic() - t0 > 10:
                            raise
                        port.wait_up(0.05)
                out[name] = time.monotonic() - t0
        finally:
            port.close()
            mcu.close()
    return out


def bytes_per_reading() -> list[tuple[str, int, int]]:
    """(variant, link bytes on the wire, the same payload as a JSON frame body)."""
    rows = []
    for label, data in (
        ("integer compensation (t °C*100, p Pa*256, h %RH*1024)", {"t": 2508, "p": 25767240, "h": 47445}),
        ("floats (°C, Pa, %RH)", {"t": 25.08, "p": 100653.28, "h": 46.33}),
        ("f32-exact floats (as on the RP2040)", {"t": 25.0625, "p": 100653.25, "h": 46.328125}),
    ):
        wire = len(encode_message(Event("bme280.reading", data), 1))
        as_json = len(json.dumps({"event": "bme280.reading", "data": data}, separators=(",", ":")))
        rows.append((label, wire, as_json + 2))
    return rows


def main() -> None:
    quick = "--quick" in sys.argv
    logging.basicConfig(level=logging.ERROR)  # the recovery run logs expected warnings
    _check_sizes()
    print("link bench: SimMcu (real firmware LinkServer, paced pty) <-> LinkPort (pyserial)")
    print(f"payload {PAYLOAD} B -> 42 B per frame on the wire (7 B header+CRC, 1 B COBS, 2 delimiters)\n")
    for baud in BAUDS:
        r = bench_baud(baud, quick)
        print(f"{baud:>9} baud  line limit {r['line_limit_fps']:>7} frames/s")
        print(f"    RTT p50 {r['rtt_ms_p50']} ms, p99 {r['rtt_ms_p99']} ms "
              f"(line time alone {r['rtt_ms_line_floor']} ms)")
        print(f"    MCU->host events  {r['events_fps']:>7} frames/s = {r['events_pct_of_line']} % of line "
              f"({r['events_received']} received)")
        print(f"    host->MCU requests {r['requests_fps']:>7} frames/s = {r['requests_pct_of_line']} % of line "
              f"({WINDOW} in flight; retries {r['retries']}, crc errors {r['crc_errors']})")
    rec = recovery(115_200, 1.0 if quick else 5.0)
    print(f"\nrecovery at 115200 baud: first good reply {rec['replug']:.3f} s after replug "
          f"({'1' if quick else '5'} s unplugged), {rec['reboot']:.3f} s after an MCU reboot")
    print("\nbytes on the wire per BME280 reading event (link frame vs. JSON + 2 delimiters):")
    for label, wire, js in bytes_per_reading():
        print(f"    {wire:>3} B link, {js:>3} B JSON   {label}")


if __name__ == "__main__":
    main()
