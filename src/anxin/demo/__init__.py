"""The demo: seeded organisations, people, households and a steel trader's pledge, and the
simulators that stream their devices. It sits above every domain (no domain imports it) and
beside ``web`` and ``cli``; `anxin demo` and `anxin simulate` run it.

- ``seed``: the demo data, idempotent (``seed_demo``);
- ``homes``: radars, sleep mats and door sensors of simulated households over HTTP;
- ``steel``: the steel trader's warehouse, cranes and pledge;
- ``warehouse``: a crane day (or the night removal) replayed against the running server.
"""
