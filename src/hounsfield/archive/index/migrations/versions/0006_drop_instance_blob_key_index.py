"""Drop the index on instance.blob_key

Revision ID: 0006
Revises: 0005

Every stored instance wrote an entry of its blob key (some 150 characters) into this
index, and only the clean-up of a blob after a failed or replaced store read it. That
look-up now goes through the key's SOP Instance UID, whose unique index every instance
has anyway (writer.is_referenced).
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_instance_blob_key', table_name='instance')


def downgrade() -> None:
    op.create_index('ix_instance_blob_key', 'instance', ['blob_key'])
