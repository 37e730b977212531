"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patient',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=True),
    sa.Column('issuer_of_patient_id', sa.String(length=64), nullable=True),
    sa.Column('patient_name', sa.String(length=324), nullable=True),
    sa.Column('patient_birth_date', sa.String(length=64), nullable=True),
    sa.Column('patient_sex', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('pk')
    )
    op.create_index('ix_patient_name', 'patient', ['patient_name'], unique=False)
    op.create_index('ux_patient_identity', 'patient', ['patient_id', 'issuer_of_patient_id'], unique=True, sqlite_where=sa.text('patient_id IS NOT NULL'), postgresql_where=sa.text('patient_id IS NOT NULL'))
    op.create_table('study',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('study_instance_uid', sa.String(length=64), nullable=False),
    sa.Column('patient_fk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('study_date', sa.String(length=64), nullable=True),
    sa.Column('study_time', sa.String(length=64), nullable=True),
    sa.Column('accession_number', sa.String(length=64), nullable=True),
    sa.Column('referring_physician_name', sa.String(length=324), nullable=True),
    sa.Column('study_description', sa.String(length=64), nullable=True),
    sa.Column('study_id', sa.String(length=64), nullable=True),
    sa.Column('modalities_in_study', sa.String(length=256), nullable=False),
    sa.Column('sop_classes_in_study', sa.Text(), nullable=False),
    sa.Column('number_of_series', sa.Integer(), nullable=False),
    sa.Column('number_of_instances', sa.Integer(), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['patient_fk'], ['patient.pk'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('study_instance_uid')
    )
    op.create_index('ix_study_accession', 'study', ['accession_number'], unique=False)
    op.create_index('ix_study_date', 'study', ['study_date', 'study_time'], unique=False)
    op.create_index('ix_study_patient', 'study', ['patient_fk'], unique=False)
    op.create_index('ix_study_updated', 'study', ['updated_at'], unique=False)
    op.create_table('series',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('series_instance_uid', sa.String(length=64), nullable=False),
    sa.Column('study_fk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('modality', sa.String(length=64), nullable=True),
    sa.Column('series_number', sa.Integer(), nullable=True),
    sa.Column('series_description', sa.String(length=64), nullable=True),
    sa.Column('body_part_examined', sa.String(length=64), nullable=True),
    sa.Column('performed_procedure_step_start_date', sa.String(length=64), nullable=True),
    sa.Column('performed_procedure_step_start_time', sa.String(length=64), nullable=True),
    sa.Column('station_name', sa.String(length=64), nullable=True),
    sa.Column('institution_name', sa.String(length=64), nullable=True),
    sa.Column('number_of_instances', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['study_fk'], ['study.pk'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('series_instance_uid')
    )
    op.create_index('ix_series_modality', 'series', ['modality'], unique=False)
    op.create_index('ix_series_study', 'series', ['study_fk'], unique=False)
    op.create_table('instance',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('sop_instance_uid', sa.String(length=64), nullable=False),
    sa.Column('series_fk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sop_class_uid', sa.String(length=64), nullable=False),
    sa.Column('instance_number', sa.Integer(), nullable=True),
    sa.Column('content_date', sa.String(length=64), nullable=True),
    sa.Column('content_time', sa.String(length=64), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('columns', sa.Integer(), nullable=True),
    sa.Column('transfer_syntax_uid', sa.String(length=64), nullable=False),
    sa.Column('number_of_frames', sa.Integer(), nullable=False),
    sa.Column('blob_key', sa.String(length=512), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('metadata_json', sa.LargeBinary(), nullable=False),
    sa.Column('frames_json', sa.LargeBinary(), nullable=True),
    sa.Column('bulk_data_json', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['series_fk'], ['series.pk'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('sop_instance_uid')
    )
    op.create_index('ix_instance_blob_key', 'instance', ['blob_key'], unique=False)
    op.create_index('ix_instance_series', 'instance', ['series_fk', 'instance_number'], unique=False)
    op.create_index('ix_instance_sop_class', 'instance', ['sop_class_uid'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_instance_sop_class', table_name='instance')
    op.drop_index('ix_instance_series', table_name='instance')
    op.drop_index('ix_instance_blob_key', table_name='instance')
    op.drop_table('instance')
    op.drop_index('ix_series_study', table_name='series')
    op.drop_index('ix_series_modality', table_name='series')
    op.drop_table('series')
    op.drop_index('ix_study_updated', table_name='study')
    op.drop_index('ix_study_patient', table_name='study')
    op.drop_index('ix_study_date', table_name='study')
    op.drop_index('ix_study_accession', table_name='study')
    op.drop_table('study')
    op.drop_index('ux_patient_identity', table_name='patient', sqlite_where=sa.text('patient_id IS NOT NULL'), postgresql_where=sa.text('patient_id IS NOT NULL'))
    op.drop_index('ix_patient_name', table_name='patient')
    op.drop_table('patient')
