"""The data set returned for each match (PS3.18 §10.6.3.3, Tables 10.6.3-3 to -5).

Default attributes come from index columns, so that a study list touches no metadata;
computed attributes (counters, Modalities and SOP Classes in Study, Retrieve URL,
Retrieve AE Title, Instance Availability) come from the row too. Attributes asked for by
includefield or by a match key that the index does not hold are taken from the stored
JSON metadata (of the instance, or of the first instance of the series or study), as are
all attributes of the level with includefield=all.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import orjson

from hounsfield.archive.index.search_columns import COLUMNS, IndexColumn
from hounsfield.dicom.attribute_path import vr_of
from hounsfield.dicom.json_model import with_base_url
from hounsfield.dicom.levels import Level, level_of
from hounsfield.dicom.query import SearchQuery

# PS3.18 Table 10.6.3-3, plus Specific Character Set as dcm4chee-arc-light returns it
STUDY_DEFAULTS = (0x00080005, 0x00080020, 0x00080030, 0x00080050, 0x00080054, 0x00080056,
                  0x00080061, 0x00080090, 0x00080201, 0x00081190, 0x00100010, 0x00100020,
                  0x00100030, 0x00100040, 0x0020000D, 0x00200010, 0x00201206, 0x00201208)
# Table 10.6.3-4 (Request Attributes Sequence only on request: it is not indexed)
SERIES_DEFAULTS = (0x00080054, 0x00080056, 0x00080060, 0x00080201, 0x0008103E, 0x00081190,
                   0x0020000E, 0x00200011, 0x00201209, 0x00400244, 0x00400245)
# Table 10.6.3-5
INSTANCE_DEFAULTS = (0x00080016, 0x00080018, 0x00080054, 0x00080056, 0x00080201, 0x00081190,
                     0x00200013, 0x00280008, 0x00280010, 0x00280011, 0x00280100)
RETRIEVE_AE_TITLE, INSTANCE_AVAILABILITY, RETRIEVE_URL = 0x00080054, 0x00080056, 0x00081190
TIMEZONE = 0x00080201
_COMPUTED = frozenset({RETRIEVE_AE_TITLE, INSTANCE_AVAILABILITY, RETRIEVE_URL})
_URL_LABELS = {"study_study_instance_uid", "series_series_instance_uid",
               "instance_sop_instance_uid"}


def default_tags(query: SearchQuery) -> list[int]:
    """Defaults of the level, and of the levels above when the resource spans them."""
    tags = {Level.STUDY: STUDY_DEFAULTS, Level.SERIES: SERIES_DEFAULTS,
            Level.INSTANCE: INSTANCE_DEFAULTS}[query.level]
    above = []
    if query.level >= Level.SERIES and query.study is None:
        above += STUDY_DEFAULTS
    if query.level is Level.INSTANCE and query.series is None:
        above += SERIES_DEFAULTS
    return list(dict.fromkeys([*above, *tags]))


class ResultBuilder:
    """Turns result rows into data sets; the per-attribute work is planned once."""

    def __init__(self, query: SearchQuery, base_url: str, ae_title: str):
        self.query = query
        self.base_url = base_url
        asked = [p.top for p in query.returned_paths]
        tags = sorted(dict.fromkeys([*default_tags(query), *asked]))
        self.from_metadata = [(f"{t:08X}", vr_of(t)) for t in tags
                              if t not in COLUMNS and t not in _COMPUTED]
        self.plan = [(f"{t:08X}", self._maker(t, ae_title)) for t in tags
                     if t in COLUMNS or t in _COMPUTED]
        self.labels = {_label(COLUMNS[t]) for t in tags if t in COLUMNS} | _URL_LABELS

    @property
    def needs_metadata(self) -> bool:
        return bool(self.query.include_all or self.from_metadata)

    def dataset(self, row: Any) -> dict[str, Any]:
        model = self._metadata(row) if self.needs_metadata else None
        dataset = {key: make(row) for key, make in self.plan}
        if model is None and not self.from_metadata:
            return dataset  # the plan is in tag order already
        if self.query.include_all and model is not None:
            dataset = {**_level_attributes(model, self.query.level), **dataset}
        for key, vr in self.from_metadata:
            dataset[key] = (model or {}).get(key) or {"vr": vr}
        return dict(sorted(dataset.items()))

    def _metadata(self, row: Any) -> dict[str, Any] | None:
        if "metadata_model" in row:
            return row["metadata_model"]
        raw = row.get("metadata")
        if raw is None:
            return None
        return orjson.loads(with_base_url(raw, self.base_url.encode()))

    def _maker(self, tag: int, ae_title: str) -> Any:
        if tag == RETRIEVE_URL:
            return lambda row: {"vr": "UR", "Value": [self._retrieve_url(row)]}
        if tag == RETRIEVE_AE_TITLE:
            return lambda row: {"vr": "AE", "Value": [ae_title]}
        if tag == INSTANCE_AVAILABILITY:
            return lambda row: {"vr": "CS", "Value": ["ONLINE"]}
        return _column_maker(tag, COLUMNS[tag])

    def _retrieve_url(self, row: Any) -> str:
        url = f"{self.base_url}/studies/{row['study_study_instance_uid']}"
        if self.query.level >= Level.SERIES:
            url += f"/series/{row['series_series_instance_uid']}"
        if self.query.level is Level.INSTANCE:
            url += f"/instances/{row['instance_sop_instance_uid']}"
        return url


def _label(column: IndexColumn) -> str:
    return f"{column.column.table.name}_{column.column.name}"


def _column_maker(tag: int, column: IndexColumn) -> Callable[[Any], dict[str, Any]]:
    """A function from a row to the JSON attribute of the column's value (PS3.18 F.2);
    chosen once per attribute, since it runs for every attribute of every match."""
    label, vr = _label(column), vr_of(tag)
    if column.kind == "int":
        as_text = vr in ("IS", "DS")
        return lambda row: {"vr": vr} if (v := row[label]) is None \
            else {"vr": vr, "Value": [str(v) if as_text else v]}
    if vr == "PN":
        return lambda row: {"vr": vr, "Value": _person_names(v)} if (v := row[label]) \
            else {"vr": vr}
    return lambda row: {"vr": vr, "Value": _texts(v)} if (v := row[label]) else {"vr": vr}


def _texts(value: str) -> list[str | None]:
    if "\\" not in value:
        return [value]
    return [v or None for v in value.split("\\")]


def _person_names(value: str) -> list[dict[str, str] | None]:
    if "=" not in value and "\\" not in value:
        return [{"Alphabetic": value}]
    return [_person_name(v) for v in value.split("\\")]


def _person_name(text: str) -> dict[str, str] | None:
    groups = zip(("Alphabetic", "Ideographic", "Phonetic"), text.split("="), strict=False)
    return {group: part for group, part in groups if part} or None


def _level_attributes(model: dict[str, Any], level: Level) -> dict[str, Any]:
    """includefield=all: the stored attributes of the query level (bulk data left out)."""
    return {key: element for key, element in model.items()
            if _key_level(key) is level and "BulkDataURI" not in element}


@lru_cache(maxsize=8192)
def _key_level(key: str) -> Level:
    return level_of(int(key, 16))
