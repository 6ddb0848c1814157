"""`pi2mqtt web`: the live web page, an aiohttp server in its own process.

Theory of operation
-------------------
A paho subscriber (`device.view.watch.Feed`, the terminal view's own) queues
every message under `<prefix>/#`; one asyncio task drains the queue every
50 ms into a `WebModel` and, at most ten times a second, pushes what changed
to every open page over its WebSocket (`/ws`). A page that connects gets a
snapshot first (every device, the last hour of each plot). The page sends
commands over the same socket; the server checks their shape, publishes them
on `<prefix>/<device>/<entity>/set`, and the daemon's reply comes back to
every page (the one that sent it shows it next to the control it used).

Access: bound to a loopback address, anyone on this machine may use the page.
On any other address a password (or token: the same secret) is required —
`serve` refuses to start without one. With the secret set, `/` asks for it
(a login form sets an HttpOnly cookie derived from it), scripts may send
`Authorization: Bearer <secret>`, and `/ws` refuses an Origin other than the
page's own. With `--cert/--key` it serves HTTPS (and so WSS).

The daemon never imports this module: aiohttp is the optional `web` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import re
import signal
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from device.errors import BrokerError, ConfigError
from device.view.feed import Feed
from device.web.pagemodel import PageJson, WebModel

log = logging.getLogger("pi2mqtt.web")

TICK = 0.05  # seconds between queue drains
PUSH_EVERY = 0.1  # at most this often to the pages
COOKIE = "pi2mqtt_web"
MAX_COMMAND_BYTES = 4096
_NAME = re.compile(r"^[^/+#\x00]{1,128}$")
STATIC = resources.files("device.web") / "static"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@dataclass(frozen=True)
class WebOptions:
    """How `pi2mqtt web` runs: broker, where it listens, and how it is protected."""

    broker: str = "mqtt://localhost:1883"
    prefix: str = "pi2mqtt"
    ha_prefix: str = "homeassistant"
    bind: str = "127.0.0.1"
    port: int = 8080
    secret: str | None = None
    cert: Path | None = None
    key: Path | None = None
    ca_file: str | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.cert else "http"

    def url(self, port: int | None = None) -> str:
        host = self.bind if self.bind not in ("0.0.0.0", "::", "") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{host}:{port or self.port}/"


def is_loopback(bind: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost` (anything else is reachable from elsewhere)."""
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


def check_options(opts: WebOptions) -> None:
    """Refuse what would be unsafe or cannot work: a ConfigError naming the option."""
    if not is_loopback(opts.bind) and not opts.secret:
        raise ConfigError([f"--bind {opts.bind}: the page would be reachable from other machines; "
                           "give a password with --password-file FILE (or bind 127.0.0.1)"])
    if bool(opts.cert) != bool(opts.key):
        raise ConfigError(["--cert and --key go together: give both for TLS, or neither"])
    if not 0 <= opts.port <= 65535:
        raise ConfigError([f"--port {opts.port}: not a port number (0-65535)"])


def tls_context(opts: WebOptions) -> ssl.SSLContext | None:
    if not opts.cert or not opts.key:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        ctx.load_cert_chain(str(opts.cert), str(opts.key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError([f"--cert {opts.cert} / --key {opts.key}: cannot load: {exc}"]) from None
    return ctx


def session_token(secret: str) -> str:
    """The cookie value for a logged-in browser: derived from the secret, never the secret."""
    return hmac.new(secret.encode(), b"pi2mqtt-web-session", hashlib.sha256).hexdigest()


class WebApp:
    """The aiohttp application, the model and the pages connected to it."""

    def __init__(self, opts: WebOptions, feed: Feed) -> None:
        self.opts = opts
        self.feed = feed
        self.model = WebModel(opts.prefix, ha_prefix=opts.ha_prefix)
        self.sockets: set[web.WebSocketResponse] = set()
        self._token = session_token(opts.secret) if opts.secret else None
        self.app = web.Application(middlewares=[self._auth])
        self.app.router.add_get("/", self._index)
        self.app.router.add_get("/login", self._login_form)
        self.app.router.add_post("/login", self._login)
        self.app.router.add_get("/ws", self._ws)
        self.app.router.add_get("/static/{name}", self._static)
        self.app.on_startup.append(self._start_pump)
        self.app.on_shutdown.append(self._close_sockets)
        self._pump: asyncio.Task[None] | None = None

    # ---- access -----------------------------------------------------------------------
    def _allowed(self, request: web.Request) -> bool:
        if self._token is None or self.opts.secret is None:
            return True
        if hmac.compare_digest(request.cookies.get(COOKIE, ""), self._token):
            return True
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].strip(), self.opts.secret)

    @web.middleware
    async def _auth(self, request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.path == "/login" or self._allowed(request):
            return await handler(request)
        if request.path == "/":
            raise web.HTTPFound("/login")
        raise web.HTTPUnauthorized(text="password required\n")

    async def _login_form(self, request: web.Request) -> web.Response:
        return web.Response(text=login_page(""), content_type="text/html")

    async def _login(self, request: web.Request) -> web.Response:
        form = await request.post()
        given = str(form.get("password", ""))
        if self.opts.secret and self._token and hmac.compare_digest(given, self.opts.secret):
            resp = web.HTTPFound("/")
            resp.set_cookie(COOKIE, self._token, httponly=True, samesite="Strict",
                            secure=self.opts.scheme == "https")
            raise resp
        await asyncio.sleep(1.0)  # slows guessing down
        return web.Response(status=401, text=login_page("Wrong password."), content_type="text/html")

    # ---- pages ------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(body=(STATIC / "index.html").read_bytes(), content_type="text/html",
                            headers={"Cache-Control": "no-store"})

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        path = STATIC / name
        suffix = Path(name).suffix
        if "/" in name or name.startswith(".") or suffix not in CONTENT_TYPES or not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), content_type=CONTENT_TYPES[suffix])

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        origin = request.headers.get("Origin")
        if self._token is not None and origin and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="cross-origin WebSocket refused\n")
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=64 * 1024)
        await ws.prepare(request)
        # Everything so far, then the changes: a snapshot resets what changes() reports,
        # so the other pages get theirs first.
        await self._push()
        await ws.send_str(json.dumps(self.model.snapshot(time.time()), allow_nan=False))
        self.sockets.add(ws)
        await ws.send_str(json.dumps({"type": "broker", "connected": self.feed.connected,
                                      "url": self.feed.url}))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._from_page(ws, msg.data)
        finally:
            self.sockets.discard(ws)
        return ws

    async def _from_page(self, ws: web.WebSocketResponse, text: str) -> None:
        try:
            doc = json.loads(text)
        except ValueError:
            return
        if not isinstance(doc, dict) or doc.get("op") != "cmd":
            return
        device, entity, payload = doc.get("device"), doc.get("entity"), doc.get("payload")
        cid = payload.get("id") if isinstance(payload, dict) else None
        problem = command_problem(device, entity, payload)
        if problem is None and not self.feed.publish(f"{self.opts.prefix}/{device}/{entity}/set",
                                                     json.dumps(payload)):
            problem = ("NOT_CONNECTED", "the web server has lost the broker; try again in a moment")
        if problem is not None:
            reply = {"ok": False, "code": problem[0], "message": problem[1], "id": cid}
            await ws.send_str(json.dumps({"type": "update", "devices": [], "replies": [
                {"device": device, "entity": entity, "reply": reply}]}))

    # ---- the pump ---------------------------------------------------------------------
    async def _start_pump(self, app: web.Application) -> None:
        self._pump = asyncio.create_task(self._run_pump())

    async def _close_sockets(self, app: web.Application) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        for ws in list(self.sockets):
            await ws.close()

    async def _run_pump(self) -> None:
        last_push = 0.0
        connected = self.feed.connected
        while True:
            self.drain()
            if connected != self.feed.connected:
                connected = self.feed.connected
                await self._send_all({"type": "broker", "connected": connected, "url": self.feed.url})
            if time.monotonic() - last_push >= PUSH_EVERY:
                last_push = time.monotonic()
                await self._push()
            await asyncio.sleep(TICK)

    def drain(self, limit: int = 5000) -> None:
        """Fold the queued messages into the model (a bounded burst per tick)."""
        for _ in range(limit):
            try:
                topic, payload, at, retained = self.feed.messages.get_nowait()
            except queue.Empty:
                return
            self.model.apply(topic, payload, at, retained)

    async def _push(self) -> None:
        self.drain()
        changes = self.model.changes(time.time())
        if changes is not None and self.sockets:
            await self._send_all(changes)

    async def _send_all(self, doc: dict[str, PageJson]) -> None:
        text = json.dumps(doc, allow_nan=False)
        for ws in list(self.sockets):
            try:
                await ws.send_str(text)
            except (ConnectionError, RuntimeError):
                self.sockets.discard(ws)


def command_problem(device: PageJson, entity: PageJson, payload: PageJson) -> tuple[str, str] | None:
    """Why a command from the page cannot be sent, as (code, message); None when it can."""
    if not isinstance(device, str) or not _NAME.match(device):
        return ("BAD_DEVICE", "no such device name")
    if not isinstance(entity, str) or not _NAME.match(entity):
        return ("BAD_ENTITY", "no such entity name")
    if not isinstance(payload, dict):
        return ("BAD_JSON", "a command is a JSON object")
    try:
        size = len(json.dumps(payload).encode())
    except (TypeError, ValueError):
        return ("BAD_JSON", "not JSON")
    if size > MAX_COMMAND_BYTES:
        return ("TOO_LARGE", f"the command is {size} bytes, over {MAX_COMMAND_BYTES}")
    return None


def login_page(note: str) -> str:
    warn = f'<p class="bad">{note}</p>' if note else ""
    return ("<!doctype html><html><head><meta charset=utf-8><title>pi2mqtt — sign in</title>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            "<style>body{font:16px system-ui,sans-serif;background:#111820;color:#dde;display:grid;"
            "place-items:center;height:90vh}form{background:#1c2630;padding:2em;border-radius:8px}"
            "input{font:inherit;padding:.4em;margin:.4em 0;display:block}.bad{color:#f77}</style></head>"
            f"<body><form method=post action=/login><h1>pi2mqtt</h1>{warn}"
            "<label>Password <input id=password name=password type=password autofocus></label>"
            "<button type=submit>Sign in</button></form></body></html>")


async def _serve(opts: WebOptions, ready: Callable[[str], None] | None, stop: asyncio.Event | None) -> None:
    feed = Feed(opts.broker, opts.prefix, opts.ca_file, also=(f"{opts.ha_prefix}/+/+/config",
                                                              f"{opts.ha_prefix}/+/+/+/config"))
    await asyncio.to_thread(feed.start)
    app = WebApp(opts, feed)
    runner = web.AppRunner(app.app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, opts.bind, opts.port, ssl_context=tls_context(opts))
        await site.start()
        port = opts.port
        server = site._server  # the asyncio server, to learn the port when 0 was asked for
        sockets = getattr(server, "sockets", None)
        if port == 0 and sockets:
            port = sockets[0].getsockname()[1]
        if ready is not None:
            ready(opts.url(port))
        if stop is None:  # the `pi2mqtt web` process: SIGTERM (systemd, kill) ends it cleanly
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        feed.close()


def serve(opts: WebOptions, *, ready: Callable[[str], None] | None = None) -> int:
    """Run the page until Ctrl-C; returns 0. Bad options: ConfigError; no broker: BrokerError."""
    check_options(opts)
    tls_context(opts)  # a bad certificate is a usage error, before anything starts
    try:
        asyncio.run(_serve(opts, ready, None))
    except OSError as exc:
        if isinstance(exc, BrokerError):
            raise
        raise ConfigError([f"--bind {opts.bind} --port {opts.port}: cannot listen: "
                           f"{exc.strerror or exc}"]) from None
    return 0


class WebThread:
    """The page served from a thread of this process (the demo runs it beside the terminal view)."""

    def __init__(self, opts: WebOptions) -> None:
        check_options(opts)
        self.opts = opts
        self.url: str | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="pi2mqtt-web", daemon=True)

    def start(self, timeout: float = 15.0) -> str:
        """Start serving; returns the page's URL (raises what stopped it from starting)."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise BrokerError(f"the web page did not start within {timeout:.0f} s")
        if self.error is not None or self.url is None:
            raise self.error or BrokerError("the web page did not start")
        return self.url

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await _serve(self.opts, self._started, self._stop)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to start(), never lost in a thread
            self.error = exc
        finally:
            self._ready.set()

    def _started(self, url: str) -> None:
        self.url = url
        self._ready.set()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5.0)


def start_beside(broker: str, prefix: str, port: int = 8080) -> WebThread:
    """The page on 127.0.0.1 for the demo: on `port`, else on a free port when that one is taken."""
    try:
        web = WebThread(WebOptions(broker=broker, prefix=prefix, port=port))
        web.start()
    except OSError:
        web = WebThread(WebOptions(broker=broker, prefix=prefix, port=0))
        web.start()
    return web
