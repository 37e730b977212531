"""Which attributes the index holds as columns, and where, for QIDO-RS.

Every attribute of `dicom.attributes`' column tables, the UIDs of each level and the
counters kept at store time. Person names are matched on their normalised column
(`*_norm`, upper case) and returned from the column that keeps them as stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import tag_for_keyword
from sqlalchemy import Column, Table

from hounsfield.archive.index.schema import instance, patient, series, study
from hounsfield.dicom.attributes import (
    INSTANCE_COLUMNS,
    PATIENT_COLUMNS,
    SERIES_COLUMNS,
    STUDY_COLUMNS,
)
from hounsfield.dicom.levels import Level


@dataclass(frozen=True)
class IndexColumn:
    level: Level
    column: Column  # the value as stored
    match: Column  # the column matched (the normalised one for person names)
    kind: str  # "str", "int" or "list" (backslash-separated values)


def _from_table(table: Table, spec: dict[str, tuple[str, str]], level: Level
                ) -> dict[int, IndexColumn]:
    found = {}
    for name, (keyword, kind) in spec.items():
        if kind == "name":
            continue
        match = table.c.get(f"{name}_norm", table.c[name])
        found[tag_for_keyword(keyword)] = IndexColumn(level, table.c[name], match, kind)
    return found


def _plain(level: Level, column: Column, kind: str = "str") -> IndexColumn:
    return IndexColumn(level, column, column, kind)


COLUMNS: dict[int, IndexColumn] = {
    **_from_table(patient, PATIENT_COLUMNS, Level.STUDY),
    **_from_table(study, STUDY_COLUMNS, Level.STUDY),
    **_from_table(series, SERIES_COLUMNS, Level.SERIES),
    **_from_table(instance, INSTANCE_COLUMNS, Level.INSTANCE),
    0x0020000D: _plain(Level.STUDY, study.c.study_instance_uid),
    0x00080061: _plain(Level.STUDY, study.c.modalities_in_study, "list"),
    0x00080062: _plain(Level.STUDY, study.c.sop_classes_in_study, "list"),
    0x00201206: _plain(Level.STUDY, study.c.number_of_series, "int"),
    0x00201208: _plain(Level.STUDY, study.c.number_of_instances, "int"),
    0x0020000E: _plain(Level.SERIES, series.c.series_instance_uid),
    0x00201209: _plain(Level.SERIES, series.c.number_of_instances, "int"),
    0x00080018: _plain(Level.INSTANCE, instance.c.sop_instance_uid),
    0x00080016: _plain(Level.INSTANCE, instance.c.sop_class_uid),
    0x00280008: _plain(Level.INSTANCE, instance.c.number_of_frames, "int"),
    # Patient's Name is returned from patient, matched on the study's copy (no join)
    0x00100010: IndexColumn(Level.STUDY, patient.c.patient_name, study.c.patient_name_norm,
                            "str"),
}
# Match keys on these need more than a column comparison (see search_sql).
MODALITIES_IN_STUDY = 0x00080061
SOP_CLASSES_IN_STUDY = 0x00080062

OWNER_KEYS = {Level.STUDY: study.c.pk, Level.SERIES: series.c.pk, Level.INSTANCE: instance.c.pk}
