"""Fault drill, configuration: types and ranges checked at load, one line per bad key, one source of defaults."""
import tomllib
from dataclasses import fields

import pytest

from indexer.config import DEFAULT_CONFIG, Config, load_config
from indexer.errors import ConfigError


def _write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_every_bad_key_gets_its_own_line(tmp_path):
    p = _write(tmp_path, '[chunk]\nmax_chars = "600"\n[search]\nmode = "hybird"\nk = -3\ncolour = 1\n'
                         '[answer]\nrefuse_mismatch = 1\n[app]\nport = 70000\n')
    with pytest.raises(ConfigError) as e:
        load_config(p)
    lines = str(e.value).splitlines()[1:]
    assert len(lines) == 6, lines
    text = str(e.value)
    for key, words in [("[chunk] max_chars", "整数"), ("[search] mode", "hybird"), ("[search] k", "大于 0"),
                       ("[search] colour", "未知"), ("[answer] refuse_mismatch", "true/false"),
                       ("[app] port", "65535")]:
        assert any(line.strip().startswith(key) and words in line for line in lines), (key, lines)
    assert "Traceback" not in text


@pytest.mark.parametrize("text,key", [
    ("[chunk]\noverlap_chars = 600\n", "overlap_chars"),
    ("[corpus]\nextensions = [\"txt\"]\n", "extensions"),
    ("[corpus]\nextensions = \".txt\"\n", "extensions"),
    ("[index]\nfaiss_type = \"annoy\"\n", "faiss_type"),
    ("[search]\nk = true\n", "k"),
    ("[search]\nfusion = \"mean\"\n", "fusion"),
    ("[search]\nbm25_share = 1.5\n", "bm25_share"),
    ("[answer]\nmin_coverage = 1.5\n", "min_coverage"),
    ("search = 3\n", "search"),
])
def test_single_bad_values_are_named(tmp_path, text, key):
    with pytest.raises(ConfigError, match=key):
        load_config(_write(tmp_path, text))


# Data, not defaults: the mask map and the two calibrated gates live only in config.toml (indexer.config.DATA_KEYS).
DATA_KEYS = {("parse", "mask_map"), ("answer", "min_score"), ("answer", "min_bm25")}


def test_dataclass_defaults_agree_with_config_toml():
    shipped = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    defaults = Config()
    for section, values in shipped.items():
        for key, value in values.items():
            if (section, key) in DATA_KEYS:
                continue
            have = getattr(getattr(defaults, section), key)
            assert have == (tuple(value) if isinstance(value, list) else value), (section, key, have, value)
    covered = {(s, k) for s, v in shipped.items() for k in v}
    declared = {(f.name, g.name) for f in fields(Config) if f.name != "root" for g in fields(getattr(defaults, f.name))}
    assert declared == covered  # config.toml shows every setting


def test_a_partial_config_takes_the_rest_from_config_toml(tmp_path):
    cfg = load_config(_write(tmp_path, "[app]\nport = 9000\n"))
    full = load_config()
    assert cfg.app.port == 9000 and cfg.parse.mask_map == full.parse.mask_map and cfg.answer == full.answer
