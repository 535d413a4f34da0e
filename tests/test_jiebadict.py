"""jieba's dictionary from the faster cache: jieba's own table and cuts, a new cache per dictionary, custom ones left."""
from __future__ import annotations

import jieba

from indexer import jiebadict

TEXT = "市统计局全年主动公开政府信息915条，依申请公开办结率100%。"


def test_cached_table_is_jiebas_own_and_cuts_the_same(tmp_path):
    own = jieba.Tokenizer()
    own.initialize()
    first = jieba.Tokenizer()
    jiebadict.initialize(first, jieba, tmp_path)  # writes the cache from jieba's own load
    path = jiebadict.cache_path(jieba, tmp_path)
    assert path.is_file()
    second = jieba.Tokenizer()
    jiebadict.initialize(second, jieba, tmp_path)  # reads it
    assert second.initialized and second.FREQ == own.FREQ and second.total == own.total
    assert list(second.cut_for_search(TEXT)) == list(own.cut_for_search(TEXT))


def test_a_damaged_cache_is_rebuilt(tmp_path):
    path = jiebadict.cache_path(jieba, tmp_path)
    path.write_bytes(b"not marshal")
    tok = jieba.Tokenizer()
    jiebadict.initialize(tok, jieba, tmp_path)
    assert tok.initialized and len(tok.FREQ) > 100_000
    again = jieba.Tokenizer()
    jiebadict.initialize(again, jieba, tmp_path)
    assert again.FREQ == tok.FREQ


def test_a_custom_dictionary_is_loaded_by_jieba(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("政务公开 10 n\n统计 5 n\n", encoding="utf-8")
    tok = jieba.Tokenizer(str(words))
    jiebadict.initialize(tok, jieba, tmp_path / "unused")
    assert tok.initialized and tok.FREQ["政务公开"] == 10
    assert not (tmp_path / "unused").exists()


def test_a_cache_folder_that_cannot_be_written_still_loads_the_dictionary(tmp_path):
    tok = jieba.Tokenizer()
    jiebadict.initialize(tok, jieba, tmp_path / "missing")  # no such folder: nothing written, jieba's own load
    assert tok.initialized and len(tok.FREQ) > 100_000
    assert not (tmp_path / "missing").exists()
