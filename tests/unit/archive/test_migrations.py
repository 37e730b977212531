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


def test_sqlite_instance_rows_keep_their_documents_last(tmp_path) -> None:
    """Migration 0004: columns read on every retrieve come before the large documents,
    so SQLite never walks a document's overflow pages to reach them."""
    engine = create_index_engine(f"sqlite:///{tmp_path / 'i.sqlite'}")
    upgrade(engine)
    with engine.connect() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("instance")]
        triggers = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'instance'"
        ).scalars().all()
    assert columns[-5:] == ["created_at", "preamble_missing", "bulk_data_json", "frames_json",
                           "metadata_json"]
    assert triggers == ["tr_instance_query_attributes"]
