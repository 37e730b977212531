"""WADO-RS rendered resources and thumbnails through the real ASGI app (PS3.18
§10.4.1.1.3, §8.3.5.1): every parameter and its errors, outputs decoded with Pillow and
checked pixel by pixel on a generated CT, multipart studies and series, frames, GIF
animation, thumbnails, and the objects that are not images (PDF, video, SR)."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator

import numpy as np
import pytest
from helpers.dicom_files import (
    ct_instance,
    part10_bytes,
    pdf_instance,
    text_report,
    video_instance,
)
from helpers.multipart_body import split_parts
from PIL import Image
from PIL.ImageCms import ImageCmsProfile, getProfileDescription
from pydicom.dataset import Dataset
from starlette.testclient import TestClient

from hounsfield.app import create_app
from hounsfield.archive.archive import Archive
from hounsfield.config import load_settings

RS = "/aets/HOUNSFIELD/rs"
STUDY, SERIES, MULTI, OTHER = "2.25.600", "2.25.600.1", "2.25.600.2", "2.25.600.3"
CT_URL = f"{RS}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.1"
MULTI_URL = f"{RS}/studies/{STUDY}/series/{MULTI}/instances/{MULTI}.1"
ROWS, COLUMNS = 48, 64


def hounsfield_ct(sop: str, series: str, value: int | None = None) -> Dataset:
    """A 64x48 CT whose HU rise left to right from -1000 to +1000 in the top half and are
    -1000 (left) / +1000 (right) in the bottom half; or all `value` HU."""
    ds = ct_instance(STUDY, series, sop, rows=ROWS, columns=COLUMNS)
    hu = np.empty((ROWS, COLUMNS), np.int32)
    hu[: ROWS // 2] = np.linspace(-1000, 1000, COLUMNS).round().astype(np.int32)
    hu[ROWS // 2:, : COLUMNS // 2], hu[ROWS // 2:, COLUMNS // 2:] = -1000, 1000
    if value is not None:
        hu[:] = value
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = (hu + 1024).astype("<u2").tobytes()
    return ds


def multi_frame() -> Dataset:
    """Three frames of 16x16, frame n all 1000 * n stored (window 0..4095 linear)."""
    ds = ct_instance(STUDY, MULTI, f"{MULTI}.1", frames=3)
    ds.PixelData = np.repeat(np.array([1000, 2000, 3000], "<u2"), 256).tobytes()
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.FrameTime = 40
    return ds


def rgb_image() -> Dataset:
    ds = ct_instance(STUDY, OTHER, f"{OTHER}.9", rows=8, columns=8)
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = np.tile(np.array([200, 20, 10], np.uint8), 64).tobytes()
    ds["PixelData"].VR = "OB"
    return ds


def structured_report() -> Dataset:
    return text_report(STUDY, OTHER, f"{OTHER}.1", "Imaging <Report>",
                       ["No acute abnormality & nothing else"], section="Findings")


@pytest.fixture(scope="module")
def module_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    settings = load_settings(overrides={
        "data_dir": tmp_path_factory.mktemp("rendered") / "data",
        "recovery_grace_seconds": 0}, environ={})
    archive = Archive.open(settings)
    pdf, _ = pdf_instance(STUDY)
    video, _ = video_instance(STUDY)
    datasets = [hounsfield_ct(f"{SERIES}.1", SERIES),
                *[hounsfield_ct(f"{SERIES}.{n}", SERIES, value=100 * n) for n in (2, 3)],
                multi_frame(), structured_report(), rgb_image()]
    for number, data in enumerate([part10_bytes(ds) for ds in datasets] + [pdf, video]):
        path = archive.blobs.spool_dir / f"{number}.dcm"
        path.write_bytes(data)
        assert archive.store_file(path).stored
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def client(module_archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(module_archive.settings, module_archive)) as test_client:
        yield test_client


def image(response) -> Image.Image:
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


def url(kind: str, suffix: str) -> str:
    return {"ct": CT_URL, "multi": MULTI_URL}[kind] + suffix


# -- media types -----------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "media_type", "pil_format"), [
    (None, "image/jpeg", "JPEG"),
    ("image/jpeg", "image/jpeg", "JPEG"),
    ("image/png", "image/png", "PNG"),
    ("image/gif", "image/gif", "GIF"),
    ("image/*", "image/jpeg", "JPEG"),
    ("*/*", "image/jpeg", "JPEG"),
    ("image/jpeg;q=0.5, image/png", "image/png", "PNG"),
    ("application/dicom, image/gif;q=0.1", "image/gif", "GIF"),
])
def test_instance_rendered_in_the_negotiated_media_type(client, accept, media_type,
                                                        pil_format) -> None:
    headers = {"accept": accept} if accept else {}
    response = client.get(url("ct", "/rendered"), headers=headers)
    assert response.headers["content-type"] == media_type
    rendered = image(response)
    assert (rendered.format, rendered.size) == (pil_format, (COLUMNS, ROWS))
    assert rendered.mode == ("P" if pil_format == "GIF" else "L")


def test_the_accept_query_parameter_wins_over_the_header(client) -> None:
    response = client.get(url("ct", "/rendered?accept=image/png"),
                          headers={"accept": "image/jpeg"})
    assert image(response).format == "PNG"


@pytest.mark.parametrize("accept", ["application/dicom", "text/html", "image/jp2"])
def test_unproduced_media_types_are_406(client, accept) -> None:
    response = client.get(url("ct", "/rendered"), headers={"accept": accept})
    assert response.status_code == 406
    assert "image/jpeg" in response.json()["errorMessage"]


# -- window ------------------------------------------------------------------------------

def test_window_maps_hounsfield_units_to_grey_levels(client) -> None:
    png = np.asarray(image(client.get(url("ct", "/rendered?window=40,400"),
                                      headers={"accept": "image/png"})))
    assert png[ROWS - 1, 0] == 0 and png[ROWS - 1, COLUMNS - 1] == 255  # -1000, +1000 HU
    hu = np.linspace(-1000, 1000, COLUMNS).round()
    expected = np.clip(((hu - 39.5) / 399 + 0.5) * 255, 0, 255)  # PS3.3 C.11.2.1.2.1
    assert np.abs(png[0].astype(float) - expected).max() <= 1


def test_stored_window_is_the_default_and_a_requested_one_overrides_it(client) -> None:
    def top_row(query: str) -> np.ndarray:
        return np.asarray(image(client.get(url("ct", f"/rendered{query}"),
                                           headers={"accept": "image/png"})))[0]
    assert np.array_equal(top_row(""), top_row("?window=40,400"))
    wide = top_row("?window=0,2000")
    assert 120 <= wide[COLUMNS // 2] <= 135 and not np.array_equal(wide, top_row(""))


@pytest.mark.parametrize("window", ["40,400,linear", "40,400,LINEAR-EXACT", "40,400,sigmoid",
                                    "-500.5,1e3"])
def test_window_functions_are_accepted(client, window) -> None:
    assert image(client.get(url("ct", f"/rendered?window={window}"))).size == (COLUMNS, ROWS)


def test_sigmoid_window_is_centred_at_half_grey(client) -> None:
    png = np.asarray(image(client.get(url("ct", "/rendered?window=0,400,sigmoid"),
                                      headers={"accept": "image/png"})))
    middle = np.argmin(np.abs(np.linspace(-1000, 1000, COLUMNS)))
    assert 110 <= png[0, middle] <= 145


# -- viewport ----------------------------------------------------------------------------

@pytest.mark.parametrize(("viewport", "size"), [
    ("32,32", (32, 24)), ("128,", (128, 96)), (",24", (32, 24)), ("640,48", (64, 48)),
    ("64,48,0,0,32,24", (64, 48)), ("10,10,0,0,16,16", (10, 10)),
])
def test_viewport_scales_keeping_the_aspect_ratio(client, viewport, size) -> None:
    assert image(client.get(url("ct", f"/rendered?viewport={viewport}"))).size == size


def test_viewport_source_region_is_cut_in_source_pixels(client) -> None:
    """The bottom half: left -1000 HU (black), right +1000 HU (white)."""
    png = np.asarray(image(client.get(
        url("ct", f"/rendered?viewport={COLUMNS},{ROWS // 2},0,{ROWS // 2},{COLUMNS},"
                  f"{ROWS // 2}"), headers={"accept": "image/png"})))
    assert png.shape == (ROWS // 2, COLUMNS)
    assert (png[:, :COLUMNS // 2 - 1] == 0).all() and (png[:, COLUMNS // 2 + 1:] == 255).all()


def test_negative_source_width_and_height_flip(client) -> None:
    plain = np.asarray(image(client.get(url("ct", "/rendered"),
                                        headers={"accept": "image/png"})))
    flipped = np.asarray(image(client.get(
        url("ct", f"/rendered?viewport={COLUMNS},{ROWS},{COLUMNS},{ROWS},-{COLUMNS},-{ROWS}"),
        headers={"accept": "image/png"})))
    assert np.array_equal(flipped, plain[::-1, ::-1])


@pytest.mark.parametrize("viewport", [
    "10", "0,10", "10,9000", "a,b", ",", "10,10,1,2", "10,10,0,0,0,5", "10,10,-1,0,5,5",
    "10,10,500,500,10,10", "10,10,0,0,x,5",
])
def test_malformed_viewports_are_400(client, viewport) -> None:
    response = client.get(url("ct", f"/rendered?viewport={viewport}"))
    assert response.status_code == 400
    assert "viewport" in response.json()["errorMessage"]


# -- quality, annotation, iccprofile, charset --------------------------------------------

def test_quality_trades_size_for_fidelity(client) -> None:
    low = client.get(url("ct", "/rendered?quality=10")).content
    high = client.get(url("ct", "/rendered?quality=100")).content
    assert len(low) < len(high)


def test_annotation_burns_in_text(client) -> None:
    plain = np.asarray(image(client.get(url("ct", "/rendered?viewport=256,"),
                                        headers={"accept": "image/png"})))
    annotated = np.asarray(image(client.get(
        url("ct", "/rendered?viewport=256,&annotation=patient,technique"),
        headers={"accept": "image/png"})))
    assert annotated.shape == plain.shape and (annotated != plain).sum() > 100


def test_icc_profile_srgb_is_embedded_in_colour_images(client) -> None:
    rgb_url = f"{RS}/studies/{STUDY}/series/{OTHER}/instances/{OTHER}.9/rendered"
    for name in ("srgb", "yes"):
        for accept in ("image/png", "image/jpeg"):
            rendered = image(client.get(f"{rgb_url}?iccprofile={name}",
                                        headers={"accept": accept}))
            profile = ImageCmsProfile(io.BytesIO(rendered.info["icc_profile"]))
            assert getProfileDescription(profile).startswith("sRGB")
    assert "icc_profile" not in image(client.get(f"{rgb_url}?iccprofile=no")).info
    colour = np.asarray(image(client.get(rgb_url, headers={"accept": "image/png"})))
    assert colour.shape == (8, 8, 3) and tuple(colour[4, 4]) == (200, 20, 10)


@pytest.mark.parametrize(("query", "status", "names"), [
    ("window=40", 400, "window"), ("window=a,b", 400, "window"),
    ("window=40,0", 400, "width"), ("window=40,400,cubic", 400, "cubic"),
    ("quality=0", 400, "quality"), ("quality=101", 400, "quality"),
    ("quality=high", 400, "quality"), ("annotation=everything", 400, "everything"),
    ("iccprofile=adobergb", 406, "sRGB"), ("iccprofile=rommrgb", 406, "sRGB"),
    ("iccprofile=cmyk", 400, "iccprofile"),
])
def test_bad_parameters_are_named_in_the_error(client, query, status, names) -> None:
    response = client.get(url("ct", f"/rendered?{query}"))
    assert response.status_code == status
    assert names in response.json()["errorMessage"]


def test_unknown_parameters_get_a_warning_and_charset_none(client) -> None:
    response = client.get(url("ct", "/rendered?charset=utf-8&region=0,0,1,1&foo=1"))
    assert response.status_code == 200
    warnings = response.headers.get_list("warning")
    assert len(warnings) == 2 and all(w.startswith("299 ") for w in warnings)
    assert "region" in warnings[0] and "foo" in warnings[1]


# -- frames, GIF, HEAD, conditional requests ---------------------------------------------

@pytest.mark.parametrize("frame", [1, 2, 3])
def test_frame_rendered_is_that_frame(client, frame) -> None:
    png = np.asarray(image(client.get(url("multi", f"/frames/{frame}/rendered"),
                                      headers={"accept": "image/png"})))
    expected = ((1000 * frame - 2047.5) / 4095 + 0.5) * 255
    assert png.shape == (16, 16) and abs(int(png[0, 0]) - expected) <= 1


def test_several_frames_rendered_are_one_part_each(client) -> None:
    response = client.get(url("multi", "/frames/3,1/rendered"), headers={"accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith('multipart/related; type="image/png"')
    parts = split_parts(response.content, response.headers["content-type"])
    assert [h["content-location"].rsplit("/", 2)[1] for h, _ in parts] == ["3", "1"]
    values = [np.asarray(Image.open(io.BytesIO(data)))[0, 0] for _, data in parts]
    assert values[0] > values[1]


@pytest.mark.parametrize(("frames", "status"), [("4", 404), ("0", 404), ("x", 400),
                                                ("1,,2", 400), ("1,9", 404)])
def test_frame_numbers_malformed_are_400_and_outside_404(client, frames, status) -> None:
    assert client.get(url("multi", f"/frames/{frames}/rendered")).status_code == status


def test_multi_frame_instance_as_gif_is_an_animation(client) -> None:
    gif = image(client.get(url("multi", "/rendered"), headers={"accept": "image/gif"}))
    assert gif.n_frames == 3 and gif.info["duration"] == 40


def test_multi_frame_instance_as_jpeg_is_its_first_frame(client) -> None:
    first = np.asarray(image(client.get(url("multi", "/rendered"),
                                        headers={"accept": "image/png"})))
    frame_one = np.asarray(image(client.get(url("multi", "/frames/1/rendered"),
                                            headers={"accept": "image/png"})))
    assert np.array_equal(first, frame_one)


def test_head_and_conditional_get(client) -> None:
    response = client.get(url("ct", "/rendered"))
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    head = client.head(url("ct", "/rendered"))
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag
    assert head.headers["content-length"] == str(len(response.content))
    assert client.get(url("ct", "/rendered"), headers={"if-none-match": etag}).status_code == 304
    assert client.get(url("ct", "/rendered"),
                      headers={"if-modified-since": modified}).status_code == 304
    other = client.get(url("ct", "/rendered?window=0,100"), headers={"if-none-match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


# -- studies and series ------------------------------------------------------------------

def test_series_rendered_is_one_part_per_instance(client) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}/rendered",
                          headers={"accept": "image/png"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith('multipart/related; type="image/png"')
    parts = split_parts(response.content, response.headers["content-type"])
    assert [h["content-location"].rsplit("/", 2)[1] for h, _ in parts] == [
        f"{SERIES}.{n}" for n in (1, 2, 3)]
    assert all(Image.open(io.BytesIO(data)).size == (COLUMNS, ROWS) for _, data in parts)


def test_study_rendered_leaves_out_what_is_not_an_image_with_a_warning(client) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/rendered?viewport=16,16")
    assert response.status_code == 200
    parts = split_parts(response.content, response.headers["content-type"])
    assert len(parts) == 5  # 3 CT, the multi-frame, the RGB; not the SR, PDF, video
    assert all(h["content-type"] == "image/jpeg" for h, _ in parts)
    assert "3 instances are not images" in response.headers["warning"]
    head = client.head(f"{RS}/studies/{STUDY}/rendered?viewport=16,16")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == response.headers["etag"]


@pytest.mark.parametrize(("path", "status"), [
    ("/studies/2.25.9/rendered", 404), (f"/studies/{STUDY}/series/2.25.9/rendered", 404),
    (f"/studies/{STUDY}/series/{SERIES}/instances/2.25.9/rendered", 404),
    ("/studies/1.2.x/rendered", 400), (f"/studies/{STUDY}/series/{SERIES}/thumbnail?"
                                       "viewport=0,0", 400),
])
def test_unknown_resources_are_404_and_malformed_uids_400(client, path, status) -> None:
    assert client.get(RS + path).status_code == status


# -- thumbnails --------------------------------------------------------------------------

def test_instance_thumbnail_fits_the_default_size(client) -> None:
    thumb = image(client.get(url("ct", "/thumbnail")))
    assert (thumb.format, thumb.size) == ("JPEG", (128, 96))
    assert image(client.get(url("ct", "/thumbnail?viewport=32,32"))).size == (32, 24)


def test_series_thumbnail_is_its_middle_instance(client) -> None:
    png = np.asarray(image(client.get(f"{RS}/studies/{STUDY}/series/{SERIES}/thumbnail",
                                      headers={"accept": "image/png"})))
    middle = np.asarray(image(client.get(
        f"{RS}/studies/{STUDY}/series/{SERIES}/instances/{SERIES}.2/rendered?viewport=128,128",
        headers={"accept": "image/png"})))
    assert np.array_equal(png, middle)


def test_study_thumbnail_comes_from_its_first_series_with_images(client) -> None:
    study = client.get(f"{RS}/studies/{STUDY}/thumbnail", headers={"accept": "image/png"})
    series = client.get(f"{RS}/studies/{STUDY}/series/{SERIES}/thumbnail",
                        headers={"accept": "image/png"})
    assert study.content == series.content


def test_frame_thumbnail_and_its_errors(client) -> None:
    assert image(client.get(url("multi", "/frames/2/thumbnail"))).size == (128, 128)
    assert client.get(url("multi", "/frames/1,2/thumbnail")).status_code == 400
    assert client.get(url("multi", "/frames/7/thumbnail")).status_code == 404


def test_thumbnail_warns_of_rendering_parameters(client) -> None:
    response = client.get(url("ct", "/thumbnail?window=40,400"))
    assert response.status_code == 200 and "window" in response.headers["warning"]


def test_thumbnail_size_is_a_setting(module_archive) -> None:
    settings = dataclasses.replace(module_archive.settings, thumbnail_size=40)
    archive = Archive(settings, module_archive.engine, module_archive.blobs)
    with TestClient(create_app(settings, archive)) as small:
        assert image(small.get(url("ct", "/thumbnail"))).size == (40, 30)


def test_thumbnail_of_an_object_without_images_is_406(client) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/series/{OTHER}/instances/{OTHER}.1/thumbnail")
    assert response.status_code == 406
    assert "no image" in response.json()["errorMessage"]


# -- objects that are not images ---------------------------------------------------------

def _instance_of(client, series_modality: str) -> str:
    found = client.get(f"{RS}/studies/{STUDY}/instances?Modality={series_modality}"
                       "&includefield=0020000E").json()
    sop = found[0]["00080018"]["Value"][0]
    series = found[0]["0020000E"]["Value"][0]
    return f"{RS}/studies/{STUDY}/series/{series}/instances/{sop}"


def test_encapsulated_pdf_rendered_is_the_document(client) -> None:
    _, document = pdf_instance(STUDY)
    response = client.get(_instance_of(client, "DOC") + "/rendered")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.rstrip(b"\0") == document  # value padded to even length
    refused = client.get(_instance_of(client, "DOC") + "/rendered",
                         headers={"accept": "image/jpeg"})
    assert refused.status_code == 406 and "application/pdf" in refused.text


def test_video_rendered_is_its_stream(client) -> None:
    _, stream = video_instance(STUDY)
    found = client.get(f"{RS}/studies/{STUDY}/instances?SOPClassUID="
                       "1.2.840.10008.5.1.4.1.1.77.1.4.1&includefield=0020000E").json()
    instance = (f"{RS}/studies/{STUDY}/series/{found[0]['0020000E']['Value'][0]}"
                f"/instances/{found[0]['00080018']['Value'][0]}")
    response = client.get(instance + "/rendered", headers={"accept": "video/mp4"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("video/mp4")
    assert response.content == stream


@pytest.mark.parametrize(("accept", "media_type"), [(None, "text/html"),
                                                    ("text/plain", "text/plain")])
def test_structured_report_rendered_as_html_or_text(client, accept, media_type) -> None:
    response = client.get(f"{RS}/studies/{STUDY}/series/{OTHER}/instances/{OTHER}.1/rendered",
                          headers={"accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    text = response.text
    if media_type == "text/html":
        assert "<h1>Imaging &lt;Report&gt;</h1>" in text
        assert "<b>Finding</b>: No acute abnormality &amp; nothing else" in text
    else:
        assert text.startswith("Imaging <Report>\n")
        assert "  Finding: No acute abnormality & nothing else" in text
    assert "Test Patient" in text and "COMPLETE" in text
    assert client.get(f"{RS}/studies/{STUDY}/series/{OTHER}/instances/{OTHER}.1/frames/1"
                      "/rendered").status_code == 406
