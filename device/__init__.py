"""pi2mqtt: a Raspberry Pi daemon that publishes sensors and an FM tuner over MQTT."""

__version__ = "0.1.0"
