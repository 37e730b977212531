"""PS3.18 §10.5.3: the STOW-RS status over every combination of instance outcomes."""

import itertools

import pytest

from hounsfield.archive.record import Disposition, StoreOutcome
from hounsfield.dicom import status
from hounsfield.web.stow_status import stow_http_status

STORED = StoreOutcome(Disposition.STORED)
ALREADY = StoreOutcome(Disposition.ALREADY_STORED)
REPLACED = StoreOutcome(Disposition.REPLACED)
WARNED = StoreOutcome(Disposition.STORED, warnings=((status.COERCION_OF_DATA_ELEMENTS, "x"),))
FAILED = StoreOutcome(Disposition.FAILED, failure_reason=status.CANNOT_UNDERSTAND)
NO_ROOM = StoreOutcome(Disposition.FAILED, failure_reason=status.OUT_OF_RESOURCES)
KINDS = [STORED, ALREADY, REPLACED, WARNED, FAILED, NO_ROOM]


def expected(outcomes):
    if not outcomes:
        return 400
    ok = [o for o in outcomes if o.disposition is not Disposition.FAILED]
    if not ok:
        return 503 if all(o is NO_ROOM for o in outcomes) else 409
    return 202 if len(ok) < len(outcomes) or WARNED in ok else 200


@pytest.mark.parametrize("outcomes", [
    list(c) for n in range(4) for c in itertools.combinations_with_replacement(KINDS, n)])
def test_every_combination(outcomes) -> None:
    assert stow_http_status(outcomes) == expected(outcomes)


@pytest.mark.parametrize(("outcomes", "code"), [
    ([STORED], 200), ([STORED, ALREADY], 200), ([STORED, FAILED], 202), ([WARNED], 202),
    ([FAILED], 409), ([FAILED, NO_ROOM], 409), ([NO_ROOM], 503), ([], 400),
])
def test_table(outcomes, code) -> None:
    assert stow_http_status(outcomes) == code
