"""`pi2mqtt web --broker URL1,URL2`: the page comes up on the first broker of the list that answers."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from device.errors import BrokerError
from device.web.webserver import WebOptions, WebThread
from tests.mosquitto import Mosquitto


def test_web_serves_from_the_first_broker_of_the_list_that_answers(broker: Mosquitto,
                                                                    mosquitto_factory: Any) -> None:
    dead = mosquitto_factory("dead")
    dead.stop()
    web = WebThread(WebOptions(broker=f"{dead.url},{broker.url}", port=0))
    url = web.start()
    try:
        with urllib.request.urlopen(url, timeout=10) as page:
            assert page.status == 200
    finally:
        web.stop()


def test_web_with_no_broker_of_the_list_answering_says_which_failed(mosquitto_factory: Any) -> None:
    a, b = mosquitto_factory("a"), mosquitto_factory("b")
    a.stop()
    b.stop()
    web = WebThread(WebOptions(broker=f"{a.url},{b.url}", port=0))
    with pytest.raises(BrokerError) as failed:
        web.start()
    assert "no broker of the list" in str(failed.value)
    assert a.url in str(failed.value) and b.url in str(failed.value)
