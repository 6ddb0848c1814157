"""`pi2mqtt web` in a real browser: Debian's headless chromium driven by playwright-core.

One Mosquitto, one daemon (`pi2mqtt run --sim` with examples/demo.toml: every device
kind and the radio), one web server and one browser for the whole module. The tests
wait in the browser for what the page shows (`waitForFunction` on animation frames,
with timeouts) and never on elapsed time. The screenshots they take are the ones in
docs/web.md: with `UPDATE_SCREENSHOTS=1` they are written to docs/img/web-*.png,
otherwise to the test's temporary directory (so a test run leaves the checkout clean).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import DaemonProcess
from tests.web.browser import ROOT, Browser, WebProcess, require_browser

pytestmark = [pytest.mark.broker, pytest.mark.slow]

DEVICE = "demo"
CARD = f'section.device[data-device="{DEVICE}"]'
IMG = ROOT / "docs" / "img"
SHOTS: list[Path] = []


@pytest.fixture(scope="module")
def node() -> str:
    return require_browser()


@pytest.fixture(scope="module")
def world(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("web")
    broker = Mosquitto(tmp / "mosquitto")
    broker.start()
    daemon = DaemonProcess(ROOT / "examples" / "demo.toml", tmp / "daemon.log",
                           env={"STATE_DIRECTORY": str(tmp / "state")}, args=("--broker", broker.url))
    sub = Subscriber(broker.port).connect()
    sub.subscribe(f"pi2mqtt/{DEVICE}/#")
    web = WebProcess("--broker", broker.url, "--port", "0")
    browser = Browser(node, tmp / "chromium-profile")
    SHOTS[:] = [IMG if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp / "img"]
    try:
        sub.wait_topic(f"pi2mqtt/{DEVICE}/radio", timeout=30.0,
                       where=lambda m: m.json().get("value") is not None)
        yield {"broker": broker, "daemon": daemon, "sub": sub, "web": web, "browser": browser, "tmp": tmp}
    finally:
        browser.close()
        web.stop()
        daemon.stop()
        sub.close()
        broker.stop()


@pytest.fixture
def page(world: dict[str, object]) -> Browser:
    b = world["browser"]
    web = world["web"]
    assert isinstance(b, Browser) and isinstance(web, WebProcess)
    b.call("goto", url=web.url)
    b.call("text", sel=f"{CARD} .radio .freq", ms=20000)
    return b


def shot(b: Browser, name: str, sel: str | None = None) -> None:
    where = SHOTS[0] if SHOTS else IMG
    where.mkdir(parents=True, exist_ok=True)
    b.call("screenshot", path=str(where / name), sel=sel)


def test_web_reading_appears_and_updates(page: Browser) -> None:
    row = f'{CARD} tr[data-entity="cpu_temp"]'
    text = page.call("text", sel=f"{row} td.value")
    first = int(page.call("eval", js=f"document.querySelector('{row}').dataset.count"))
    assert "°C" in text or text == "—"
    # cpu_temp is read every 2 s: the page must show a newer reading without reloading.
    page.call("wait_fn", js=f"n => Number(document.querySelector('{row}').dataset.count) > n",
              arg=first, ms=15000)
    value = page.call("text", sel=f"{row} td.value")
    assert value.endswith("°C") and float(value.split()[0]) > 0
    assert page.call("errors") == []


def test_web_plot_draws(page: Browser) -> None:
    # tank_level is read every 500 ms: its plot has points and a drawn canvas.
    cell = f'{CARD} tr[data-entity="tank_level"] td.plot'
    page.call("wait_fn", js=f"() => Number(document.querySelector('{cell}').dataset.points || 0) >= 3",
              ms=20000)
    inked = page.call("eval", js=f"""() => {{
        const c = document.querySelector('{cell} canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n; }}""")
    assert inked > 50, "the plot's canvas is blank"
    shot(page, "web-page.png")


def test_web_tune_from_the_page_reaches_the_daemon(page: Browser, world: dict[str, object]) -> None:
    sub = world["sub"]
    assert isinstance(sub, Subscriber)
    mark = len(sub.messages)
    page.call("fill", sel=f"{CARD} .radio input.tune-mhz", value="91.7")
    page.call("click", sel=f"{CARD} .radio button.tune")
    # The daemon got it: its retained state says 91.7 MHz ...
    sub.wait_for(lambda m: m.topic == f"pi2mqtt/{DEVICE}/radio" and m in sub.messages[mark:]
                 and m.json().get("value") == 91.7, timeout=15.0, what="the radio state at 91.7")
    # ... and the page shows the new station: frequency, then its RDS name.
    page.call("wait_fn", js=f"() => document.querySelector('{CARD} .radio .freq').textContent === '91.70'")
    page.call("wait_fn", js=f"() => document.querySelector('{CARD} .radio .ps').textContent === 'KLASSIK'",
              ms=20000)
    page.call("wait_fn", js=f"() => document.querySelector('{CARD} .radio .reply').textContent.startsWith('✓')")
    shot(page, "web-radio.png", sel=f"{CARD} .radio")


def test_web_shows_radiotext_plus(page: Browser, world: dict[str, object]) -> None:
    """A station that tags its radiotext (RT+): the page shows artist and title."""
    sub = world["sub"]
    assert isinstance(sub, Subscriber)
    sub.subscribe(f"hwsim/{DEVICE}/reply")
    mark = len(sub.messages)
    sub.publish(f"hwsim/{DEVICE}/radio/add", json.dumps(
        {"mhz": 93.3, "ps": "TAGGED", "rssi": 58, "pi": "D998", "radiotext": "The Examples - Test Pattern",
         "rtplus": True}))
    sub.wait_for(lambda m: m.topic == f"hwsim/{DEVICE}/reply" and m in sub.messages[mark:]
                 and m.json().get("path") == "radio/add", what="hwsim added the station")
    page.call("fill", sel=f"{CARD} .radio input.tune-mhz", value="93.3")
    page.call("click", sel=f"{CARD} .radio button.tune")
    text = page.call("wait_fn", ms=40000, js=f"""() => {{
        const t = document.querySelector('{CARD} .radio .rtplus').textContent;
        return t.includes('Test Pattern') ? t : null; }}""")
    assert text == "♪ The Examples – Test Pattern"


def test_web_bad_command_shows_its_error(page: Browser, world: dict[str, object]) -> None:
    page.call("fill", sel=f"{CARD} .radio input.tune-mhz", value="200")
    page.call("click", sel=f"{CARD} .radio button.tune")
    text = page.call("wait_fn", js=f"""() => {{
        const t = document.querySelector('{CARD} .radio .reply').textContent;
        return t.startsWith('✗') ? t : null; }}""")
    assert "OUT_OF_BAND" in text and "108" in text
    shot(page, "web-error.png", sel=f"{CARD} .radio")


def test_web_output_control_switches_the_light(page: Browser, world: dict[str, object]) -> None:
    sub = world["sub"]
    assert isinstance(sub, Subscriber)
    row = f'{CARD} tr[data-entity="porch_light"]'
    page.call("wait_fn", js=f"() => !!document.querySelector('{row} button.toggle')", ms=15000)
    before = page.call("text", sel=f"{row} td.value")
    page.call("click", sel=f"{row} button.toggle")
    want = "on" if before == "off" else "off"
    page.call("wait_fn", js=f"w => document.querySelector('{row} td.value').textContent === w", arg=want)
    page.call("wait_fn", js=f"() => document.querySelector('{row} .reply').textContent.startsWith('✓')")
    retained = Subscriber(sub.port).connect()
    try:
        retained.subscribe(f"pi2mqtt/{DEVICE}/porch_light")
        m = retained.wait_topic(f"pi2mqtt/{DEVICE}/porch_light", where=lambda m: m.retain)
        assert m.json()["value"] is (want == "on")
    finally:
        retained.close()


def test_web_password_required_off_localhost(world: dict[str, object]) -> None:
    broker, tmp, b = world["broker"], world["tmp"], world["browser"]
    assert isinstance(broker, Mosquitto) and isinstance(tmp, Path) and isinstance(b, Browser)
    # Any address but loopback without a password: refused, exit 2, no traceback.
    bare = WebProcess("--broker", broker.url, "--bind", "0.0.0.0", "--port", "0", wait=False)
    out = bare.output()
    assert bare.proc.wait(10) == 2 and "--password-file" in out and "Traceback" not in out
    secret = tmp / "web-password"
    secret.write_text("correct horse\n")
    secret.chmod(0o600)
    web = WebProcess("--broker", broker.url, "--bind", "0.0.0.0", "--port", "0", "--password-file", str(secret))
    try:
        # Scripts without the secret get 401 (page data and WebSocket alike) ...
        for path in ("ws", "static/app.js"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(web.url + path, timeout=10)
            assert e.value.code == 401
        req = urllib.request.Request(web.url + "static/app.js", headers={"Authorization": "Bearer correct horse"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
        # ... and a browser is sent to the login form, which wants the right password.
        b.call("clear_cookies")
        got = b.call("goto", url=web.url)
        assert got["url"].endswith("/login")
        b.call("fill", sel="#password", value="wrong")
        b.call("click", sel="button[type=submit]")
        assert "Wrong password" in b.call("text", sel=".bad")
        shot(b, "web-login.png", sel="form")
        b.call("fill", sel="#password", value="correct horse")
        b.call("click", sel="button[type=submit]")
        b.call("text", sel=f"{CARD} td.value", ms=20000)
        assert json.loads(json.dumps(b.call("eval", js="location.pathname"))) == "/"
    finally:
        web.stop()
        b.call("clear_cookies")


def test_web_serves_tls_with_a_certificate(world: dict[str, object]) -> None:
    """--cert/--key: HTTPS that a client trusting the CA verifies; a bad key is exit 2."""
    import ssl

    from tests.certs import find_openssl, make_pki

    if find_openssl() is None:
        pytest.skip("openssl is missing: no test certificates")
    broker, tmp = world["broker"], world["tmp"]
    assert isinstance(broker, Mosquitto) and isinstance(tmp, Path)
    pki = make_pki(tmp / "pki")
    web = WebProcess("--broker", broker.url, "--port", "0", "--cert", str(pki.server.cert),
                     "--key", str(pki.server.key))
    try:
        assert web.url.startswith("https://127.0.0.1:")
        ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
        with urllib.request.urlopen(web.url, context=ctx, timeout=10) as r:
            assert r.status == 200 and b"pi2mqtt" in r.read()
        with pytest.raises(urllib.error.URLError):  # not trusted without the CA
            urllib.request.urlopen(web.url, context=ssl.create_default_context(), timeout=10)
    finally:
        web.stop()
    bad = WebProcess("--broker", broker.url, "--port", "0", "--cert", str(pki.server.cert),
                     "--key", str(pki.ca.key), wait=False)
    out = bad.output()
    assert bad.proc.wait(10) == 2 and "--cert" in out and "Traceback" not in out
