"""Programme type (PTY) names: the European RDS table and the North American RBDS table.

The 5-bit PTY code in block B means different things on the two sides of the
Atlantic (PTY 5 is "Education" in RDS and "Rock" in RBDS), so the decoder picks the
table by its ``rbds`` flag.  Names follow EN 50067 (RDS) and NRSC-4 (RBDS);
unassigned RBDS codes 24-28 read "Unassigned".
"""

from __future__ import annotations

from typing import Final

RDS_PTY: Final[tuple[str, ...]] = (
    "None",
    "News",
    "Current affairs",
    "Information",
    "Sport",
    "Education",
    "Drama",
    "Culture",
    "Science",
    "Varied",
    "Pop music",
    "Rock music",
    "Easy listening",
    "Light classical",
    "Serious classical",
    "Other music",
    "Weather",
    "Finance",
    "Children's programmes",
    "Social affairs",
    "Religion",
    "Phone-in",
    "Travel",
    "Leisure",
    "Jazz music",
    "Country music",
    "National music",
    "Oldies music",
    "Folk music",
    "Documentary",
    "Alarm test",
    "Alarm",
)

RBDS_PTY: Final[tuple[str, ...]] = (
    "None",
    "News",
    "Information",
    "Sports",
    "Talk",
    "Rock",
    "Classic rock",
    "Adult hits",
    "Soft rock",
    "Top 40",
    "Country",
    "Oldies",
    "Soft",
    "Nostalgia",
    "Jazz",
    "Classical",
    "Rhythm and blues",
    "Soft rhythm and blues",
    "Language",
    "Religious music",
    "Religious talk",
    "Personality",
    "Public",
    "College",
    "Unassigned",
    "Unassigned",
    "Unassigned",
    "Unassigned",
    "Unassigned",
    "Weather",
    "Emergency test",
    "Emergency",
)


def pty_name(code: int, rbds: bool = False) -> str:
    """The name of PTY `code` (0-31) in the RDS table, or the RBDS table when `rbds`."""
    table = RBDS_PTY if rbds else RDS_PTY
    if not 0 <= code < len(table):
        raise ValueError(f"PTY code {code} is outside 0..31")
    return table[code]


def rbds_callsign(pi: int) -> str | None:
    """The US call letters an RBDS PI code stands for (K/W + 3 letters), None if not one."""
    if 0x1000 <= pi <= 0x54A7:
        prefix, value = "K", pi - 0x1000
    elif 0x54A8 <= pi <= 0x994F:
        prefix, value = "W", pi - 0x54A8
    else:
        return None
    letters = (value // 676, (value // 26) % 26, value % 26)
    return prefix + "".join(chr(ord("A") + n) for n in letters)
