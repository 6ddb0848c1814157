"""Every error pi2mqtt raises on purpose.

Each class inherits the project base and the builtin that fits, so callers can
catch either. Messages are written for the person who has to act on them.
"""

from __future__ import annotations


class Pi2MqttError(Exception):
    """Base class of every error pi2mqtt raises on purpose."""


class ConfigError(Pi2MqttError, ValueError):
    """The configuration could not be read or is invalid; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class CommandError(Pi2MqttError, ValueError):
    """A command was refused; `code` is machine-readable, the message human-readable."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        self.code = code
        self.message = message
        self.details = details
        super().__init__(f"{code}: {message}")


class StateDirInUse(Pi2MqttError, BlockingIOError):
    """Another pi2mqtt holds the state directory (one daemon per state directory)."""


class DeviceError(Pi2MqttError, RuntimeError):
    """A device could not be set up or read."""


class NoSample(DeviceError):
    """A sensor has not produced a sample yet: there is nothing to publish this time."""


class ReadTimeout(DeviceError, TimeoutError):
    """A device read did not finish within its timeout."""


class LinkError(Pi2MqttError, ConnectionError):
    """The serial link to the co-processor failed."""


class LinkVersionMismatch(LinkError):
    """The co-processor speaks a link protocol major version we do not."""


class LocalProtocolError(LinkError):
    """We tried to send something the link protocol does not allow (our bug)."""


class RemoteProtocolError(LinkError):
    """The peer sent something the link protocol does not allow (its fault)."""


class LinkTimeout(LinkError, TimeoutError):
    """A request to the co-processor got no reply after every retry."""


class BrokerError(Pi2MqttError, ConnectionError):
    """The MQTT broker refused us or could not be reached as configured."""


class TlsError(BrokerError):
    """The broker's TLS certificate was not trusted, or TLS was misconfigured."""


class OutboxError(Pi2MqttError, OSError):
    """The durable outbox could not store a message."""
