"""Drop the index on study.updated_at

Revision ID: 0003
Revises: 0002

Every stored instance updates its study row (counters, updated_at). With updated_at
indexed, PostgreSQL cannot make that update a heap-only tuple update and rewrites an
entry in every index of study for each instance; no query uses the index.
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_study_updated', table_name='study')


def downgrade() -> None:
    op.create_index('ix_study_updated', 'study', ['updated_at'])
