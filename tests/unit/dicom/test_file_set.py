"""File IDs of PS3.10 §8.2: at most 8 components of 1-8 characters A-Z, 0-9 and _."""

from __future__ import annotations

import pytest

from hounsfield.dicom import file_set
from hounsfield.dicom.file_set import file_ids, is_file_id, uid_hash


@pytest.mark.parametrize(("components", "valid"), [
    (("DICOM", "0A1B2C3D"), True),
    (("DICOMDIR",), True),
    (("A",) * 8, True),
    (("A",) * 9, False),  # more than 8 components
    (("dicom",), False),  # lower case
    (("ABCDEFGHI",), False),  # 9 characters
    (("A.DCM",), False),  # no extensions
    ((), False),
    (("",), False),
])
def test_file_id_rules(components: tuple[str, ...], valid: bool) -> None:
    assert is_file_id(components) is valid


def test_uid_hash_is_the_java_string_hash() -> None:
    assert uid_hash("") == 0
    assert uid_hash("a") == 97
    assert uid_hash("1.2") == (31 * (31 * ord("1") + ord(".")) + ord("2"))
    assert uid_hash("1.2.840.10008.1.2.1" * 4) < 1 << 32


def test_file_ids_share_study_and_series_components() -> None:
    ids = file_ids([("1.2", "1.2.3", "1.2.3.4"), ("1.2", "1.2.3", "1.2.3.5"),
                    ("1.2", "1.2.6", "1.2.6.1")])
    assert all(is_file_id(i) and len(i) == 4 and i[0] == "DICOM" for i in ids)
    assert ids[0][:3] == ids[1][:3] and ids[0][3] != ids[1][3]
    assert ids[2][1] == ids[0][1] and ids[2][2] != ids[0][2]
    assert ids[0][1] == f"{uid_hash('1.2'):08X}"
    assert file_ids([("1.2", "1.2.3", "1.2.3.4")]) == ids[:1]  # the same name every time


def test_colliding_hashes_take_the_next_free_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_set, "uid_hash", lambda uid: 0xFFFFFFFF)
    ids = file_ids([("1", "2", "3"), ("1", "2", "4"), ("1", "2", "5"), ("1", "2", "3")])
    assert [i[3] for i in ids] == ["FFFFFFFF", "00000000", "00000001", "FFFFFFFF"]
