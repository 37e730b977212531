"""The renderer of rendered resources (PS3.18 §8.3.5.1): pixels and attributes in, image
bytes out, without I/O; see `renderer` for the input contract."""

from hounsfield.dicom.render.image_encoding import GIF, JPEG, PNG, Region
from hounsfield.dicom.render.pixel_description import native_frame, pixel_description
from hounsfield.dicom.render.renderer import RenderRequest, SourceImage, render
from hounsfield.dicom.render.voi import Window

__all__ = ["GIF", "JPEG", "PNG", "Region", "RenderRequest", "SourceImage", "Window",
           "native_frame", "pixel_description", "render"]
