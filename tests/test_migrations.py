"""Migrations build the schema from empty on the configured database and match the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from anxin.core import migrate
from anxin.core.db import Base, make_engine
from anxin.domains import import_all_models


def test_migrated_schema_matches_the_models(database_url):
    import_all_models()
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], diff
    finally:
        engine.dispose()


def test_downgrade_to_empty_and_upgrade_again(database_url):
    migrate.downgrade(database_url, "base")
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(database_url)
        engine.dispose()
        tables = set(inspect(engine).get_table_names())
        assert {"users", "devices", "readings", "audit_log", "elders"} <= tables
    finally:
        engine.dispose()


def test_one_linear_history_per_branch():
    assert migrate.heads(), "there must be at least one migration head"
