"""Encapsulated documents (PS3.3 §C.24.2 Encapsulated Document Module) as bulk data.

The document is the value of Encapsulated Document (0042,0011); its media type follows
from the SOP class (PS3.4 Annex B.5: Encapsulated PDF, CDA, STL, OBJ, MTL Storage) and is
how DICOMweb offers it as bulk data (PS3.18 §8.7.3.3, Table 8.7.3-4's document rows;
dcm4chee-arc-light answers the same way): application/pdf, text/xml, model/stl, ...
"""

from __future__ import annotations

ENCAPSULATED_DOCUMENT = "00420011"  # its key in the bulk data table (a tag path)

_MEDIA_TYPES = {
    "1.2.840.10008.5.1.4.1.1.104.1": "application/pdf",  # Encapsulated PDF Storage
    "1.2.840.10008.5.1.4.1.1.104.2": "text/xml",  # Encapsulated CDA Storage (HL7 CDA)
    "1.2.840.10008.5.1.4.1.1.104.3": "model/stl",  # Encapsulated STL Storage
    "1.2.840.10008.5.1.4.1.1.104.4": "model/obj",  # Encapsulated OBJ Storage
    "1.2.840.10008.5.1.4.1.1.104.5": "model/mtl",  # Encapsulated MTL Storage
}


def document_media_type(sop_class: str) -> str | None:
    """The media type of the Encapsulated Document of an instance of `sop_class`, or
    None when the class is not an encapsulated document."""
    return _MEDIA_TYPES.get(sop_class.strip("\0 "))
