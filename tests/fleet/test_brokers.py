"""Broker URL lists and the failover ring (device/mqtt/brokers.py): pure, no broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.app.cli import build_parser
from device.config import ConfigError, load_config, parse_config
from device.mqtt.brokers import V5, V311, BrokerRing, parse_broker_list, parse_broker_url


def test_brokers_parse_each_scheme_with_its_default_port_and_path() -> None:
    assert parse_broker_url("mqtt://a").port == 1883
    s = parse_broker_url("mqtts://a")
    assert (s.port, s.tls, s.websocket) == (8883, True, False)
    w = parse_broker_url("ws://a:9001")
    assert (w.port, w.tls, w.websocket, w.path, w.transport) == (9001, False, True, "/mqtt", "websockets")
    ws = parse_broker_url("wss://h/mqtt/ws")
    assert (ws.port, ws.tls, ws.path, ws.where) == (443, True, "/mqtt/ws", "h:443/mqtt/ws")
    u = parse_broker_url("mqtt://me:p%40ss@a:1884")
    assert (u.username, u.password, u.display) == ("me", "p@ss", "mqtt://a:1884")


@pytest.mark.parametrize(("url", "words"), [
    ("http://a", "must start with mqtt://"),
    ("mqtt://", "no host"),
    ("mqtt://a:99999", "port"),
    ("mqtt://a/path", "no path"),
])
def test_brokers_bad_url_says_what_is_wrong(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_broker_url(url)


def test_brokers_list_rejects_repeats_mixed_tls_and_empty_items() -> None:
    assert [b.port for b in parse_broker_list("mqtt://a:1,mqtt://a:2")] == [1, 2]
    with pytest.raises(ValueError, match="twice"):
        parse_broker_list(["mqtt://a:1", "mqtt://a:1"])
    with pytest.raises(ValueError, match="plaintext"):
        parse_broker_list("mqtts://a,mqtt://b")
    with pytest.raises(ValueError, match="stray comma"):
        parse_broker_list("mqtt://a,")


def test_brokers_ring_moves_on_failure_stays_on_success_and_counts_failovers() -> None:
    ring = BrokerRing(parse_broker_list("mqtt://a,mqtt://b,mqtt://c"))
    assert ring.current.host == "a"
    assert ring.connected() is False  # the first connection is no failover
    ring.dropped()
    ring.failed()  # b does not answer either
    assert ring.current.host == "c"
    assert ring.connected() is True and ring.failovers == 1
    assert ring.connected() is False  # reconnected to the same node: no failover
    ring.failed()
    assert ring.current.host == "a"  # round the ring


def test_brokers_ring_remembers_the_protocol_per_broker() -> None:
    ring = BrokerRing(parse_broker_list("mqtt://a,mqtt://b"))
    assert ring.protocol() == V5
    assert ring.refused_v5() is True
    assert ring.refused_v5() is False  # already on 3.1.1
    assert ring.protocol() == V311
    ring.failed()
    assert ring.protocol() == V5  # b has not refused anything
    assert BrokerRing(parse_broker_list("mqtt://a"), V311).protocol() == V311


def test_config_url_takes_a_list_or_commas_and_reports_a_bad_item(tmp_path: Path) -> None:
    cfg = parse_config({"mqtt": {"url": ["mqtt://a:1883", "ws://b:9001/mqtt"]}})
    assert cfg.mqtt.urls == ["mqtt://a:1883", "ws://b:9001/mqtt"]
    cfg = parse_config({"mqtt": {"url": "mqtt://a:1883, mqtt://b:1884"}})
    assert cfg.mqtt.urls == ["mqtt://a:1883", "mqtt://b:1884"]
    assert cfg.mqtt.protocol == "5"
    p = tmp_path / "c.toml"
    p.write_text('[mqtt]\nurl = ["mqtt://a:1883", "mqtt://b:bad"]\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert any("mqtt.url" in line and "port" in line for line in e.value.problems)
    assert load_config(p, {"mqtt.url": "mqtt://x:1,mqtt://y:2"}).mqtt.urls == ["mqtt://x:1", "mqtt://y:2"]


def test_cli_broker_takes_urls_separated_by_commas(tmp_path: Path) -> None:
    from device.app.cli import main

    args = build_parser().parse_args(["run", "--broker", "mqtt://127.0.0.1:1883,mqtt://127.0.0.1:1884"])
    assert args.broker == "mqtt://127.0.0.1:1883,mqtt://127.0.0.1:1884"
    conf = tmp_path / "c.toml"
    conf.write_text("")
    assert main(["check", "--config", str(conf)]) == 0


def test_session_expiry_goes_into_the_mqtt5_connect_only_with_a_persistent_session() -> None:
    from device.mqtt.transport import connect_options

    cfg = parse_config({"mqtt": {"clean_session": False, "session_expiry": "90s", "keepalive": "20s"}}).mqtt
    opts = connect_options(cfg, V5)
    assert opts["keepalive"] == 20 and opts["clean_start"] is False
    assert opts["properties"].SessionExpiryInterval == 90
    assert "properties" not in connect_options(cfg, V311) and "clean_start" not in connect_options(cfg, V311)
    clean = parse_config({"mqtt": {}}).mqtt
    assert connect_options(clean, V5) == {"keepalive": 60, "clean_start": True}
    with pytest.raises(ConfigError):
        parse_config({"mqtt": {"session_expiry": "200000000h"}})
