"""The renderer end to end on generated frames: output formats decoded with Pillow,
region and viewport, frames and functional groups, annotation, and refused requests."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers.render_source import array_source
from PIL import Image
from pydicom.dataset import Dataset

from hounsfield.dicom.render import (
    GIF,
    JPEG,
    PNG,
    Region,
    RenderRequest,
    SourceImage,
    Window,
    native_frame,
    pixel_description,
    render,
)
from hounsfield.errors import NotRenderableError, RenderParameterError

RAMP = np.tile(np.arange(0, 256, 2, dtype=np.uint16), (64, 1)) * 16  # 64 x 128, 0..4064


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_png_is_lossless_8_bit_grayscale():
    image = decoded(render(array_source(RAMP), RenderRequest(PNG, window=Window(2048, 4096))))
    assert (image.format, image.mode, image.size) == ("PNG", "L", (128, 64))
    expected = np.rint(np.clip((RAMP - 2047.5) / 4095 + 0.5, 0, 1) * 255)
    assert np.array_equal(np.asarray(image), expected)


def test_png_16_bit_keeps_sixteen_bits():
    image = decoded(render(array_source(RAMP), RenderRequest(PNG, bits=16,
                                                             window=Window(2048, 4096))))
    assert image.mode in ("I;16", "I")
    values = np.asarray(image).astype(int)
    assert values.max() > 255 and values[0, 1] == round((32 - 2047.5) / 4095 * 65535 + 32767.5)


def test_jpeg_with_quality_is_close_to_the_png():
    png = np.asarray(decoded(render(array_source(RAMP), RenderRequest(PNG))), int)
    good = decoded(render(array_source(RAMP), RenderRequest(JPEG, quality=95)))
    assert (good.format, good.mode) == ("JPEG", "L")
    assert np.abs(np.asarray(good, int) - png).mean() < 1.5
    small = render(array_source(RAMP), RenderRequest(JPEG, quality=5))
    assert len(small) < len(render(array_source(RAMP), RenderRequest(JPEG, quality=95)))


def test_colour_renders_as_rgb():
    frame = np.zeros((8, 8, 3), np.uint8)
    frame[..., 0] = 200
    image = decoded(render(array_source(frame, "RGB"), RenderRequest(PNG)))
    assert image.mode == "RGB" and image.getpixel((3, 3)) == (200, 0, 0)


@pytest.mark.parametrize(("width", "height", "size"), [
    (64, None, (64, 32)), (None, 16, (32, 16)), (64, 64, (64, 32)), (1000, 100, (200, 100)),
])
def test_viewport_keeps_the_aspect_ratio(width, height, size):
    request = RenderRequest(PNG, viewport_width=width, viewport_height=height)
    assert decoded(render(array_source(RAMP), request)).size == size


def test_region_is_cut_before_scaling():
    request = RenderRequest(PNG, region=Region(0.5, 0.0, 1.0, 0.5), window=Window(2048, 4096))
    image = np.asarray(decoded(render(array_source(RAMP), request)))
    assert image.shape == (32, 64)
    full = np.asarray(decoded(render(array_source(RAMP), RenderRequest(
        PNG, window=Window(2048, 4096)))))
    assert np.array_equal(image, full[:32, 64:])


def test_animated_gif_has_every_frame():
    frames = [np.zeros((4, 4), np.uint8) for _ in range(3)]
    for number, frame in enumerate(frames):
        frame[number, number] = 10  # min/max window: that pixel white, the rest black
    image = decoded(render(array_source(frames, FrameTime=40), RenderRequest(GIF)))
    assert image.format == "GIF" and image.n_frames == 3
    assert image.info["duration"] == 40
    image.seek(2)
    shown = np.asarray(image.convert("L"))
    assert shown[2, 2] == 255 and shown.sum() == 255


def test_one_frame_by_number():
    frames = [np.array([[0, 10]], np.uint8), np.array([[10, 0]], np.uint8)]
    image = decoded(render(array_source(frames), RenderRequest(PNG, frame=2)))
    assert np.asarray(image).tolist() == [[255, 0]]


def _group(**keywords) -> Dataset:
    item = Dataset()
    for keyword, value in keywords.items():
        setattr(item, keyword, value)
    return item


def test_per_frame_functional_groups_choose_rescale_and_window():
    frames = [np.array([[0, 100]], np.uint16)] * 2
    shared = _group(PixelValueTransformationSequence=[_group(
        RescaleSlope=1, RescaleIntercept=0, RescaleType="US")])
    second = _group(FrameVOILUTSequence=[_group(WindowCenter=100.5, WindowWidth=2)],
                    PixelValueTransformationSequence=[_group(
                        RescaleSlope=1, RescaleIntercept=50, RescaleType="US")])
    source = array_source(frames, SharedFunctionalGroupsSequence=[shared],
                          PerFrameFunctionalGroupsSequence=[_group(), second],
                          WindowCenter=0.5, WindowWidth=2)
    first = np.asarray(decoded(render(source, RenderRequest(PNG, frame=1))))
    other = np.asarray(decoded(render(source, RenderRequest(PNG, frame=2))))
    assert first.tolist() == [[128, 255]]  # top-level window, no rescale
    assert other.tolist() == [[0, 255]]    # 50 and 150 through its own window 100.5/2


def test_annotation_writes_text_in_the_corners():
    frame = np.zeros((256, 256), np.uint8)
    source = array_source(frame, PatientName="Doe^Jane", PatientID="P1", Modality="CT",
                          StudyDate="20240102")
    plain = np.asarray(decoded(render(source, RenderRequest(PNG))))
    marked = np.asarray(decoded(render(source, RenderRequest(
        PNG, annotations=("patient", "technique")))))
    changed = marked != plain
    assert changed[:40, :128].any() and changed[-40:, :128].any()
    assert not changed[100:150, 150:].any()


@pytest.mark.parametrize(("request_", "error", "message"), [
    (RenderRequest(PNG, viewport_width=9000), RenderParameterError, "8192"),
    (RenderRequest(PNG, viewport_height=0), RenderParameterError, "viewport"),
    (RenderRequest(JPEG, quality=101), RenderParameterError, "quality"),
    (RenderRequest(PNG, frame=3), RenderParameterError, "frame 3"),
    (RenderRequest(PNG, frame=0), RenderParameterError, "frame 0"),
    (RenderRequest(JPEG, bits=16), RenderParameterError, "16-bit"),
    (RenderRequest(PNG, annotations=("weather",)), RenderParameterError, "weather"),
    (RenderRequest("image/jp2"), NotRenderableError, "image/jp2"),
])
def test_impossible_requests_are_refused(request_, error, message):
    with pytest.raises(error, match=message):
        render(array_source([RAMP, RAMP]), request_)


@pytest.mark.parametrize("values", [(-0.1, 0, 1, 1), (0, 0, 1.5, 1), (0.5, 0, 0.5, 1),
                                    (0, 0.7, 1, 0.2)])
def test_regions_outside_0_to_1_or_empty_are_refused(values):
    with pytest.raises(RenderParameterError, match="region"):
        Region(*values)


def test_object_without_pixel_data_is_not_renderable():
    source = array_source(RAMP)
    del source.attributes["7FE00010"]
    with pytest.raises(NotRenderableError, match="no pixel data"):
        render(source, RenderRequest())


def test_frame_of_the_wrong_shape_is_not_renderable():
    source = array_source(RAMP, "RGB")
    with pytest.raises(NotRenderableError, match="shape"):
        render(source, RenderRequest())


def test_one_bit_frame_from_native_bytes_renders_black_and_white():
    source = array_source(np.zeros((2, 8), np.uint8), bits_stored=1)
    source.attributes["00280100"]["Value"] = [1]  # Bits Allocated 1
    pixels = pixel_description(source.attributes)
    frame = native_frame(bytes([0b10000001, 0b01111110]), pixels)
    one_bit = SourceImage(source.attributes, lambda number: frame)
    image = np.asarray(decoded(render(one_bit, RenderRequest(PNG))))
    assert image.tolist() == [[255, 0, 0, 0, 0, 0, 0, 255], [0, 255, 255, 255, 255, 255, 255, 0]]
