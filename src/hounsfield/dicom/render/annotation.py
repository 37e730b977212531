"""Burned-in annotation text (PS3.18 §8.3.5.1.5, `annotation=patient,technique`).

The standard leaves the content to the origin server. `patient` writes the patient's
name, ID, birth date and sex in the top-left corner; `technique` writes the modality,
study date, series description, frame number and the window used (or the VOI LUT) in
the bottom-left corner. Text is white with a black outline, so that it reads on any
image, in Pillow's built-in font scaled to the image height (at least 10 pixels).
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from hounsfield.dicom.render.frame_attributes import FrameAttributes
from hounsfield.dicom.render.voi import VoiTransform, Window
from hounsfield.errors import RenderParameterError

ANNOTATIONS = ("patient", "technique")


def check_annotations(names: Sequence[str]) -> None:
    for name in names:
        if name not in ANNOTATIONS:
            raise RenderParameterError(
                f"annotation {name!r} is not one of {', '.join(ANNOTATIONS)}")


def patient_lines(attributes: FrameAttributes) -> list[str]:
    name = attributes.value("PatientName")
    alphabetic = name.get("Alphabetic", "") if isinstance(name, dict) else str(name or "")
    lines = [alphabetic.replace("^", " ").strip(), attributes.text("PatientID"),
             " ".join(filter(None, (_date(attributes.text("PatientBirthDate")),
                                    attributes.text("PatientSex"))))]
    return [line for line in lines if line]


def technique_lines(attributes: FrameAttributes, voi: VoiTransform | None,
                    frame: int, frames: int, deidentified: bool = False) -> list[str]:
    """Modality, study date, series description, frame and window; `deidentified`: only
    what the Basic Profile keeps (PS3.15 E.1-1 removes dates and descriptions)."""
    date = "" if deidentified else _date(attributes.text("StudyDate"))
    lines = [" ".join(filter(None, (attributes.text("Modality"), date))),
             "" if deidentified else attributes.text("SeriesDescription")]
    if frames > 1:
        lines.append(f"Frame {frame}/{frames}")
    if isinstance(voi, Window):
        lines.append(f"W {voi.width:g} C {voi.center:g}")
    elif voi is not None:
        lines.append("VOI LUT")
    return [line for line in lines if line]


def annotate(image: Image.Image, top_left: list[str], bottom_left: list[str]) -> Image.Image:
    """`image` with the lines written on it (a copy; mode kept, I;16 drawn via I)."""
    if not top_left and not bottom_left:
        return image
    wide = image.mode == "I;16"
    canvas = image.convert("I") if wide else image.copy()
    white, black = _colours(canvas.mode)
    draw = ImageDraw.Draw(canvas)
    size = max(10, image.height // 40)
    font = ImageFont.load_default(size)
    margin, step = max(2, size // 3), size + max(2, size // 4)
    for i, line in enumerate(top_left):
        draw.text((margin, margin + i * step), line, white, font, stroke_width=1,
                  stroke_fill=black)
    bottom = image.height - margin - step * len(bottom_left)
    for i, line in enumerate(bottom_left):
        draw.text((margin, bottom + i * step), line, white, font, stroke_width=1,
                  stroke_fill=black)
    return canvas.convert("I;16") if wide else canvas


def _colours(mode: str) -> tuple[int | tuple[int, ...], int | tuple[int, ...]]:
    if mode == "RGB":
        return (255, 255, 255), (0, 0, 0)
    return (65535 if mode == "I" else 255), 0


def _date(value: str) -> str:
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value
