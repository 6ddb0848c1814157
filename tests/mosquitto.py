"""The tests' Mosquitto: see device/app/localbroker.py (shared with `pi2mqtt demo`)."""

from device.app.localbroker import Mosquitto, find_mosquitto, free_port, wait_port

__all__ = ["Mosquitto", "find_mosquitto", "free_port", "wait_port"]
