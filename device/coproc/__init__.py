"""Devices behind the co-processor link: the BME280 (and the radio's tuner, in device.radio)."""
