"""A generated CT rendered through a generated Grayscale Softcopy Presentation State,
checked pixel by pixel: the state's Modality LUT, window, VOI LUT, Presentation LUT
shape and table, displayed area, flip and rotation; and states that do not apply."""

from __future__ import annotations

import io

import numpy as np
import pytest
from helpers.render_source import array_source, json_model
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from hounsfield.dicom.render import PNG, Region, RenderRequest, Window, render
from hounsfield.dicom.render.presentation_state import GSPS_SOP_CLASS, presentation_state
from hounsfield.errors import BadRequestError, PresentationStateError

SERIES, IMAGE, OTHER = "1.2.3.1", "1.2.3.1.1", "1.2.3.1.2"
CT = (np.arange(24, dtype=np.uint16).reshape(4, 6) * 80)  # 0..1840, all distinct


def item(**attributes) -> Dataset:
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def reference(uid: str = IMAGE, frames: list[int] | None = None) -> Dataset:
    ref = item(ReferencedSOPClassUID="1.2.840.10008.5.1.4.1.1.2", ReferencedSOPInstanceUID=uid)
    if frames:
        ref.ReferencedFrameNumber = frames
    return ref


def gsps(voi: list[Dataset] | None = None, images: list[Dataset] | None = None,
         **attributes) -> dict:
    ds = item(SOPClassUID=GSPS_SOP_CLASS, SOPInstanceUID="1.2.3.9.1", Modality="PR",
              RescaleSlope=1, RescaleIntercept=-1024, RescaleType="HU",
              PresentationLUTShape="IDENTITY", ImageRotation=0, ImageHorizontalFlip="N")
    ds.ReferencedSeriesSequence = Sequence([item(
        SeriesInstanceUID=SERIES,
        ReferencedImageSequence=Sequence(images or [reference()]))])
    ds.SoftcopyVOILUTSequence = Sequence(
        [item(WindowCenter=-224, WindowWidth=1000)] if voi is None else voi)
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return json_model(ds, 1 << 30)[0]


def rendered(model: dict, **request) -> np.ndarray:
    state = presentation_state(model, SERIES, IMAGE)
    source = array_source(CT, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=500,
                          WindowWidth=100)
    data = render(source, RenderRequest(PNG, presentation=state, **request))
    return np.asarray(Image.open(io.BytesIO(data)))


def windowed(center: float, width: float, intercept: float = -1024) -> np.ndarray:
    shown = Window(center, width).apply(CT.astype(np.float64) + intercept)
    return np.rint(shown * 255).astype(np.uint8)


def test_window_of_the_state_replaces_the_image_window():
    assert (rendered(gsps()) == windowed(-224, 1000)).all()


def test_inverse_presentation_lut_shape():
    assert (rendered(gsps(PresentationLUTShape="INVERSE")) == 255 - windowed(-224, 1000)
            ).all()


def test_modality_lut_of_the_state_replaces_the_image_rescale():
    assert (rendered(gsps(RescaleIntercept=0)) == windowed(-224, 1000, 0)).all()


@pytest.mark.parametrize(("rotation", "flip", "expected"), [
    (90, "N", lambda a: np.rot90(a, -1)),
    (180, "N", lambda a: a[::-1, ::-1]),
    (270, "N", lambda a: np.rot90(a, 1)),
    (0, "Y", lambda a: a[:, ::-1]),
    (90, "Y", lambda a: np.rot90(a[:, ::-1], -1)),  # flip first, then rotate clockwise
])
def test_rotation_and_flip(rotation, flip, expected):
    image = rendered(gsps(ImageRotation=rotation, ImageHorizontalFlip=flip))
    assert (image == expected(windowed(-224, 1000))).all()


def area(top_left, bottom_right, images=None) -> Dataset:
    selection = item(DisplayedAreaTopLeftHandCorner=list(top_left),
                     DisplayedAreaBottomRightHandCorner=list(bottom_right),
                     PresentationSizeMode="SCALE TO FIT")
    if images:
        selection.ReferencedImageSequence = Sequence(images)
    return selection


def test_displayed_area_selects_pixels_before_the_rotation():
    model = gsps(DisplayedAreaSelectionSequence=Sequence([area((2, 2), (4, 3))]),
                 ImageRotation=90)
    assert (rendered(model) == np.rot90(windowed(-224, 1000)[1:3, 1:4], -1)).all()


def test_displayed_area_beyond_the_image_is_black():
    model = gsps(DisplayedAreaSelectionSequence=Sequence([area((0, 1), (7, 4))]))
    image = rendered(model)
    assert image.shape == (4, 8)
    assert (image[:, 0] == 0).all() and (image[:, 7] == 0).all()
    assert (image[:, 1:7] == windowed(-224, 1000)).all()


def test_region_is_cut_from_the_presented_image():
    model = gsps(ImageHorizontalFlip="Y")
    image = rendered(model, region=Region(0, 0, 0.5, 0.5))
    assert (image == windowed(-224, 1000)[:, ::-1][:2, :3]).all()


def test_voi_and_displayed_area_of_the_item_naming_the_image():
    voi = [item(WindowCenter=0, WindowWidth=10, ReferencedImageSequence=Sequence(
               [reference(OTHER)])),
           item(WindowCenter=-524, WindowWidth=400, ReferencedImageSequence=Sequence(
               [reference(IMAGE)]))]
    areas = [area((1, 1), (2, 2), [reference(OTHER)]), area((1, 1), (6, 2))]
    model = gsps(voi, [reference(), reference(OTHER)],
                 DisplayedAreaSelectionSequence=Sequence(areas))
    assert (rendered(model) == windowed(-524, 400)[:2]).all()


def test_without_a_voi_for_the_image_its_own_window_is_used():
    assert (rendered(gsps(voi=[])) == windowed(500, 100)).all()


def test_voi_lut_table_of_the_state():
    entries = np.linspace(0, 4095, 2048).astype("<u2")  # input -1024..1023, 12 bits out
    table = item(LUTDescriptor=[2048, 0, 12], LUTData=entries.tobytes())
    model = gsps(voi=[item(VOILUTSequence=Sequence([table]))])
    model_table = model["00283110"]["Value"][0]["00283010"]["Value"][0]
    model_table["00283002"]["vr"] = "SS"
    model_table["00283002"]["Value"] = [2048, -1024, 12]
    values = np.clip(CT.astype(int) - 1024 + 1024, 0, 2047)  # index: value - first
    expected = np.rint(entries[values] / 4095 * 255).astype(np.uint8)
    assert (rendered(model) == expected).all()


def test_presentation_lut_table():
    entries = np.arange(255, -1, -1, dtype="<u2")  # 256 entries, 8 bits: inverts
    lut = item(LUTDescriptor=[256, 0, 8], LUTData=entries.tobytes())
    model = gsps(PresentationLUTSequence=Sequence([lut]))
    del model["20500020"]
    assert (rendered(model) == 255 - windowed(-224, 1000)).all()


def test_a_state_not_referencing_the_image_is_refused():
    with pytest.raises(PresentationStateError, match="does not reference object 1.2.3.1.2"):
        presentation_state(gsps(), SERIES, OTHER)
    with pytest.raises(PresentationStateError):
        presentation_state(gsps(), "1.2.3.2", IMAGE)


def test_a_state_referencing_other_frames_is_refused_for_this_frame():
    state = presentation_state(gsps(images=[reference(frames=[2])]), SERIES, IMAGE)
    assert state.frame(2) is not None
    with pytest.raises(PresentationStateError, match="frame 1"):
        state.frame(1)


def test_an_object_that_is_not_a_gsps_is_refused():
    model = gsps()
    model["00080016"]["Value"] = ["1.2.840.10008.5.1.4.1.1.11.2"]
    with pytest.raises(PresentationStateError, match="not a Grayscale") as caught:
        presentation_state(model, SERIES, IMAGE)
    assert isinstance(caught.value, BadRequestError)


def test_an_odd_rotation_is_refused():
    state = presentation_state(gsps(ImageRotation=45), SERIES, IMAGE)
    with pytest.raises(BadRequestError, match="Image Rotation 45"):
        state.frame(1)
