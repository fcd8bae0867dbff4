"""Devices and telemetry: registry, credentials, ingestion, time series, latest values."""
