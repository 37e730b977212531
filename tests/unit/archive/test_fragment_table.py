"""Which stored instances keep the place of every pixel data fragment in their bulk data
table: videos (their stream is all fragments) and encapsulated images whose frames could
not be located; not images with a frame table (a slide has tens of thousands)."""

from __future__ import annotations

import orjson
from helpers.data_files import pydicom_test_file
from helpers.dicom_files import spool, video_instance

from hounsfield.archive.instance_file import describe_file
from hounsfield.archive.retrieve import FRAGMENTS


def test_a_video_keeps_its_fragments(tmp_path) -> None:
    data, stream = video_instance("2.25.1", fragments=3)
    record = describe_file(spool(data, tmp_path), bulk_data_threshold=1024)
    fragments = orjson.loads(record.bulk_data_json)[FRAGMENTS]
    assert len(fragments) == 3 and sum(length for _, length in fragments) >= len(stream)


def test_a_multi_frame_jpeg_image_keeps_its_frame_table_only(tmp_path) -> None:
    path = pydicom_test_file("color3d_jpeg_baseline.dcm")  # 120 frames, one fragment each
    record = describe_file(spool(path.read_bytes(), tmp_path), bulk_data_threshold=1024)
    assert record.frames_json is not None and len(orjson.loads(record.frames_json)) == 120
    assert FRAGMENTS not in orjson.loads(record.bulk_data_json)
