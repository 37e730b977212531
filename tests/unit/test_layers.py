"""Imports point one way: dicom (pure) <- archive <- web and xdsi (the protocol adapters,
which never import each other); dicom does no web or I/O work."""

from __future__ import annotations

import ast
from pathlib import Path

import hounsfield

PACKAGE = Path(hounsfield.__file__).parent
FORBIDDEN = {
    "dicom": ("hounsfield.archive", "hounsfield.web", "hounsfield.xdsi", "hounsfield.app",
              "starlette", "sqlalchemy", "uvicorn"),
    "archive": ("hounsfield.web", "hounsfield.app", "hounsfield.xdsi", "starlette",
                "uvicorn"),
    "web": ("hounsfield.xdsi", "hounsfield.app"),
    "xdsi": ("hounsfield.web", "hounsfield.app"),
}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_layers_import_one_way() -> None:
    offences = []
    for layer, forbidden in FORBIDDEN.items():
        for path in (PACKAGE / layer).rglob("*.py"):
            offences += [f"{path.relative_to(PACKAGE)} imports {name}"
                         for name in imports_of(path) if name.startswith(forbidden)]
    assert offences == []
