"""The process: the `pi2mqtt` command line, the supervisor that runs and reloads
the daemon, the demo, and the plumbing a long-running service needs (systemd
notify, credentials, memory trimming, choosing gpiozero's pin factory, a
private Mosquitto for the demo and the tests)."""
