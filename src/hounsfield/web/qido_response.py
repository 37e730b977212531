"""QIDO-RS response bodies (PS3.18 §10.6.3, §8.7): DICOM JSON, multipart XML, CSV.

- application/dicom+json (and application/json): one JSON array of data sets;
- multipart/related; type="application/dicom+xml": one Native DICOM Model document per
  match, each a part, as dcm4chee-arc-light answers;
- text/csv: a header row of keywords (tags where there is none), one row per match;
  multiple values joined with a backslash, person names as their Alphabetic group.

No match: 204 with no body. Warnings (unsupported parameters, truncation) go in Warning
headers in the form PS3.18 writes; the body may be gzip-encoded.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import orjson
from pydicom.datadict import keyword_for_tag
from starlette.responses import Response

from hounsfield.archive.search import SearchResult
from hounsfield.dicom.xml_model import json_to_xml
from hounsfield.web.content_coding import GZIP_MIN_BYTES, accepts_gzip, gzip_body
from hounsfield.web.headers import dicomweb_warning_values

DICOM_JSON = "application/dicom+json"
JSON = "application/json"
MULTIPART_XML = 'multipart/related; type="application/dicom+xml"'
CSV = "text/csv"
OFFERS = {
    DICOM_JSON: DICOM_JSON,
    JSON: JSON,
    "multipart/related;type=application/dicom+xml": MULTIPART_XML,
    CSV: CSV,
}


def qido_response(result: SearchResult, media_type: str, service: str,
                  accept_encoding: str | None) -> Response:
    warnings = list(result.warnings)
    if result.remaining > 0:
        warnings.append(f"There are {result.remaining} additional results that can be "
                        "requested")
    if not result.datasets:
        response = Response(status_code=204)
    else:
        body, content_type = _body(result.datasets, media_type)
        response = encoded(body, content_type, accept_encoding)
    for value in dicomweb_warning_values(service, warnings):
        response.headers.append("warning", value)
    return response


def encoded(body: bytes, content_type: str, accept_encoding: str | None) -> Response:
    headers = {"vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and accepts_gzip(accept_encoding):
        body = gzip_body(body)
        headers["content-encoding"] = "gzip"
    return Response(body, headers=headers, media_type=content_type)


def _body(datasets: list[dict[str, Any]], media_type: str) -> tuple[bytes, str]:
    if media_type == MULTIPART_XML:
        return multipart_xml(datasets)
    if media_type == CSV:
        return csv_table(datasets), "text/csv; charset=utf-8"
    return orjson.dumps(datasets), media_type


def multipart_xml(datasets: list[dict[str, Any]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for dataset in datasets:
        parts.append(f"--{boundary}\r\nContent-Type: application/dicom+xml\r\n\r\n".encode())
        parts.append(json_to_xml(dataset))
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"{MULTIPART_XML}; boundary={boundary}"


def csv_table(datasets: list[dict[str, Any]]) -> bytes:
    tags = sorted({tag for dataset in datasets for tag in dataset})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([keyword_for_tag(int(t, 16)) or t for t in tags])
    for dataset in datasets:
        writer.writerow([_csv_cell(dataset.get(t)) for t in tags])
    return out.getvalue().encode("utf-8")


def _csv_cell(element: dict[str, Any] | None) -> str:
    if not element or element.get("vr") == "SQ":
        return ""
    values = element.get("Value") or []
    texts = [(v.get("Alphabetic", "") if isinstance(v, dict) else "" if v is None else str(v))
             for v in values]
    return "\\".join(texts)
