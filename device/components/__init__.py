"""The device kinds: one module per kind (its config schema, its builder, its simulator wiring),
the table of them (registry.py), and the component bases they share (base.py, binary.py,
polled.py, outputs.py). See docs/architecture.md, "A new sensor kind".

`device.config` composes `Config` from this package's kinds, and the kinds build their
schemas on `device.config.fragments`; the config package is imported first, so that
whichever module is imported first, each is complete before the other uses it.
"""

import device.config  # noqa: F401  (see above: the config first, then the kinds)
