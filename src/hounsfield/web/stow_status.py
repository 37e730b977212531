"""The HTTP status of a STOW-RS response: a pure function of the per-instance outcomes.

PS3.18 §10.5.3: 200 when every instance was stored without warnings; 202 when some were
stored and others failed or carry warnings; 409 when none was stored. When none was
stored because the archive's storage is unavailable, 503 tells the client to retry.
"""

from __future__ import annotations

from collections.abc import Sequence

from hounsfield.archive.record import StoreOutcome
from hounsfield.dicom import status

OK, ACCEPTED, BAD_REQUEST, CONFLICT, UNAVAILABLE = 200, 202, 400, 409, 503


def stow_http_status(outcomes: Sequence[StoreOutcome]) -> int:
    if not outcomes:
        return BAD_REQUEST
    stored = [o for o in outcomes if o.stored]
    if not stored:
        unavailable = all(o.failure_reason == status.OUT_OF_RESOURCES for o in outcomes)
        return UNAVAILABLE if unavailable else CONFLICT
    if len(stored) < len(outcomes) or any(o.warnings for o in stored):
        return ACCEPTED
    return OK
