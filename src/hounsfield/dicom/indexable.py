"""Which attributes an administrator may add to the query index (`extra_query_attributes`).

Short text values only (PS3.5 VRs of at most 64 characters per value, and PN), at the top
level of the data set; attributes the index has as columns already are refused.
"""

from __future__ import annotations

from hounsfield.dicom.attribute_path import AttributePath, parse_attribute
from hounsfield.dicom.attributes import (
    INSTANCE_COLUMNS,
    PATIENT_COLUMNS,
    SERIES_COLUMNS,
    STUDY_COLUMNS,
)
from hounsfield.errors import BadRequestError

INDEXABLE_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM",
                           "UI"})
COLUMN_KEYWORDS = frozenset(
    keyword for columns in (PATIENT_COLUMNS, STUDY_COLUMNS, SERIES_COLUMNS, INSTANCE_COLUMNS)
    for keyword, _ in columns.values()) | {
    "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID",
    "ModalitiesInStudy", "SOPClassesInStudy", "NumberOfFrames"}


def indexable_problem(name: str) -> str | None:
    """Why `name` cannot be an extra query attribute, or None if it can."""
    try:
        path = parse_attribute(name)
    except BadRequestError as exc:
        return exc.message
    if path.in_sequence:
        return f"{name}: only attributes at the top level of the data set can be indexed"
    if path.vr not in INDEXABLE_VRS:
        return f"{name}: VR {path.vr} cannot be indexed (allowed: " \
               f"{', '.join(sorted(INDEXABLE_VRS))})"
    if str(path) in COLUMN_KEYWORDS:
        return f"{name} is indexed already"
    return None


def extra_paths(names: tuple[str, ...]) -> tuple[AttributePath, ...]:
    """The configured extra query attributes (validated with the settings)."""
    return tuple(parse_attribute(name) for name in names)
