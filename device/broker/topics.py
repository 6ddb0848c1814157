"""Topic-filter matching for the embedded broker (MQTT 3.1.1 §4.7), pure functions.

A filter is split into levels once, at SUBSCRIBE time. `+` matches exactly one
level, `#` (only last) matches the parent level and everything below it. Topics
whose first level starts with `$` are not matched by a filter that starts with a
wildcard (so `#` does not see `$SYS/...`).
"""

from __future__ import annotations


def split(topic: str) -> tuple[str, ...]:
    """Split a topic name or filter into its levels (empty levels kept)."""
    return tuple(topic.split("/"))


def matches(filt: tuple[str, ...], topic: tuple[str, ...]) -> bool:
    """True when the split filter `filt` matches the split topic name `topic`."""
    if topic and topic[0].startswith("$") and filt and filt[0] in ("+", "#"):
        return False
    n = len(topic)
    for i, level in enumerate(filt):
        if level == "#":
            return True  # covers the parent too: "a/#" matches "a"
        if i >= n:
            return False
        if level != "+" and level != topic[i]:
            return False
    return len(filt) == n
