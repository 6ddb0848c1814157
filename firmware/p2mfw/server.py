"""The co-processor's end of the link: a request/response server with events and timers.

Theory of operation
-------------------
`LinkServer` owns one port (an object with non-blocking ``read(n) -> bytes|None``
and ``write(buf)``). Each `poll()` reads what has arrived, feeds the frame decoder,
handles every complete frame, then runs the periodic tasks that are due. It never
raises because of what arrived on the wire.

* HELLO opens a session: it clears the reply cache and is answered with HELLO_ACK
  (protocol version, max frame, boot id, firmware version, capabilities).
* A REQUEST before any HELLO since boot is refused with ERROR ``hello_required``:
  that is how the host notices a reboot whose ``link.boot`` event it missed.
* A REQUEST runs its handler once. The encoded reply is cached under the request's
  seq (with the request's CRC); a retried request with the same seq and CRC gets
  the cached bytes again without running the handler a second time.
* Handlers return a dict (or None). ``raise FwError(code, message)`` answers ERROR
  with that code; OSError becomes ``io_error``, any other exception ``internal``.
* `emit` sends an EVENT with its own 8-bit event counter as seq (the host counts
  gaps); events are best effort: a failed write is counted, never raised.
* The first poll() announces the boot with the event ``link.boot``.

Built-in methods: ``link.stats`` (counters) and ``link.ping``.
MicroPython-compatible (no typing, no dataclasses).
"""

from p2mfw import proto
from p2mfw.compat import ticks_add, ticks_diff, ticks_ms, ticks_us
from p2mfw.frame import MAX_FRAME, MAX_PAYLOAD, FrameDecoder, FrameTooLarge, encode_frame

REPLY_CACHE = 24  # replies remembered for duplicate suppression (host keeps <= 16 in flight)
READ_CHUNK = 256   # bytes read from the port per poll()


class FwError(Exception):
    """Raised by a handler to answer ERROR with a machine-readable code."""

    def __init__(self, code, message=""):
        super().__init__(code, message)
        self.code = code
        self.message = message


def _new_boot_id():
    try:
        import random

        return random.getrandbits(32) ^ ticks_us()
    except (ImportError, AttributeError):
        return ticks_us() & 0xFFFFFFFF


class LinkServer:
    """The firmware's link endpoint; drivers `register` methods and `emit` events."""

    FwError = FwError

    def __init__(self, port, fw_version="0.1.0", caps=None, boot_id=None):
        self.port = port
        self.fw_version = fw_version
        self.caps = list(caps or [])
        self.boot_id = (_new_boot_id() if boot_id is None else boot_id) & 0xFFFFFFFF
        self._decoder = FrameDecoder()
        self._handlers = {}
        self._tasks = []        # [interval_ms, next_due_ticks, fn]
        self._cache = []        # [seq, request_crc, reply_bytes], oldest first
        self._session = False
        self._announced = False
        self._event_seq = 0
        self._boot_ticks = ticks_ms()
        self.counters = {
            "requests": 0,
            "duplicates": 0,
            "errors_sent": 0,
            "hellos": 0,
            "events_sent": 0,
            "events_dropped": 0,
            "task_errors": 0,
            "unexpected": 0,
            "write_errors": 0,
            "frames_sent": 0,
        }
        self.register("link.stats", self._stats)
        self.register("link.ping", lambda args: {"uptime_ms": self._uptime()})

    # -- driver API ------------------------------------------------------------
    def register(self, method, handler):
        """Serve `method` with `handler(args: dict) -> dict | None`."""
        self._handlers[method] = handler

    def add_capability(self, name):
        if name not in self.caps:
            self.caps.append(name)

    def every(self, ms, fn):
        """Call `fn()` from poll() every `ms` milliseconds."""
        self._tasks.append([ms, ticks_add(ticks_ms(), ms), fn])

    def emit(self, name, data=None):
        """Send an unsolicited EVENT; best effort, returns True if it was written."""
        try:
            frame = encode_frame(
                proto.PROTO_MAJOR, proto.EVENT, self._event_seq, proto.event_payload(name, data)
            )
        except ValueError:
            self.counters["events_dropped"] += 1
            return False
        self._event_seq = (self._event_seq + 1) & 0xFF
        if self._write(frame):
            self.counters["events_sent"] += 1
            return True
        self.counters["events_dropped"] += 1
        return False

    # -- main loop ---------------------------------------------------------------
    def poll(self):
        """One step: read, handle complete frames, run due periodic tasks. Never raises.

        Returns True if bytes arrived (more may be waiting), False if the line was idle.
        """
        if not self._announced:
            self._announced = True
            self.emit(proto.EV_BOOT, {"boot": self.boot_id, "fw": self.fw_version})
        try:
            data = self.port.read(READ_CHUNK)
        except Exception:
            data = None
        if data:
            for f in self._decoder.feed(data):
                try:
                    self._handle(f)
                except Exception:
                    self.counters["unexpected"] += 1
        self._run_tasks()
        return bool(data)

    def run_forever(self, wdt=None):
        """poll() forever, feeding the watchdog `wdt` (anything with feed()) each turn."""
        from p2mfw.compat import sleep_ms

        while True:
            busy = self.poll()
            if wdt is not None:
                wdt.feed()
            if not busy and self.wait_hint_ms() > 0:
                sleep_ms(1)

    def wait_hint_ms(self, cap=10):
        """Milliseconds until the next periodic task is due (at most `cap`)."""
        now = ticks_ms()
        wait = cap
        for task in self._tasks:
            d = ticks_diff(task[1], now)
            if d < wait:
                wait = d
        return max(0, wait)

    def stats(self):
        d = self._decoder.stats()
        d.update(self.counters)
        d["boot_id"] = self.boot_id
        d["uptime_ms"] = self._uptime()
        return d

    # -- internals -----------------------------------------------------------------
    def _uptime(self):
        return ticks_diff(ticks_ms(), self._boot_ticks)

    def _stats(self, args):
        return self.stats()

    def _write(self, frame):
        try:
            self.port.write(frame)
            self.counters["frames_sent"] += 1
            return True
        except Exception:
            self.counters["write_errors"] += 1
            return False

    def _run_tasks(self):
        now = ticks_ms()
        for task in self._tasks:
            if ticks_diff(now, task[1]) >= 0:
                # Next due time: keep the cadence, but never queue a burst after a stall.
                task[1] = ticks_add(task[1], task[0])
                if ticks_diff(now, task[1]) >= 0:
                    task[1] = ticks_add(now, task[0])
                try:
                    task[2]()
                except Exception:
                    self.counters["task_errors"] += 1

    def _handle(self, f):
        version, mtype, seq, payload, crc = f
        if mtype == proto.HELLO:
            self._hello(seq, payload)
        elif mtype == proto.REQUEST:
            self._request(version, seq, payload, crc)
        else:
            self.counters["unexpected"] += 1

    def _hello(self, seq, payload):
        try:
            proto.parse_hello(payload)
        except ValueError:
            self.counters["unexpected"] += 1
            return
        self.counters["hellos"] += 1
        self._session = True
        self._cache = []
        ack = proto.hello_ack_payload(
            proto.PROTO_MAJOR, proto.PROTO_MINOR, MAX_FRAME, self.boot_id, self.fw_version, self.caps
        )
        self._write(encode_frame(proto.PROTO_MAJOR, proto.HELLO_ACK, seq, ack))

    def _error_frame(self, seq, code, message):
        self.counters["errors_sent"] += 1
        payload = proto.error_payload(code, message)
        if len(payload) > MAX_PAYLOAD:
            payload = payload[:MAX_PAYLOAD]
        return encode_frame(proto.PROTO_MAJOR, proto.ERROR, seq, payload)

    def _request(self, version, seq, payload, crc):
        if version != proto.PROTO_MAJOR:
            self._write(self._error_frame(seq, proto.E_BAD_REQUEST, f"protocol major {version}"))
            return
        if not self._session:
            self._write(self._error_frame(seq, proto.E_HELLO_REQUIRED, "send HELLO first"))
            return
        for entry in self._cache:
            if entry[0] == seq and entry[1] == crc:
                self.counters["duplicates"] += 1
                self._write(entry[2])
                return
        self.counters["requests"] += 1
        reply = self._run_handler(seq, payload)
        self._cache.append([seq, crc, reply])
        if len(self._cache) > REPLY_CACHE:
            self._cache.pop(0)
        self._write(reply)

    def _run_handler(self, seq, payload):
        try:
            method, args = proto.parse_request(payload)
        except ValueError as e:
            return self._error_frame(seq, proto.E_BAD_REQUEST, str(e))
        handler = self._handlers.get(method)
        if handler is None:
            return self._error_frame(seq, proto.E_UNKNOWN_METHOD, method)
        try:
            result = handler(args if args is not None else {})
        except FwError as e:
            return self._error_frame(seq, e.code, e.message)
        except OSError as e:
            return self._error_frame(seq, proto.E_IO, f"{method}: {e!r}")
        except Exception as e:
            return self._error_frame(seq, proto.E_INTERNAL, f"{method}: {e!r}")
        try:
            return encode_frame(
                proto.PROTO_MAJOR, proto.RESPONSE, seq, proto.response_payload(result)
            )
        except FrameTooLarge as e:
            return self._error_frame(seq, proto.E_TOO_LARGE, f"{method}: {e}")
        except ValueError as e:
            return self._error_frame(seq, proto.E_INTERNAL, f"{method}: result: {e}")
