"""The bulk data parts of stored instances (PS3.18 §10.4.1.1.5-6, §10.4.3.3.5-6).

Each part is a place in a stored file (one run, or the runs of several fragments), the
URL it answers to (the BulkDataURI the metadata gives for it) and the representations it
can go out as without decoding, in the server's order of preference:

- a bulk data element (OB, OW, UN, ... above the bulk data threshold): its value as
  application/octet-stream, at `.../bulkdata/{tag path}`; an Encapsulated Document
  (0042,0011) first in its own media type (application/pdf, text/xml, model/stl, ...);
- native pixel data: its value as application/octet-stream, at `.../pixeldata`;
- compressed pixel data, as stored: a video (MPEG-2, MPEG-4, HEVC) as one part, the
  concatenated fragments, at `.../pixeldata`; an image as one part per frame, at
  `.../frames/{n}` (at `.../pixeldata` when it has one frame only), in the media type and
  transfer syntax of PS3.18 Table 8.7.3-5.

What cannot be located or would need decoding or byte swapping (big endian, deflated,
compressed frames without a frame table) is `None`: the caller leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from hounsfield.archive.retrieve import Run, StoredInstance
from hounsfield.dicom.encapsulated_document import ENCAPSULATED_DOCUMENT, document_media_type
from hounsfield.dicom.json_model import instance_path
from hounsfield.dicom.transfer_syntax import OCTET_STREAM, transfer_syntax
from hounsfield.web.bulk_negotiation import (
    BulkRepresentation,
    multipart_pick,
    stored_representation,
)
from hounsfield.web.wado_negotiation import Choice

PIXEL_DATA = "pixeldata"


@dataclass(frozen=True)
class BulkPart:
    """One element (or frame, or video stream) of one stored file."""

    blob_key: str
    runs: tuple[Run, ...]
    location: str
    offered: tuple[BulkRepresentation, ...]

    @property
    def length(self) -> int:
        return sum(length for _, length in self.runs)


@dataclass(frozen=True)
class OutgoingPart:
    """A part as it goes out: its bytes' place and the representation chosen for it."""

    part: BulkPart
    representation: BulkRepresentation


@dataclass(frozen=True)
class Selection:
    """The parts a request gets, and how many it asked for but cannot get."""

    outgoing: list[OutgoingPart]
    left_out: int
    left_out_instances: list[str]


def element_parts(found: StoredInstance, base_url: str) -> list[BulkPart | None]:
    """Every bulk data element of `found` but its pixel data, in file order."""
    url = base_url + instance_path(found.study, found.series, found.sop_instance)
    produced = stored_representation(found.transfer_syntax_uid, pixel_data=False)
    table = found.bulk_data or {}
    if produced is None and not table:
        return [None]  # deflated: where its values lie is not recorded
    parts: list[BulkPart | None] = []
    for key, run in sorted(table.items(), key=lambda item: item[1]):
        if key == PIXEL_DATA:
            continue
        if produced is None:
            parts.append(None)
            continue
        offered = (produced,)
        document = document_media_type(found.sop_class)
        if key == ENCAPSULATED_DOCUMENT and document is not None:
            offered = (BulkRepresentation(document, ""), produced)
        parts.append(BulkPart(found.blob_key, (run,), f"{url}/bulkdata/{key}", offered))
    return parts


def pixel_data_parts(found: StoredInstance, base_url: str) -> list[BulkPart | None]:
    """The pixel data of `found` as parts; [] when it has none, [None] when it cannot be
    served as stored."""
    url = base_url + instance_path(found.study, found.series, found.sop_instance)
    produced = stored_representation(found.transfer_syntax_uid, pixel_data=True)
    native = (found.bulk_data or {}).get(PIXEL_DATA)
    if native is not None:
        if produced is None or produced.media_type != OCTET_STREAM:
            return [None]
        return [BulkPart(found.blob_key, (native,), f"{url}/{PIXEL_DATA}", (produced,))]
    if found.fragments is None and found.frames is None:
        row = transfer_syntax(found.transfer_syntax_uid)
        return [None] if row is None or row.deflated else []  # deflated: place unknown
    if produced is None or produced.media_type == OCTET_STREAM:
        return [None]
    if produced.media_type.startswith("video/"):
        if found.fragments is None:
            return [None]
        stream = tuple((int(offset), int(length)) for offset, length in found.fragments)
        return [BulkPart(found.blob_key, stream, f"{url}/{PIXEL_DATA}", (produced,))]
    if found.frames is None:
        return [None]
    if len(found.frames) == 1:
        return [BulkPart(found.blob_key, found.frames[0], f"{url}/{PIXEL_DATA}", (produced,))]
    return [BulkPart(found.blob_key, frame, f"{url}/frames/{n}", (produced,))
            for n, frame in enumerate(found.frames, start=1)]


def is_video(found: StoredInstance) -> bool:
    """Pixel data stored as a video stream (MPEG-2, MPEG-4, HEVC) whose fragments are
    known: it goes out whole, as one part."""
    row = transfer_syntax(found.transfer_syntax_uid)
    return (row is not None and row.media_type.startswith("video/")
            and found.fragments is not None)


def bulk_data_parts(found: StoredInstance, base_url: str) -> list[BulkPart | None]:
    """All bulk data of `found`: its elements, then its pixel data."""
    return element_parts(found, base_url) + pixel_data_parts(found, base_url)


def select(choices: list[Choice], found: list[StoredInstance],
           parts: list[list[BulkPart | None]]) -> Selection:
    """The parts (of each instance, in order) the client accepts in a multipart answer,
    each in the representation its preferred choice takes."""
    outgoing: list[OutgoingPart] = []
    left_out = 0
    instances: list[str] = []
    for instance, candidates in zip(found, parts, strict=True):
        missed = 0
        for part in candidates:
            chosen = multipart_pick(choices, part.offered) if part is not None else None
            if part is None or chosen is None:
                missed += 1
                continue
            outgoing.append(OutgoingPart(part, chosen))
        if missed:
            left_out += missed
            instances.append(instance.sop_instance)
    return Selection(outgoing, left_out, instances)
