"""Transcoding a stored Part 10 file to another transfer syntax, bytes in, bytes out.

Sources (`SOURCES`): the native and deflated transfer syntaxes, and every compressed one
pydicom can decode here (`DECODABLE`). Targets (`TARGETS`): Explicit and Implicit VR
Little Endian, Deflated Explicit VR Little Endian, RLE Lossless, JPEG Baseline, JPEG
Lossless SV1, JPEG-LS Lossless, JPEG 2000 Lossless and HTJ2K Lossless.

- Between native encodings only the data set's encoding changes; Pixel Data bytes pass
  unchanged, except from Explicit VR Big Endian, whose values of OW, OF, OL, OD and OV
  are byte-swapped by their word size (pydicom leaves that to its caller).
- Otherwise the pixel data is decoded frame by frame (`codecs.decode_frame`) and each
  frame encoded in the target (`codecs.encode_frame`); the encapsulated Pixel Data gets a
  Basic Offset Table when it has several frames (an Extended Offset Table past 4 GiB,
  PS3.5 §A.4). Photometric Interpretation and Planar Configuration follow the encoding
  (YBR_FULL_422 for JPEG Baseline colour, RGB, YBR_FULL and MONOCHROME kept otherwise,
  Planar Configuration 0); Bits Allocated, Bits Stored, High Bit and Pixel
  Representation are kept.
- Lossy Image Compression (0028,2110) is "01" once any step was lossy (PS3.3
  C.7.6.1.1.5): a JPEG Baseline target appends its ratio and method to Lossy Image
  Compression Ratio/Method; a lossy source keeps "01" in a lossless target, whose name
  then says how this encoding was made, not that the pixels were never changed.
- The SOP Instance UID is kept, for lossy targets too: the answer is a representation
  of the stored instance that the client asked for (the same instance a later request
  gets in another syntax), and Lossy Image Compression says what happened to it.
- The File Meta Information gets the new Transfer Syntax UID and Hounsfield's
  Implementation Class UID and Version Name.
The instance is held in memory, decoded one frame at a time: `MAX_DECODED_BYTES` bounds
what a caller should hand here.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import numpy as np
import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, encapsulate_extended
from pydicom.pixels import get_decoder

from hounsfield.dicom import codecs
from hounsfield.dicom.codecs import BIG_ENDIAN, DECODABLE, EXPLICIT_LE, IMPLICIT_LE, NATIVE
from hounsfield.dicom.instance_builder import (
    IMPLEMENTATION_CLASS_UID,
    IMPLEMENTATION_VERSION_NAME,
)
from hounsfield.dicom.pixel_format import PixelFormat
from hounsfield.dicom.pixel_header import image_attributes
from hounsfield.dicom.transfer_syntax import label, transfer_syntax
from hounsfield.errors import NotAcceptableError

SOURCES = NATIVE | DECODABLE
TARGETS = frozenset(codecs.TARGETS)
MAX_DECODED_BYTES = 512 << 20  # an instance is decoded in memory: larger ones are not
_WORD_SIZES = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_FOUR_GIB = 1 << 32
PIXEL_DATA_TAG = 0x7FE00010


def can_transcode(source: str, target: str) -> bool:
    """Whether an instance stored in `source` can be made in `target` (its pixel data
    may still refuse: see `codecs.refusal`)."""
    return target in TARGETS and source in SOURCES


def cannot_transcode(source: str, target: str, *, may_decode: bool = True,
                     bits_allocated: int | None = None) -> str | None:
    """Why an instance stored in `source` cannot be made in `target` (None: it can);
    `may_decode` False when its pixel data is too large to decode in memory."""
    if target not in TARGETS:
        return f"Hounsfield does not encode {label(target)}"
    if source not in SOURCES:
        return f"Hounsfield cannot decode {label(source)}"
    if not may_decode and decodes_pixels(source, target):
        return (f"decoding is limited to {MAX_DECODED_BYTES >> 20} MiB of pixel data per "
                "instance")
    if target == codecs.JPEG_BASELINE and (bits_allocated or 8) > 8:
        return f"{label(target)} holds 8-bit samples only (Bits Allocated {bits_allocated})"
    return None


def decodes_pixels(source: str, target: str) -> bool:
    """Whether going from `source` to `target` decodes or encodes pixel data."""
    return source != target and (source in DECODABLE or codecs.TARGETS[target].encapsulated)


def transcode(part10: bytes, target: str) -> bytes:
    """The same instance encoded in `target` (one of `TARGETS`); what cannot be made is
    NotAcceptableError, naming why."""
    with _refused(f"the stored instance cannot be transcoded to {target}"):
        dataset = pydicom.dcmread(io.BytesIO(part10), force=True)
        source = str(dataset.file_meta.TransferSyntaxUID)
        if source == target:
            return part10
        if not can_transcode(source, target):
            raise NotAcceptableError(f"no transcoding from {source} to {target}")
        _as_explicit_little_endian(dataset, source)
        if _needs_recoding(dataset, source, target):
            _recode_pixel_data(dataset, source, codecs.TARGETS[target])
        dataset.file_meta.TransferSyntaxUID = target
        return _write(dataset, target)


def frames(part10: bytes, indexes: list[int], target: str) -> list[bytes]:
    """Frames `indexes` (from 0) of the instance, each encoded in `target` (native:
    little-endian octets); for files whose frames cannot be read in place (big endian,
    deflated, or not located at store time)."""
    with _refused(f"the frames of the stored instance cannot be made in {target}"):
        dataset = pydicom.dcmread(io.BytesIO(part10), force=True)
        source = str(dataset.file_meta.TransferSyntaxUID)
        if not can_transcode(source, target) or "PixelData" not in dataset:
            raise NotAcceptableError(f"no frames of {source} can be made in {target}")
        _as_explicit_little_endian(dataset, source)
        layout = PixelFormat.of_dataset(dataset)
        return [codecs.encode_frame(array, decoded, codecs.TARGETS[target])[0]
                for array, decoded in _decoded_frames(dataset, source, layout, indexes)]


@contextlib.contextmanager
def _refused(what: str) -> Iterator[None]:
    """A stored file pydicom cannot read or rewrite becomes NotAcceptableError: `what`,
    and pydicom's reason."""
    try:
        yield
    except NotAcceptableError:
        raise
    except Exception as exc:  # noqa: BLE001 - pydicom's or a codec's own error, named
        raise NotAcceptableError(
            f"{what}: {exc.__class__.__name__}: {str(exc)[:200]}") from exc


def _as_explicit_little_endian(dataset: Dataset, source: str) -> None:
    """Native values as Explicit VR Little Endian holds them (swapped from big endian)."""
    if source == BIG_ENDIAN:
        for element in dataset.iterall():
            size = _word_size(dataset, element)
            if size and element.value and isinstance(element.value, bytes | bytearray):
                words = np.frombuffer(element.value, dtype=f">u{size}")
                element.value = words.astype(f"<u{size}").tobytes()
        dataset.set_original_encoding(False, True, dataset.original_character_set)
    if source in NATIVE:
        dataset.file_meta.TransferSyntaxUID = EXPLICIT_LE


def _word_size(dataset: Dataset, element: DataElement) -> int | None:
    """Native Pixel Data of 32 or 64 bits is swapped by its pixel size, as pydicom
    reads it; other values by the word size of their VR."""
    bits = dataset.get("BitsAllocated") if element.tag == PIXEL_DATA_TAG else None
    if isinstance(bits, int) and bits in (32, 64):
        return bits // 8
    return _WORD_SIZES.get(element.VR)


def _needs_recoding(dataset: Dataset, source: str, target: str) -> bool:
    if "PixelData" not in dataset:
        if codecs.TARGETS[target].encapsulated and any(k in dataset for k in _PIXEL_KEYWORDS):
            raise NotAcceptableError(f"{target} holds no Float Pixel Data: the instance is "
                                     "sent in a native transfer syntax only")
        return False
    return decodes_pixels(source, target)


def _recode_pixel_data(dataset: Dataset, source: str, target: codecs.Target) -> None:
    layout = PixelFormat.of_dataset(dataset)
    if (reason := codecs.refusal(layout, target.uid)) is not None:
        raise NotAcceptableError(reason)
    lossy_source = _is_lossy(dataset, source)
    encoded = [codecs.encode_frame(array, decoded, target)
               for array, decoded in _decoded_frames(dataset, source, layout)]
    frames = [data for data, _ in encoded]
    result = encoded[0][1]
    _set_pixel_data(dataset, frames, target, result)
    _set_image_pixel(dataset, result)
    if lossy_source or target.lossy_method:
        _set_lossy(dataset, target, layout, sum(len(f) for f in frames))


def _decoded_frames(dataset: Dataset, source: str, layout: PixelFormat,
                    indexes: list[int] | None = None
                    ) -> Iterator[tuple[np.ndarray, PixelFormat]]:
    decoder = get_decoder(source if source in DECODABLE else EXPLICIT_LE)
    try:
        for array, meta in decoder.iter_array(dataset, indices=indexes, raw=True):
            yield array, layout.with_photometric(codecs.decoded_photometric(meta))
    except NotAcceptableError:
        raise
    except Exception as exc:  # noqa: BLE001 - a codec's own error, named in the answer
        raise codecs.undecodable(source, exc) from exc


def _is_lossy(dataset: Dataset, source: str) -> bool:
    """Whether the stored pixel data already went through lossy compression."""
    if str(dataset.get("LossyImageCompression", "")).strip() == "01":
        return True
    row = transfer_syntax(source)
    if row is None or not row.lossy or not row.encapsulated:
        return False
    first = next(pydicom.encaps.generate_fragments(dataset.PixelData), b"")
    try:
        attributes = image_attributes(source, first)
    except Exception:  # noqa: BLE001 - header unreadable: assume the syntax's lossiness
        return True
    return attributes is None or attributes.lossy


def _set_pixel_data(dataset: Dataset, frames: list[bytes], target: codecs.Target,
                    layout: PixelFormat) -> None:
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in dataset:
            del dataset[keyword]
    if not target.encapsulated:
        dataset.PixelData = b"".join(frames)
        dataset["PixelData"].VR = "OB" if layout.bits_allocated <= 8 else "OW"
        dataset["PixelData"].is_undefined_length = False
        return
    if sum(len(f) + 8 for f in frames) < _FOUR_GIB:
        dataset.PixelData = encapsulate(frames, has_bot=len(frames) > 1)
    else:
        value, offsets, lengths = encapsulate_extended(frames)
        dataset.PixelData = value
        dataset.ExtendedOffsetTable = offsets
        dataset.ExtendedOffsetTableLengths = lengths
    dataset["PixelData"].VR = "OB"
    dataset["PixelData"].is_undefined_length = True


def _set_image_pixel(dataset: Dataset, layout: PixelFormat) -> None:
    dataset.PhotometricInterpretation = layout.photometric_interpretation
    if layout.samples_per_pixel > 1:
        dataset.PlanarConfiguration = 0
    elif "PlanarConfiguration" in dataset:
        del dataset.PlanarConfiguration


def _set_lossy(dataset: Dataset, target: codecs.Target, layout: PixelFormat,
               compressed: int) -> None:
    """PS3.3 C.7.6.1.1.5: "01" once lossy; each lossy step adds its ratio and method."""
    dataset.LossyImageCompression = "01"
    if target.lossy_method is None:
        return
    frames = int(dataset.get("NumberOfFrames", 1) or 1)
    ratio = layout.frame_bytes * frames / max(compressed, 1)
    dataset.LossyImageCompressionRatio = [*_values(dataset, "LossyImageCompressionRatio"),
                                          f"{ratio:.2f}"]
    dataset.LossyImageCompressionMethod = [*_values(dataset, "LossyImageCompressionMethod"),
                                           target.lossy_method]


def _values(dataset: Dataset, keyword: str) -> list[str]:
    value = dataset.get(keyword)
    if value is None or value == "":
        return []
    return [str(v) for v in (value if isinstance(value, list | tuple | pydicom.multival.MultiValue)
                             else [value])]


def _write(dataset: Dataset, target: str) -> bytes:
    """The Part 10 file, its File Meta Information naming Hounsfield as the
    implementation that wrote it (PS3.10 §7.1)."""
    dataset.file_meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    dataset.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    out = io.BytesIO()
    dataset.save_as(out, implicit_vr=target == IMPLICIT_LE, little_endian=True,
                    enforce_file_format=True)
    return out.getvalue()
