"""Settings: defaults, then a TOML file, then HOUNSFIELD_* environment variables.

Validated once at start; a bad value stops the start with a message naming the setting.
The file uses the field names below at top level, e.g.

    host = "0.0.0.0"
    port = 8080
    ae_titles = ["HOUNSFIELD", "DCM4CHEE"]
    context_path = "/dcm4chee-arc"
    database_url = "postgresql+psycopg://hounsfield@db/hounsfield"

and each can be overridden by HOUNSFIELD_<NAME> (lists comma-separated).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hounsfield.dicom.uid import is_valid_uid
from hounsfield.errors import ConfigError

_AE_TITLE = re.compile(r"[\x20-\x5b\x5d-\x7e]{1,16}")  # PS3.5 AE: no backslash, no controls
DUPLICATE_POLICIES = ("reject", "replace")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("hounsfield-data")
    database_url: str = ""  # empty: SQLite in data_dir/index.sqlite
    context_path: str = ""
    ae_titles: tuple[str, ...] = ("HOUNSFIELD",)
    workers: int = field(default_factory=lambda: min(os.cpu_count() or 1, 4))
    max_request_bytes: int = 16 * 1024**3
    max_inflated_bytes: int = 4 * 1024**3
    bulk_data_threshold: int = 1024
    duplicate_policy: str = "reject"
    recovery_grace_seconds: float = 300.0
    store_threads: int = field(default_factory=lambda: max(4, (os.cpu_count() or 1) * 2))
    # keep a stored blob's bytes in the OS page cache once it is durable; by default they
    # are given back, so that a stream of stores reuses the same memory instead of
    # filling the cache (and evicting what readers use)
    cache_stored_blobs: bool = False
    # milliseconds an index transaction waits, at most, for stores of its process that
    # are under way (parsed, or their blob written) to join it: one commit for several
    commit_linger_ms: float = 2.0
    qido_max_limit: int = 1000  # most matches one QIDO-RS response holds
    public_base_url: str = ""  # e.g. https://pacs.example.org: URLs in responses start so
    extra_query_attributes: tuple[str, ...] = ()  # keywords/tags indexed for QIDO-RS
    # WADO-WS (XDS-I.b): the RepositoryUniqueId requests must name; the affinity domain
    # assigns one, this default is a UUID-derived UID (PS3.5 B.2)
    repository_unique_id: str = "2.25.66764042290223466447582047601647258717"
    thumbnail_size: int = 128  # pixels: a thumbnail fits a square viewport this big

    @property
    def index_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'index.sqlite').resolve()}"


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Merge defaults, the TOML file, the environment and explicit overrides; validate."""
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(_read_toml(config_file))
    values.update(_from_environment(os.environ if environ is None else environ))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _validate(values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _from_environment(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(Settings)}
    found = {}
    for key, value in environ.items():
        if key.startswith("HOUNSFIELD_") and key[11:].lower() in names:
            found[key[11:].lower()] = value
    return found


def _validate(values: dict[str, Any]) -> Settings:
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    converted = {name: _convert(name, value) for name, value in values.items()}
    settings = Settings(**converted)
    _check(settings)
    return settings


def _convert(name: str, value: Any) -> Any:
    default = getattr(Settings(), name)
    try:
        if isinstance(default, bool):
            return _boolean(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, Path):
            return Path(value)
        if isinstance(default, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: {value!r} is not a valid {type(default).__name__}"
                          ) from exc


_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True,
             "false": False, "0": False, "no": False, "off": False}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    raise ValueError(f"{value!r} is not true or false")


def _check(s: Settings) -> None:
    problems = []
    if not 0 < s.port < 65536:
        problems.append(f"port {s.port} is not between 1 and 65535")
    if s.context_path and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", s.context_path):
        problems.append(f"context_path {s.context_path!r} must look like /name or be empty")
    if not s.ae_titles:
        problems.append("ae_titles must name at least one AE title")
    problems += [f"AE title {t!r} is not valid (1-16 chars, no backslash)"
                 for t in s.ae_titles if not _AE_TITLE.fullmatch(t) or t.strip() != t]
    if s.duplicate_policy not in DUPLICATE_POLICIES:
        problems.append(f"duplicate_policy must be one of {', '.join(DUPLICATE_POLICIES)}")
    for name in ("workers", "max_request_bytes", "max_inflated_bytes", "store_threads"):
        if getattr(s, name) < 1:
            problems.append(f"{name} must be at least 1")
    if s.bulk_data_threshold < 0 or s.recovery_grace_seconds < 0:
        problems.append("bulk_data_threshold and recovery_grace_seconds must not be negative")
    if not 0 <= s.commit_linger_ms <= 1000:
        problems.append("commit_linger_ms must be between 0 and 1000")
    if s.qido_max_limit < 1:
        problems.append("qido_max_limit must be at least 1")
    if not 1 <= s.thumbnail_size <= 8192:  # the renderer's largest viewport
        problems.append("thumbnail_size must be between 1 and 8192")
    if s.public_base_url and not re.fullmatch(r"https?://[^/?#\s]+(/[^?#\s]*[^/?#\s])?",
                                              s.public_base_url):
        problems.append(f"public_base_url {s.public_base_url!r} must be an http(s) URL "
                        "without a trailing slash, query or fragment")
    if not is_valid_uid(s.repository_unique_id):
        problems.append(f"repository_unique_id {s.repository_unique_id!r} is not a valid "
                        "UID (digits and dots, at most 64 characters)")
    problems += _extra_attribute_problems(s.extra_query_attributes)
    if problems:
        raise ConfigError("invalid settings: " + "; ".join(problems))


def _extra_attribute_problems(names: tuple[str, ...]) -> list[str]:
    if not names:
        return []  # the server's supervisor then never imports pydicom (~35 MB)
    from hounsfield.dicom.indexable import indexable_problem

    return [f"extra_query_attributes: {problem}" for name in names
            if (problem := indexable_problem(name))]
