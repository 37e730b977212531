"""The WADO-RS requests of each workload, for a DICOMweb server or for nginx.

The same Accept goes to Hounsfield and Orthanc (the representation both can give
without transcoding): instances, series and studies as
``multipart/related; type="application/dicom"; transfer-syntax=*`` (as stored), frames
of the JPEG slide as ``multipart/related; type="image/jpeg";
transfer-syntax=1.2.840.10008.1.2.4.50``. nginx gets the stored files: one GET per
file, a series being its files one after another on the same connection, and a frame
being a Range request for the bytes of its fragment in the stored slide.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench import wado_checks as checks
from bench.load import HttpRequest
from bench.servers import RunningServer
from bench.wado_data import Slide, StoredFile

INSTANCES_AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*'
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
FRAMES_AS_STORED = f'multipart/related; type="image/jpeg"; transfer-syntax={JPEG_BASELINE}'
METADATA = "application/dicom+json"
JPEG_ACCEPTS = {  # a frame asked as image/jpeg, without naming a transfer syntax
    "jpeg frame": ("image/jpeg", False),
    "jpeg frame multipart": ('multipart/related; type="image/jpeg"', True),
}


@dataclass(frozen=True)
class Target:
    """One server as the workloads see it: DICOMweb (with a root path) or nginx."""

    server: RunningServer
    blob_paths: dict[str, str] | None = None  # nginx: SOP Instance UID -> URL path

    @property
    def is_static(self) -> bool:
        return self.blob_paths is not None

    def instance_path(self, file: StoredFile) -> str:
        if self.blob_paths is not None:
            return self.blob_paths[file.sop_instance]
        return (f"{self.server.dicomweb_path}/studies/{file.study}/series/{file.series}"
                f"/instances/{file.sop_instance}")

    def series_path(self, file: StoredFile) -> str:
        return f"{self.server.dicomweb_path}/studies/{file.study}/series/{file.series}"

    def study_path(self, file: StoredFile) -> str:
        return f"{self.server.dicomweb_path}/studies/{file.study}"


def series_retrieve(target: Target, files: list[StoredFile], count: int) -> list[HttpRequest]:
    """``count`` retrievals of the series of ``files``, each read whole and checked."""
    size = sum(f.size for f in files)
    if target.is_static:
        gets = [HttpRequest("GET", target.instance_path(f), expected=checks.File(f.size))
                for f in files]
        one = HttpRequest(gets[0].method, gets[0].path, expected=gets[0].expected,
                          payload_bytes=size, follow=tuple(gets[1:]))
    else:
        expected = checks.Instances({f.sop_instance: f.size for f in files})
        one = HttpRequest("GET", target.series_path(files[0]),
                          headers={"Accept": INSTANCES_AS_STORED}, payload_bytes=size,
                          expected=expected)
    return [one] * count


def instance_retrieve(target: Target, files: list[StoredFile], count: int,
                      seed: int) -> list[HttpRequest]:
    """``count`` instances chosen at random (seeded), each compared byte for byte."""
    chosen = random.Random(seed).choices(files, k=count)
    return [_instance(target, file, file.path.read_bytes()) for file in chosen]


def _instance(target: Target, file: StoredFile, stored: bytes) -> HttpRequest:
    expected = checks.Body(stored, multipart=not target.is_static)
    headers = {} if target.is_static else {"Accept": INSTANCES_AS_STORED}
    return HttpRequest("GET", target.instance_path(file), headers=headers,
                       payload_bytes=len(stored), expected=expected)


def files_as_stored(target: Target, files: list[StoredFile]) -> list[HttpRequest]:
    """Every file once (the real files), compared byte for byte."""
    return [_instance(target, file, file.path.read_bytes()) for file in files]


def series_metadata(target: Target, files: list[StoredFile], count: int
                    ) -> list[HttpRequest]:
    path = target.series_path(files[0]) + "/metadata"
    return [HttpRequest("GET", path, headers={"Accept": METADATA},
                        expected=checks.Items(len(files)))] * count


def random_frames(target: Target, slide: Slide, count: int, seed: int) -> list[HttpRequest]:
    """``count`` frames chosen at random (seeded), each compared with its stored tile."""
    numbers = random.Random(seed).choices(range(1, len(slide.tiles) + 1), k=count)
    return [frame(target, slide, n) for n in numbers]


def frame(target: Target, slide: Slide, number: int, accept: str = FRAMES_AS_STORED,
          multipart: bool = True) -> HttpRequest:
    tile = slide.tiles[number - 1]
    path, byte_range = frame_target(target, slide, number)
    if target.is_static:
        return HttpRequest("GET", path, headers={"Range": byte_range},
                           payload_bytes=len(tile), expected=checks.Body(tile, False, 206))
    return HttpRequest("GET", path, headers={"Accept": accept}, payload_bytes=len(tile),
                       expected=checks.Body(tile, multipart))


def frame_target(target: Target, slide: Slide, number: int) -> tuple[str, str]:
    """(path, Range header or "") of frame ``number``."""
    if target.is_static:
        offset, length = slide.spans[number - 1]
        return target.instance_path(slide.file), f"bytes={offset}-{offset + length - 1}"
    return f"{target.instance_path(slide.file)}/frames/{number}", ""
