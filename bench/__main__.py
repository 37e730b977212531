"""`python -m bench`: every workload of every service that exists, one after the other.

    python -m bench [--quick] [--postgres] [--servers ...] [--results DIR]   all workloads
    python -m bench stow [options]    STOW-RS only (python -m bench stow --help)
    python -m bench qido [options]    QIDO-RS only (python -m bench qido --help)
    python -m bench wado [options]    WADO-RS only (python -m bench wado --help)
    python -m bench render [options]  rendered images, thumbnails, WADO-URI only
    python -m bench pg-transaction    the PostgreSQL store transaction, two ways
"""

import sys

from bench import qido, render, run, wado

# QIDO-RS under --quick: a smaller index, fewer requests, a short Orthanc load
QIDO_QUICK = ["--studies", "10000", "--instances", "100000", "--requests", "20",
              "--orthanc-studies", "500", "--orthanc-seconds", "45"]


def qido_arguments(stow_args) -> list[str]:  # type: ignore[no-untyped-def]
    """The QIDO-RS run matching the options of a whole-suite run."""
    argv = list(QIDO_QUICK) if stow_args.quick else []
    if stow_args.postgres:
        argv.append("--postgres")
    servers = [s for s in stow_args.servers if s in ("hounsfield", "orthanc")]
    argv += ["--servers", ",".join(servers), "--results", str(stow_args.results)]
    return argv


def wado_arguments(stow_args) -> list[str]:  # type: ignore[no-untyped-def]
    """The WADO-RS run matching the options of a whole-suite run (nginx included)."""
    argv = ["--quick"] if stow_args.quick else []
    if stow_args.postgres:
        argv.append("--postgres")
    servers = [s for s in stow_args.servers if s in ("hounsfield", "orthanc")]
    argv += ["--servers", ",".join([*servers, "nginx"]), "--results", str(stow_args.results)]
    return argv


def render_arguments(stow_args) -> list[str]:  # type: ignore[no-untyped-def]
    """The rendered-image run matching the options of a whole-suite run."""
    argv = ["--quick"] if stow_args.quick else []
    if stow_args.postgres:
        argv.append("--postgres")
    servers = [s for s in stow_args.servers if s in render.KINDS]
    argv += ["--servers", ",".join(servers), "--results", str(stow_args.results)]
    return argv


def main(argv: list[str]) -> int:
    if argv[:1] == ["pg-transaction"]:
        from bench import pg_transaction  # imports Hounsfield's index writer

        return pg_transaction.main(argv[1:])
    if argv[:1] == ["render"]:
        return render.main(argv[1:])
    if argv[:1] == ["wado"]:
        return wado.main(argv[1:])
    if argv[:1] == ["qido"]:
        return qido.main(argv[1:])
    if argv[:1] == ["stow"]:
        return run.main(argv[1:])
    stow_args = run.parse_args(argv)
    status = run.main(argv)
    if status == 130:
        return status
    status = max(status, qido.main(qido_arguments(stow_args)))
    if status == 130:
        return status
    status = max(status, wado.main(wado_arguments(stow_args)))
    if status == 130:
        return status
    return max(status, render.main(render_arguments(stow_args)))


sys.exit(main(sys.argv[1:]))
