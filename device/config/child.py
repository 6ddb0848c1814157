"""The child that validates a config file for `pi2mqtt run`, so that the daemon never loads pydantic.

    python -P -m device.config.child PATH OVERRIDES_JSON

It validates with the same `load_config` that `pi2mqtt check` runs (the overrides are
dotted keys, as `--broker` gives `mqtt.url`) and writes one pickle to its stdout: the
validated `Config` (exit 0), or the list of problem lines (exit 2). The daemon's side —
starting it as early as it can, the validated-config cache, unpickling — is
device/app/configload.py.
"""

from __future__ import annotations

import json
import pickle
import sys

EXIT_PROBLEMS = 2  # the file has problems (device.app.startup.EXIT_USAGE)


def main(argv: list[str]) -> int:
    """Validate, write one pickle to stdout, exit 0 (valid) or 2 (problems)."""
    from device.app.sslgate import use_builtin_hashes

    use_builtin_hashes()  # pydantic imports hashlib: no libcrypto for a process this short
    from device.config import load_config
    from device.errors import ConfigError

    path, overrides = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    try:
        result: object = load_config(path, overrides)
        rc = 0
    except ConfigError as e:
        result, rc = list(e.problems), EXIT_PROBLEMS
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
