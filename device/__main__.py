"""`python -m device` runs the pi2mqtt command line."""

from device.app.cli import main

raise SystemExit(main())
