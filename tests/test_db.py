"""The schema comes from Alembic migrations, and they match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from media_hub import db
from media_hub.db import Base


def test_migrations_build_the_models_schema_and_roll_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    db.upgrade(url)
    engine = db.engine_for(url)
    assert {"media_item", "rendition", "job"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    command.downgrade(db.alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
