"""De-identification of a returned object: PS3.15 Annex E, Basic Application Level
Confidentiality Profile (E.1-1), as WADO-URI `anonymize=yes` asks (PS3.18 §8.1.7).

`Deidentifier(secret).apply(dataset)` changes a pydicom Dataset in place:
- each attribute listed in Table E.1-1 (`confidentiality_profile`) gets its action:
  X removed; Z emptied (a sequence: no items); D a dummy value of its VR; K kept;
  U each UID replaced; combined codes are read as `confidentiality_profile.RESOLVED`
  says (X/Z -> Z, X/D, Z/D and X/Z/D -> D, X/Z/U* -> the sequence kept, its items
  de-identified, so that references keep pointing at the replaced UIDs);
- private attributes (odd groups, private creators included) are removed;
- an attribute of VR UI that the table does not list (e.g. Referenced Frame of Reference
  UID in a macro) is replaced too, unless its value is a UID the standard defines
  (root 1.2.840.10008: SOP classes, transfer syntaxes, coding schemes), as dcm4che does;
- other attributes are kept, sequences recursed item by item;
- Patient Identity Removed (0012,0062) YES, De-identification Method (0012,0063) and its
  Code Sequence (0012,0064) with (113100, DCM, "Basic Application Confidentiality
  Profile") are set, and the File Meta Information follows the new SOP Instance UID.

A new UID is "2.25." and the decimal of the first 128 bits of HMAC-SHA-256(secret,
original UID): the same original UID gives the same new UID for one secret (one
response: study, series, instance and references agree), different secrets give
unrelated UIDs, and the original cannot be recovered without the secret.

Pixel data are left as they are: the Basic Profile does not clean burned-in text
(Burned In Annotation (0028,0301) YES tells such images; the Clean Pixel Data Option is
not offered). The options of Table E.1-1 (retain dates, device identity, ...) are not
offered either; free text inside kept sequences (D) is de-identified only as far as the
table lists its attributes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from collections.abc import Callable

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from hounsfield.dicom.confidentiality_profile import resolve, row_for

STANDARD_UID_ROOT = "1.2.840.10008."
METHOD = "Basic Application Confidentiality Profile"
METHOD_CODE = ("113100", "DCM", METHOD)  # PS3.16 CID 7050
DUMMY_TEXT = "ANONYMIZED"
DUMMIES = {  # VR -> dummy value (PS3.15 E.1.1: a value consistent with the VR)
    "DA": "19000101", "TM": "000000", "DT": "19000101000000", "PN": DUMMY_TEXT,
    "AS": "000D", "IS": "0", "DS": "0", "AE": DUMMY_TEXT, "CS": DUMMY_TEXT,
    "LO": DUMMY_TEXT, "SH": DUMMY_TEXT, "LT": DUMMY_TEXT, "ST": DUMMY_TEXT,
    "UT": DUMMY_TEXT, "UC": DUMMY_TEXT, "UR": "", "US": 0, "SS": 0, "UL": 0, "SL": 0,
    "FL": 0.0, "FD": 0.0, "UV": 0, "SV": 0,
}


TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH",
                      "ST", "TM", "UC", "UI", "UR", "UT"})


class UidMapper:
    """Original UID -> new UID, one-to-one and repeatable for one secret."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def __call__(self, uid: str) -> str:
        digest = hmac.new(self.secret, uid.strip().encode(), hashlib.sha256).digest()
        return "2.25." + str(int.from_bytes(digest[:16], "big"))


class Deidentifier:
    """Applies the Basic Profile; one instance (one secret) per response."""

    def __init__(self, secret: bytes | None = None):
        self.new_uid: Callable[[str], str] = UidMapper(secret or secrets.token_bytes(32))

    def apply(self, dataset: Dataset) -> Dataset:
        """De-identify `dataset` in place (and its File Meta Information); return it."""
        self._clean(dataset)
        _mark(dataset)
        meta = getattr(dataset, "file_meta", None)
        if meta is not None and "SOPInstanceUID" in dataset:
            meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        return dataset

    def _clean(self, dataset: Dataset) -> None:
        for tag in list(dataset.keys()):
            element = dataset[tag]
            if element.tag.is_private:
                del dataset[tag]
                continue
            row = row_for(int(element.tag))
            if row is None:
                self._unlisted(element)
            else:
                self._act(dataset, element, resolve(row.code))

    def _unlisted(self, element: DataElement) -> None:
        if element.VR == "SQ":
            self._items(element)
        elif element.VR == "UI":
            self._replace_uids(element, keep_standard=True)

    def _act(self, dataset: Dataset, element: DataElement, action: str) -> None:
        if action == "X":
            del dataset[element.tag]
        elif action == "Z":
            element.value = _empty(element.VR)
        elif action == "D":
            self._dummy(element)
        elif action == "U":
            self._replace_uids(element, keep_standard=False)
        elif action in ("U*", "K") and element.VR == "SQ":
            self._items(element)

    def _dummy(self, element: DataElement) -> None:
        if element.VR == "SQ":
            self._items(element)
        elif element.VR == "UI":
            self._replace_uids(element, keep_standard=False)
        elif element.value not in (None, "", b""):
            element.value = DUMMIES.get(element.VR)

    def _items(self, element: DataElement) -> None:
        for item in element.value or ():
            self._clean(item)

    def _replace_uids(self, element: DataElement, keep_standard: bool) -> None:
        if element.VR != "UI" or element.value in (None, ""):
            return
        values = element.value if element.VM > 1 else [element.value]
        new = [v if keep_standard and str(v).startswith(STANDARD_UID_ROOT)
               else self.new_uid(str(v)) for v in values]
        element.value = new if element.VM > 1 else new[0]


def deidentified_part10(part10: bytes, secret: bytes | None = None) -> bytes:
    """A Part 10 file de-identified by one `Deidentifier` (a new secret unless given),
    written again as a Part 10 file in its own transfer syntax (PS3.10 §7.1)."""
    dataset = pydicom.dcmread(io.BytesIO(part10), force=True)
    Deidentifier(secret).apply(dataset)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _empty(vr: str) -> object:
    if vr == "SQ":
        return Sequence()
    return "" if vr in TEXT_VRS else None


def _mark(dataset: Dataset) -> None:
    """PS3.15 E.1.1: tell that the object was de-identified, and how."""
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = METHOD
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = METHOD_CODE
    dataset.DeidentificationMethodCodeSequence = Sequence([code])
