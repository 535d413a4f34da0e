"""Report sentences embedded ahead of questions (app.sentvecs): the same vectors, a file per generation and model,
written atomically, filled only while no question uses the model."""
import os
import threading
import time

import numpy as np
import pytest

from tests.fakes import FakeEmbedder


class Counting(FakeEmbedder):
    """Counts the passage texts that reach the model."""

    def __init__(self, name: str = FakeEmbedder.name):
        super().__init__()
        self.name, self.passages = name, 0

    def encode_passages(self, texts, show_progress=False):
        self.passages += len(texts)
        return super().encode_passages(texts)

    def encode_queries(self, texts, show_progress=False):
        return FakeEmbedder.encode_passages(self, texts)  # not counted as passages


def _served(cfg, inner):
    from app.querybatch import QueryBatcher
    from indexer.reader import Searcher

    batcher = QueryBatcher(inner)
    return Searcher.open(cfg, embedder=batcher), batcher


def _fill(searcher, batcher, cache_dir, **kw):
    from app.sentvecs import SentenceFill

    fill = SentenceFill(batcher, cache_dir, **{"idle_s": 0.01, "check_s": 0.05, "start_s": 0, **kw}).start(searcher)
    assert fill.done.wait(10)
    return fill


def test_questions_get_the_vectors_embedded_ahead_and_the_model_is_not_asked_again(tiny_cfg, tmp_path):
    from app.citations import bigrams, sentence_spans
    from app.evidence import MAX_SENTENCE
    from app.sentvecs import sentence_texts
    from indexer.pipeline import build_index

    build_index(tiny_cfg, embedder=FakeEmbedder())
    inner = Counting()
    searcher, batcher = _served(tiny_cfg, inner)
    fill = _fill(searcher, batcher, tmp_path / "sentences")
    texts = sentence_texts(searcher)
    assert fill.embedded == inner.passages == len(texts) > 10 and not fill.loaded_from_file
    assert "全年主动公开政府信息915条，其中统计数据发布126条。" in texts
    masked = "创新开展图解、视频等多种形式的政策解读，全年发布解读材料38篇，D员干部带头XX传统计法。"
    assert masked not in texts and masked.replace("D员", "党员").replace("XX传", "宣传") in texts  # as embedded
    # Every sentence a question's rerank can weigh is there, bitwise the vector the model gives for it alone.
    sents = [c.text[s:e] for c in searcher.chunks for s, e in sentence_spans(c.text)]
    sents = [s for s in sents if len(bigrams(s)) >= 6 and len(s) <= MAX_SENTENCE]  # what app.evidence weighs
    assert masked in sents and len(sents) >= 10
    assert {searcher.embedded_text(s) for s in sents} - set(texts) == set()
    cosines = searcher.similarity("统计法宣传", sents)
    assert inner.passages == len(texts)  # no sentence embedded again
    for sent in sents:
        key = searcher.embedded_text(sent)
        assert np.array_equal(batcher.ahead[key], FakeEmbedder().encode_passages([key])[0])
    q = FakeEmbedder().encode_queries([searcher.embedded_text("统计法宣传")])[0]
    assert cosines == [float(x) for x in FakeEmbedder().encode_passages(
        [searcher.embedded_text(s) for s in sents]) @ q]


def test_a_restart_loads_the_file_and_embeds_nothing(tiny_cfg, tmp_path):
    from indexer.pipeline import build_index

    build_index(tiny_cfg, embedder=FakeEmbedder())
    first = _fill(*_served(tiny_cfg, Counting()), tmp_path / "sentences")
    files = list((tmp_path / "sentences").iterdir())
    assert len(files) == 1 and files[0].name.startswith("sentences-")
    inner = Counting()
    searcher, batcher = _served(tiny_cfg, inner)
    again = _fill(searcher, batcher, tmp_path / "sentences")
    assert again.loaded_from_file and again.embedded == inner.passages == 0
    assert batcher.ahead.keys() == first.batcher.ahead.keys()
    assert all(np.array_equal(batcher.ahead[t], v) for t, v in first.batcher.ahead.items())


def test_the_file_is_keyed_by_generation_and_model_and_replaced_with_the_generation(tiny_cfg, tiny_corpus, tmp_path):
    from app.querybatch import QueryBatcher
    from app.sentvecs import cache_key, load
    from indexer.pipeline import build_index

    cache = tmp_path / "sentences"
    build_index(tiny_cfg, embedder=FakeEmbedder())
    searcher, batcher = _served(tiny_cfg, Counting())
    key = cache_key(searcher, batcher)
    assert key == cache_key(*_served(tiny_cfg, Counting()))  # the same generation and model: the same key
    other = Counting()
    other.runtime = "onnx-int8"  # the same model name run another way gives other vectors
    assert key != cache_key(searcher, QueryBatcher(other)) != cache_key(searcher, QueryBatcher(Counting("another")))
    _fill(searcher, batcher, cache)
    (old_file,) = cache.iterdir()
    assert load(old_file, key, batcher.dim) is not None
    assert load(old_file, "another", batcher.dim) is None and load(old_file, key, batcher.dim + 1) is None
    (tiny_corpus / "d_应急局.txt").write_text("县应急局2023年工作总结\n一、主要做法\n全年组织应急演练15次，参演群众3200人次。\n",
                                            encoding="utf-8")
    build_index(tiny_cfg, embedder=FakeEmbedder())
    searcher2, batcher2 = _served(tiny_cfg, Counting())
    assert cache_key(searcher2, batcher2) != key
    _fill(searcher2, batcher2, cache)
    (new_file,) = cache.iterdir()  # the old generation's file is gone
    assert new_file != old_file and "全年组织应急演练15次，参演群众3200人次。" in batcher2.ahead
    new_file.write_bytes(new_file.read_bytes()[:-100])  # a damaged file is embedded again, not trusted
    inner = Counting()
    again = _fill(*_served(tiny_cfg, inner), cache)
    assert not again.loaded_from_file and inner.passages == len(batcher2.ahead)


def test_a_failed_write_keeps_the_old_file_whole_and_leaves_no_temporary_file(tiny_cfg, tmp_path, monkeypatch):
    from app import sentvecs
    from indexer.pipeline import build_index

    build_index(tiny_cfg, embedder=FakeEmbedder())
    searcher, batcher = _served(tiny_cfg, Counting())
    _fill(searcher, batcher, tmp_path / "sentences")
    (path,) = (tmp_path / "sentences").iterdir()
    before = path.read_bytes()
    key = sentvecs.cache_key(searcher, batcher)

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    assert not sentvecs.save(path, key, {"新的句子，只有一句而已。": np.ones(batcher.dim, np.float32)})
    assert list((tmp_path / "sentences").iterdir()) == [path] and path.read_bytes() == before


def test_the_fill_waits_while_a_question_uses_the_model(tiny_cfg, tmp_path):
    from indexer.pipeline import build_index

    class Held(Counting):
        """A question's query pass that lasts until released."""

        def __init__(self):
            super().__init__()
            self.inside, self.release = threading.Event(), threading.Event()

        def encode_queries(self, texts, show_progress=False):
            self.inside.set()
            assert self.release.wait(10)
            return super().encode_queries(texts)

    build_index(tiny_cfg, embedder=FakeEmbedder())
    inner = Held()
    searcher, batcher = _served(tiny_cfg, inner)
    question = threading.Thread(target=batcher.encode_queries, args=(["统计局主动公开了多少条？"],))
    question.start()
    assert inner.inside.wait(5)
    from app.sentvecs import SentenceFill

    fill = SentenceFill(batcher, tmp_path / "sentences", idle_s=0.05, start_s=0).start(searcher)
    time.sleep(0.4)
    assert fill.embedded == inner.passages == 0 and not fill.done.is_set()  # the question has the model
    inner.release.set()
    question.join(5)
    assert fill.done.wait(10) and fill.embedded == inner.passages > 0
    fill.stop()


def test_an_upload_reopen_fills_the_new_generation(tiny_cfg, tiny_corpus, tmp_path):
    from app.answer import make_generator
    from app.service import Service
    from indexer.pipeline import build_index

    from app.sentvecs import sentence_texts

    build_index(tiny_cfg, embedder=FakeEmbedder())
    inner = Counting()
    searcher, batcher = _served(tiny_cfg, inner)
    fill = _fill(searcher, batcher, tmp_path / "sentences")
    old = set(batcher.ahead)
    svc = Service(searcher, make_generator(tiny_cfg.llm), tiny_cfg)
    new = "全年组织应急演练15次，参演群众3200人次。"
    (tiny_corpus / "d_应急局.txt").write_text(f"县应急局2023年工作总结\n一、主要做法\n{new}\n", encoding="utf-8")
    build_index(tiny_cfg, embedder=FakeEmbedder())
    svc.reopen()  # what an upload does after its rebuild
    deadline = time.monotonic() + 10
    while new not in batcher.ahead and time.monotonic() < deadline:
        time.sleep(0.02)
    assert new in batcher.ahead and fill.done.wait(10)
    added = set(sentence_texts(svc.searcher)) - old
    assert new in added and inner.passages == len(old) + len(added)  # the unchanged reports' vectors are kept
    fill.stop()


def test_the_app_fills_a_query_batcher_once_it_has_started(tiny_cfg, tmp_path):
    from app.__main__ import fill_sentences_ahead
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    build_index(tiny_cfg, embedder=FakeEmbedder())
    assert fill_sentences_ahead(tiny_cfg, Searcher.open(tiny_cfg, embedder=FakeEmbedder())) is None
    searcher, batcher = _served(tiny_cfg, Counting())
    fill = fill_sentences_ahead(tiny_cfg, searcher, start_s=0.5)
    assert fill is batcher.filler and not fill.done.wait(0.3) and fill.embedded == 0  # not while the app starts
    assert fill.done.wait(10) and fill.embedded > 0
    assert list((tiny_cfg.embedding.cache_path / "sentences").glob("sentences-*.marshal"))
    fill.stop()


def test_a_long_sentence_is_embedded_in_every_form_the_rerank_cuts_it_to():
    from app.citations import content_tokens
    from app.evidence import MAX_SENTENCE, trim_sentence
    from app.intent import detect_intent
    from app.sentvecs import cut_forms

    long = ("推进普法工作“六个一”活动，加强互联网宗教信息服务管理，举办“法律讲座进宗教场所”活动463场，开展防诈骗宣传活动178场次，"
            "传统文化宣讲14场次，宗教中国化走基层宣讲活动18场次，累计培训宗教界人士621名，发放宣传资料3000余份，"
            "接受群众咨询150余人次，营造了学法尊法守法用法的良好氛围。")
    assert len(long) > MAX_SENTENCE
    forms = cut_forms(long)
    assert len(forms) >= 3 and all(len(f) <= MAX_SENTENCE for f in forms)
    for question in ("举办法律讲座多少场？", "防诈骗宣传活动开展了多少场次？", "培训宗教界人士多少名？", "发放宣传资料多少份？",
                     "如何营造学法守法的氛围？", "市民宗局怎样加强互联网宗教信息服务管理？"):
        assert trim_sentence(long, content_tokens(question), detect_intent(question)) in forms, question


@pytest.mark.model
def test_with_the_real_model_a_sentence_gets_the_same_bytes_ahead_as_in_any_rerank_pass(tmp_path, tiny_corpus):
    """The fill embeds sentences 8 at a time by length; a question's rerank embeds its 5–16 in passes of similar
    length (app.querybatch.length_groups): onnxruntime gives each row the same bytes either way."""
    import random

    from app.querybatch import QueryBatcher, length_groups
    from indexer.config import load_config, with_overrides
    from indexer.embed import load_embedder
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    cfg = with_overrides(load_config(), corpus={"dir": str(tiny_corpus)}, index={"dir": str(tmp_path / "index")})
    inner = load_embedder(cfg.embedding)
    build_index(cfg, embedder=inner)
    batcher = QueryBatcher(inner)
    fill = _fill(Searcher.open(cfg, embedder=batcher), batcher, tmp_path / "sentences")
    texts = sorted(batcher.ahead)
    assert fill.embedded == len(texts) > 20
    rng = random.Random(0)
    for _ in range(4):
        for group in length_groups(rng.sample(texts, 12)):
            for text, vec in zip(group, inner.encode_passages(group)):
                assert np.array_equal(vec, batcher.ahead[text]), text


def test_the_load_run_waits_for_the_apps_sentence_vectors(tmp_path):
    from app.sentvecs import READY_LOG
    from eval.load import SENTENCES_READY, wait_for_sentences

    assert SENTENCES_READY == READY_LOG  # eval.load does not import the app under test: the same words by hand
    log = tmp_path / "server.log"
    log.write_text("INFO 启动\n", encoding="utf-8")
    assert "没有" in wait_for_sentences(tmp_path, log, 0.1)  # a checkout without app/sentvecs.py
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "sentvecs.py").write_text("", encoding="utf-8")
    assert "未就绪" in wait_for_sentences(tmp_path, log, 0.1)
    with log.open("a", encoding="utf-8") as f:
        f.write(f"INFO app.sentvecs: {READY_LOG}：1679 句，读自 /x.marshal\n")
    assert wait_for_sentences(tmp_path, log, 5) == "1679 句，读自 /x.marshal"
