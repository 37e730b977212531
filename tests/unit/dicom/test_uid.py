import pytest

from hounsfield.dicom.uid import is_valid_uid, validate_uid
from hounsfield.errors import InvalidUIDError


@pytest.mark.parametrize("uid", [
    "1.2.840.10008.1.2.1",  # PS3.6 Explicit VR Little Endian
    "0", "2.25.299595085805972591470156706746122302336", "1." + "2" * 62,
])
def test_valid_uids(uid: str) -> None:
    assert is_valid_uid(uid) and validate_uid(uid) == uid


@pytest.mark.parametrize("uid", [
    "", "1..2", ".1.2", "1.2.", "1.02", "01.2", "1.2a", "1.2/3", "../etc", "1.2 ", "1." + "2" * 63,
    "1.2%", "1.2_3", None, 12,
])
def test_invalid_uids(uid: object) -> None:
    assert not is_valid_uid(uid)
    with pytest.raises(InvalidUIDError, match="not a valid UID"):
        validate_uid(uid, "StudyInstanceUID")
