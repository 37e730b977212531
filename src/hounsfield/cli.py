"""The `hounsfield` command: `serve`, `import` and `reindex`."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import warnings
from pathlib import Path

from hounsfield import workers
from hounsfield.config import Settings, load_settings
from hounsfield.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging()
    try:
        settings = load_settings(args.config, _overrides(args))
    except ConfigError as exc:
        print(f"hounsfield: {exc.message}", file=sys.stderr)
        return 2
    return args.run(settings, args)


def _configure_logging() -> None:
    logging.basicConfig(level=os.environ.get("HOUNSFIELD_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # pydicom warns about every odd value it reads; the archive stores what it receives.
    warnings.filterwarnings("ignore", module="pydicom")
    for name in ("pydicom", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hounsfield", description="A DICOMweb image archive.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080)")
    serve.add_argument("--workers", type=int,
                       help="worker processes (default: one per core, at most 4)")
    serve.set_defaults(run=_serve)
    importer = commands.add_parser("import", help="store DICOM files, folders and zip files")
    importer.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    importer.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                          help="parallel processes (default: one per core)")
    importer.set_defaults(run=_import)
    reindex = commands.add_parser(
        "reindex", help="recompute the query index (columns and extra_query_attributes) "
                        "from the stored metadata")
    reindex.set_defaults(run=_reindex)
    for command in (serve, importer, reindex):
        command.add_argument("--data", type=Path, help="data folder (default ./hounsfield-data)")
        command.add_argument("--config", type=Path, help="TOML settings file")
    return parser


def _overrides(args: argparse.Namespace) -> dict:
    names = {"host": "host", "port": "port", "workers": "workers", "data": "data_dir"}
    return {setting: getattr(args, arg, None) for arg, setting in names.items()}


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    _export(settings, args)
    if settings.workers > 1:
        # The supervisor of several workers stays small: the archive is opened (schema
        # migrated, crash journal settled) in a child process that then exits.
        if workers.start_python(_prepare_exported).wait() != 0:
            return 1
    else:
        _prepare(settings)
    if settings.workers > 1 and workers.available():
        try:
            supervisor = workers.Supervisor(_run_worker, settings.host, settings.port,
                                            settings.workers)
        except OSError as exc:
            print(f"hounsfield: cannot listen on {settings.host}:{settings.port}: "
                  f"{exc.strerror}", file=sys.stderr)
            return 1
        return supervisor.run()
    import uvicorn  # here, not in a supervisor of several workers: it stays small

    uvicorn.run(_UVICORN_APP, host=settings.host, port=settings.port,
                workers=settings.workers, **_UVICORN_OPTIONS)
    return 0


_UVICORN_APP = "hounsfield.app:app_factory"
_UVICORN_OPTIONS: dict = dict(factory=True, loop="uvloop",
                              http="hounsfield.zero_copy:ZeroCopyProtocol",
                              access_log=False, timeout_keep_alive=30)


def _run_worker(channel: socket.socket) -> None:
    """One worker process of `workers.Supervisor`: a server of the connections handed to
    it over `channel`."""
    import uvicorn

    from hounsfield.handed_server import HandedServer

    _configure_logging()
    config = uvicorn.Config(_UVICORN_APP, **_UVICORN_OPTIONS)
    HandedServer(config, channel).run()


def _prepare_exported() -> None:
    """`_prepare` with the settings `_export` handed down through the environment."""
    config = os.environ.get("HOUNSFIELD_CONFIG")
    _prepare(load_settings(Path(config) if config else None))


def _prepare(settings: Settings) -> None:
    """Migrate the index and settle the blob journal once, before any worker serves."""
    _configure_logging()
    from hounsfield.archive.archive import Archive

    archive = Archive.open(settings)
    recovered = archive.recover()
    archive.close()
    if recovered:
        logging.getLogger("hounsfield").info("recovery settled %d journalled blobs", recovered)


def _export(settings: Settings, args: argparse.Namespace) -> None:
    """Hand the settings to worker processes through the environment."""
    if args.config:
        os.environ["HOUNSFIELD_CONFIG"] = str(args.config.resolve())
    os.environ["HOUNSFIELD_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["HOUNSFIELD_HOST"] = settings.host
    os.environ["HOUNSFIELD_PORT"] = str(settings.port)


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from hounsfield.importer import import_paths

    return import_paths(settings, args.paths, jobs=max(1, args.jobs))


def _reindex(settings: Settings, args: argparse.Namespace) -> int:
    from hounsfield.archive.archive import Archive

    archive = Archive.open(settings)
    try:
        count = archive.reindex()
    finally:
        archive.close()
    print(f"re-indexed {count} instances"
          f" ({len(settings.extra_query_attributes)} extra query attributes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
