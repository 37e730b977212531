"""What a request handler needs from the application: the archive, the AE title, URLs."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
from starlette.requests import Request

from hounsfield.archive.archive import Archive
from hounsfield.config import Settings
from hounsfield.dicom.uid import validate_uid
from hounsfield.errors import UnknownAETitleError


@dataclass
class Services:
    settings: Settings
    archive: Archive
    store_limiter: anyio.CapacityLimiter  # bounds the threads that parse and store


def services(request: Request) -> Services:
    return request.app.state.services


def ae_title(request: Request) -> str:
    """The AE title of the URL; 404 unless the archive serves it."""
    aet = request.path_params["aet"]
    if aet not in services(request).settings.ae_titles:
        raise UnknownAETitleError(f"no such AE title: {aet}")
    return aet


def rs_base_url(request: Request) -> str:
    """The DICOMweb root of this request's AE title: {scheme}://{host}{context}/aets/{aet}/rs."""
    context = services(request).settings.context_path
    return f"{request.url.scheme}://{request.url.netloc}{context}/aets/{ae_title(request)}/rs"


def uid_param(request: Request, name: str, label: str) -> str | None:
    value = request.path_params.get(name)
    return None if value is None else validate_uid(value, label)
