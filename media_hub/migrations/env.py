"""Alembic environment: runs migrations on the URL set by media_hub.db.alembic_config."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import media_hub.models  # noqa: F401  (registers every table on Base.metadata)
from media_hub.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
