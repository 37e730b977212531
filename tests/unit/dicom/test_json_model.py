"""The stored DICOM JSON model: values as pydicom renders them, bulk data by reference."""

from __future__ import annotations

import orjson
import pydicom
import pytest
from helpers.data_files import pydicom_data_files

from hounsfield.dicom.json_model import instance_json, with_base_url
from hounsfield.dicom.part10 import read_part10
from hounsfield.errors import InstanceRejectedError

URL = "/studies/1/series/2/instances/3"


def model_of(path, threshold=1024):
    with open(path, "rb") as fp:
        part10 = read_part10(fp, defer_size=threshold)
        return instance_json(part10.dataset, part10.pixel_data, instance_url=URL,
                             threshold=threshold, positions_known=part10.positions_known)


def bulk_paths(model, prefix=()):
    for key, attr in model.items():
        if "BulkDataURI" in attr:
            yield "/".join(prefix + (key,)), attr["BulkDataURI"]
        for i, item in enumerate(attr.get("Value", []) if attr["vr"] == "SQ" else []):
            yield from bulk_paths(item, prefix + (key, str(i)))


FILES = [p for p in pydicom_data_files() if "too_short" not in p.name]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_bulk_data_is_referenced_and_located_exactly(path) -> None:
    try:
        built = model_of(path)
    except InstanceRejectedError:
        pytest.skip("not a Part 10 file")
    model = orjson.loads(built.metadata)
    data = path.read_bytes()
    full = pydicom.dcmread(path)
    for sub, uri in bulk_paths(model):
        if sub == "7FE00010":
            assert uri == URL + "/pixeldata"
            continue
        assert uri == f"{URL}/bulkdata/{sub}"
        offset, length = built.bulk_data[sub]
        element = _element(full, sub.split("/"))
        if full.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.2":
            assert data[offset:offset + length] == bytes(element.value)


def _element(ds, path):
    element = ds[int(path[0], 16)]
    if len(path) == 1:
        return element
    return _element(element.value[int(path[1])], path[2:])


def _comparable(attr):
    """pydicom renders IS/DS as numbers and empty values as ""; the archive keeps the
    stored text (as dcm4chee-arc-light) and null for an empty value."""
    values = attr.get("Value")
    if attr["vr"] == "SQ" and values:
        return {"vr": "SQ", "Value": [_comparable_items(item) for item in values]}
    if values is None:
        return attr
    if attr["vr"] in ("IS", "DS"):
        values = [None if v in (None, "") else float(v) for v in values]
    elif attr["vr"] in ("AE", "AS", "CS", "DA", "DT", "LO", "SH", "TM", "UC", "UI"):
        values = [(v.strip() or None) if isinstance(v, str) else v for v in values]
    else:
        values = [None if v == "" else v for v in values]
    return {**attr, "Value": values} if any(v is not None for v in values) else {
        "vr": attr["vr"]}


def _comparable_items(item, other=None):
    """Compare what both sides inline: where to draw the bulk data line is the server's
    choice (pydicom measures the base64 text against the threshold)."""
    other = other or {}
    return {k: _comparable(a) for k, a in item.items()
            if not k.endswith("0000") and "BulkDataURI" not in a
            and "BulkDataURI" not in other.get(k, {})}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_values_match_pydicom_json(path) -> None:
    try:
        model = orjson.loads(model_of(path).metadata)
    except InstanceRejectedError:
        pytest.skip("not a Part 10 file")
    expected = pydicom.dcmread(path, stop_before_pixels=True).to_json_dict(
        bulk_data_threshold=1024, bulk_data_element_handler=lambda e: "BULK")
    assert _comparable_items(model, expected) == _comparable_items(expected, model)


def test_base_url_is_spliced_into_every_bulk_data_uri() -> None:
    meta = orjson.dumps({"00091010": {"vr": "LO", "Value": ['"BulkDataURI":"x']},
                         "7FE00010": {"vr": "OW", "BulkDataURI": URL + "/pixeldata"}})
    spliced = orjson.loads(with_base_url(meta, b"http://h/rs"))
    assert spliced["7FE00010"]["BulkDataURI"] == "http://h/rs" + URL + "/pixeldata"
    assert spliced["00091010"]["Value"] == ['"BulkDataURI":"x']  # user text untouched
