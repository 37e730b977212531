"""The Alembic migrations create exactly the schema the code declares."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hounsfield.archive.index.engine import create_index_engine
from hounsfield.archive.index.migrate import upgrade
from hounsfield.archive.index.schema import metadata


def test_migrated_schema_matches_declared_schema(tmp_path) -> None:
    engine = create_index_engine(f"sqlite:///{tmp_path / 'i.sqlite'}")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert {"patient", "study", "series", "instance"} <= tables


def test_upgrade_twice_is_a_no_op(tmp_path) -> None:
    engine = create_index_engine(f"sqlite:///{tmp_path / 'i.sqlite'}")
    upgrade(engine)
    upgrade(engine)
