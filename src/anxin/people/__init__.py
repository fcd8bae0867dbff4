"""Organisations (tenants), users, roles and login."""
