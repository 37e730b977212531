"""WADO-URI through the real ASGI app (PS3.18 2013 §6.2, §8): every parameter and
forbidden combination mapped to 400 naming the parameter, 404 naming what is missing,
406 naming what is offered; outputs decoded and checked: rendered pixels for known
windows, sizes, regions, frames and a Grayscale Softcopy Presentation State; Part 10
files as stored, transcoded losslessly (pixel-equal) and de-identified (dciodvfy finds
nothing new); SR text, PDF bytes, video stream; ETag, Last-Modified, 304 and HEAD; and
the sample request and response of dcm4chee-arc-light's documentation."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import (
    ct_instance,
    part10_bytes,
    pdf_instance,
    text_report,
    video_instance,
    without_pixels,
)
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from starlette.testclient import TestClient

from hounsfield.app import create_app
from hounsfield.archive.archive import Archive
from hounsfield.config import load_settings
from hounsfield.dicom.render import Window
from hounsfield.dicom.render.presentation_state import GSPS_SOP_CLASS

WADO = "/aets/HOUNSFIELD/wado"
STUDY, SERIES, MULTI, OTHER, PR = "2.25.700", "2.25.700.1", "2.25.700.2", "2.25.700.3", \
    "2.25.700.4"
CT, DERIVED, GSPS, FOREIGN_GSPS = f"{SERIES}.1", f"{SERIES}.5", f"{PR}.1", f"{PR}.2"
ROWS, COLUMNS = 48, 64
EXPLICIT_LE, JPEG_BASELINE = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.50"
JPEG_LS_LOSSLESS, RLE = "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.5"


def hounsfield_ct(sop: str = CT) -> Dataset:
    """64x48 CT: HU rising left to right from -1000 to +1000 (top half), -1000 left and
    +1000 right (bottom half); stored window 40/400."""
    ds = ct_instance(STUDY, SERIES, sop, rows=ROWS, columns=COLUMNS)
    ds.PatientName, ds.PatientBirthDate, ds.PatientSex = "Doe^Jane", "19700101", "F"
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = (hounsfield_units() + 1024).astype("<u2").tobytes()
    return ds


def hounsfield_units() -> np.ndarray:
    hu = np.empty((ROWS, COLUMNS), np.int32)
    hu[: ROWS // 2] = np.linspace(-1000, 1000, COLUMNS).round().astype(np.int32)
    hu[ROWS // 2:, : COLUMNS // 2], hu[ROWS // 2:, COLUMNS // 2:] = -1000, 1000
    return hu


def windowed(center: float, width: float) -> np.ndarray:
    return np.rint(Window(center, width).apply(hounsfield_units().astype(float)) * 255)


def derived_ct() -> Dataset:
    """A CT that names CT twice (Source Image and Referenced Image Sequences): both
    references must get the same new UID when de-identified."""
    ds = hounsfield_ct(DERIVED)
    ds.InstanceNumber = 5
    for keyword in ("SourceImageSequence", "ReferencedImageSequence"):
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = ds.SOPClassUID, CT
        setattr(ds, keyword, Sequence([ref]))
    return ds


def multi_frame() -> Dataset:
    """Three 16x16 frames, frame n all 1000 * n (stored window 2048/4096)."""
    ds = ct_instance(STUDY, MULTI, f"{MULTI}.1", frames=3)
    ds.PixelData = np.repeat(np.array([1000, 2000, 3000], "<u2"), 256).tobytes()
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    return ds


def structured_report() -> Dataset:
    return text_report(STUDY, OTHER, f"{OTHER}.1", "Imaging Report", ["Lésion de 5 mm"])


def presentation_state(sop: str, referenced: str) -> Dataset:
    """A GSPS that windows 0/2000, inverts, and rotates 90 degrees clockwise."""
    ds = without_pixels(ct_instance(STUDY, PR, sop), GSPS_SOP_CLASS)
    ds.Modality, ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = "PR", 1, -1024, "HU"
    ds.PresentationLUTShape, ds.ImageRotation, ds.ImageHorizontalFlip = "INVERSE", 90, "N"
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = 0, 2000
    ds.SoftcopyVOILUTSequence = [voi]
    image = Dataset()
    image.ReferencedSOPClassUID, image.ReferencedSOPInstanceUID = ds.SOPClassUID, referenced
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedImageSequence = SERIES, [image]
    ds.ReferencedSeriesSequence = [series]
    return ds


def with_document_length(pdf: bytes, document: bytes) -> tuple[bytes, bytes]:
    """The PDF object with Encapsulated Document Length, which tells the padding of an
    odd-length document from its content."""
    ds = pydicom.dcmread(io.BytesIO(pdf))
    ds.EncapsulatedDocumentLength = len(document)
    return part10_bytes(ds), document


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    settings = load_settings(overrides={
        "data_dir": tmp_path_factory.mktemp("wado-uri") / "data",
        "recovery_grace_seconds": 0}, environ={})
    archive = Archive.open(settings)
    pdf, document = with_document_length(*pdf_instance(STUDY))
    video, stream = video_instance(STUDY)
    files = [part10_bytes(ds) for ds in (
        hounsfield_ct(), derived_ct(), multi_frame(), structured_report(),
        presentation_state(GSPS, CT), presentation_state(FOREIGN_GSPS, DERIVED))]
    files += [pdf, video] + [pydicom_test_file(name).read_bytes() for name in (
        "SC_rgb_jpeg_dcmtk.dcm", "CT_small.dcm", "emri_small_jpeg_2k_lossless.dcm")]
    outcomes = []
    for number, data in enumerate(files):
        path = archive.blobs.spool_dir / f"{number}.dcm"
        path.write_bytes(data)
        outcomes.append(archive.store_file(path))
        assert outcomes[-1].stored, outcomes[-1].message
    keys = ["ct", "derived", "multi", "sr", "gsps", "foreign", "pdf", "video", "jpeg",
            "ct_small", "j2k"]
    objects = {key: (o.study_instance_uid, o.series_instance_uid, o.sop_instance_uid)
               for key, o in zip(keys, outcomes, strict=True)}
    with TestClient(create_app(settings, archive)) as client:
        yield {"client": client, "objects": objects, "files": dict(zip(keys, files, strict=True)),
               "document": document, "stream": stream}
    archive.close()


@pytest.fixture
def client(stored) -> TestClient:
    return stored["client"]


def query(stored: dict, key: str = "ct", **parameters: str) -> str:
    study, series, sop = stored["objects"][key]
    base = {"requestType": "WADO", "studyUID": study, "seriesUID": series, "objectUID": sop}
    return f"{WADO}?{urlencode({**base, **parameters})}"


def image(response) -> Image.Image:
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


def pixels(response) -> np.ndarray:
    return np.asarray(image(response)).astype(float)


def dataset(response) -> Dataset:
    assert response.status_code == 200, response.text
    return pydicom.dcmread(io.BytesIO(response.content))


# -- the sample of dcm4chee-arc-light's documentation (spec 002), on stored UIDs ---------

def test_sample_retrieve_rendered_image(stored, client) -> None:
    response = client.get(query(stored, "jpeg"), headers={"accept": "*/*"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    assert parsedate_to_datetime(response.headers["last-modified"]).year >= 2024
    assert response.headers["access-control-allow-origin"] == "*"
    assert "warning" in response.headers["access-control-expose-headers"]
    assert "HEAD" in response.headers["access-control-allow-methods"]
    assert image(response).size == (100, 100)


def test_sample_retrieve_compressed_part10_file(stored, client) -> None:
    response = client.get(query(stored, "jpeg", contentType="application/dicom",
                                transferSyntax="*"))
    assert response.status_code == 200
    assert response.headers["content-type"] == f"application/dicom;transfer-syntax={JPEG_BASELINE}"
    assert response.content == stored["files"]["jpeg"]
    assert response.headers["content-length"] == str(len(stored["files"]["jpeg"]))
    assert "etag" in response.headers and "last-modified" in response.headers


# -- every parameter and forbidden combination: 400 naming the parameter -----------------

BAD_REQUESTS = [
    ({"requestType": None}, "requestType"),
    ({"requestType": "WADO-RS"}, "requestType"),
    ({"requestType": "wado"}, "requestType"),
    ({"studyUID": None}, "studyUID"),
    ({"seriesUID": None}, "seriesUID"),
    ({"objectUID": None}, "objectUID"),
    ({"studyUID": "1.2.abc"}, "studyUID"),
    ({"objectUID": "1." + "2" * 70}, "objectUID"),
    ({"contentType": "jpeg"}, "contentType"),
    ({"contentType": "image/jpeg;q=2"}, "contentType"),
    ({"contentType": "image/jpeg;q=0"}, "contentType"),
    ({"contentType": "image/png;level"}, "contentType"),
    ({"charset": "utf 8"}, "charset"),
    ({"anonymize": "no"}, "anonymize"),
    ({"anonymize": "yes"}, "anonymize"),
    ({"transferSyntax": EXPLICIT_LE}, "transferSyntax"),
    ({"transferSyntax": "explicit", "contentType": "application/dicom"}, "transferSyntax"),
    ({"contentType": "image/jpeg", "transferSyntax": EXPLICIT_LE}, "transferSyntax"),
    ({"annotation": "everything"}, "annotation"),
    ({"rows": "0"}, "rows"),
    ({"rows": "ten"}, "rows"),
    ({"columns": "9000"}, "columns"),
    ({"region": "0,0,1"}, "region"),
    ({"region": "0.5,0,0.2,1"}, "region"),
    ({"region": "0,0,1.5,1"}, "region"),
    ({"windowCenter": "40"}, "windowWidth"),
    ({"windowWidth": "400"}, "windowCenter"),
    ({"windowCenter": "40", "windowWidth": "0"}, "windowWidth"),
    ({"windowCenter": "forty", "windowWidth": "400"}, "windowCenter"),
    ({"frameNumber": "0"}, "frameNumber"),
    ({"imageQuality": "101"}, "imageQuality"),
    ({"presentationUID": GSPS}, "presentationSeriesUID"),
    ({"presentationSeriesUID": PR}, "presentationUID"),
    ({"presentationUID": GSPS, "presentationSeriesUID": PR, "windowCenter": "1",
      "windowWidth": "2"}, "windowCenter"),
    ({"contentType": "application/dicom", "rows": "10"}, "rows"),
    ({"contentType": "application/dicom", "annotation": "patient"}, "annotation"),
    ({"contentType": "application/dicom", "windowCenter": "1", "windowWidth": "2"},
     "windowCenter"),
    ({"contentType": "application/dicom", "frameNumber": "1"}, "frameNumber"),
    ({"contentType": "application/dicom", "imageQuality": "50"}, "imageQuality"),
    ({"contentType": "application/dicom", "presentationUID": GSPS,
      "presentationSeriesUID": PR}, "presentationUID"),
    ({"contentType": "application/dicom,image/jpeg", "anonymize": "yes", "rows": "10"},
     "rows"),
]


@pytest.mark.parametrize(("changes", "parameter"), BAD_REQUESTS,
                         ids=[f"{p}-{i}" for i, (_, p) in enumerate(BAD_REQUESTS)])
def test_bad_parameters_are_400_naming_the_parameter(stored, client, changes,
                                                     parameter) -> None:
    study, series, sop = stored["objects"]["ct"]
    parameters = {"requestType": "WADO", "studyUID": study, "seriesUID": series,
                  "objectUID": sop, **changes}
    url = f"{WADO}?{urlencode({k: v for k, v in parameters.items() if v is not None})}"
    response = client.get(url)
    assert response.status_code == 400, response.text
    assert response.json()["errorMessage"].startswith(parameter + " ")


def test_a_parameter_given_twice_is_400(stored, client) -> None:
    response = client.get(query(stored) + "&rows=10&rows=20")
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "rows is given more than once"


def test_a_frame_beyond_the_object_is_400(stored, client) -> None:
    response = client.get(query(stored, "multi", frameNumber="4"))
    assert response.status_code == 400
    assert "frame 4" in response.json()["errorMessage"]


def test_a_presentation_state_not_naming_the_object_is_400(stored, client) -> None:
    response = client.get(query(stored, presentationUID=FOREIGN_GSPS,
                                presentationSeriesUID=PR))
    assert response.status_code == 400
    assert f"does not reference object {CT}" in response.json()["errorMessage"]


def test_a_presentation_uid_that_is_not_a_presentation_state_is_400(stored, client) -> None:
    response = client.get(query(stored, presentationUID=DERIVED,
                                presentationSeriesUID=SERIES))
    assert response.status_code == 400
    assert "not a Grayscale Softcopy Presentation State" in response.json()["errorMessage"]


def test_unknown_parameters_are_ignored_with_a_warning(stored, client) -> None:
    response = client.get(query(stored, accept="image/png", level="2"))
    assert image(response).format == "JPEG"
    warnings = response.headers.get_list("warning")
    assert len(warnings) == 2
    assert warnings[0].startswith("299 http://testserver/aets/HOUNSFIELD/wado: ")
    assert "parameter accept is not supported" in warnings[0]
    assert "parameter level is not supported" in warnings[1]


# -- 404 and 406 -------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "message"), [
    ({"studyUID": "2.25.9"}, "study 2.25.9 not found"),
    ({"seriesUID": "2.25.9"}, f"series 2.25.9 not found in study {STUDY}"),
    ({"objectUID": "2.25.9"}, f"instance 2.25.9 not found in series {SERIES} of study {STUDY}"),
    ({"presentationUID": "2.25.9", "presentationSeriesUID": PR},
     f"presentation state 2.25.9 not found in series {PR} of study {STUDY}"),
    ({"presentationUID": GSPS, "presentationSeriesUID": SERIES},
     f"presentation state {GSPS} not found in series {SERIES} of study {STUDY}"),
])
def test_what_is_not_stored_is_404_naming_it(stored, client, changes, message) -> None:
    response = client.get(query(stored, **changes))
    assert response.status_code == 404
    assert response.json()["errorMessage"] == message


def test_an_unknown_ae_title_is_404(stored, client) -> None:
    response = client.get(query(stored).replace("HOUNSFIELD", "OTHER"))
    assert response.status_code == 404
    assert "OTHER" in response.json()["errorMessage"]


@pytest.mark.parametrize(("key", "parameters", "named"), [
    ("ct", {"contentType": "application/pdf"},
     "single-frame image); available: image/jpeg, application/dicom, image/gif, image/png"),
    ("ct", {"contentType": "text/*,image/jp2"}, "contentType text/*, image/jp2 cannot"),
    ("sr", {"contentType": "image/png"},
     "structured report); available: text/html, text/plain, application/dicom"),
    ("pdf", {"contentType": "text/html"}, "available: application/pdf, application/dicom"),
    ("gsps", {}, None),
    ("gsps", {"rows": "64"}, "without pixel data); available: no rendered representation"),
])
def test_nothing_acceptable_is_406_naming_what_is_offered(stored, client, key, parameters,
                                                          named) -> None:
    response = client.get(query(stored, key, **parameters))
    if named is None:  # a presentation state is offered as DICOM only, its default
        assert response.headers["content-type"].startswith("application/dicom;")
        return
    assert response.status_code == 406
    assert named in response.json()["errorMessage"]


# -- contentType -------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "parameters", "media_type"), [
    ("ct", {}, "image/jpeg"),
    ("ct", {"contentType": "image/png"}, "image/png"),
    ("ct", {"contentType": "image/gif"}, "image/gif"),
    ("ct", {"contentType": "image/*"}, "image/jpeg"),
    ("ct", {"contentType": "*/*"}, "image/jpeg"),
    ("ct", {"contentType": "image/png;q=0.5,image/gif"}, "image/gif"),
    ("ct", {"contentType": "application/dicom;q=0.4,image/png;q=0.9"}, "image/png"),
    ("ct", {"contentType": "image/jp2,image/png;q=0.2"}, "image/png"),
    ("ct", {"contentType": "application/dicom,image/jpeg", "rows": "10"}, "image/jpeg"),
    ("ct", {"contentType": "image/jpeg,application/dicom", "transferSyntax": "*"},
     "application/dicom"),
    ("multi", {}, "application/dicom"),  # PS3.18 2013 §7.2
    ("multi", {"frameNumber": "2"}, "image/jpeg"),  # §7.1: one frame is a single frame
    ("multi", {"rows": "8"}, "image/gif"),
    ("multi", {"contentType": "*/*"}, "application/dicom"),
    ("multi", {"contentType": "image/*"}, "image/gif"),
    ("sr", {}, "text/html"),
    ("sr", {"contentType": "text/*;q=0.5,text/plain"}, "text/plain"),
    ("sr", {"contentType": "application/dicom"}, "application/dicom"),
    ("pdf", {}, "application/pdf"),
    ("video", {}, "video/mp4"),
    ("video", {"contentType": "video/*"}, "video/mp4"),
])
def test_content_type_chooses_the_representation(stored, client, key, parameters,
                                                 media_type) -> None:
    response = client.get(query(stored, key, **parameters))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type


# -- rendered images ---------------------------------------------------------------------

def test_window_center_and_width_map_hounsfield_units(stored, client) -> None:
    png = pixels(client.get(query(stored, contentType="image/png", windowCenter="0",
                                  windowWidth="2000")))
    assert np.abs(png - windowed(0, 2000)).max() <= 1


def test_the_stored_window_is_the_default(stored, client) -> None:
    png = pixels(client.get(query(stored, contentType="image/png")))
    assert np.abs(png - windowed(40, 400)).max() <= 1


def test_jpeg_of_a_known_window_is_close_to_the_exact_grey_levels(stored, client) -> None:
    jpeg = pixels(client.get(query(stored, windowCenter="0", windowWidth="2000",
                                   imageQuality="100")))
    assert jpeg.shape == (ROWS, COLUMNS)
    assert np.abs(jpeg - windowed(0, 2000)).mean() <= 2


@pytest.mark.parametrize(("parameters", "size"), [
    ({"rows": "24"}, (32, 24)),
    ({"columns": "32"}, (32, 24)),
    ({"rows": "96", "columns": "256"}, (128, 96)),
    ({"region": "0,0,0.5,0.5"}, (32, 24)),
    ({"region": "0.25,0.5,0.75,1", "columns": "64"}, (64, 48)),
])
def test_rows_columns_and_region_size_the_image(stored, client, parameters, size) -> None:
    assert image(client.get(query(stored, contentType="image/png", **parameters))).size == size


def test_region_cuts_the_image(stored, client) -> None:
    png = pixels(client.get(query(stored, contentType="image/png", region="0.5,0.5,1,1",
                                  windowCenter="0", windowWidth="2000")))
    assert (png == 255).all()  # the bottom right quarter is +1000 HU


def test_frame_number_renders_that_frame(stored, client) -> None:
    png = pixels(client.get(query(stored, "multi", contentType="image/png", frameNumber="3",
                                  windowCenter="2048", windowWidth="4096")))
    expected = np.rint(Window(2048, 4096).apply(np.array([3000.0]))[0] * 255)
    assert (np.abs(png - expected) <= 1).all()


def test_gif_of_a_multi_frame_image_is_an_animation(stored, client) -> None:
    gif = image(client.get(query(stored, "multi", contentType="image/gif")))
    assert (gif.format, gif.n_frames, gif.size) == ("GIF", 3, (16, 16))


def test_image_quality_changes_the_jpeg(stored, client) -> None:
    low = client.get(query(stored, imageQuality="5")).content
    high = client.get(query(stored, imageQuality="100")).content
    assert len(low) < len(high)


def test_annotation_is_burnt_in(stored, client) -> None:
    plain = pixels(client.get(query(stored, "ct_small", contentType="image/png")))
    annotated = pixels(client.get(query(stored, "ct_small", contentType="image/png",
                                        annotation="patient,technique")))
    assert plain.shape == annotated.shape and (plain != annotated).sum() > 50


def test_charset_changes_nothing_in_an_image(stored, client) -> None:
    plain = client.get(query(stored, contentType="image/png")).content
    assert client.get(query(stored, contentType="image/png", charset="iso-8859-1")
                      ).content == plain


def test_presentation_state_is_applied(stored, client) -> None:
    """The stored GSPS windows 0/2000 (replacing the image's 40/400), inverts, and rotates
    clockwise: a 48x64 image becomes 64x48."""
    response = client.get(query(stored, contentType="image/png", presentationUID=GSPS,
                                presentationSeriesUID=PR))
    png = pixels(response)
    assert png.shape == (COLUMNS, ROWS)
    assert np.abs(png - np.rot90(255 - windowed(0, 2000), -1)).max() <= 1


def test_region_and_rows_apply_after_the_presentation_state(stored, client) -> None:
    png = pixels(client.get(query(stored, contentType="image/png", presentationUID=GSPS,
                                  presentationSeriesUID=PR, region="0,0,0.5,1", rows="32")))
    presented = np.rot90(255 - windowed(0, 2000), -1)[:, :ROWS // 2]
    assert png.shape == (32, 12)
    assert abs(png.mean() - presented.mean()) <= 3


# -- application/dicom ---------------------------------------------------------------------

def test_transfer_syntax_star_is_the_stored_file(stored, client) -> None:
    response = client.get(query(stored, "j2k", contentType="application/dicom",
                                transferSyntax="*"))
    assert response.content == stored["files"]["j2k"]


def test_application_dicom_defaults_to_explicit_vr_little_endian(stored, client) -> None:
    """PS3.18 2013 §8.2.11: a stored JPEG 2000 file is sent decoded, pixel for pixel."""
    response = client.get(query(stored, "j2k", contentType="application/dicom"))
    assert response.headers["content-type"] == f"application/dicom;transfer-syntax={EXPLICIT_LE}"
    sent = dataset(response)
    assert sent.file_meta.TransferSyntaxUID == EXPLICIT_LE
    original = pydicom.dcmread(io.BytesIO(stored["files"]["j2k"]))
    assert np.array_equal(sent.pixel_array, original.pixel_array)
    assert response.headers.get("warning") is None


@pytest.mark.parametrize("syntax", [JPEG_LS_LOSSLESS, RLE, EXPLICIT_LE,
                                    "1.2.840.10008.1.2"])
def test_lossless_transcoding_keeps_every_pixel(stored, client, syntax) -> None:
    response = client.get(query(stored, "ct_small", contentType="application/dicom",
                                transferSyntax=syntax))
    sent = dataset(response)
    assert sent.file_meta.TransferSyntaxUID == syntax
    assert response.headers["content-type"] == f"application/dicom;transfer-syntax={syntax}"
    original = pydicom.dcmread(io.BytesIO(stored["files"]["ct_small"]))
    assert np.array_equal(sent.pixel_array, original.pixel_array)
    assert sent.PatientName == original.PatientName


def test_a_transfer_syntax_that_cannot_be_made_falls_back_with_a_warning(stored,
                                                                         client) -> None:
    """§8.2.11: JPEG Baseline holds 8-bit samples only; the 16-bit CT goes out in
    Explicit VR Little Endian, and a Warning says why."""
    response = client.get(query(stored, "ct_small", contentType="application/dicom",
                                transferSyntax=JPEG_BASELINE))
    assert dataset(response).file_meta.TransferSyntaxUID == EXPLICIT_LE
    [warning] = response.headers.get_list("warning")
    assert f"transferSyntax {JPEG_BASELINE} cannot be produced" in warning
    assert "8-bit samples only" in warning and "Explicit VR Little Endian" in warning


def test_a_video_as_dicom_falls_back_to_its_stored_syntax(stored, client) -> None:
    response = client.get(query(stored, "video", contentType="application/dicom"))
    assert response.content == stored["files"]["video"]
    assert "cannot decode" in response.headers["warning"]


# -- anonymize=yes -------------------------------------------------------------------------

def anonymized(client, stored, key: str, **parameters: str) -> Dataset:
    response = client.get(query(stored, key, contentType="application/dicom",
                                anonymize="yes", **parameters))
    assert response.headers["cache-control"] == "no-store"
    assert "etag" not in response.headers
    return dataset(response)


def test_anonymize_applies_the_basic_profile(stored, client) -> None:
    ds = anonymized(client, stored, "derived")
    assert ds.PatientName in ("", "ANONYMIZED") and "Doe" not in str(ds.PatientName)
    assert ds.get("PatientBirthDate", "") == "" and ds.PatientIdentityRemoved == "YES"
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
    new = [ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID]
    assert all(uid.startswith("2.25.") for uid in new)
    assert not {STUDY, SERIES, DERIVED} & set(new)
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    assert np.array_equal(ds.pixel_array, hounsfield_ct().pixel_array)


def test_anonymized_uids_agree_within_a_response_and_differ_between_them(stored,
                                                                         client) -> None:
    first, second = (anonymized(client, stored, "derived") for _ in range(2))
    source = first.SourceImageSequence[0].ReferencedSOPInstanceUID
    assert source == first.ReferencedImageSequence[0].ReferencedSOPInstanceUID != CT
    assert first.StudyInstanceUID != second.StudyInstanceUID


def test_anonymize_with_a_transfer_syntax(stored, client) -> None:
    ds = anonymized(client, stored, "ct_small", transferSyntax=RLE)
    assert ds.file_meta.TransferSyntaxUID == RLE
    original = pydicom.dcmread(io.BytesIO(stored["files"]["ct_small"]))
    assert np.array_equal(ds.pixel_array, original.pixel_array)
    assert ds.SOPInstanceUID != original.SOPInstanceUID


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy is not installed")
@pytest.mark.parametrize("key", ["ct_small", "jpeg"])
def test_an_anonymized_object_has_no_new_dciodvfy_errors(stored, client, key,
                                                         tmp_path: Path) -> None:
    response = client.get(query(stored, key, contentType="application/dicom",
                                anonymize="yes", transferSyntax="*"))
    assert response.status_code == 200
    before = dciodvfy_errors(stored["files"][key], tmp_path)
    after = dciodvfy_errors(response.content, tmp_path)
    assert after <= before, after - before


def dciodvfy_errors(data: bytes, folder: Path) -> set[str]:
    path = folder / "object.dcm"
    path.write_bytes(data)
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return {line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")}


# -- objects that are not images -------------------------------------------------------------

def test_structured_report_as_html(stored, client) -> None:
    response = client.get(query(stored, "sr"))
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Imaging Report" in response.text and "Lésion de 5 mm" in response.text


def test_structured_report_as_plain_text_in_the_charset_asked(stored, client) -> None:
    response = client.get(query(stored, "sr", contentType="text/plain",
                                charset="x-unknown,iso-8859-1;q=0.5"))
    assert response.headers["content-type"] == "text/plain; charset=iso-8859-1"
    assert "Lésion de 5 mm".encode("iso-8859-1") in response.content
    assert "Finding" in response.content.decode("iso-8859-1")


def test_html_in_ascii_keeps_every_character_as_a_reference(stored, client) -> None:
    response = client.get(query(stored, "sr", charset="us-ascii"))
    assert '<meta charset="us-ascii">' in response.text
    assert b"L&#233;sion de 5 mm" in response.content


def test_an_unknown_charset_is_utf8_with_a_warning(stored, client) -> None:
    response = client.get(query(stored, "sr", charset="x-klingon"))
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "charset x-klingon is not a character set" in response.headers["warning"]


def test_image_parameters_on_a_report_are_ignored_with_a_warning(stored, client) -> None:
    response = client.get(query(stored, "sr", rows="64", annotation="patient"))
    assert response.headers["content-type"].startswith("text/html")
    warnings = response.headers.get_list("warning")
    assert any("annotation applies to images only" in w for w in warnings)
    assert any("rows applies to images only" in w for w in warnings)


def test_pdf_is_its_document_bytes(stored, client) -> None:
    response = client.get(query(stored, "pdf", contentType="application/pdf"))
    assert response.headers["content-type"] == "application/pdf"
    assert response.content == stored["document"]


def test_video_is_its_stream(stored, client) -> None:
    response = client.get(query(stored, "video"))
    assert response.content == stored["stream"]


# -- conditional requests and HEAD ---------------------------------------------------------

@pytest.mark.parametrize("parameters", [{}, {"contentType": "application/dicom"},
                                        {"contentType": "application/pdf"}])
def test_etag_and_last_modified_give_304(stored, client, parameters) -> None:
    key = "pdf" if parameters.get("contentType") == "application/pdf" else "ct"
    url = query(stored, key, **parameters)
    first = client.get(url)
    assert first.status_code == 200
    again = client.get(url, headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get(url, headers={"if-modified-since": first.headers["last-modified"]})
    assert since.status_code == 304
    assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200


def test_the_etag_depends_on_the_representation(stored, client) -> None:
    """... and not on how it was asked for: the CT is stored in Explicit VR Little
    Endian, so `*` and the default give the same bytes, with the same ETag."""
    def etag(**parameters: str) -> str:
        return client.get(query(stored, **parameters)).headers["etag"]
    tags = {etag(), etag(contentType="image/png"), etag(rows="10"),
            etag(windowCenter="1", windowWidth="2"), etag(contentType="application/dicom"),
            etag(contentType="application/dicom", transferSyntax=RLE)}
    assert len(tags) == 6
    assert etag(contentType="application/dicom", transferSyntax="*") == etag(
        contentType="application/dicom")


@pytest.mark.parametrize("parameters", [{}, {"contentType": "application/dicom"}])
def test_head_sends_the_headers_without_the_body(stored, client, parameters) -> None:
    got = client.get(query(stored, **parameters))
    head = client.head(query(stored, **parameters))
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == got.headers[name]
