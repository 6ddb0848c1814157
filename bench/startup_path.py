"""What `pi2mqtt run` does before it connects: imports, the validated config, the daemon's modules.

    valgrind --tool=callgrind --trace-children=yes python bench/startup_path.py CONFIG

For counting start-up instructions (docs/performance.md): run it from the tree to
measure (`PYTHONPATH=.`), with its own STATE_DIRECTORY. A fresh STATE_DIRECTORY validates
the config in the child (counted in its own callgrind file); run it again with the same
one for a start with the config cached. On a tree from before the validating child it
validates in-process, as `run` did then.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from device.app.sslgate import keep_ssl_out, use_builtin_hashes

use_builtin_hashes()
from device.app.memtrim import limit_malloc_arenas  # noqa: E402

limit_malloc_arenas()
import device.app.runner as runner  # noqa: E402


def main() -> None:
    path = Path(sys.argv[1])
    overrides: dict[str, object] = {"mqtt.url": "mqtt://127.0.0.1:1883"}
    if hasattr(runner, "validated"):
        from device.core.statedir import resolve_state_dir

        def meanwhile() -> None:
            tls = runner.tls_in_file(path, overrides)
            if tls is not None:
                keep_ssl_out(tls)
                runner.warm_up()

        cache = resolve_state_dir(None) if os.environ.get("STATE_DIRECTORY") else None  # as run does
        cfg = runner.validated(path, overrides, cache, meanwhile)
    else:
        cfg = runner.load_config(path, overrides)  # the tree before the validating child
    keep_ssl_out(runner.uses_tls(cfg))
    import device.app.pinfactory
    import device.core.daemon  # noqa: F401

    print(cfg.device.id, len(cfg.entities()), "pydantic loaded" if "pydantic" in sys.modules else "no pydantic")


if __name__ == "__main__":
    main()
