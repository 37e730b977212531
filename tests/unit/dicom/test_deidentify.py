"""The Basic Application Level Confidentiality Profile (PS3.15 E.1-1) applied to real and
generated objects: each action code, private attributes, consistent new UIDs, the marks
of de-identification, pixels unchanged, and the result still a valid Part 10 file."""

from __future__ import annotations

import io

import pydicom
import pytest
from helpers.data_files import pydicom_test_file
from pydicom.datadict import dictionary_description
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from hounsfield.dicom.confidentiality_profile import BASIC_PROFILE, resolve, row_for
from hounsfield.dicom.deidentify import STANDARD_UID_ROOT, Deidentifier, UidMapper
from hounsfield.dicom.uid import is_valid_uid

STUDY, SERIES, INSTANCE = "1.2.3.100", "1.2.3.100.1", "1.2.3.100.1.1"
FRAME_OF_REFERENCE = "1.2.3.100.9"


def item(**attributes) -> Dataset:
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def generated() -> Dataset:
    ds = item(SOPClassUID=CTImageStorage, SOPInstanceUID=INSTANCE, StudyInstanceUID=STUDY,
              SeriesInstanceUID=SERIES, FrameOfReferenceUID=FRAME_OF_REFERENCE,
              PatientName="Doe^Jane", PatientID="MRN-77", PatientBirthDate="19700101",
              PatientSex="F", PatientAge="054Y", OtherPatientIDs="X-1",
              AccessionNumber="ACC9", StudyDate="20240102", StudyTime="101010",
              ContentDate="20240102", SeriesDate="20240102", AcquisitionDate="20240102",
              InstitutionName="General Hospital", StationName="CT01",
              StudyDescription="CT chest for Jane", Modality="CT", Rows=2, Columns=2,
              ProtocolName="Chest", BurnedInAnnotation="NO", InstanceNumber=1)
    ds.ReferencedImageSequence = Sequence([item(ReferencedSOPClassUID=CTImageStorage,
                                                ReferencedSOPInstanceUID="1.2.3.100.1.2")])
    ds.SourceImageSequence = Sequence([item(ReferencedSOPClassUID=CTImageStorage,
                                            ReferencedSOPInstanceUID=INSTANCE)])
    ds.ReferencedStudySequence = Sequence([item(ReferencedSOPInstanceUID=STUDY)])
    ds.RequestAttributesSequence = Sequence([item(RequestedProcedureID="RP1")])
    ds.ReferencedSeriesSequence = Sequence([item(
        SeriesInstanceUID=SERIES, ReferencedInstanceSequence=Sequence([item(
            ReferencedSOPClassUID=CTImageStorage, ReferencedSOPInstanceUID=INSTANCE)]))])
    inner = item(PatientName="Doe^Jane", ValueType="TEXT", TextValue="report")
    inner.add_new(0x00111010, "LO", "CREATOR")
    ds.ContentSequence = Sequence([item(PersonName="Roe^Rick", UID="1.2.3.7",
                                        ContentSequence=Sequence([inner]))])
    ds.add_new(0x00091010, "LO", "PRIVATE CREATOR")
    ds.add_new(0x00091011, "LO", "patient's secret")
    ds.add_new(0x60003000, "OW", b"\x00\x01")
    ds.add_new(0x50000010, "US", 1)
    ds.PixelData = b"\x01\x02\x03\x04\x05\x06\x07\x08"
    return ds


@pytest.fixture
def done() -> Dataset:
    return Deidentifier(b"secret").apply(generated())


def new_uid(uid: str) -> str:
    return UidMapper(b"secret")(uid)


def test_identity_is_emptied_or_removed(done):
    assert done.PatientName == "" and done.PatientID == "" and done.PatientBirthDate == ""
    assert done.PatientSex == "" and done.AccessionNumber == "" and done.StudyDate == ""
    for keyword in ("PatientAge", "OtherPatientIDs", "StudyDescription"):
        assert keyword not in done


def test_combined_codes_keep_the_object_valid(done):
    assert done.AcquisitionDate == ""  # X/Z -> Z
    assert done.ContentDate == "19000101" and done.SeriesDate == "19000101"  # Z/D, X/D
    assert done.InstitutionName == "ANONYMIZED" and done.StationName == "ANONYMIZED"
    assert done.ProtocolName == "ANONYMIZED"
    assert done.ReferencedStudySequence == Sequence()  # X/Z on a sequence


def test_uids_are_replaced_consistently_with_references(done):
    assert done.StudyInstanceUID == new_uid(STUDY)
    assert done.SeriesInstanceUID == new_uid(SERIES)
    assert done.SOPInstanceUID == new_uid(INSTANCE)
    assert done.FrameOfReferenceUID == new_uid(FRAME_OF_REFERENCE)
    assert done.SourceImageSequence[0].ReferencedSOPInstanceUID == new_uid(INSTANCE)
    assert (done.ReferencedImageSequence[0].ReferencedSOPInstanceUID
            == new_uid("1.2.3.100.1.2"))
    series = done.ReferencedSeriesSequence[0]  # not in the table: UI rule, recursed
    assert series.SeriesInstanceUID == new_uid(SERIES)
    assert series.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == new_uid(INSTANCE)


def test_standard_uids_are_kept(done):
    assert done.SOPClassUID == CTImageStorage
    assert done.ReferencedImageSequence[0].ReferencedSOPClassUID == CTImageStorage


def test_new_uids_are_valid_repeatable_and_depend_on_the_secret():
    uid = new_uid(INSTANCE)
    assert is_valid_uid(uid) and uid.startswith("2.25.") and uid != INSTANCE
    assert uid == new_uid(INSTANCE) != new_uid(SERIES)
    assert UidMapper(b"other")(INSTANCE) != uid
    first, second = Deidentifier(), Deidentifier()  # a fresh secret per response
    assert first.new_uid(INSTANCE) != second.new_uid(INSTANCE)


def test_private_curve_and_overlay_attributes_are_removed(done):
    assert not any(element.tag.is_private for element in done)
    assert 0x60003000 not in done and 0x50000010 not in done


def test_nested_items_are_deidentified(done):
    assert "RequestAttributesSequence" not in done  # X: the whole sequence
    content = done.ContentSequence[0]  # D on a sequence: kept, items de-identified
    assert content.PersonName == "ANONYMIZED" and new_uid("1.2.3.7") == content.UID
    inner = content.ContentSequence[0]
    assert "PatientName" not in inner or inner.PatientName == ""
    assert not any(element.tag.is_private for element in inner)


def test_marks_of_deidentification(done):
    assert done.PatientIdentityRemoved == "YES"
    assert done.DeidentificationMethod == "Basic Application Confidentiality Profile"
    code = done.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == (
        "113100", "DCM", "Basic Application Confidentiality Profile")


def test_pixels_and_image_attributes_are_kept(done):
    assert done.PixelData == b"\x01\x02\x03\x04\x05\x06\x07\x08"
    assert (done.Rows, done.Columns, done.Modality, done.InstanceNumber) == (2, 2, "CT", 1)
    assert done.BurnedInAnnotation == "NO"


def test_real_file_round_trips_as_part10_with_new_uids():
    original = pydicom.dcmread(pydicom_test_file("CT_small.dcm"))
    pixels = original.pixel_array.copy()
    ds = Deidentifier(b"k").apply(pydicom.dcmread(pydicom_test_file("CT_small.dcm")))
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    again = pydicom.dcmread(io.BytesIO(buffer.getvalue()))
    assert again.file_meta.MediaStorageSOPInstanceUID == again.SOPInstanceUID
    assert again.SOPInstanceUID == UidMapper(b"k")(original.SOPInstanceUID)
    assert again.StudyInstanceUID == UidMapper(b"k")(original.StudyInstanceUID)
    assert again.PatientName == "" and again.PatientIdentityRemoved == "YES"
    assert not any(element.tag.is_private for element in again)
    assert (again.pixel_array == pixels).all()
    for element in again.iterall():
        if element.VR == "UI" and element.value:
            assert (str(element.value).startswith(("2.25.", STANDARD_UID_ROOT))
                    or element.tag == 0x00020012), element  # Implementation Class UID


def test_file_meta_follows_the_new_instance_uid():
    ds = generated()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPInstanceUID = INSTANCE
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    Deidentifier(b"secret").apply(ds)
    assert ds.file_meta.MediaStorageSOPInstanceUID == new_uid(INSTANCE)


@pytest.mark.parametrize(("code", "action"), [
    ("X", "X"), ("Z", "Z"), ("D", "D"), ("U", "U"), ("K", "K"), ("X/Z", "Z"),
    ("X/D", "D"), ("Z/D", "D"), ("X/Z/D", "D"), ("X/Z/U*", "U*")])
def test_combined_codes_resolve(code, action):
    assert resolve(code) == action


def test_every_code_of_the_table_is_handled():
    assert {resolve(row.code) for row in BASIC_PROFILE} <= {"X", "Z", "D", "U", "K", "U*"}


@pytest.mark.parametrize(("tag", "code"), [
    (0x00100010, "Z"), (0x00100020, "Z"), (0x0020000D, "U"), (0x00080018, "U"),
    (0x00081140, "X/Z/U*"), (0x00080080, "X/Z/D"), (0x60023000, "X"), (0x601E4000, "X"),
    (0x50100000, "X"), (0xFFFAFFFA, "X"), (0x00080016, None), (0x00280010, None)])
def test_table_rows(tag, code):
    row = row_for(tag)
    assert (row.code if row else None) == code


def test_table_rows_agree_with_the_data_dictionary():
    def words(text: str) -> str:
        return "".join(c for c in text.lower() if c.isalpha())

    exact = [row for row in BASIC_PROFILE if "X" not in row.tag]
    assert len(BASIC_PROFILE) == 459 and len({row.tag for row in BASIC_PROFILE}) == 459
    for row in exact:
        assert words(dictionary_description(int(row.tag, 16))) == words(row.name), row
