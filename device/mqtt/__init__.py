"""MQTT: topic names and payloads (pure), and the paho-mqtt adapter."""
