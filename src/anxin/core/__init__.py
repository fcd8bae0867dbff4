"""Shared kernel: settings, database, clock, errors, events, security, money, audit.

`core` imports no domain; domains import `core`.
"""
