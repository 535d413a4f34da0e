"""The unknown-word gate and the calibration objective that protects answerable questions."""
from app.notfound import Features, Thresholds, calibrate, evaluate, is_answerable


def _f(score, unknown=0.0):
    return Features(score, score, score * 100, 0.8, unknown)


def test_unknown_words_gate_refuses_only_above_its_threshold():
    t = Thresholds(min_coverage=0.0, max_unknown=0.3)
    assert is_answerable(_f(0.9, unknown=0.2), t)
    assert not is_answerable(_f(0.9, unknown=0.5), t)
    assert is_answerable(_f(0.9, unknown=0.9), Thresholds(min_coverage=0.0))  # 1.0 = gate off


def test_calibration_never_trades_answerable_questions_below_the_floor():
    # One no-answer question scores above two answerable ones: catching it would refuse 2 of 10.
    rows = [(_f(0.5 + i / 100), True) for i in range(10)] + [(_f(0.505), False), (_f(0.1), False)]
    t = calibrate(rows, min_answerable=0.9)
    m = evaluate(rows, t)
    assert m["answerable_kept"] >= 9
    assert m["no_answer_caught"] >= 1  # the clearly separated one is still caught


def test_calibration_uses_the_unknown_gate_when_it_separates():
    rows = [(_f(0.5, unknown=0.0), True) for _ in range(10)] + [(_f(0.5, unknown=0.8), False) for _ in range(3)]
    t = calibrate(rows)
    assert t.max_unknown < 0.8
    assert evaluate(rows, t)["no_answer_caught"] == 3


def _hit_text(text, title="县住建局2023年度政务公开工作总结", year=2023):
    from indexer.models import Chunk, Hit

    return Hit(1, 0.03, Chunk("c", "r", title, (), "做法与成效", text, text, 0, len(text), 0, len(text), "f.txt",
                              unit="县住建局", year=year))


def test_abbreviations_of_known_units():
    from app.units import is_abbreviation

    assert is_abbreviation("市人社局", "市人力资源和社会保障局")
    assert is_abbreviation("市粮储局", "市粮食和物资储备局")
    assert not is_abbreviation("市文旅局", "市民宗局")
    assert not is_abbreviation("局", "市统计局")


def test_names_missing_catches_unknown_units_and_years_only():
    from app.notfound import names_missing

    units = ["县住建局", "市人力资源和社会保障局"]
    hits = [_hit_text("2023年主动公开信息120条")]
    assert not names_missing("县住建局2023年主动公开信息多少条？", hits, units)
    assert names_missing("县住建局2021年度主动公开信息多少条？", hits, units)  # year nowhere
    assert names_missing("县住建局二〇二二年主动公开信息多少条？", hits, units)  # …in the way reports write it
    assert not names_missing("县住建局二〇二三年主动公开信息多少条？", hits, units)
    assert names_missing("市气象局开展人工增雨作业多少次？", hits, units)  # unit nowhere
    assert not names_missing("市人社局发布政务信息多少条？", hits, units)  # abbreviation of a known unit
    assert not names_missing("主动公开信息多少条？", hits, units)  # names nothing


def test_mismatch_gate_refuses_only_when_switched_on():
    f = Features(0.9, 0.9, 90.0, 0.8, 0.0, True)
    assert is_answerable(f, Thresholds(min_coverage=0.0, refuse_mismatch=False))
    assert not is_answerable(f, Thresholds(min_coverage=0.0, refuse_mismatch=True))
