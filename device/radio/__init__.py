"""The daemon's FM radio: pure logic (bands, validation, RDS) and the radio service.

* ``band`` — chip band and spacing tables, regions, ``BandPlan`` (raster and
  channel <-> frequency in each chip's own encoding); frequencies are integer kHz.
* ``validate`` — command arguments to clean values, or ``CommandError`` with the
  codes BAD_VALUE, OUT_OF_BAND, MISALIGNED, UNSUPPORTED, RANGE.
* ``rds.decoder`` — ``RdsDecoder``: groups and block grades in, change events out.
* ``rds.text`` — confirmation and assembly of PS, radiotext and AF lists.
* ``rds.extras`` — ECC and language (1A), PTYN (10A), RadioText+.
* ``rds.quality`` — the block error rate over the last second.
* ``rds.clock``, ``rds.ptype``, ``rds.charset`` — 4A clock time, programme-type
  names, the RDS character table.

The service (threads, the co-processor link, MQTT through the daemon):

* ``service`` — ``RadioService``: the daemon's `[radio]`; ``core`` and ``handlers``
  hold its state machine and command handlers; ``config`` re-exports ``RadioConfig``.

See docs/radio.md.
"""
