"""DICOM status codes used by the storage services, as named constants.

Values from PS3.4 Annex B.2.3 (Storage Service Class statuses), PS3.7 Annex C
(general statuses) and PS3.18 §10.5.3 (STOW-RS FailureReason / WarningReason).
"""

from __future__ import annotations

# PS3.4 Table B.2-1 — failures
OUT_OF_RESOURCES = 0xA700
DATA_SET_DOES_NOT_MATCH_SOP_CLASS = 0xA900
CANNOT_UNDERSTAND = 0xC000
# PS3.7 Table C-... general failures
PROCESSING_FAILURE = 0x0110
DUPLICATE_SOP_INSTANCE = 0x0111
SOP_CLASS_NOT_SUPPORTED = 0x0122
# PS3.18 Table 10.5.3-2 (STOW-RS failure reasons)
TRANSFER_SYNTAX_NOT_SUPPORTED = 0xC122
# Failure reasons PS3.18 leaves to the implementation; the values dcm4chee-arc-light uses
STUDY_INSTANCE_UID_MISMATCH = 0xC409
METADATA_NOT_PARSEABLE = 0xC901
MISSING_BULK_DATA = 0xC902

# PS3.4 Table B.2-1 — warnings
COERCION_OF_DATA_ELEMENTS = 0xB000
ELEMENTS_DISCARDED = 0xB006
DATA_SET_DOES_NOT_MATCH_SOP_CLASS_WARNING = 0xB007
