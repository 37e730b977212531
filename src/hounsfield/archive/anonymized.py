"""A stored instance de-identified for one response (WADO-URI `anonymize=yes`, PS3.18
2013 §8.1.7): the stored file, transcoded when another transfer syntax is asked for, with
the Basic Application Level Confidentiality Profile applied (`dicom.deidentify`). Each
call draws a new secret, so the replaced UIDs agree within one response only. Callers
run this in worker threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hounsfield.archive.retrieve import StoredInstance
from hounsfield.archive.transcoded import transcoded_instance
from hounsfield.dicom.deidentify import deidentified_part10

if TYPE_CHECKING:
    from hounsfield.archive.archive import Archive


def anonymized_instance(archive: Archive, stored: StoredInstance, syntax: str) -> bytes:
    """The Part 10 bytes of `stored` in transfer syntax `syntax`, de-identified."""
    if syntax == stored.transfer_syntax_uid:
        with archive.open_blob(stored.blob_key) as fp:
            data = fp.read()
    else:
        data = transcoded_instance(archive, stored, syntax)
    return deidentified_part10(data)
