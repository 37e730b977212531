"""A stored instance as the renderer's `SourceImage` (PS3.18 §8.3.5.1): the one place that
turns what the archive keeps into pixels to render, for WADO-RS rendered resources,
thumbnails, WADO-URI and WADO-WS.

Frames are read lazily, each by one positioned read at the place the frame table
recorded at store time: native little-endian frames become arrays without pydicom
(`native_frame`), compressed ones are decoded by `codecs.decode_frame`, whose answer says
the photometric interpretation the array is in. A file that cannot be read in place (big
endian, deflated, frames not located at store time) is read whole, once, and its frames
decoded by pydicom. LUT Data kept as bulk data (Palette Color, Modality and VOI LUT
Sequences) is read from the bulk data table by the same positioned reads. Callers run
this in worker threads.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import pixel_array

from hounsfield.archive.retrieve import StoredInstance
from hounsfield.dicom import codecs
from hounsfield.dicom.pixel_format import PixelFormat
from hounsfield.dicom.render import SourceImage, native_frame, pixel_description
from hounsfield.dicom.render.frame_attributes import BulkDataReader
from hounsfield.dicom.transfer_syntax import transfer_syntax
from hounsfield.errors import NotFoundError, NotRenderableError

if TYPE_CHECKING:
    from hounsfield.archive.archive import Archive

_BULK = "/bulkdata/"
_PIXEL_DATA_KEYS = ("7FE00010", "7FE00008", "7FE00009")


def render_source(archive: Archive, stored: StoredInstance) -> SourceImage:
    """The renderer's view of `stored`, which must carry its metadata and locations
    (`stored_instances(target, metadata=True, locations=True)`)."""
    model = orjson.loads(stored.metadata_json or b"{}")
    if not _read_in_place(stored):
        return _whole_file_source(archive, stored, model)
    reader = bulk_data_reader(archive, stored)
    pixels = pixel_description(model)
    if stored.transfer_syntax_uid in (codecs.EXPLICIT_LE, codecs.IMPLICIT_LE):
        def native(number: int) -> np.ndarray:
            return native_frame(_frame_bytes(archive, stored, number), pixels)
        return SourceImage(model, native, None, reader)
    layout = PixelFormat.of_model(model)

    def compressed(number: int) -> tuple[np.ndarray, str]:
        data = _frame_bytes(archive, stored, number)
        fast = codecs.decode_for_display(data, stored.transfer_syntax_uid, layout)
        if fast is not None:
            return fast
        array, decoded = codecs.decode_frame(data, stored.transfer_syntax_uid, layout)
        return array, decoded.photometric_interpretation
    return SourceImage(model, compressed, None, reader)


def bulk_data_reader(archive: Archive, stored: StoredInstance) -> BulkDataReader:
    """Reads the BulkDataURIs of `stored`'s metadata (e.g. the LUT Data of a presentation
    state) from its file; `stored` must carry its locations."""
    return functools.partial(_bulk_value, archive, stored)


def frame_count(stored: StoredInstance) -> int:
    """How many frames the instance has (its frame table's, else Number of Frames)."""
    return len(stored.frames) if stored.frames else max(stored.number_of_frames, 1)


def _read_in_place(stored: StoredInstance) -> bool:
    row = transfer_syntax(stored.transfer_syntax_uid)
    return (stored.frames is not None and row is not None and row.little_endian
            and not row.deflated)


def _frame_bytes(archive: Archive, stored: StoredInstance, number: int) -> bytes:
    assert stored.frames is not None
    if not 1 <= number <= len(stored.frames):
        raise NotFoundError(f"frame {number} is outside 1..{len(stored.frames)} of "
                            f"instance {stored.sop_instance}")
    [data] = archive.read_runs(stored.blob_key, [stored.frames[number - 1]])
    return data


def _bulk_value(archive: Archive, stored: StoredInstance, uri: str) -> bytes:
    """The bytes a stored BulkDataURI (.../bulkdata/{tag path}) points to."""
    key = uri.rpartition(_BULK)[2].upper()
    run = (stored.bulk_data or {}).get(key)
    if _BULK not in uri or run is None:
        raise NotRenderableError(f"bulk data {uri[-80:]} of instance {stored.sop_instance} "
                                 "is not located in its file")
    [data] = archive.read_runs(stored.blob_key, [(run,)])
    return data


# -- files read whole ---------------------------------------------------------------------

def _whole_file_source(archive: Archive, stored: StoredInstance,
                       model: dict[str, Any]) -> SourceImage:
    """Frames decoded by pydicom from the whole file, read once on first need; YBR
    colour is converted to RGB by pydicom's decoders. The stored metadata of a deflated
    file may not name its pixel data: then the file says whether it has any."""
    dataset = functools.cache(lambda: _read_dataset(archive, stored))
    if not any(key in model for key in _PIXEL_DATA_KEYS) and "PixelData" in dataset():
        model[_PIXEL_DATA_KEYS[0]] = {"vr": dataset()["PixelData"].VR}
    pixel_description(model)  # NotRenderableError before decoding if nothing to render

    def frame(number: int) -> tuple[np.ndarray, str]:
        ds = dataset()
        try:
            array = pixel_array(ds, index=number - 1)
        except Exception as exc:  # noqa: BLE001 - a codec's own error, named in the answer
            raise codecs.undecodable(stored.transfer_syntax_uid, exc) from exc
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
        return array, "RGB" if photometric.startswith("YBR") else photometric

    return SourceImage(model, frame, None, lambda uri: _dataset_value(dataset(), uri))


def _read_dataset(archive: Archive, stored: StoredInstance) -> Dataset:
    with archive.open_blob(stored.blob_key) as fp:
        return pydicom.dcmread(fp)


def _dataset_value(ds: Dataset, uri: str) -> bytes:
    """The little-endian bytes of the element a BulkDataURI's tag path names
    (tag/item/tag...), found in the parsed data set."""
    steps = uri.rpartition(_BULK)[2].split("/")
    node: Any = ds
    try:
        for tag, item in zip(steps[::2], [*steps[1::2], None], strict=True):
            element = node[int(tag, 16)]
            node = element if item is None else element.value[int(item)]
    except (KeyError, IndexError, ValueError) as exc:
        raise NotRenderableError(f"bulk data {uri[-80:]} is not in the stored file") from exc
    value = node.value
    if isinstance(value, bytes):
        if ds.original_encoding[1] is False and "OW" in node.VR:
            return np.frombuffer(value, ">u2").astype("<u2").tobytes()
        return value
    return np.asarray(value, "<u2").tobytes()
