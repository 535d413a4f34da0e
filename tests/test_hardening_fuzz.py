"""Fault drill, parser fuzzing (hypothesis): random bytes and mutated samples are indexed or skipped with a reason."""
from hypothesis import HealthCheck, given, settings, strategies as st

from eval.fuzz import any_file, classify
from indexer.config import load_config
from indexer.pipeline import build_index

CFG = load_config()


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(any_file())
def test_any_bytes_are_indexed_or_skipped_with_a_reason(tmp_path_factory, case):
    data, ext = case
    outcome = classify(data, ext, tmp_path_factory.mktemp("f"), CFG)
    assert outcome.startswith("indexed") or len(outcome) > len("skipped: ")


def test_title_only_text_does_not_crash_the_parser(tmp_path):
    # found by the fuzz run: a span whose title ends inside trimmed whitespace crashed find_headings
    assert classify(b"\x84v\xe9]\xfaVf[`N\x0c", ".txt", tmp_path, CFG).startswith(("indexed", "skipped"))


@settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(any_file(), min_size=4, max_size=8))
def test_a_corpus_of_fuzzed_files_accounts_for_every_file(tmp_path_factory, tiny_cfg, fake_embedder, cases):
    from indexer.config import with_overrides

    root = tmp_path_factory.mktemp("corpus")
    names = set()
    for i, (data, ext) in enumerate(cases):
        (root / f"f{i}{ext}").write_bytes(data)
        names.add(f"f{i}{ext}")
    cfg = with_overrides(tiny_cfg, index={"dir": str(tmp_path_factory.mktemp("index"))})
    summary = build_index(cfg, corpus_dir=root, embedder=fake_embedder)
    indexed = {f for f, n in summary.per_file if n}
    skipped = dict(summary.skipped)
    assert names <= indexed | set(skipped) and all(skipped.values())
    assert not any(why.startswith("解析失败") for why in skipped.values())  # a parser crash, not a reason


def test_decoded_noise_is_not_taken_for_a_report():
    # found by the fuzz run: charset-normalizer read these bytes as UTF-16 Hangul, "!" became a one-character report
    import pytest

    from indexer.errors import InputFileError
    from indexer.readfile import decode_bytes

    for data in (b"\xd6\xd8\x19\x91}\x9c\xb4\x1bq@h\x8b9A\xcc\xe4\x9b\x92", b"[\xd0\x92uoOc\xd7\xca*\x08\x0f\xcf~/\xa2;\x99\xa2\x97",
                 b"!", b"12 3.4 %"):
        with pytest.raises(InputFileError):
            decode_bytes(data, "x.txt")
    assert decode_bytes("市统计局工作总结".encode("gb18030") * 3, "x.txt").startswith("市统计局")


def test_noise_without_chinese_is_skipped_with_a_reason_and_a_short_report_is_not(tmp_path):
    # the fuzz run indexed 63 random-byte files that decoded as ASCII noise as tiny "reports"
    noise = b'a^SF]Mj;`1D1,o@dzm2G,})w 74Otc)F/4Y#Q[WN!yO.P9hE %PDF-1.4 j.p{`G'
    assert classify(noise, ".txt", tmp_path, CFG) == "skipped: 只有 N 个汉字，不像一篇中文报告（"
    assert classify("XX局2023年工作总结\n全年公开信息N条。".encode(), ".txt", tmp_path, CFG).startswith("indexed")
