"""Giving back the memory that start-up needed and the daemon does not.

Importing and starting (modules load, the validated config is unpickled, gpiozero
probes the board) leaves freed blocks in the C heap. A daemon that runs for
years should not keep them: one collection and `malloc_trim(0)` (glibc) return
the free pages to the system. Elsewhere (musl, macOS) only the collection runs.
What survives start-up is frozen out of the garbage collector (`gc.freeze`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger("pi2mqtt.memory")


M_ARENA_MAX = -8  # glibc mallopt parameter


def limit_malloc_arenas(n: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas (before threads start).

    glibc gives each thread that allocates an arena of its own, up to 8 per core;
    a daemon with a couple of dozen mostly idle threads then keeps partly used
    arenas around. Two are plenty for pi2mqtt. Same as MALLOC_ARENA_MAX=2.
    """
    try:
        name = ctypes.util.find_library("c")
        if name:
            mallopt = getattr(ctypes.CDLL(name), "mallopt", None)
            if mallopt is not None:
                mallopt(M_ARENA_MAX, n)
    except Exception as e:
        log.debug("mallopt unavailable: %s", e)


def release_startup_memory() -> None:
    """Collect garbage, freeze what survived, hand free heap pages back to the OS (never raises).

    `gc.freeze()` moves every object alive after start-up (modules, config,
    components: the bulk of the heap, and none of it ever garbage) out of
    the collector's reach, so a later full collection scans only what the daemon
    made since; without it one takes 10-15 ms on a desktop CPU, several times that
    on a Pi, with every thread stopped.
    """
    try:
        gc.collect()
        gc.freeze()
        name = ctypes.util.find_library("c")
        if name:
            libc = ctypes.CDLL(name)
            trim = getattr(libc, "malloc_trim", None)
            if trim is not None:
                trim(0)
    except Exception as e:  # memory housekeeping must never hurt the daemon
        log.debug("malloc_trim unavailable: %s", e)
