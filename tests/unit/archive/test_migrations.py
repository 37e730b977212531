"""The Alembic migrations create exactly the schema the code declares."""

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from helpers.postgres import postgres_schema_url
from sqlalchemy import Engine, inspect

from hounsfield.archive.index.engine import WRITE, create_index_engine
from hounsfield.archive.index.migrate import alembic_config, upgrade
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



@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield create_index_engine(f"sqlite:///{tmp_path / 'i.sqlite'}")
        return
    for url in postgres_schema_url():
        created = create_index_engine(url)
        yield created
        created.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.connect().execution_options(**WRITE) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def _instance_indexes(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {index["name"] for index in inspect(conn).get_indexes("instance")}


def test_migrated_schema_matches_declared_schema_on_each_database(engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_the_latest_migrations_go_down_and_up_again(engine) -> None:
    """0006 (the blob key's index goes) and 0007 (lz4 on PostgreSQL) undo cleanly."""
    upgrade(engine)
    _downgrade(engine, "0005")
    assert "ix_instance_blob_key" in _instance_indexes(engine)
    upgrade(engine)
    assert "ix_instance_blob_key" not in _instance_indexes(engine)


def test_postgresql_compresses_instance_documents_with_lz4(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TOAST compression is PostgreSQL's")
    upgrade(engine)
    with engine.connect() as conn:
        if "lz4" not in conn.exec_driver_sql(
                "SELECT enumvals FROM pg_settings "
                "WHERE name = 'default_toast_compression'").scalar():
            pytest.skip("this PostgreSQL server is built without lz4")
        methods = dict(conn.exec_driver_sql(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'instance'::regclass AND attname LIKE '%%\\_json'").all())
        # a document over the TOAST threshold is stored compressed with it
        conn.exec_driver_sql("CREATE TEMP TABLE probe (LIKE instance INCLUDING COMPRESSION)")
        conn.exec_driver_sql(
            "INSERT INTO probe (pk, sop_instance_uid, series_fk, sop_class_uid, "
            "transfer_syntax_uid, number_of_frames, blob_key, size_bytes, digest, created_at, "
            "bulk_data_json, metadata_json) VALUES (1, '1.2', 1, '1.2', '1.2', 1, 'k', 1, 'd', "
            "0, '', convert_to(repeat('{\"00080018\": {\"vr\": \"UI\"}}', 200), 'UTF8'))")
        stored = conn.exec_driver_sql(
            "SELECT pg_column_compression(metadata_json) FROM probe").scalar()
    assert methods == {"bulk_data_json": "l", "frames_json": "l", "metadata_json": "l"}
    assert stored == "lz4"
