"""Similar-wording logic: sentence splitting, shared character spans, one batched search for all sentences."""
from app.similar import (best_sentence, differing_spans, match_sentences, sentence_spans, shared_ratio, shared_spans,
                         similarity, split_sentences)


def test_split_sentences_on_chinese_marks_and_newlines():
    text = "全年主动公开信息915条。政策解读形式单一！是否需要加强？一是内容不全；二是更新不及时\n下一步加强培训"
    assert split_sentences(text) == ["全年主动公开信息915条。", "政策解读形式单一！", "是否需要加强？",
                                     "一是内容不全；", "二是更新不及时", "下一步加强培训"]


def test_split_keeps_closing_quote_and_drops_fragments():
    assert split_sentences("他说“要加强。”然后。。 好") == ["他说“要加强。”", "然后。。"]
    assert split_sentences("") == [] and split_sentences("。；！") == []


def test_shared_spans_marks_common_runs_in_passage():
    passage = "全年主动公开政府信息915条，其中统计数据发布126条。"
    spans = shared_spans("今年主动公开政府信息900多条", passage)
    assert [passage[s:e] for s, e in spans] == ["年主动公开政府信息9"]
    assert shared_spans("", passage) == [] and shared_spans("abc", "") == []


def test_shared_spans_ignores_single_characters():
    assert shared_spans("甲乙丙", "丙乙甲") == []
    assert shared_spans("甲乙丙", "丙乙甲", min_len=1) != []


def test_shared_ratio():
    assert shared_ratio("一二三四", [(0, 2)]) == 0.5
    assert shared_ratio("", []) == 0.0


def test_best_sentence_and_what_differs():
    passage = "二、存在问题\n一是公开内容不够全面，部分栏目更新不及时；二是政策解读形式较为单一。"
    assert [passage[a:b] for a, b in sentence_spans(passage)][1:] == ["一是公开内容不够全面，部分栏目更新不及时；",
                                                                    "二是政策解读形式较为单一。"]
    a, b, score = best_sentence("政策解读的形式比较单一。", passage)
    assert passage[a:b] == "二是政策解读形式较为单一。" and score == similarity("政策解读的形式比较单一。", passage[a:b])
    sentence = passage[a:b]
    assert [sentence[x:y] for x, y in differing_spans("政策解读的形式比较单一。", sentence)] == ["二是", "较为"]
    assert differing_spans("完全一样。", "完全一样。") == []
    assert similarity("", "x") == 0.0 and similarity("同", "同") == 1.0


class _Hit:
    def __init__(self, text):
        self.text = text

    def to_json(self):
        return {"text": self.text, "report_id": "r", "chunk_id": "c"}


class _Searcher:
    def __init__(self, texts=("全年主动公开政府信息915条",)):
        self.calls, self.texts = [], texts

    def search_batch(self, queries, k=None, filters=None):
        self.calls.append((list(queries), k, filters))
        return [[_Hit(t) for t in self.texts] for _ in queries]


def test_match_sentences_one_batch_call_with_spans():
    s = _Searcher()
    out = match_sentences(s, "主动公开政府信息。另一句话也在这里！", k=2, filters="F")
    assert len(s.calls) == 1 and s.calls[0] == (["主动公开政府信息。", "另一句话也在这里！"], 8, "F")
    assert out[0]["sentence"] == "主动公开政府信息。"
    m = out[0]["matches"][0]
    assert [m["text"][a:b] for a, b in m["shared"]] == ["主动公开政府信息"]
    assert out[1]["matches"][0]["shared"] == []
    assert match_sentences(s, "   ") == [] and len(s.calls) == 1


def test_matches_ranked_by_the_shown_similarity_and_deduplicated():
    texts = ("深入贯彻落实政务公开工作要求，持续推进政策解读工作。", "采用文字解读、图片解读和媒体解读等多种形式开展政策解读。",
             "采用文字解读、图片解读和媒体解读等多种形式开展政策解读。", "全年发布解读材料38篇。")
    out = match_sentences(_Searcher(texts), "我们采用文字、图片和媒体等形式解读政策。", k=3)
    ms = out[0]["matches"]
    assert ms[0]["matched_sentence"].startswith("采用文字解读")
    assert [m["similarity"] for m in ms] == sorted((m["similarity"] for m in ms), reverse=True)
    assert len({m["matched_sentence"] for m in ms}) == len(ms) == 3
