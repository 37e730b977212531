"""Put the instance table's large columns last (SQLite)

Revision ID: 0004
Revises: 0003

SQLite stores a row's values in column order and a value larger than a page spills
into a chain of overflow pages: reading a column that comes after a large one walks
that chain. metadata_json and frames_json (tens of kB for a multi-frame image) came
before bulk_data_json and created_at, which every retrieve reads, so a frame request
read the whole frame table from disk. The table is rebuilt with the small columns
first and the documents last, the largest (metadata_json) at the very end.
PostgreSQL keeps large values out of line (TOAST): nothing to do there.
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_LAST = ('created_at', 'bulk_data_json', 'frames_json', 'metadata_json')
_TRIGGER = ('CREATE TRIGGER tr_instance_query_attributes AFTER DELETE ON instance BEGIN '
            'DELETE FROM query_attribute WHERE level = 3 AND owner_fk = OLD.pk; END')


def upgrade() -> None:
    _reorder(_LAST)


def downgrade() -> None:
    _reorder(('metadata_json', 'frames_json', 'bulk_data_json', 'created_at'))


def _reorder(last: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    columns = [row[1] for row in op.get_bind().exec_driver_sql(
        'PRAGMA table_info(instance)')]
    order = [c for c in columns if c not in last] + list(last)
    with op.batch_alter_table('instance', recreate='always',
                              partial_reordering=[tuple(order)]):
        pass
    op.execute('DROP TRIGGER IF EXISTS tr_instance_query_attributes')
    op.execute(_TRIGGER)
