"""WADO-URI (PS3.18 2013 §6.2, §6.3, §8; current edition §9.4, §9.5).

GET (and HEAD) {context}/aets/{AET}/wado?requestType=WADO&studyUID=...&seriesUID=...&
objectUID=...: one object, as a DICOM Part 10 file (application/dicom, transcoded or
de-identified when asked), as a rendered image (image/jpeg, image/png, image/gif; with
windowing, size, region, frame, quality, annotation and a Grayscale Softcopy
Presentation State), or, for objects that are not images, as a report's text, an
encapsulated document or a video stream. The parameters are parsed by
`dicom.wado_uri_request`, the representation chosen by `wado_uri_content`; the object
(and its presentation state) are found in one worker-thread hop, and decoding,
rendering, transcoding and de-identification run in worker threads.
"""

from __future__ import annotations

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response

from hounsfield.archive.anonymized import anonymized_instance
from hounsfield.archive.archive import Archive
from hounsfield.archive.render_source import bulk_data_reader, render_source
from hounsfield.archive.retrieve import StoredInstance, Target
from hounsfield.dicom.render import render
from hounsfield.dicom.render.presentation_state import PresentationState, presentation_state
from hounsfield.dicom.wado_uri_request import (
    DICOM,
    RENDERING_PARAMETERS,
    WadoUriRequest,
    parse_wado_uri,
)
from hounsfield.errors import NotFoundError, PresentationStateNotFoundError
from hounsfield.web.conditional import not_modified, validators
from hounsfield.web.context import ae_title, public_root, services
from hounsfield.web.headers import dicomweb_warning_values
from hounsfield.web.rendered_objects import object_response
from hounsfield.web.wado import head
from hounsfield.web.wado_response import OutgoingInstance, instance_single
from hounsfield.web.wado_uri_content import (
    IMAGE_TYPES,
    content_type,
    text_encoding,
    transfer_syntax,
)

Found = tuple[StoredInstance, StoredInstance | None]  # the object, its presentation state


async def retrieve_object(request: Request) -> Response:
    """The WADO-URI request of PS3.18 2013 §6.2: one object in the representation that
    contentType and the other parameters ask for."""
    ae_title(request)
    params = parse_wado_uri(request.query_params.multi_items())
    found, state = await _find(request, params)
    media_type = content_type(params, found)
    notes = [f"The query parameter {name} is not supported and was ignored"
             for name in params.unknown_parameters]
    if media_type == DICOM:
        response = await _dicom(request, params, found, notes)
    elif media_type in IMAGE_TYPES:
        response = await _image(request, params, found, state, media_type)
    else:
        response = await _other(request, params, found, media_type, notes)
    return _warned(request, response, notes)


async def _find(request: Request, params: WadoUriRequest) -> Found:
    """The object, and the presentation state presentationUID names (404 when either is
    not stored; the state is looked for in the object's study)."""
    archive = services(request).archive

    def lookup() -> Found:
        [found] = archive.stored_instances(
            Target(params.study_uid, params.series_uid, params.object_uid),
            metadata=True, locations=True)
        if params.presentation_uid is None or params.presentation_series_uid is None:
            return found, None
        target = Target(params.study_uid, params.presentation_series_uid,
                        params.presentation_uid)
        try:
            [state] = archive.stored_instances(target, metadata=True, locations=True)
        except NotFoundError as exc:
            raise PresentationStateNotFoundError(
                f"presentation state {target.sop_instance} not found in series "
                f"{target.series} of study {target.study}") from exc
        return found, state

    return await anyio.to_thread.run_sync(lookup)


async def _dicom(request: Request, params: WadoUriRequest, found: StoredInstance,
                 notes: list[str]) -> Response:
    """The Part 10 file (§6.3.1), in the transfer syntax of `transfer_syntax`; with
    anonymize=yes de-identified with a secret of this response, so not cacheable."""
    syntax, note = transfer_syntax(params, found)
    notes += [note] if note else []
    media_type = f"{DICOM};transfer-syntax={syntax}"  # as dcm4chee-arc-light writes it
    archive = services(request).archive
    if params.anonymize:
        data = await anyio.to_thread.run_sync(
            lambda: anonymized_instance(archive, found, syntax))
        return head(request, Response(data, headers={"cache-control": "no-store"},
                                      media_type=media_type))
    current = validators([found.digest], [found.created_at], "wado-uri", DICOM, syntax)
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    response = await instance_single(archive, OutgoingInstance(found, syntax, ""),
                                     current.headers, request.method == "HEAD")
    response.headers["content-type"] = media_type
    return response


async def _image(request: Request, params: WadoUriRequest, found: StoredInstance,
                 state: StoredInstance | None, media_type: str) -> Response:
    """The rendered image (§8.2): every rendering parameter, and the presentation state
    bound to the object (400 when it does not reference it)."""
    archive = services(request).archive
    presentation = _presentation(archive, params, state)
    rendering = params.render_request(media_type)
    stored = [found] + ([state] if state is not None else [])
    current = validators([i.digest for i in stored], [i.created_at for i in stored],
                         "wado-uri", repr(rendering), str(params.presentation_uid))
    if (unchanged := not_modified(request, current)) is not None:
        return unchanged
    body = await anyio.to_thread.run_sync(lambda: render(
        render_source(archive, found), params.render_request(media_type, presentation)))
    return head(request, Response(body, headers=current.headers, media_type=media_type))


def _presentation(archive: Archive, params: WadoUriRequest,
                  state: StoredInstance | None) -> PresentationState | None:
    if state is None:
        return None
    return presentation_state(orjson.loads(state.metadata_json or b"{}"),
                              params.series_uid, params.object_uid,
                              bulk_data_reader(archive, state))


async def _other(request: Request, params: WadoUriRequest, found: StoredInstance,
                 media_type: str, notes: list[str]) -> Response:
    """A report's text in the charset asked for, a document, or a video stream; the
    image parameters do not apply to them."""
    notes += [f"The query parameter {name} applies to images only and was ignored"
              for name in RENDERING_PARAMETERS if name in request.query_params]
    encoding, note = text_encoding(params)
    notes += [note] if note else []
    return await object_response(request, found, media_type, encoding=encoding)


def _warned(request: Request, response: Response, notes: list[str]) -> Response:
    """A `Warning: 299 {wado}: ...` header for each note (PS3.18 §8.3.4 form)."""
    service = f"{public_root(request)}{services(request).settings.context_path}" \
              f"/aets/{ae_title(request)}/wado"
    for value in dicomweb_warning_values(service, notes):
        response.headers.append("warning", value)
    return response
