"""The index schema (SQLAlchemy Core): patient / study / series / instance.

QIDO matching keys are indexed columns; counters (series and instances per study,
instances per series, modalities and SOP classes in study) are kept at store time; each
instance row carries its precomputed DICOM JSON metadata and its frame table, so that
no read path parses a stored file. The journal of blob keys that may be garbage after a
crash belongs to the blob store (see FilesystemBlobStore).

The Alembic migrations under `migrations/versions` create exactly this schema; a test
compares the two.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)

from hounsfield.dicom.attributes import (
    INSTANCE_COLUMNS,
    PATIENT_COLUMNS,
    SERIES_COLUMNS,
    STUDY_COLUMNS,
)

metadata = MetaData()
# SQLite wants INTEGER PRIMARY KEY for rowid aliasing; PostgreSQL gets BIGINT identity.
Key = BigInteger().with_variant(Integer(), "sqlite")

_LENGTHS = {"patient_name": 324, "referring_physician_name": 324, "study_description": 64,
            "series_description": 64, "institution_name": 64, "patient_name_norm": 324,
            "referring_physician_name_norm": 324}


def text_type(length: int) -> Any:
    """Text compared byte by byte on PostgreSQL too (COLLATE "C"), so that a wildcard's
    prefix is an index range whatever the database's locale (SQLite always is)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def _columns(spec: dict[str, tuple[str, str]]) -> list[Column]:
    return [
        Column(name, Integer if kind == "int" else
               text_type(_LENGTHS[name]) if kind == "name" else String(_LENGTHS.get(name, 64)))
        for name, (_, kind) in spec.items()
    ]


patient = Table(
    "patient", metadata,
    Column("pk", Key, primary_key=True, autoincrement=True),
    *_columns(PATIENT_COLUMNS),
    Column("created_at", Float, nullable=False),
)
# One row per (PatientID, Issuer); instances without a PatientID get a row per study.
Index("ux_patient_identity", patient.c.patient_id, patient.c.issuer_of_patient_id,
      unique=True, sqlite_where=patient.c.patient_id.isnot(None),
      postgresql_where=patient.c.patient_id.isnot(None))
Index("ix_patient_name", patient.c.patient_name)
# Indexes used by QIDO-RS end on the primary key: PostgreSQL then answers keys and counts
# from the index alone (SQLite's indexes hold the rowid anyway).

study = Table(
    "study", metadata,
    Column("pk", Key, primary_key=True, autoincrement=True),
    Column("study_instance_uid", String(64), nullable=False, unique=True),
    Column("patient_fk", Key, ForeignKey("patient.pk"), nullable=False),
    *_columns(STUDY_COLUMNS),
    Column("modalities_in_study", String(256), nullable=False, default=""),
    Column("sop_classes_in_study", Text, nullable=False, default=""),
    Column("number_of_series", Integer, nullable=False, default=0),
    Column("number_of_instances", Integer, nullable=False, default=0),
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_study_patient", study.c.patient_fk, study.c.pk)
Index("ix_study_date", study.c.study_date, study.c.study_time, study.c.pk)
Index("ix_study_accession", study.c.accession_number)
Index("ix_study_referring_norm", study.c.referring_physician_name_norm, study.c.pk)
Index("ix_study_patient_name_norm", study.c.patient_name_norm, study.c.pk)
Index("ix_study_study_id", study.c.study_id)

series = Table(
    "series", metadata,
    Column("pk", Key, primary_key=True, autoincrement=True),
    Column("series_instance_uid", String(64), nullable=False, unique=True),
    Column("study_fk", Key, ForeignKey("study.pk"), nullable=False),
    *_columns(SERIES_COLUMNS),
    Column("number_of_instances", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_series_study", series.c.study_fk)
Index("ix_series_modality", series.c.modality)

instance = Table(
    "instance", metadata,
    Column("pk", Key, primary_key=True, autoincrement=True),
    Column("sop_instance_uid", String(64), nullable=False, unique=True),
    Column("series_fk", Key, ForeignKey("series.pk"), nullable=False),
    Column("sop_class_uid", String(64), nullable=False),
    *_columns(INSTANCE_COLUMNS),
    Column("transfer_syntax_uid", String(64), nullable=False),
    Column("number_of_frames", Integer, nullable=False, default=1),
    Column("blob_key", String(512), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),  # of the stored bytes: content_digest
    Column("created_at", Float, nullable=False),
    # None: stored before this was recorded (migration 0005); the served length is unknown
    Column("preamble_missing", Boolean, nullable=True),
    # The documents last, the largest at the end (migration 0004): SQLite reads past a
    # large value through its overflow pages to reach the columns after it.
    Column("bulk_data_json", LargeBinary, nullable=False),
    Column("frames_json", LargeBinary, nullable=True),  # None: frames must be parsed
    Column("metadata_json", LargeBinary, nullable=False),
)
Index("ix_instance_series", instance.c.series_fk, instance.c.instance_number)
Index("ix_instance_sop_class", instance.c.sop_class_uid)

# One row per (modality, study): ModalitiesInStudy matching is an index range. Kept by
# triggers on series (migration 0002), so the store path needs no statement of its own.
study_modality = Table(
    "study_modality", metadata,
    Column("modality", String(16), nullable=False),
    Column("study_fk", Key, nullable=False),
    PrimaryKeyConstraint("modality", "study_fk", name="pk_study_modality"),
)
Index("ix_study_modality_study", study_modality.c.study_fk)

# Attributes an administrator indexes for queries (setting `extra_query_attributes`):
# one row per value; `level` says which table `owner_fk` points into (1 study, 2 series,
# 3 instance). Rows of deleted entities are removed by triggers (migration 0002).
query_attribute = Table(
    "query_attribute", metadata,
    Column("pk", Key, primary_key=True, autoincrement=True),
    Column("level", SmallInteger, nullable=False),
    Column("owner_fk", Key, nullable=False),
    Column("tag", String(8), nullable=False),
    Column("value", text_type(256), nullable=False),
)
Index("ix_query_attribute_match", query_attribute.c.tag, query_attribute.c.value,
      query_attribute.c.owner_fk)
Index("ix_query_attribute_owner", query_attribute.c.level, query_attribute.c.owner_fk)
