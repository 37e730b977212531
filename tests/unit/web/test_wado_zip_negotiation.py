"""Which Accept values ask for application/zip (Supplement 211), and the Part 10
choices they stand for."""

from __future__ import annotations

import pytest

from hounsfield.web.wado_negotiation import DICOM, Choice, accepted, prefers_zip, zip_choices


@pytest.mark.parametrize(("accept", "preferred", "syntaxes"), [
    ("application/zip", True, [None]),
    ("application/zip; transfer-syntax=*", True, ["*"]),
    ("application/zip; transfer-syntax=1.2.840.10008.1.2.4.50, application/zip; q=0.5",
     True, ["1.2.840.10008.1.2.4.50", None]),
    ("application/dicom, application/zip; q=0.5", False, [None]),
    ('multipart/related; type="application/dicom"', False, []),
    ("application/zip; q=0", False, []),
    ("*/*", False, []),
    (None, False, []),
])
def test_zip_ranges(accept: str | None, preferred: bool, syntaxes: list[str | None]) -> None:
    choices = accepted(accept)
    assert prefers_zip(choices) is preferred
    assert zip_choices(choices) == [Choice(True, DICOM, s) for s in syntaxes]
