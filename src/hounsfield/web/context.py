"""What a request handler needs from the application: the archive, the AE title, URLs."""

from __future__ import annotations

import re
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
    """The DICOMweb root of this request's AE title: {root}{context}/aets/{aet}/rs."""
    context = services(request).settings.context_path
    return f"{public_root(request)}{context}/aets/{ae_title(request)}/rs"


def public_root(request: Request) -> str:
    """Scheme, host and path prefix under which clients reach this server.

    The configured `public_base_url` if set; otherwise what a reverse proxy says in
    X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix (first value of each, and
    only well-formed ones), falling back to the request's own scheme and Host."""
    configured = services(request).settings.public_base_url
    if configured:
        return configured
    headers = request.headers
    scheme = _forwarded(headers.get("x-forwarded-proto"), _SCHEME) or request.url.scheme
    host = _forwarded(headers.get("x-forwarded-host"), _HOST) or request.url.netloc
    prefix = _forwarded(headers.get("x-forwarded-prefix"), _PREFIX) or ""
    return f"{scheme.lower()}://{host}{prefix.rstrip('/')}"


_SCHEME = re.compile(r"https?", re.IGNORECASE)
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_PREFIX = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*/?")


def _forwarded(value: str | None, pattern: re.Pattern[str]) -> str | None:
    first = (value or "").split(",")[0].strip()
    return first if first and pattern.fullmatch(first) else None


def uid_param(request: Request, name: str, label: str) -> str | None:
    value = request.path_params.get(name)
    return None if value is None else validate_uid(value, label)
