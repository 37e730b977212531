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
    ({"workers": 0}, "workers"), ({"describe_processes": -1}, "describe_processes"),
])
def test_bad_values_name_the_setting(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides=values, environ={})


def test_bad_toml_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "h.toml"
    config.write_text("port = = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config, environ={})
