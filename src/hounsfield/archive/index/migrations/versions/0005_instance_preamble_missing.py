"""Record whether a stored file lacks its preamble

Revision ID: 0005
Revises: 0004

A file stored without the 128-byte preamble and "DICM" is sent with them, so its
length as served is its stored size plus 132. Knowing that from the index lets a
multipart answer of stored files carry a Content-Length instead of being chunked.
Rows stored before have NULL (unknown). On SQLite the column goes before the large
documents (as migration 0004 arranged), so reading it never walks their overflow pages.
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_DOCUMENTS = ('bulk_data_json', 'frames_json', 'metadata_json')
_TRIGGER = ('CREATE TRIGGER tr_instance_query_attributes AFTER DELETE ON instance BEGIN '
            'DELETE FROM query_attribute WHERE level = 3 AND owner_fk = OLD.pk; END')


def upgrade() -> None:
    column = sa.Column('preamble_missing', sa.Boolean(), nullable=True)
    if op.get_bind().dialect.name != 'sqlite':
        op.add_column('instance', column)
        return
    columns = [row[1] for row in op.get_bind().exec_driver_sql(
        'PRAGMA table_info(instance)')]
    order = [c for c in columns if c not in _DOCUMENTS] + ['preamble_missing', *_DOCUMENTS]
    with op.batch_alter_table('instance', recreate='always',
                              partial_reordering=[tuple(order)]) as batch:
        batch.add_column(column)
    op.execute('DROP TRIGGER IF EXISTS tr_instance_query_attributes')
    op.execute(_TRIGGER)


def downgrade() -> None:
    with op.batch_alter_table('instance') as batch:
        batch.drop_column('preamble_missing')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS tr_instance_query_attributes')
        op.execute(_TRIGGER)
