"""The device configuration file: the example loads; a bad file is refused naming the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from devices.config import load_device_config, parse_device_config
from devices.errors import DeviceConfigError
from devices.serial.nibp import SunTechNIBP
from devices.serial.oximeter import NoninOximeter

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_file_loads_into_adapters_and_a_listener():
    config = load_device_config(ROOT / "sample_data" / "devices.example.toml")
    by_chair = {(d.chair, d.label): d for d in config.serial}
    nibp = by_chair[("Chair 1", "nibp")].adapter()
    assert isinstance(nibp, SunTechNIBP) and nibp.settings.interval_s == 300 and nibp.url == "/dev/ttyUSB0"
    assert isinstance(by_chair[("Chair 2", "oximeter")].adapter(), NoninOximeter)
    assert config.hl7 is not None and config.hl7.port == 2575
    placement = config.hl7.placement
    assert dict(placement.locations) == {"CHAIR3": "Chair 3", "CHAIR4": "Chair 4", "CHAIR6": "Chair 6",
                                        "BED-001": "Chair 7", "ICU&02": "Chair 8"}
    assert config.hl7.refused_keep_bytes == 50 * 2**20 and config.hl7.device_keep_days == 30
    assert dict(placement.devices) == {"0123456789ABCDEF": "Chair 4", "00A0B1FFFEC2D3E4": "Chair 5"}
    assert placement.silent_after_s == 60 and dict(placement.intervals) == {"CHAIR6": 900, "00A0B1FFFEC2D3E4": 300}
    assert config.backoff.max_s == 30


def test_interval_zero_means_on_demand_only():
    config = parse_device_config({"chairs": {"Chair 1": {"cuff": {"protocol": "suntech", "port": "loop://",
                                                                  "interval_min": 0}}}})
    assert config.serial[0].adapter().settings.interval_s is None and config.serial[0].label == "cuff"


@pytest.mark.parametrize("data, key", [
    ({"chairs": {"Chair 1": {"nibp": {"protocol": "suntech", "port": "x", "intervl": 5}}}},
     'chairs."Chair 1".nibp.intervl: unknown key'),
    ({"chairs": {"Chair 1": {"nibp": {"protocol": "suntech", "port": "x", "interval_min": "five"}}}},
     'chairs."Chair 1".nibp.interval_min: must be a number >= 0'),
    ({"chairs": {"Chair 1": {"nibp": {"protocol": "suntech", "port": "x", "baud": 0}}}},
     'chairs."Chair 1".nibp.baud: must be a whole number > 0'),
    ({"chairs": {"Chair 1": {"nibp": {"protocol": "suntech"}}}}, 'chairs."Chair 1".nibp.port: missing'),
    ({"chairs": {"Chair 1": {"nibp": {"protocol": "philips", "port": "x"}}}}, 'chairs."Chair 1".nibp.protocol'),
    ({"chairs": {"Chair 1": {"ox": {"protocol": "nonin", "port": "x", "mode": "adult"}}}},
     'chairs."Chair 1".ox.mode: unknown key for protocol nonin'),
    ({"chairs": {"Chair 1": {"nibp": {"protocol": "suntech", "port": "x", "mode": "horse"}}}},
     'chairs."Chair 1".nibp.mode: must be one of adult'),
    ({"chairs": {"Chair 1": "COM3"}}, 'chairs."Chair 1": must be a table'),
    ({"hl7": {"zone": "Mars/Olympus"}}, "hl7.zone: unknown time zone"),
    ({"hl7": {"port": 70000}}, "hl7.port: must be 0-65535"),
    ({"hl7": {"silent_after_s": 0}}, "hl7.silent_after_s: must be a number > 0"),
    ({"hl7": {"devices": {"0123456789ABCDEF": {"silent_after_s": 900}}}}, 'hl7.devices.0123456789ABCDEF.chair: missing'),
    ({"hl7": {"locations": {"CHAIR3": {"chair": "Chair 3", "every": 5}}}}, "hl7.locations.CHAIR3.every: unknown key"),
    ({"hl7": {"locations": {"CHAIR3": 3}}}, "hl7.locations.CHAIR3: must be a chair name"),
    ({"hl7": {"devices": {"0123456789ABCDEF": ""}}}, "hl7.devices.0123456789ABCDEF: must be a chair name"),
    ({"reconnect": {"initial_s": 5, "max_s": 1}}, "reconnect.max_s: must be a number >= initial_s"),
    ({"devices": {}}, "devices: unknown key"),
])
def test_a_bad_config_is_refused_with_a_message_naming_the_key(data, key):
    with pytest.raises(DeviceConfigError) as raised:
        parse_device_config(data)
    assert str(raised.value).startswith(key)


def test_a_file_that_is_not_toml_names_the_file(tmp_path):
    path = tmp_path / "devices.toml"
    path.write_text("[chairs\n")
    with pytest.raises(DeviceConfigError, match="devices.toml: not valid TOML"):
        load_device_config(path)
    path.write_text('[chairs."Chair 1".nibp]\nprotocol = "suntech"\n')
    with pytest.raises(DeviceConfigError, match=r'devices.toml: chairs."Chair 1".nibp.port: missing'):
        load_device_config(path)


def test_nonin_data_format_is_chosen_in_the_file():
    from devices.config import parse_device_config

    config = parse_device_config({"chairs": {"Chair 1": {"oximeter": {"protocol": "nonin", "port": "loop://",
                                                                        "format": 7}}}})
    [device] = config.serial
    assert device.data_format == 7 and device.adapter().data_format == 7
    default = parse_device_config({"chairs": {"C": {"ox": {"protocol": "nonin", "port": "loop://"}}}})
    assert default.serial[0].data_format == 8
    with pytest.raises(DeviceConfigError, match="format: must be 7 or 8"):
        parse_device_config({"chairs": {"C": {"ox": {"protocol": "nonin", "port": "loop://", "format": 9}}}})
