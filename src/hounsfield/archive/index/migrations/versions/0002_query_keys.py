"""QIDO-RS: normalised person names, modalities per study, extra query attributes

Revision ID: 0002
Revises: 0001

Adds the matching form of Patient's Name and Referring Physician's Name (filled here for
existing rows), Specific Character Set, Timezone Offset From UTC and Bits Allocated
(filled for existing rows by `hounsfield reindex`), the study_modality table kept by
triggers on series, and the query_attribute table of administrator-chosen attributes.
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _text(length):
    return sa.String(length).with_variant(sa.String(length, collation='C'), 'postgresql')


def upgrade() -> None:
    op.add_column('study', sa.Column('referring_physician_name_norm', _text(324), nullable=True))
    op.add_column('study', sa.Column('specific_character_set', sa.String(64), nullable=True))
    op.add_column('study', sa.Column('timezone_offset_from_utc', sa.String(64), nullable=True))
    op.add_column('study', sa.Column('patient_name_norm', _text(324), nullable=True))
    op.add_column('instance', sa.Column('bits_allocated', sa.Integer(), nullable=True))
    op.create_index('ix_study_patient_name_norm', 'study', ['patient_name_norm', 'pk'])
    op.create_index('ix_study_referring_norm', 'study', ['referring_physician_name_norm', 'pk'])
    # ending on the primary key lets PostgreSQL answer keys and counts from the index
    op.drop_index('ix_study_patient', table_name='study')
    op.create_index('ix_study_patient', 'study', ['patient_fk', 'pk'])
    op.drop_index('ix_study_date', table_name='study')
    op.create_index('ix_study_date', 'study', ['study_date', 'study_time', 'pk'])
    op.create_index('ix_study_study_id', 'study', ['study_id'])
    op.create_table('study_modality',
    sa.Column('modality', sa.String(16), nullable=False),
    sa.Column('study_fk', KEY, nullable=False),
    sa.PrimaryKeyConstraint('modality', 'study_fk', name='pk_study_modality'))
    op.create_index('ix_study_modality_study', 'study_modality', ['study_fk'])
    op.create_table('query_attribute',
    sa.Column('pk', KEY, autoincrement=True, nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('owner_fk', KEY, nullable=False),
    sa.Column('tag', sa.String(8), nullable=False),
    sa.Column('value', _text(256), nullable=False),
    sa.PrimaryKeyConstraint('pk'))
    op.create_index('ix_query_attribute_match', 'query_attribute', ['tag', 'value', 'owner_fk'])
    op.create_index('ix_query_attribute_owner', 'query_attribute', ['level', 'owner_fk'])
    dialect = op.get_bind().dialect.name
    for statement in (_POSTGRES_TRIGGERS if dialect == 'postgresql' else _SQLITE_TRIGGERS):
        op.execute(statement)
    op.execute('INSERT INTO study_modality (modality, study_fk) SELECT DISTINCT modality, '
               'study_fk FROM series WHERE modality IS NOT NULL')
    _fill_names()


def _fill_names() -> None:
    from hounsfield.dicom.matching import normalized_name

    bind = op.get_bind()
    for source, target in (('patient.patient_name', 'patient_name_norm'),
                           ('study.referring_physician_name',
                            'referring_physician_name_norm')):
        rows = bind.execute(sa.text(f'SELECT study.pk, {source} FROM study JOIN patient ON '
                                    f'patient.pk = study.patient_fk '
                                    f'WHERE {source} IS NOT NULL')).all()
        for pk, name in rows:
            bind.execute(sa.text(f'UPDATE study SET {target} = :v WHERE pk = :pk'),
                         {'v': normalized_name(name), 'pk': pk})


_OWNERS = (('study', 1), ('series', 2), ('instance', 3))
_SQLITE_TRIGGERS = [
    'CREATE TRIGGER tr_series_modality_added AFTER INSERT ON series '
    'WHEN NEW.modality IS NOT NULL BEGIN '
    'INSERT OR IGNORE INTO study_modality (modality, study_fk) '
    'VALUES (NEW.modality, NEW.study_fk); END',
    'CREATE TRIGGER tr_series_modality_removed AFTER DELETE ON series '
    'WHEN OLD.modality IS NOT NULL BEGIN '
    'DELETE FROM study_modality WHERE study_fk = OLD.study_fk AND modality = OLD.modality '
    'AND NOT EXISTS (SELECT 1 FROM series WHERE study_fk = OLD.study_fk '
    'AND modality = OLD.modality); END',
    *(f'CREATE TRIGGER tr_{table}_query_attributes AFTER DELETE ON {table} BEGIN '
      f'DELETE FROM query_attribute WHERE level = {level} AND owner_fk = OLD.pk; END'
      for table, level in _OWNERS),
]
_POSTGRES_TRIGGERS = [
    'CREATE FUNCTION series_modality_added() RETURNS trigger AS $$ BEGIN '
    'IF NEW.modality IS NOT NULL THEN INSERT INTO study_modality (modality, study_fk) '
    'VALUES (NEW.modality, NEW.study_fk) ON CONFLICT DO NOTHING; END IF; RETURN NULL; '
    'END $$ LANGUAGE plpgsql',
    'CREATE TRIGGER tr_series_modality_added AFTER INSERT ON series FOR EACH ROW '
    'EXECUTE FUNCTION series_modality_added()',
    'CREATE FUNCTION series_modality_removed() RETURNS trigger AS $$ BEGIN '
    'IF OLD.modality IS NOT NULL THEN DELETE FROM study_modality WHERE study_fk = '
    'OLD.study_fk AND modality = OLD.modality AND NOT EXISTS (SELECT 1 FROM series WHERE '
    'study_fk = OLD.study_fk AND modality = OLD.modality); END IF; RETURN NULL; '
    'END $$ LANGUAGE plpgsql',
    'CREATE TRIGGER tr_series_modality_removed AFTER DELETE ON series FOR EACH ROW '
    'EXECUTE FUNCTION series_modality_removed()',
    *(stmt for table, level in _OWNERS for stmt in (
        f'CREATE FUNCTION {table}_query_attributes() RETURNS trigger AS $$ BEGIN '
        f'DELETE FROM query_attribute WHERE level = {level} AND owner_fk = OLD.pk; '
        'RETURN NULL; END $$ LANGUAGE plpgsql',
        f'CREATE TRIGGER tr_{table}_query_attributes AFTER DELETE ON {table} FOR EACH ROW '
        f'EXECUTE FUNCTION {table}_query_attributes()')),
]


def downgrade() -> None:
    bind = op.get_bind()
    for name in ('series_modality_added', 'series_modality_removed', 'study_query_attributes',
                 'series_query_attributes', 'instance_query_attributes'):
        table = 'series' if 'modality' in name else name.split('_')[0]
        op.execute(f'DROP TRIGGER IF EXISTS tr_{name} ON {table}'
                   if bind.dialect.name == 'postgresql' else f'DROP TRIGGER IF EXISTS tr_{name}')
        if bind.dialect.name == 'postgresql':
            op.execute(f'DROP FUNCTION IF EXISTS {name}()')
    op.drop_table('query_attribute')
    op.drop_table('study_modality')
    op.drop_index('ix_study_study_id', table_name='study')
    op.drop_index('ix_study_date', table_name='study')
    op.create_index('ix_study_date', 'study', ['study_date', 'study_time'])
    op.drop_index('ix_study_patient', table_name='study')
    op.create_index('ix_study_patient', 'study', ['patient_fk'])
    op.drop_index('ix_study_referring_norm', table_name='study')
    op.drop_index('ix_study_patient_name_norm', table_name='study')
    op.drop_column('instance', 'bits_allocated')
    op.drop_column('study', 'timezone_offset_from_utc')
    op.drop_column('study', 'specific_character_set')
    op.drop_column('study', 'referring_physician_name_norm')
    op.drop_column('study', 'patient_name_norm')
