"""Which representation each bulk data part takes, and when a retrieve asks for bulk data
(PS3.18 §8.7.3, §10.4.1.1.5; dcm4chee-arc-light's choice of bulk data for study, series
and instance URLs whose Accept names no application/dicom)."""

from __future__ import annotations

import pytest

from hounsfield.web.bulk_negotiation import BulkRepresentation, multipart_pick
from hounsfield.web.wado_bulkdata import asks_for_bulk_data
from hounsfield.web.wado_negotiation import accepted

OCTETS = BulkRepresentation("application/octet-stream", "1.2.840.10008.1.2.1")
JPEG = BulkRepresentation("image/jpeg", "1.2.840.10008.1.2.4.50")
PDF = BulkRepresentation("application/pdf", "")


@pytest.mark.parametrize("accept, bulk", [
    (None, False), ("*/*", False), ("multipart/related", False),
    ('multipart/related; type="application/dicom"', False),
    ('multipart/related; type="application/octet-stream"', True),
    ('multipart/related; type="image/jpeg"', True),
    ('multipart/related; type="video/*"', True),
    ('multipart/related; type="application/*"', False),
    ('multipart/related; type="image/jpeg", multipart/related; type="application/dicom"; q=0.1',
     False),
    ("application/octet-stream", False),  # single part: not a bulk data set
    ("image/jpeg", False),
])
def test_a_retrieve_asks_for_bulk_data(accept: str | None, bulk: bool) -> None:
    assert asks_for_bulk_data(accepted(accept)) is bulk


@pytest.mark.parametrize("accept, offered, picked", [
    ('multipart/related; type="application/octet-stream"', (OCTETS,), OCTETS),
    ('multipart/related; type="application/octet-stream"', (JPEG,), None),
    ('multipart/related; type="image/jpeg"', (JPEG,), JPEG),
    ('multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.70',
     (JPEG,), None),
    ("*/*", (PDF, OCTETS), PDF),
    ('multipart/related; type="application/octet-stream"', (PDF, OCTETS), OCTETS),
    ('multipart/related; type="application/octet-stream"; q=0.5, '
     'multipart/related; type="application/pdf"', (PDF, OCTETS), PDF),
    ('multipart/related; type="application/pdf"; q=0.5, '
     'multipart/related; type="application/octet-stream"', (PDF, OCTETS), OCTETS),
    ("application/pdf", (PDF, OCTETS), None),  # only multipart ranges count
    ('multipart/related; type="application/octet-stream"; q=0', (OCTETS,), None),
])
def test_each_part_takes_the_clients_preferred_representation(
        accept: str, offered: tuple[BulkRepresentation, ...],
        picked: BulkRepresentation | None) -> None:
    assert multipart_pick(accepted(accept), offered) == picked


def test_a_document_has_no_transfer_syntax_parameter() -> None:
    assert PDF.content_type == "application/pdf"
    assert JPEG.content_type == "image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50"
