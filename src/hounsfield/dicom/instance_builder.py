"""Building a Part 10 instance from DICOM JSON metadata and bulk data (STOW-RS §10.5.1).

The metadata names its bulk data by BulkDataURI; the caller resolves each URI to the
bytes and media type of a body part. The pixel data's media type chooses the transfer
syntax (octet-stream: Explicit VR Little Endian; image/jpeg, image/jp2, ...: the
matching encapsulated syntax, or the one its `transfer-syntax` parameter names), and
for compressed pixel data the image attributes its header implies are set: missing
ones are added, differing ones corrected with a coercion warning (B000H).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate

from hounsfield.dicom import status
from hounsfield.dicom.pixel_header import image_attributes
from hounsfield.dicom.transfer_syntax import default_transfer_syntax_for_media_type
from hounsfield.dicom.uid import is_valid_uid
from hounsfield.errors import BadRequestError, InstanceRejectedError, UnsupportedMediaTypeError

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_EXTENDED = "1.2.840.10008.1.2.4.51"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
# A UUID-derived UID (PS3.5 B.2): needs no registered root
IMPLEMENTATION_CLASS_UID = "2.25.147690549909028013264509309160591887377"
IMPLEMENTATION_VERSION_NAME = "HOUNSFIELD_010"
PIXEL_DATA = "7FE00010"


@dataclass(frozen=True)
class BulkData:
    media_type: str  # with its parameters, e.g. 'image/jpeg; transfer-syntax=1.2...'
    data: bytes


@dataclass
class BuiltInstance:
    dataset: Dataset
    warnings: list[tuple[int, str]] = field(default_factory=list)


_IMAGE_KEYWORDS = {
    "rows": "Rows", "columns": "Columns", "samples_per_pixel": "SamplesPerPixel",
    "bits_allocated": "BitsAllocated", "bits_stored": "BitsStored", "high_bit": "HighBit",
    "pixel_representation": "PixelRepresentation",
    "photometric_interpretation": "PhotometricInterpretation",
    "planar_configuration": "PlanarConfiguration",
}


def build_instance(model: dict[str, Any], resolve: Callable[[str], BulkData]) -> BuiltInstance:
    """A Part 10 data set (with file meta) from one JSON model and its bulk data."""
    if not isinstance(model, dict):
        raise BadRequestError("a metadata item is not a DICOM JSON object")
    sop_class = _uid_in(model, "00080016")
    sop_instance = _uid_in(model, "00080018")
    pixel: list[BulkData] = []

    def bulk(tag: str, vr: str, uri: str) -> bytes:
        try:
            part = resolve(uri)
        except KeyError:
            raise InstanceRejectedError(
                status.MISSING_BULK_DATA, f"no body part has Content-Location {uri}",
                sop_class, sop_instance) from None
        if tag.upper() == PIXEL_DATA:
            pixel.append(part)
            return b""
        return _even(part.data)

    dataset = _from_json(model, bulk, sop_class, sop_instance)
    built = BuiltInstance(dataset)
    ts_uid = EXPLICIT_VR_LITTLE_ENDIAN
    if pixel:
        ts_uid = _set_pixel_data(built, pixel[0], sop_class, sop_instance)
    _add_file_meta(dataset, ts_uid, sop_class, sop_instance)
    return built


def _uid_in(model: dict[str, Any], tag: str) -> str:
    attribute = model.get(tag)
    values = attribute.get("Value") if isinstance(attribute, dict) else None
    value = values[0] if isinstance(values, list) and values else ""
    return value if isinstance(value, str) else ""


def _from_json(model: dict[str, Any], bulk: Callable[[str, str, str], bytes],
               sop_class: str, sop_instance: str) -> Dataset:
    for name, uid in (("SOPClassUID", sop_class), ("SOPInstanceUID", sop_instance)):
        if not is_valid_uid(uid):
            raise InstanceRejectedError(
                status.DATA_SET_DOES_NOT_MATCH_SOP_CLASS,
                f"{name} is missing or not a valid UID", sop_class or None,
                sop_instance or None)
    try:
        return Dataset.from_json(model, bulk_data_uri_handler=bulk)
    except InstanceRejectedError:
        raise
    except Exception as exc:  # pydicom raises many kinds for bad JSON models
        raise InstanceRejectedError(status.METADATA_NOT_PARSEABLE,
                                    f"metadata cannot be parsed: {exc}",
                                    sop_class, sop_instance) from exc


def _set_pixel_data(built: BuiltInstance, part: BulkData, sop_class: str,
                    sop_instance: str) -> str:
    ds = built.dataset
    ts_uid = _transfer_syntax_of(part)
    if ts_uid is None:
        raise InstanceRejectedError(
            status.TRANSFER_SYNTAX_NOT_SUPPORTED,
            f"pixel data media type {part.media_type} is not supported", sop_class,
            sop_instance)
    if ts_uid == EXPLICIT_VR_LITTLE_ENDIAN:
        ds.PixelData = _even(part.data)
        ds["PixelData"].VR = "OW" if int(ds.get("BitsAllocated") or 8) > 8 else "OB"
        return ts_uid
    _coerce_image_attributes(built, part)
    ds.PixelData = encapsulate([part.data])
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    return ts_uid


def _transfer_syntax_of(part: BulkData) -> str | None:
    base, _, params = part.media_type.partition(";")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "transfer-syntax" and value.strip().strip('"'):
            return value.strip().strip('"')
    base = base.strip().lower()
    if base == "application/octet-stream":
        return EXPLICIT_VR_LITTLE_ENDIAN
    if base == "image/jpeg":
        return _jpeg_process(part.data)
    return default_transfer_syntax_for_media_type(base)


def _jpeg_process(data: bytes) -> str:
    """image/jpeg without a transfer-syntax parameter: the process its header shows
    (as dcm4chee-arc-light does), not the table's default, so a camera's baseline JPEG
    is stored as JPEG Baseline."""
    try:
        implied = image_attributes("image/jpeg", data)
    except BadRequestError:
        return JPEG_BASELINE
    if implied is None or not implied.lossy:
        return JPEG_LOSSLESS_SV1
    return JPEG_BASELINE if (implied.bits_stored or 8) <= 8 else JPEG_EXTENDED


def _coerce_image_attributes(built: BuiltInstance, part: BulkData) -> None:
    try:
        implied = image_attributes(part.media_type, part.data)
    except UnsupportedMediaTypeError:
        return  # video and other streams: no image header to read
    except BadRequestError as exc:
        built.warnings.append((status.COERCION_OF_DATA_ELEMENTS,
                               f"pixel data header not understood: {exc.message}"))
        return
    if implied is None:
        return
    ds = built.dataset
    for name, keyword in _IMAGE_KEYWORDS.items():
        value = getattr(implied, name)
        if value is None:
            continue
        current = ds.get(keyword)
        if current is not None and current != "" and str(current) != str(value):
            built.warnings.append((status.COERCION_OF_DATA_ELEMENTS,
                                   f"{keyword} {current} corrected to {value}"))
        setattr(ds, keyword, value)
    if "NumberOfFrames" not in ds and implied.number_of_frames > 1:
        ds.NumberOfFrames = implied.number_of_frames
    if implied.lossy:
        ds.LossyImageCompression = "01"
        if implied.lossy_method:
            ds.LossyImageCompressionMethod = implied.lossy_method


def _add_file_meta(ds: Dataset, ts_uid: str, sop_class: str, sop_instance: str) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = pydicom.uid.UID(ts_uid)
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta


def _even(data: bytes) -> bytes:
    return data + b"\x00" if len(data) % 2 else data
