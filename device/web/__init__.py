"""`pi2mqtt web`: a live web page of every pi2mqtt device on a broker (optional extra `web`).

- `pagemodel` — `WebModel`: a pure fold of MQTT messages into what the page shows
  (the terminal view's `ViewModel`, plus an hour of plot points per entity, backfill
  slotted in by time, alarms, outputs learnt from HA discovery, command replies).
- `webserver` — `serve(WebOptions)`: aiohttp, HTTP + WebSocket, password/TLS, and
  `WebThread` for the demo.
- `static/` — the page (HTML, JS, CSS) and the vendored uPlot 1.6.32 (MIT, see
  `static/uPlot.LICENSE`; from the npm package `uplot`, dist/uPlot.iife.min.js and
  dist/uPlot.min.css, unmodified). Nothing is fetched at run time.

The daemon never imports this package.
"""
