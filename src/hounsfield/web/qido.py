"""QIDO-RS: Search Transaction (PS3.18 §10.6), one endpoint per resource level.

GET {rs}/studies, {rs}/series, {rs}/instances, {rs}/studies/{study}/series,
{rs}/studies/{study}/instances and {rs}/studies/{study}/series/{series}/instances.
The query string is parsed into a SearchQuery (dicom.query), the archive runs it in a
worker thread, and the matches are written in the negotiated media type.
"""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.dicom.levels import Level
from hounsfield.dicom.query import parse_search
from hounsfield.web.context import ae_title, rs_base_url, services, uid_param
from hounsfield.web.negotiation import negotiate
from hounsfield.web.qido_response import OFFERS, qido_response


async def search_for_studies(request: Request) -> Response:
    return await _search(request, Level.STUDY)


async def search_for_series(request: Request) -> Response:
    return await _search(request, Level.SERIES)


async def search_for_instances(request: Request) -> Response:
    return await _search(request, Level.INSTANCE)


async def _search(request: Request, level: Level) -> Response:
    aet = ae_title(request)
    base_url = rs_base_url(request)
    study = uid_param(request, "study", "StudyInstanceUID")
    series = uid_param(request, "series", "SeriesInstanceUID")
    media_type = negotiate(_accept(request), OFFERS)
    query = parse_search(level, request.query_params.multi_items(), study=study,
                         series=series)
    archive = services(request).archive
    result = await anyio.to_thread.run_sync(lambda: archive.search(query, base_url, aet))
    return qido_response(result, media_type, base_url, request.headers.get("accept-encoding"))


def _accept(request: Request) -> str | None:
    """The Accept query parameter (PS3.18 §8.3.3.1) wins over the header."""
    return request.query_params.get("accept") or request.headers.get("accept")
