"""The attributes an instance contributes to each level of the index.

The column of each matching key is named after its keyword in snake case; the tables
below are the one place that says which attributes are indexed at which level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from hounsfield.dicom import status
from hounsfield.dicom.matching import normalized_name
from hounsfield.dicom.uid import is_valid_uid
from hounsfield.errors import InstanceRejectedError

# column name -> (keyword, kind); kind "str" keeps the text, "int" parses IS/US values,
# "name" keeps the matching form of a person name (upper case, see dicom.matching)
PATIENT_COLUMNS = {
    "patient_id": ("PatientID", "str"),
    "issuer_of_patient_id": ("IssuerOfPatientID", "str"),
    "patient_name": ("PatientName", "str"),
    "patient_birth_date": ("PatientBirthDate", "str"),
    "patient_sex": ("PatientSex", "str"),
}
STUDY_COLUMNS = {
    "study_date": ("StudyDate", "str"),
    "study_time": ("StudyTime", "str"),
    "accession_number": ("AccessionNumber", "str"),
    "referring_physician_name": ("ReferringPhysicianName", "str"),
    "study_description": ("StudyDescription", "str"),
    "study_id": ("StudyID", "str"),
    "referring_physician_name_norm": ("ReferringPhysicianName", "name"),
    # the patient's name once more, per study: name searches need no join to patient
    "patient_name_norm": ("PatientName", "name"),
    "specific_character_set": ("SpecificCharacterSet", "str"),
    "timezone_offset_from_utc": ("TimezoneOffsetFromUTC", "str"),
}
SERIES_COLUMNS = {
    "modality": ("Modality", "str"),
    "series_number": ("SeriesNumber", "int"),
    "series_description": ("SeriesDescription", "str"),
    "body_part_examined": ("BodyPartExamined", "str"),
    "performed_procedure_step_start_date": ("PerformedProcedureStepStartDate", "str"),
    "performed_procedure_step_start_time": ("PerformedProcedureStepStartTime", "str"),
    "station_name": ("StationName", "str"),
    "institution_name": ("InstitutionName", "str"),
}
INSTANCE_COLUMNS = {
    "instance_number": ("InstanceNumber", "int"),
    "content_date": ("ContentDate", "str"),
    "content_time": ("ContentTime", "str"),
    "rows": ("Rows", "int"),
    "columns": ("Columns", "int"),
    "bits_allocated": ("BitsAllocated", "int"),
}


_UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")
_TAGS = {keyword: f"{tag_for_keyword(keyword):08X}"
         for columns in (PATIENT_COLUMNS, STUDY_COLUMNS, SERIES_COLUMNS, INSTANCE_COLUMNS)
         for keyword, _ in columns.values()}
_TAGS.update({keyword: f"{tag_for_keyword(keyword):08X}" for keyword in _UID_KEYWORDS})


@dataclass(frozen=True)
class InstanceUIDs:
    """The four UIDs that place an instance in the hierarchy; all validated."""

    study: str
    series: str
    sop_instance: str
    sop_class: str


def instance_uids(dataset: Dataset) -> InstanceUIDs:
    """Read and validate the identifying UIDs; reject the instance when one is bad."""
    sop_class = _text(dataset, "SOPClassUID")
    sop_instance = _text(dataset, "SOPInstanceUID")
    values = {
        "StudyInstanceUID": _text(dataset, "StudyInstanceUID"),
        "SeriesInstanceUID": _text(dataset, "SeriesInstanceUID"),
        "SOPInstanceUID": sop_instance,
        "SOPClassUID": sop_class,
    }
    for keyword, value in values.items():
        if not is_valid_uid(value):
            problem = "is missing" if not value else f"{value!r} is not a valid UID"
            raise InstanceRejectedError(
                status.DATA_SET_DOES_NOT_MATCH_SOP_CLASS, f"{keyword} {problem}",
                sop_class_uid=sop_class or None, sop_instance_uid=sop_instance or None)
    return InstanceUIDs(values["StudyInstanceUID"], values["SeriesInstanceUID"],
                        sop_instance, sop_class)


def model_uids(model: dict[str, Any]) -> InstanceUIDs | None:
    """The identifying UIDs from the JSON model; None when one is missing or invalid."""
    values = [_json_value(model, keyword, "str") or "" for keyword in _UID_KEYWORDS]
    if not all(is_valid_uid(value) for value in values):
        return None
    return InstanceUIDs(*values)


def level_values(model: dict[str, Any], columns: dict[str, tuple[str, str]]
                 ) -> dict[str, Any]:
    """The index column values of one level, read from the instance's DICOM JSON model."""
    return {name: _json_value(model, keyword, kind) for name, (keyword, kind) in columns.items()}


def _json_value(model: dict[str, Any], keyword: str, kind: str) -> Any:
    values = (model.get(_TAGS[keyword]) or {}).get("Value") or []
    texts = [_json_text(v) for v in values]
    if kind == "name":
        return normalized_name(texts[0]) if texts else None
    if kind == "int":
        try:
            return int(float(texts[0])) if texts and texts[0] else None
        except (ValueError, OverflowError):
            return None
    return "\\".join(texts) or None


def _json_text(value: Any) -> str:
    if isinstance(value, dict):  # PN
        return "=".join(filter(None, (value.get("Alphabetic"), value.get("Ideographic"),
                                      value.get("Phonetic"))))
    return "" if value is None else str(value)


def _text(dataset: Dataset, keyword: str) -> str:
    try:
        value = dataset.get(keyword)
    except Exception:  # a malformed value must not stop the store  # noqa: BLE001
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()
