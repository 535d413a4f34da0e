"""The team's question set is valid against the sample corpus, and the validator catches bad sets."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from eval.validate_questions import (
    DEFAULT_CORPUS,
    DEFAULT_QUESTIONS,
    UNIT_TYPES,
    bigram_overlap,
    count_occurrences,
    decode_bytes,
    load_corpus,
    main,
    parse_lines,
    validate,
    warnings,
)
from indexer.errors import CorpusError, InputFileError
from indexer.models import UNKNOWN_UNIT

CORPUS = {
    "a.txt": "市统计局2023年政务公开工作总结\n全年共受理政府信息公开申请12件，均按时办结。\nD员干部带头XX传统计法。\n",
    "b.txt": "县住建局总结\n全年办理行政处罚案件43件，罚没款共计85万元。\n",
}


def _q(**over):
    q = {"id": "q1", "query": "市统计局受理了多少件公开申请？", "answers": ["受理政府信息公开申请12件"],
         "type": "fact", "report_title": "市统计局2023年政务公开工作总结", "note": ""}
    q.update(over)
    return q


@pytest.fixture(scope="module")
def real_set():
    questions, errors = parse_lines(DEFAULT_QUESTIONS.read_text(encoding="utf-8").splitlines())
    return questions, errors, load_corpus(DEFAULT_CORPUS)


def test_real_set_is_valid(real_set):
    questions, parse_errors, corpus = real_set
    assert parse_errors == []
    assert validate(questions, corpus) == []
    assert len(questions) >= 80


def test_real_set_covers_every_type_and_every_corpus_file(real_set):
    questions, _, corpus = real_set
    types = {q["type"] for q in questions}
    assert types == {"fact", "paraphrase", "multi", "masked", "draft", "no_answer"}
    answers = [a for q in questions for a in q["answers"]]
    for name, text in corpus.items():
        assert any(a in text for a in answers), f"{name} 没有任何题目"


def test_real_set_answers_are_distinctive(real_set):
    questions, _, corpus = real_set
    answers = [a for q in questions for a in q["answers"]]
    assert max(count_occurrences(answers, corpus).values()) <= 3


def test_good_question_passes():
    assert validate([_q()], CORPUS) == []


def test_answer_missing_from_corpus_is_an_error():
    errors = validate([_q(answers=["受理政府信息公开申请13件"])], CORPUS)
    assert len(errors) == 1 and "找不到" in errors[0]


def test_duplicate_id_is_an_error():
    errors = validate([_q(), _q()], CORPUS)
    assert any("id 重复" in e for e in errors)


def test_unknown_type_is_an_error():
    errors = validate([_q(type="trivia")], CORPUS)
    assert any("未知题型" in e for e in errors)


def test_missing_field_and_wrong_field_type_are_errors():
    q = _q()
    del q["report_title"]
    errors = validate([q, _q(id="q2", answers="受理政府信息公开申请12件")], CORPUS)
    assert any("缺少字段 report_title" in e for e in errors)
    assert any("answers 类型应为 list" in e for e in errors)


def test_no_answer_must_have_empty_answers_and_others_must_not():
    errors = validate([_q(type="no_answer"), _q(id="q2", answers=[])], CORPUS)
    assert any("no_answer" in e for e in errors)
    assert any("至少需要一个答案" in e for e in errors)
    assert validate([_q(type="no_answer", answers=[], report_title="")], CORPUS) == []


def test_answer_length_and_noise_rules():
    too_short = _q(answers=["12件"])
    too_long = _q(id="q2", answers=["x" * 41])
    spans_line = _q(id="q3", answers=["均按时办结。\nD员干部"])
    errors = validate([too_short, too_long, spans_line], CORPUS)
    assert sum("长度" in e for e in errors) == 2
    assert any("换行" in e for e in errors)


def test_multi_needs_two_answers_and_masked_needs_masked_form():
    multi = _q(type="multi")
    masked_ok = _q(id="q2", type="masked", query="哪些党员带头宣传统计法？", answers=["D员干部带头XX传统计法"])
    masked_bad = _q(id="q3", type="masked", query="哪些党员带头宣传统计法？")
    errors = validate([multi, masked_ok, masked_bad], CORPUS)
    assert any("multi 题至少需要两个答案" in e for e in errors)
    assert not any("(q2)" in e for e in errors)
    assert any("(q3)" in e and "遮蔽形式" in e for e in errors)


def test_parse_lines_reports_bad_json_and_non_objects():
    questions, errors = parse_lines(['{"id": "q1"}', "", "{not json", "[1, 2]"])
    assert questions == [{"id": "q1"}]
    assert [e[:3] for e in errors] == ["第3行", "第4行"]


def test_count_occurrences_and_warning_above_three():
    corpus = {"x.txt": "依申请公开0件；" * 4, "y.txt": "依申请公开0件"}
    assert count_occurrences(["依申请公开0件", "没有的句子"], corpus) == {"依申请公开0件": 5, "没有的句子": 0}
    found = warnings([_q(answers=["依申请公开0件"])], corpus)
    assert len(found) == 1 and "5 次" in found[0]


def test_paraphrase_copying_the_passage_is_warned():
    assert bigram_overlap("受理政府信息公开申请12件", "受理政府信息公开申请12件") == 1.0
    assert bigram_overlap("天气如何", "受理政府信息公开申请12件") == 0.0
    copied = _q(type="paraphrase", query="受理政府信息公开申请12件吗")
    assert any("改写题" in w for w in warnings([copied], CORPUS))


def test_decode_bytes_handles_gbk_bom_and_rejects_empty_or_binary():
    text = "市统计局2023年政务公开工作总结，全年共受理政府信息公开申请十二件，均在法定期限内办结。"
    assert decode_bytes(text.encode("gb18030")) == text
    assert decode_bytes(b"\xef\xbb\xbf" + "总结\r\n".encode()) == "总结\n"
    with pytest.raises(InputFileError):
        decode_bytes(b"")
    with pytest.raises(InputFileError):
        decode_bytes(b"\x89PNG\x00\x00\x01\x02" * 10)


def test_load_corpus_errors(tmp_path):
    with pytest.raises(CorpusError):
        load_corpus(tmp_path / "missing")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(CorpusError):
        load_corpus(tmp_path)


def test_cli_exit_codes(tmp_path, capsys):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    for name, text in CORPUS.items():
        (corpus_dir / name).write_text(text, encoding="utf-8")
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text(json.dumps(_q(), ensure_ascii=False) + "\n", encoding="utf-8")
    bad.write_text(json.dumps(_q(type="trivia"), ensure_ascii=False) + "\n{oops\n", encoding="utf-8")
    assert main([str(good), "--corpus", str(corpus_dir)]) == 0
    assert "fact       1" in capsys.readouterr().out
    assert main([str(bad), "--corpus", str(corpus_dir)]) == 1
    assert main([str(good), "--corpus", str(tmp_path / "none")]) == 2


HOLDOUT = DEFAULT_QUESTIONS.parent / "answers_holdout.jsonl"
# The development set of the same kinds (may be used for tuning); it must pass the same checks as the holdout.
DEV = DEFAULT_QUESTIONS.parent / "answers_dev.jsonl"
# A second held-out set, written later and smaller (40–60 questions), run once against the final code.
HOLDOUT2 = DEFAULT_QUESTIONS.parent / "answers_holdout2.jsonl"
# A third, written after the second was spent on fixes (60 questions).
HOLDOUT3 = DEFAULT_QUESTIONS.parent / "answers_holdout3.jsonl"
# A fourth, written after the third was read for fixes (60 questions).
HOLDOUT4 = DEFAULT_QUESTIONS.parent / "answers_holdout4.jsonl"
# A fifth, written after the fourth was read for fixes (70 questions, weighted to lists and paraphrases).
HOLDOUT5 = DEFAULT_QUESTIONS.parent / "answers_holdout5.jsonl"
MIN_PER_TYPE = {HOLDOUT: 10, DEV: 10, HOLDOUT2: 7, HOLDOUT3: 8, HOLDOUT4: 8, HOLDOUT5: 8}
# 「有没有……的做法？」 asked of the whole corpus, naming no unit: 20 yes (paraphrase_plus), 20 no (no_answer, units []).
OPEN_YESNO = DEFAULT_QUESTIONS.parent / "answers_open_yesno.jsonl"
# A second blind set of the same kind (z001…z040), written after the first was read.
OPEN_YESNO2 = DEFAULT_QUESTIONS.parent / "answers_open_yesno2.jsonl"
KINDS = {path: {("paraphrase_plus", "yes"): 20, ("no_answer", "no"): 20} for path in (OPEN_YESNO, OPEN_YESNO2)}
# A blind set of 「哪些单位」 lists only (L001…L016), to check how list answers are shown.
LISTS6 = DEFAULT_QUESTIONS.parent / "answers_lists6.jsonl"
KINDS[LISTS6] = {("list", None): 16}
# A second blind set of lists (M001…M019), written the same way after the first was used.
LISTS7 = DEFAULT_QUESTIONS.parent / "answers_lists7.jsonl"
KINDS[LISTS7] = {("list", None): 19}
# A third blind set of lists (N001…N019), written the same way after the second was used.
LISTS8 = DEFAULT_QUESTIONS.parent / "answers_lists8.jsonl"
KINDS[LISTS8] = {("list", None): 19}
# A blind set of 存在问题 / 下一步 questions about one named unit (R001…R024): 8 problem, 8 plan, 8 role_negative.
ROLES = DEFAULT_QUESTIONS.parent / "answers_roles.jsonl"
KINDS[ROLES] = {("problem", None): 8, ("plan", None): 8, ("role_negative", None): 8}


@pytest.fixture(scope="module", params=[HOLDOUT, DEV, HOLDOUT2, HOLDOUT3, HOLDOUT4, HOLDOUT5, OPEN_YESNO,
                                                 OPEN_YESNO2, LISTS6, LISTS7, LISTS8, ROLES],
                ids=["holdout", "dev", "holdout2", "holdout3", "holdout4", "holdout5", "open_yesno", "open_yesno2",
                     "lists6", "lists7", "lists8", "roles"])
def answer_set(request):
    questions, errors = parse_lines(request.param.read_text(encoding="utf-8").splitlines())
    assert errors == []
    return questions


def test_answer_set_is_valid_without_warnings(answer_set, request):
    corpus = load_corpus(DEFAULT_CORPUS)
    assert validate(answer_set, corpus) == []
    assert warnings(answer_set, corpus) == []
    kinds = KINDS.get(request.node.callspec.params["answer_set"])
    if kinds:
        assert Counter((q["type"], q.get("expect")) for q in answer_set) == kinds
        assert all(q["units"] == [] for q in answer_set if q["type"] == "no_answer")
        return
    counts = {t: sum(q["type"] == t for q in answer_set) for t in UNIT_TYPES}
    assert all(n >= MIN_PER_TYPE[request.node.callspec.params["answer_set"]] for n in counts.values()), counts
    assert {q["expect"] for q in answer_set if q["type"] == "yesno"} == {"yes", "no"}


def test_answer_set_units_are_stored_names_whose_reports_hold_the_answers(answer_set):
    from indexer.config import load_config
    from indexer.parse import parse_file

    cfg = load_config()
    by_unit: dict[str, list[str]] = {}
    for path in sorted(DEFAULT_CORPUS.glob("*.txt")):
        for r in parse_file(path, DEFAULT_CORPUS, cfg):
            by_unit.setdefault(r.unit or UNKNOWN_UNIT, []).append(r.text)
    for q in answer_set:
        if q["type"] != "unit_negative":
            assert set(q["units"]) <= by_unit.keys(), q["id"]
        if q["type"] in ("respectively", "list"):
            pairs = [([u], a) for u, a in zip(q["units"], q["answers"])]
        else:
            pairs = [(q["units"], a) for a in q["answers"]]
        for units, ans in pairs:
            assert any(ans in text for u in units for text in by_unit[u]), (q["id"], ans)


def test_unit_types_need_units_aligned_answers_and_expect():
    ok_list = _q(type="list", answers=["受理政府信息公开申请12件", "罚没款共计85万元"], units=["市统计局", "县住建局"])
    short_units = _q(id="q2", type="respectively", answers=ok_list["answers"], units=["市统计局"])
    no_units = _q(id="q3", type="unit_fact")
    no_expect = _q(id="q4", type="yesno", units=["市统计局"])
    no_with_answer = _q(id="q5", type="yesno", expect="no", units=["市统计局"])
    negative = _q(id="q6", type="unit_negative", units=["县住建局"])
    errors = validate([ok_list, short_units, no_units, no_expect, no_with_answer, negative], CORPUS)
    assert not any("(q1)" in e for e in errors)
    assert any("(q2)" in e and "一一对应" in e for e in errors)
    assert any("(q3)" in e and "units" in e for e in errors)
    assert any("(q4)" in e and "expect" in e for e in errors)
    assert any("(q5)" in e and "必须为 []" in e for e in errors)
    assert any("(q6)" in e and "必须为 []" in e for e in errors)
    fine = [_q(type="yesno", expect="no", answers=[], units=["县住建局"], report_title=""),
            _q(id="q2", type="unit_negative", answers=[], units=["市司法局"], report_title="")]
    assert validate(fine, CORPUS) == []


def test_dev_set_repeats_no_query_of_the_other_sets():
    def queries(path):
        return {q["query"] for q in parse_lines(path.read_text(encoding="utf-8").splitlines())[0]}

    dev = queries(DEV)
    assert len(dev) >= 70
    # Compare the overlap only, so a failure prints dev queries and never the held-out set.
    assert dev & queries(DEFAULT_QUESTIONS) == set()
    assert dev & queries(HOLDOUT) == set()


@pytest.mark.parametrize("later, earlier", [(HOLDOUT2, (DEFAULT_QUESTIONS, HOLDOUT, DEV)),
                                             (HOLDOUT3, (DEFAULT_QUESTIONS, HOLDOUT, DEV, HOLDOUT2)),
                                             (HOLDOUT4, (DEFAULT_QUESTIONS, HOLDOUT, DEV, HOLDOUT2, HOLDOUT3)),
                                             (OPEN_YESNO, (DEFAULT_QUESTIONS, HOLDOUT, DEV, HOLDOUT2, HOLDOUT3, HOLDOUT4)),
                                             (HOLDOUT5, (DEFAULT_QUESTIONS, HOLDOUT, DEV, HOLDOUT2, HOLDOUT3, HOLDOUT4,
                                                         OPEN_YESNO)),
                                             (OPEN_YESNO2, (DEFAULT_QUESTIONS, HOLDOUT, DEV, HOLDOUT2, HOLDOUT3, HOLDOUT4,
                                                            OPEN_YESNO, HOLDOUT5))],
                         ids=["holdout2", "holdout3", "holdout4", "open_yesno", "holdout5", "open_yesno2"])
def test_a_later_holdout_repeats_no_query_of_the_earlier_sets(later, earlier):
    def queries(path):
        return {q["query"] for q in parse_lines(path.read_text(encoding="utf-8").splitlines())[0]}

    new = queries(later)
    assert len(new) >= 40
    # Compare the overlap only, so a failure prints the later set's own queries and never another set's text.
    for other in earlier:
        shared = sorted(new & queries(other))
        assert not shared, (other.name, shared)


@pytest.mark.parametrize("lists, size, extra, per_question",
                         [(LISTS6, 16, (), (2, 6)), (LISTS7, 19, (LISTS6,), (2, 6)),
                          (LISTS8, 19, (LISTS6, LISTS7), (2, 6)),
                          # role_negative questions have no answer; problem/plan ones 1–3 (checked per type below).
                          (ROLES, 24, (LISTS6, LISTS7, LISTS8), (0, 3))],
                         ids=["lists6", "lists7", "lists8", "roles"])
def test_a_lists_set_repeats_no_query_or_answer_of_the_other_sets(lists, size, extra, per_question):
    def load(path):
        return parse_lines(path.read_text(encoding="utf-8").splitlines())[0]

    new = load(lists)
    lo, hi = per_question
    assert len(new) == size and all(lo <= len(q["answers"]) <= hi for q in new)
    assert all(q["answers"] for q in new if q["type"] in ("problem", "plan"))
    others = [load(p) for p in (DEFAULT_QUESTIONS, HOLDOUT, DEV, HOLDOUT2, HOLDOUT3, HOLDOUT4, HOLDOUT5, OPEN_YESNO,
                                OPEN_YESNO2, *extra)]
    old_queries = {q["query"] for qs in others for q in qs}
    old_answers = {a for qs in others for q in qs for a in q["answers"]}
    # Report only this set's own text, never another set's.
    assert sorted(q["query"] for q in new if q["query"] in old_queries) == []
    assert sorted(a for q in new for a in q["answers"] if any(a in o or o in a for o in old_answers)) == []
