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

The radio's state machine (sans-IO: no threads, clocks, links or files):

* ``machine`` — ``RadioMachine``: commands, chip answers, link events and ticks
  in; chip requests, state documents, events, replies and saves out.
* ``steps`` — those outputs, and the steps (``Call``, ``Wait``) its procedures yield.
* ``facts`` — ``RadioFacts``: what it knows, its documents, gate and tune primitives.
* ``ops`` — one procedure per command; ``sweep`` — bring-up, status poll, scan,
  preset PI search, seek fix-up.
* ``commands``, ``presets``, ``state`` — command parsing, the preset book, the
  saved settings and their files.

The adapter (threads, the co-processor link, MQTT through the daemon):

* ``service`` — ``RadioService``: the daemon's `[radio]`, feeding the machine
  from one worker thread; ``link`` — the tuner's link calls; ``controls`` —
  buttons and encoder; ``config`` re-exports ``RadioConfig``.

See docs/radio.md.
"""
