"""STOW-RS with metadata parts: application/dicom+json or application/dicom+xml.

The metadata parts (the parts of the request's `type`) hold the data sets; every other
part is bulk data found by its Content-Location. Each data set becomes a Part 10 file in
the spool folder, then goes the same way as a received Part 10 file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import orjson
import pydicom

from hounsfield.archive.record import Disposition, StoreOutcome
from hounsfield.dicom import status
from hounsfield.dicom.instance_builder import BulkData, build_instance
from hounsfield.dicom.xml_model import xml_to_json
from hounsfield.errors import BadRequestError, InstanceRejectedError
from hounsfield.web.multipart import Part

StoreFiles = Callable[[Any, Sequence[Part], str | None], Awaitable[list[StoreOutcome]]]


async def store_metadata_parts(svc: Any, part_type: str, parts: Sequence[Part],
                               study: str | None, store_files: StoreFiles
                               ) -> list[StoreOutcome]:
    is_metadata = [p.media_type is None or p.media_type.type == part_type for p in parts]
    metadata = [p for p, flag in zip(parts, is_metadata, strict=True) if flag]
    if not metadata:
        raise BadRequestError(f"the request holds no {part_type} part")
    bulk = {p.content_location: p for p, flag in zip(parts, is_metadata, strict=True)
            if not flag and p.content_location}
    models = await anyio.to_thread.run_sync(_read_models, metadata, part_type)
    built = await anyio.to_thread.run_sync(
        _build_files, models, bulk, svc.archive.blobs.spool_dir, limiter=svc.store_limiter)
    files = [item for item in built if isinstance(item, tuple)]
    stored = await store_files(svc, [_part(path) for path, _ in files], study)
    warned = iter(stored)
    outcomes = []
    for item in built:
        if isinstance(item, StoreOutcome):
            outcomes.append(item)
        else:
            outcome = next(warned)
            outcomes.append(replace(outcome, warnings=outcome.warnings + tuple(item[1]))
                            if outcome.stored else outcome)
    return outcomes


def _read_models(parts: Sequence[Part], part_type: str) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = []
    for part in parts:
        data = part.path.read_bytes()
        if part_type.endswith("+xml"):
            models.append(xml_to_json(data))
            continue
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise BadRequestError(f"a metadata part is not valid JSON: {exc}") from exc
        models += parsed if isinstance(parsed, list) else [parsed]
    return models


def _build_files(models: list[dict[str, Any]], bulk: dict[str, Part],
                 spool_dir: Path) -> list[tuple[Path, list] | StoreOutcome]:
    resolve = _resolver(bulk)
    results: list[tuple[Path, list] | StoreOutcome] = []
    for model in models:
        try:
            built = build_instance(model, resolve)
            results.append((_write(built.dataset, spool_dir), built.warnings))
        except InstanceRejectedError as exc:
            results.append(StoreOutcome(Disposition.FAILED, exc.sop_class_uid,
                                        exc.sop_instance_uid, failure_reason=exc.failure_reason,
                                        message=exc.message))
        except BadRequestError as exc:
            results.append(_unparseable(exc.message))
        except Exception as exc:  # noqa: BLE001 - pydicom refuses values in many ways
            results.append(_unparseable(f"metadata cannot be encoded: {exc}"))
    return results


def _unparseable(message: str) -> StoreOutcome:
    return StoreOutcome(Disposition.FAILED, failure_reason=status.METADATA_NOT_PARSEABLE,
                        message=message)


def _resolver(bulk: dict[str, Part]) -> Callable[[str], BulkData]:
    def resolve(uri: str) -> BulkData:
        part = bulk.get(uri) or next(
            (p for location, p in bulk.items() if location.endswith(uri) or uri.endswith(location)),
            None)
        if part is None:
            raise KeyError(uri)
        media_type = str(part.media_type) if part.media_type else "application/octet-stream"
        return BulkData(media_type, part.path.read_bytes())
    return resolve


def _write(dataset: pydicom.Dataset, spool_dir: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=spool_dir, suffix=".dcm")
    try:
        with open(fd, "wb") as f:
            pydicom.dcmwrite(f, dataset, enforce_file_format=True)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _part(path: Path) -> Part:
    return Part(headers={}, media_type=None, content_location=None, content_id=None,
                path=path, size=path.stat().st_size)
