"""[index] store and [milvus] settings: validated like every other key; the command-line flags select the store."""
import pytest


def test_store_settings_are_validated(tmp_path):
    from indexer.config import load_config
    from indexer.errors import ConfigError

    bad = tmp_path / "config.toml"
    bad.write_text('[index]\nstore = "elastic"\n[milvus]\ncollection = "1-bad"\ntimeout_s = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "[index] store" in str(err.value) and "[milvus] collection" in str(err.value)
    assert "[milvus] timeout_s" in str(err.value)


def test_store_flags_select_milvus(tiny_cfg):
    from indexer.config import with_store_args

    assert with_store_args(tiny_cfg, None, None) == tiny_cfg
    cfg = with_store_args(tiny_cfg, None, "http://127.0.0.1:19530")
    assert cfg.index.store == "milvus" and cfg.milvus.uri == "http://127.0.0.1:19530" and cfg.milvus.is_remote()
    assert with_store_args(tiny_cfg, "faiss", "x.db").index.store == "faiss"
