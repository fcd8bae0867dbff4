"""Alarm rules per device profile, in one subpackage with its dependencies pointing one way:

- ``engine``: the pure rule engine (event, for-duration, absence, corroboration), no I/O;
- ``defaults``: the built-in rules per device type, as data;
- ``schemas``: the API's rule documents;
- ``book``: which rules apply to a device (defaults < organisation < device), cached per type;
- ``service``: stored rules, listed with their validity, created and updated;
- ``flows``: the engine at work on telemetry, rule state in rows, timers and the sweeper.

engine <- defaults <- book <- service, flows.
"""
