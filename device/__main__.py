"""`python -m device` runs the pi2mqtt command line."""

from device.cli import main

raise SystemExit(main())
