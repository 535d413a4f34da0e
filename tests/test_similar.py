"""Similar-wording logic: sentence splitting, shared character spans, one batched search for all sentences."""
from app.similar import best_window, match_sentences, shared_ratio, shared_spans, split_sentences


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


def test_shared_ratio_and_best_window():
    assert shared_ratio("一二三四", [(0, 2)]) == 0.5
    assert shared_ratio("", []) == 0.0
    passage = "x" * 300 + "目标文字" + "y" * 300
    s, e = best_window(passage, [(300, 304)], width=100)
    assert s <= 300 and e >= 304 and e - s == 100
    assert best_window("短文本", [(0, 2)], width=100) == (0, 3)


class _Hit:
    def __init__(self, text):
        self.text = text

    def to_json(self):
        return {"text": self.text, "report_id": "r", "chunk_id": "c"}


class _Searcher:
    def __init__(self):
        self.calls = []

    def search_batch(self, queries, k=None, filters=None):
        self.calls.append((list(queries), k, filters))
        return [[_Hit("全年主动公开政府信息915条")] for _ in queries]


def test_match_sentences_one_batch_call_with_spans():
    s = _Searcher()
    out = match_sentences(s, "主动公开政府信息。另一句话也在这里！", k=2, filters="F")
    assert len(s.calls) == 1 and s.calls[0] == (["主动公开政府信息。", "另一句话也在这里！"], 2, "F")
    assert out[0]["sentence"] == "主动公开政府信息。"
    m = out[0]["matches"][0]
    assert [m["text"][a:b] for a, b in m["shared"]] == ["主动公开政府信息"]
    assert out[1]["matches"][0]["shared"] == []
    assert match_sentences(s, "   ") == [] and len(s.calls) == 1
