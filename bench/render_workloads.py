"""The requests of the rendered-image benchmark, and what a right answer is.

Hounsfield and Orthanc get the same request on their DICOMweb roots (PS3.18 §10.4.1.1.3
rendered, Supplement 203 thumbnail): for Orthanc that is its DICOMweb plugin's
``/dicom-web/…/rendered``, not its own REST ``/instances/{id}/rendered`` or ``/preview``,
so that both answer the same standard resource. WADO-URI (PS3.18 2013 §6.2, current
§9.4) is ``/aets/HOUNSFIELD/wado`` on Hounsfield and the plugin's ``/wado`` on Orthanc.

An answer counts only if its status is 200, its Content-Type is the media type asked,
and its body decodes with Pillow, whole, to an image of that format and the expected
size (``Image``): a fast wrong answer never counts.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from urllib.parse import urlencode

from PIL import Image as PillowImage

from bench.load import HttpRequest
from bench.servers import HOUNSFIELD_AET
from bench.wado_data import Slide, StoredFile
from bench.wado_workloads import Target

JPEG = "image/jpeg"
CT_SIZE = (512, 512)
TILE_SIZE = (256, 256)
THUMBNAIL_SIZE = (128, 128)  # Hounsfield's default thumbnail_size, for a square image
# a lung window (center -600 HU, width 1500 HU), not the stored 40/400, so that a server
# ignoring it gives the same image as without it; the function named, as PS3.18 Table
# 8.3.5-1 writes the parameter (Orthanc's plugin refuses two values)
CT_WINDOW = "-600,1500,linear"
WADO_URI_PATHS = {"hounsfield": f"/aets/{HOUNSFIELD_AET}/wado", "orthanc": "/wado"}
# WADO-WS (PS3.18 2013 §6.4): Hounsfield's endpoint and default repository; Orthanc has
# none (its answer is reported as not supported)
WADO_WS_PATH = "/xdsi/ImagingDocumentSource"
REPOSITORY = "2.25.66764042290223466447582047601647258717"
SOAP = "application/soap+xml"


@dataclass(frozen=True)
class Image:
    """The answer must be an image in ``format`` (Pillow's name) of ``size`` pixels;
    ``attached``: the image is the MTOM attachment of a SOAP answer (WADO-WS)."""

    format: str
    size: tuple[int, int]
    status: int = 200
    attached: bool = False


def check(request: HttpRequest, status: int, body: bytes) -> str | None:
    """None when the answer is right; else what is wrong (the Content-Type is checked
    by the load driver, from ``HttpRequest.content_type``)."""
    expected = request.expected
    if not isinstance(expected, Image):
        raise TypeError(f"unknown expectation {expected!r}")
    if status != expected.status:
        return f"HTTP {status} (expected {expected.status}): {body[:120]!r}"
    if expected.attached:
        body = _attachment(body)
        if body is None:
            return "no image/jpeg attachment in the SOAP answer"
    try:
        with PillowImage.open(io.BytesIO(body)) as image:
            image.load()
            found, size = image.format, image.size
    except (OSError, ValueError, SyntaxError) as error:
        return f"does not decode as an image: {error}"
    if found != expected.format:
        return f"a {found} image, expected {expected.format}"
    if size != expected.size:
        return f"{size[0]}x{size[1]} pixels, expected {expected.size[0]}x{expected.size[1]}"
    return None


def _attachment(body: bytes) -> bytes | None:
    """The first image/jpeg part of a multipart (MTOM) body: the first line is the
    boundary; a part's head ends with a blank line, its body before the next boundary."""
    boundary = body.split(b"\r\n", 1)[0]
    for part in body.split(boundary)[1:]:
        head, _, data = part.partition(b"\r\n\r\n")
        if b"image/jpeg" in head.lower():
            return data[:-2] if data.endswith(b"\r\n") else data
    return None


def _jpeg(path: str, size: tuple[int, int], accept: bool = True) -> HttpRequest:
    headers = {"Accept": JPEG} if accept else {}
    return HttpRequest("GET", path, headers=headers, expected=Image("JPEG", size),
                       content_type=JPEG)


def chosen(files: list[StoredFile], count: int, seed: int) -> list[StoredFile]:
    """``count`` instances drawn at random (seeded) from ``files``."""
    return random.Random(seed).choices(files, k=count)


def rendered_instances(target: Target, files: list[StoredFile], query: str = ""
                       ) -> list[HttpRequest]:
    """``{instance}/rendered`` (with ``query``) of each file, Accept image/jpeg."""
    suffix = f"?{query}" if query else ""
    return [_jpeg(f"{target.instance_path(f)}/rendered{suffix}", CT_SIZE) for f in files]


def windowed(target: Target, files: list[StoredFile]) -> list[HttpRequest]:
    return rendered_instances(target, files, f"window={CT_WINDOW}")


def thumbnails(target: Target, files: list[StoredFile]) -> list[HttpRequest]:
    return [_jpeg(f"{target.instance_path(f)}/thumbnail", THUMBNAIL_SIZE) for f in files]


def rendered_frames(target: Target, slide: Slide, count: int, seed: int
                    ) -> list[HttpRequest]:
    """``count`` random frames (seeded) of the slide, rendered as JPEG."""
    numbers = random.Random(seed).choices(range(1, len(slide.tiles) + 1), k=count)
    base = target.instance_path(slide.file)
    return [_jpeg(f"{base}/frames/{n}/rendered", TILE_SIZE) for n in numbers]


def wado_uri(target: Target, files: list[StoredFile]) -> list[HttpRequest]:
    """WADO-URI of each file without contentType (image/jpeg is the default for an
    image, PS3.18 2013 §8.1.5) and without an Accept header."""
    path = WADO_URI_PATHS[target.server.name]
    return [_jpeg(f"{path}?{wado_uri_query(f)}", CT_SIZE, accept=False) for f in files]


def wado_ws(target: Target, files: list[StoredFile]) -> list[HttpRequest]:
    """RetrieveRenderedImagingDocumentSet of each file as image/jpeg, full size, a plain
    SOAP 1.2 request (the answer is MTOM with the JPEG attached)."""
    return [HttpRequest("POST", WADO_WS_PATH, body=_rendered_request(f),
                        headers={"Content-Type": f'{SOAP}; charset=utf-8; action="'
                                 'urn:dicom:ws:wado:2011:RetrieveRenderedImagingDocumentSet"'},
                        expected=Image("JPEG", CT_SIZE, attached=True),
                        content_type="multipart/related") for f in files]


def _rendered_request(file: StoredFile) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:wsa="http://www.w3.org/2005/08/addressing">
 <s:Header>
  <wsa:MessageID>urn:uuid:{file.sop_instance[-12:]}</wsa:MessageID>
  <wsa:Action>urn:dicom:ws:wado:2011:RetrieveRenderedImagingDocumentSet</wsa:Action>
 </s:Header>
 <s:Body>
  <wado:RetrieveRenderedImagingDocumentSetRequest xmlns:wado="urn:dicom:wado:ws:2011"
   xmlns:xdsb="urn:ihe:iti:xds-b:2007">
   <wado:StudyRequest studyInstanceUID="{file.study}">
    <wado:SeriesRequest seriesInstanceUID="{file.series}">
     <wado:RenderedDocumentRequest>
      <xdsb:RepositoryUniqueId>{REPOSITORY}</xdsb:RepositoryUniqueId>
      <xdsb:DocumentUniqueId>{file.sop_instance}</xdsb:DocumentUniqueId>
      <wado:ContentTypeList><wado:ContentType>image/jpeg</wado:ContentType></wado:ContentTypeList>
     </wado:RenderedDocumentRequest>
    </wado:SeriesRequest>
   </wado:StudyRequest>
  </wado:RetrieveRenderedImagingDocumentSetRequest>
 </s:Body>
</s:Envelope>""".encode()


def wado_uri_query(file: StoredFile) -> str:
    return urlencode({"requestType": "WADO", "studyUID": file.study,
                      "seriesUID": file.series, "objectUID": file.sop_instance})


def wrk_targets(target: Target, files: list[StoredFile]) -> list[tuple[str, str]]:
    """(path, no Range) of every instance's rendered resource, for the wrk script."""
    return [(f"{target.instance_path(f)}/rendered", "") for f in files]
