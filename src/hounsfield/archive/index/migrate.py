"""Schema migrations with Alembic, run programmatically on an engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from hounsfield.archive.index.engine import WRITE

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported when a migration runs, not with the archive: server workers never
# migrate (the process that starts them does), and it would cost each ~8 MB.

SCRIPT_LOCATION = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the index schema up to `revision`."""
    from alembic import command

    config = alembic_config()
    with engine.connect().execution_options(**WRITE) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
