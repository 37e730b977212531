from pathlib import Path

import pytest

from hounsfield.config import load_settings
from hounsfield.errors import ConfigError


def test_defaults() -> None:
    s = load_settings(environ={})
    assert (s.host, s.port, s.ae_titles, s.context_path) == ("127.0.0.1", 8080,
                                                             ("HOUNSFIELD",), "")
    assert s.index_url.startswith("sqlite:///") and s.index_url.endswith("index.sqlite")


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "h.toml"
    config.write_text('port = 9000\nae_titles = ["A", "B"]\ncontext_path = "/dcm4chee-arc"\n')
    s = load_settings(config, environ={"HOUNSFIELD_PORT": "9001"})
    assert (s.port, s.ae_titles, s.context_path) == (9001, ("A", "B"), "/dcm4chee-arc")
    assert load_settings(config, {"port": 9002}, environ={}).port == 9002
    assert load_settings(environ={"HOUNSFIELD_AE_TITLES": "X, Y"}).ae_titles == ("X", "Y")


@pytest.mark.parametrize(("values", "message"), [
    ({"port": "http"}, "port"), ({"port": 70000}, "port"), ({"colour": "red"}, "colour"),
    ({"duplicate_policy": "keep"}, "duplicate_policy"), ({"context_path": "x y"}, "context_path"),
    ({"ae_titles": ["BAD\\AE"]}, "AE title"), ({"ae_titles": []}, "ae_titles"),
    ({"workers": 0}, "workers"),
    ({"cache_stored_blobs": "maybe"}, "cache_stored_blobs"),
    ({"commit_linger_ms": -1}, "commit_linger_ms"),
    ({"commit_linger_ms": "soon"}, "commit_linger_ms"),
    ({"qido_max_limit": 0}, "qido_max_limit"),
    ({"thumbnail_size": 0}, "thumbnail_size"),
    ({"repository_unique_id": "1.02.x"}, "repository_unique_id"),
    ({"thumbnail_size": 8193}, "thumbnail_size"),
    ({"public_base_url": "ftp://x"}, "public_base_url"),
    ({"public_base_url": "https://x/"}, "public_base_url"),
    ({"extra_query_attributes": ["Nope"]}, "unknown attribute keyword 'Nope'"),
    ({"extra_query_attributes": ["PatientName"]}, "PatientName is indexed already"),
    ({"extra_query_attributes": ["PixelData"]}, "VR OB cannot be indexed"),
    ({"extra_query_attributes": ["RequestAttributesSequence.RequestedProcedureID"]},
     "only attributes at the top level"),
])
def test_bad_values_name_the_setting(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides=values, environ={})


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "h.toml"
    config.write_text("port = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, environ={})


def test_qido_settings() -> None:
    s = load_settings(environ={"HOUNSFIELD_QIDO_MAX_LIMIT": "50",
                               "HOUNSFIELD_PUBLIC_BASE_URL": "https://pacs.example.org/x",
                               "HOUNSFIELD_EXTRA_QUERY_ATTRIBUTES": "OperatorsName, 00101010"})
    assert (s.qido_max_limit, s.public_base_url) == (50, "https://pacs.example.org/x")
    assert s.extra_query_attributes == ("OperatorsName", "00101010")


def test_default_settings_load_without_pydicom() -> None:
    """The server's supervisor loads settings only: it must stay small (no pydicom)."""
    import subprocess
    import sys

    code = ("import sys; from hounsfield.config import load_settings; "
            "load_settings(environ={}); print('pydicom' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_a_boolean_setting_from_toml_and_the_environment(tmp_path: Path) -> None:
    assert load_settings(environ={}).cache_stored_blobs is False
    config = tmp_path / "h.toml"
    config.write_text("cache_stored_blobs = true\n")
    assert load_settings(config, environ={}).cache_stored_blobs is True
    for text, value in [("yes", True), ("1", True), ("False", False), ("off", False)]:
        s = load_settings(environ={"HOUNSFIELD_CACHE_STORED_BLOBS": text})
        assert s.cache_stored_blobs is value
