"""Clinical settings: defaults with sources, clinic and per-protocol overrides, refusals that name the key."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboard.engine import ConfigError, SessionEngine, load_config
from dashboard.ui.settings import layout

ENGINE = Path(__file__).resolve().parents[2] / "dashboard" / "engine"


def clinic(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clinic.toml"
    path.write_text(text)
    return path


def test_every_default_has_a_unit_and_a_source():
    for key, setting in load_config().settings.items():
        assert setting.unit and setting.source, key


@pytest.mark.parametrize("text,key", [
    ("[bp.severe]\nsbpp = { value = 170 }\n", "bp.severe.sbpp"),
    ("[bp.severe]\nsbp = { value = 'high' }\n", "bp.severe.sbp.value"),
    ("[bp.severe]\npriority = 'urgent'\n", "bp.severe.priority"),
    ("[protocol.iv-ketamine.limits]\n'bp.nonsense' = 3\n", "protocol.iv-ketamine.limits.bp.nonsense"),
    ("[alarm]\nrealarm_after = { value = -5 }\n", "alarm.realarm_after.value"),
])
def test_a_bad_clinic_file_is_refused_naming_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(clinic(tmp_path, text))


def test_not_toml_is_refused_with_the_file_named(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(clinic(tmp_path, "[bp.severe\n"))


def test_protocol_limits_apply_to_that_protocol_only(tmp_path):
    config = load_config(clinic(tmp_path, "[protocol.esketamine-84.limits]\n'bp.high.sbp' = 150\n"))
    assert config.for_protocol("esketamine-84").value("bp.high.sbp") == 150
    assert config.for_protocol("esketamine-56").value("bp.high.sbp") == 160
    assert config.for_protocol("iv-ketamine").value("data.stale.nibp_after") == 720  # the shipped IV override
    assert SessionEngine(config, "esketamine-84").high_sbp == 150


def test_the_settings_page_shows_every_setting_with_its_source():
    text = str(layout(load_config()))
    for key, setting in load_config().settings.items():
        if not key.startswith("protocol."):
            assert key in text and setting.source in text


ALLOWED_LITERALS = {0, 1, 2, 3, 60.0, 0.0}  # counting, priority ranks, halving a window, seconds a minute


def test_no_clinical_number_is_written_into_the_engine():
    for module in ("session.py", "alarms.py", "status.py"):
        tree = ast.parse((ENGINE / module).read_text())
        numbers = {node.value for node in ast.walk(tree)
                   if isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                   and not isinstance(node.value, bool)}
        assert numbers <= ALLOWED_LITERALS, (module, numbers - ALLOWED_LITERALS)
