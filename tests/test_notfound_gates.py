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
