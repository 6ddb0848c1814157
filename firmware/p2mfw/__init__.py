"""p2mfw: pi2mqtt's co-processor firmware core (MicroPython; also runs under CPython).

Nothing in this package imports `machine`: the board bindings inject the bus,
the port and the watchdog.
"""
