"""The ASGI application: routes under {context}/aets/{AET}/rs and /wado, WADO-WS under
{context}/xdsi, health, CORS, errors."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from hounsfield import allocator
from hounsfield.archive.archive import Archive
from hounsfield.config import Settings, load_settings
from hounsfield.web import (
    health,
    qido,
    rendered,
    stow,
    thumbnail,
    wado,
    wado_bulk,
    wado_bulkdata,
    wado_uri,
)
from hounsfield.web.context import Services
from hounsfield.web.cors import CORSMiddleware
from hounsfield.web.errors import EXCEPTION_HANDLERS
from hounsfield.xdsi import endpoint

log = logging.getLogger(__name__)


def rs_routes() -> list[Route]:
    """DICOMweb resources of one AE title (PS3.18 §10), named after their transactions."""
    instance = "/studies/{study}/series/{series}/instances/{instance}"
    return [
        Route("/studies", stow.store_instances, methods=["POST"]),
        Route("/studies/{study}", stow.store_instances, methods=["POST"]),
        Route("/studies", qido.search_for_studies, methods=["GET"]),
        Route("/series", qido.search_for_series, methods=["GET"]),
        Route("/instances", qido.search_for_instances, methods=["GET"]),
        Route("/studies/{study}/series", qido.search_for_series, methods=["GET"]),
        Route("/studies/{study}/instances", qido.search_for_instances, methods=["GET"]),
        Route("/studies/{study}/series/{series}/instances", qido.search_for_instances,
              methods=["GET"]),
        Route("/studies/{study}", wado_bulkdata.retrieve_study, methods=["GET"]),
        Route("/studies/{study}/series/{series}", wado_bulkdata.retrieve_series,
              methods=["GET"]),
        Route(instance, wado_bulkdata.retrieve_instance, methods=["GET"]),
        Route("/studies/{study}/metadata", wado.retrieve_study_metadata, methods=["GET"]),
        Route("/studies/{study}/series/{series}/metadata", wado.retrieve_series_metadata,
              methods=["GET"]),
        Route(instance + "/metadata", wado.retrieve_instance_metadata, methods=["GET"]),
        Route(instance + "/frames/{frames}", wado_bulk.retrieve_instance_frames,
              methods=["GET"]),
        Route(instance + "/bulkdata/{path:path}", wado_bulk.retrieve_bulkdata,
              methods=["GET"]),
        Route(instance + "/pixeldata", wado_bulk.retrieve_instance_pixeldata,
              methods=["GET"]),
        Route("/studies/{study}/bulkdata", wado_bulkdata.retrieve_study_bulkdata,
              methods=["GET"]),
        Route("/studies/{study}/series/{series}/bulkdata",
              wado_bulkdata.retrieve_series_bulkdata, methods=["GET"]),
        Route(instance + "/bulkdata", wado_bulkdata.retrieve_instance_bulkdata,
              methods=["GET"]),
        Route("/studies/{study}/pixeldata", wado_bulkdata.retrieve_study_pixeldata,
              methods=["GET"]),
        Route("/studies/{study}/series/{series}/pixeldata",
              wado_bulkdata.retrieve_series_pixeldata, methods=["GET"]),
        *rendered_routes(instance),
    ]


def rendered_routes(instance: str) -> list[Route]:
    """Rendered resources and thumbnails (PS3.18 §10.4.1.1.3, Supplement 203)."""
    series = "/studies/{study}/series/{series}"
    return [
        Route("/studies/{study}/rendered", rendered.retrieve_study_rendered, methods=["GET"]),
        Route(series + "/rendered", rendered.retrieve_series_rendered, methods=["GET"]),
        Route(instance + "/rendered", rendered.retrieve_instance_rendered, methods=["GET"]),
        Route(instance + "/frames/{frames}/rendered",
              rendered.retrieve_instance_frames_rendered, methods=["GET"]),
        Route("/studies/{study}/thumbnail", thumbnail.retrieve_study_thumbnail,
              methods=["GET"]),
        Route(series + "/thumbnail", thumbnail.retrieve_series_thumbnail, methods=["GET"]),
        Route(instance + "/thumbnail", thumbnail.retrieve_instance_thumbnail,
              methods=["GET"]),
        Route(instance + "/frames/{frames}/thumbnail", thumbnail.retrieve_frame_thumbnail,
              methods=["GET"]),
    ]


async def _settle_journal(archive: Archive, grace: float) -> None:
    """While serving, settle what crashed processes (on any machine) left journalled.

    Entries younger than a minute are never touched here: they may be stores in flight."""
    grace = max(grace, 60.0)
    while True:
        await anyio.sleep(grace)
        try:
            settled = await anyio.to_thread.run_sync(lambda: archive.recover(grace))
        except Exception:  # noqa: BLE001 - logged; the next round tries again
            log.exception("journal recovery failed")
            continue
        if settled:
            log.info("recovery settled %d journalled blobs", settled)


def _tune_garbage_collector() -> None:
    """What exists at start lives for the whole process: keep it out of every collection
    (gc.freeze), and collect the youngest objects less often; a request builds many
    short-lived dicts, and default thresholds put pauses of tens of ms into p95."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)


def app_factory() -> Starlette:
    """For `uvicorn --factory` and worker processes: settings from the environment."""
    config = os.environ.get("HOUNSFIELD_CONFIG")
    # `hounsfield serve` migrated the schema before starting the workers
    return create_app(load_settings(Path(config) if config else None), migrate_schema=False)


def create_app(settings: Settings | None = None, archive: Archive | None = None,
               *, migrate_schema: bool = True) -> Starlette:
    """Build the app; it opens (and on shutdown closes) the archive unless one is given."""
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = archive is None
        opened = archive or await anyio.to_thread.run_sync(
            lambda: Archive.open(settings, migrate_schema=migrate_schema))
        app.state.services = Services(settings, opened,
                                      anyio.CapacityLimiter(settings.store_threads))
        _tune_garbage_collector()
        allocator.keep_large_buffers()
        async with anyio.create_task_group() as background:
            background.start_soon(_settle_journal, opened, settings.recovery_grace_seconds)
            try:
                yield
            finally:
                background.cancel_scope.cancel()
                if owned:
                    opened.close()

    routes = [
        Route("/health", health.liveness, methods=["GET"]),
        Route("/health/ready", health.readiness, methods=["GET"]),
        Mount(f"{settings.context_path}/aets/{{aet}}/rs", routes=rs_routes()),
        Route(f"{settings.context_path}{endpoint.PATH}", endpoint.imaging_document_source,
              methods=["GET", "POST"]),
        Route(f"{settings.context_path}/aets/{{aet}}/wado", wado_uri.retrieve_object,
              methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(CORSMiddleware)],
                     exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
