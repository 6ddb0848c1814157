"""Topic names for one device. Pure: strings in, strings out.

    <prefix>/<id>/status               online / offline (retained; offline is the will)
    <prefix>/<id>/<entity>             readings and states (JSON, retained)
    <prefix>/<id>/<entity>/backfill    readings replayed from the outbox after an outage
    <prefix>/<id>/<entity>/set         commands
    <prefix>/<id>/<entity>/set/reply   command replies
    <prefix>/<id>/diagnostics          counters (JSON)
"""

from __future__ import annotations

from dataclasses import dataclass

BACKFILL = "backfill"


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str
    device_id: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.device_id}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def diagnostics(self) -> str:
        return f"{self.base}/diagnostics"

    @property
    def command_filter(self) -> str:
        return f"{self.base}/+/set"

    def entity(self, name: str) -> str:
        return f"{self.base}/{name}"

    def backfill(self, name: str) -> str:
        return self.backfill_of(self.entity(name))

    @staticmethod
    def backfill_of(live_topic: str) -> str:
        """The backfill topic beside a reading's live topic (kept from the run that queued it)."""
        return f"{live_topic}/{BACKFILL}"

    @staticmethod
    def is_backfill(topic: str) -> bool:
        return topic.endswith(f"/{BACKFILL}")

    def command(self, name: str) -> str:
        return f"{self.base}/{name}/set"

    def reply(self, name: str) -> str:
        return f"{self.base}/{name}/set/reply"

    def command_entity(self, topic: str) -> str | None:
        """The entity a `…/<entity>/set` topic addresses, or None if it is not ours."""
        head = self.base + "/"
        if not topic.startswith(head) or not topic.endswith("/set"):
            return None
        name = topic[len(head):-4]
        if not name or "/" in name:
            return None
        return name
