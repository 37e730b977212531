"""The STOW-RS response data set (PS3.18 §10.5.3, Table 10.5.3-1), as a DICOM JSON dict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hounsfield.archive.record import StoreOutcome
from hounsfield.dicom.json_model import instance_path

RETRIEVE_URL = "00081190"
FAILED_SOP_SEQUENCE = "00081198"
REFERENCED_SOP_SEQUENCE = "00081199"
REFERENCED_SOP_CLASS_UID = "00081150"
REFERENCED_SOP_INSTANCE_UID = "00081155"
WARNING_REASON = "00081196"
FAILURE_REASON = "00081197"
ERROR_COMMENT = "00000902"


def stow_response(outcomes: Sequence[StoreOutcome], base_url: str,
                  study: str | None = None) -> dict[str, Any]:
    """The response data set for `outcomes`; `base_url` is the DICOMweb root (…/rs)."""
    response: dict[str, Any] = {}
    studies = {o.study_instance_uid for o in outcomes if o.stored}
    if study is None and len(studies) == 1:
        study = studies.pop()
    if study is not None:
        response[RETRIEVE_URL] = _value("UR", f"{base_url}/studies/{study}")
    failed = [_failed_item(o) for o in outcomes if not o.stored]
    stored = [_stored_item(o, base_url) for o in outcomes if o.stored]
    if failed:
        response[FAILED_SOP_SEQUENCE] = {"vr": "SQ", "Value": failed}
    if stored:
        response[REFERENCED_SOP_SEQUENCE] = {"vr": "SQ", "Value": stored}
    return response


def _stored_item(o: StoreOutcome, base_url: str) -> dict[str, Any]:
    url = base_url + instance_path(o.study_instance_uid or "", o.series_instance_uid or "",
                                   o.sop_instance_uid or "")
    item = _sop_reference(o)
    item[RETRIEVE_URL] = _value("UR", url)
    if o.warnings:
        item[WARNING_REASON] = _value("US", o.warnings[0][0])
        item[ERROR_COMMENT] = _value("LO", "; ".join(text for _, text in o.warnings)[:64])
    return dict(sorted(item.items()))


def _failed_item(o: StoreOutcome) -> dict[str, Any]:
    item = _sop_reference(o)
    item[FAILURE_REASON] = _value("US", o.failure_reason)
    if o.message:
        item[ERROR_COMMENT] = _value("LO", o.message[:64])
    return dict(sorted(item.items()))


def _sop_reference(o: StoreOutcome) -> dict[str, Any]:
    return {REFERENCED_SOP_CLASS_UID: _value("UI", o.sop_class_uid),
            REFERENCED_SOP_INSTANCE_UID: _value("UI", o.sop_instance_uid)}


def _value(vr: str, value: Any) -> dict[str, Any]:
    return {"vr": vr} if value is None else {"vr": vr, "Value": [value]}
