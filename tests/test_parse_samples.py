"""The four shipped sample files: report counts, exact source maps, no noise, metadata, and the CLI."""
from __future__ import annotations


import pytest

from indexer.config import REPO_ROOT, load_config
from indexer.parse import main, parse_file, read_source
from indexer.split import toc_titles
from indexer.noise import clean_text

SAMPLES = REPO_ROOT / "data" / "reports"
FILES = sorted(SAMPLES.glob("*.txt"))
# 001 is one web-page report; 003 holds a 2023 work summary and then a 政务公开 summary (see the parse report).
EXPECTED = {"000": 15, "001": 1, "002": 22, "003": 2}
NOISE = ("##paid", "素材库", "代笔", "上传人", "ICP备", "第1页", "ECMS", "请访问", "\\_", "](", "作者：", "目录\t")


@pytest.fixture(scope="module")
def parsed():
    cfg = load_config()
    return {f.name[:3]: (read_source(f, 50 << 20), parse_file(f, SAMPLES, cfg)) for f in FILES}


def test_samples_present():
    assert [f.name[:3] for f in FILES] == sorted(EXPECTED)


def test_report_counts(parsed):
    assert {k: len(v[1]) for k, v in parsed.items()} == EXPECTED


@pytest.mark.parametrize("key", ["000", "002"])
def test_compilation_titles_are_the_toc_titles(parsed, key):
    src, reports = parsed[key]
    titles, _ = toc_titles(clean_text(src).text)
    assert [r.title for r in reports] == titles


def test_every_character_maps_to_the_source(parsed):
    for src, reports in parsed.values():
        for r in reports:
            assert len(r.offsets) == len(r.text)
            assert all(src[o] == c for o, c in zip(r.offsets, r.text)), r.title
            assert all(a < b for a, b in zip(r.offsets, r.offsets[1:]))
            for s in r.sections:
                assert r.text[s.start : s.start + len(s.heading)] == s.heading
                a, b = r.source_span(s.start, s.end)
                assert src[a] == r.text[s.start] and src[b - 1] == r.text[s.end - 1]


def test_no_noise_in_report_text(parsed):
    for _, reports in parsed.values():
        for r in reports:
            assert not [n for n in NOISE if n in r.text], r.title


def test_003_pages_joined_and_second_report_found(parsed):
    first, second = parsed["003"][1]
    assert first.title == "政府政务服务中心2023年度工作总结"
    assert second.title == "2023年政务公开工作总结"
    assert second.text.startswith("2023年政务公开工作总结 2023年,全县政务公开工作的总体要求是")
    assert "会议,会议要求全县上下马上行动" in first.text  # page 1 → 2 joined mid-sentence
    assert "(一)推动决策公开。仔细贯彻执行" in second.text
    assert [s.heading for s in second.sections if s.level == 1] == [
        "一、着力推动“五公开”常态化", "二、着力推动公开工作标准化", "三、着力推动村务公开标准化",
        "四、着力推动政务公开一体化", "五、加强政策解读和舆情回应", "六、 着力推动培训检查考核",
    ]


def test_001_markdown_page(parsed):
    (r,) = parsed["001"][1]
    assert r.title == "乡镇20_年度政务公开总结" and r.year is None and r.unit == "XX镇" and r.level == "镇"
    assert "欢迎参考" not in r.text and not r.text.startswith("2023年度政务公开总结")
    plan = [s for s in r.sections if s.role == "下一步计划"]
    assert [s.heading for s in plan] == ["三、下一步工作计划", "(一)提高认识促落实", "(二)对标整改促落实", "(三)严格考核促落实"]


def test_metadata_on_samples(parsed):
    by_title = {r.title: r for _, rs in parsed.values() for r in rs}
    r = by_title["市民宗局2023年工作总结"]
    assert (r.unit, r.level, r.year, r.topic) == ("市民宗局", "市", 2023, "民族宗教")
    r = by_title["区数据资源管理局2023年扶贫工作总结"]
    assert (r.unit, r.level, r.topic) == ("区数据资源管理局", "区", "帮扶")
    r = by_title["街道2023年度政务公开工作总结"]
    assert (r.unit, r.level, r.topic) == ("XX街道", "街道", "政务公开")
    r = by_title["县司法局2023年度政务公开工作总结"]
    assert [(s.heading, s.role) for s in r.sections if s.level in (1, 2)][-3:] == [
        ("二、存在问题及下一步打算", "存在问题"), ("（一）存在问题", "存在问题"), ("（二）下一步工作计划", "下一步计划")]


def test_cli_prints_outline(capsys):
    assert main([str(SAMPLES / FILES[3].name)]) == 0
    out = capsys.readouterr().out
    assert "2 篇报告" in out and "[1] 政府政务服务中心2023年度工作总结" in out and "[2] 2023年政务公开工作总结" in out
    assert "L1 [做法与成效] 二、强化制度建立,标准推动政务公开" in out


def test_cli_reports_bad_file(tmp_path, capsys):
    bad = tmp_path / "x.txt"
    bad.write_bytes(b"")
    assert main([str(bad)]) == 1
    assert "空文件" in capsys.readouterr().err


def test_tiny_corpus_parses(tiny_corpus):
    cfg = load_config()
    got = {p.name: parse_file(p, tiny_corpus, cfg) for p in sorted(tiny_corpus.iterdir())}
    (a,), (b,), (c,) = got.values()
    assert (a.title, a.unit, a.topic) == ("市统计局2023年政务公开工作总结", "市统计局", "政务公开")
    assert (b.title, b.unit, b.level, b.topic) == ("县住建局2023年度法治政府建设工作总结", "县住建局", "县", "法治政府建设")
    assert (c.unit, c.level, c.topic) == ("XX街道", "街道", "安全生产")
    assert [s.role for s in a.sections if s.level == 1] == ["做法与成效", "存在问题", "下一步计划"]
    assert b.source_file == "b_住建局.txt"
