"""App boundary helpers: filter parsing, question checks, upload name sanitising, login parsing, CLI help."""
import subprocess
import sys

import pytest

from app.__main__ import parse_args, parse_users
from app.service import parse_filters
from app.tabs.upload import check_upload, progress_adapter, safe_name, stage_files
from indexer.errors import AssistantError, InputFileError, QueryError
from indexer.models import Filters


def test_parse_filters_accepts_scalars_lists_and_empties():
    assert parse_filters(None) is None and parse_filters({}) is None
    assert parse_filters({"unit": [], "topic": ""}) is None
    f = parse_filters({"unit": "市统计局", "year": ["2023", 2022], "section_role": ["存在问题"]})
    assert f == Filters(unit=("市统计局",), year=(2023, 2022), section_role=("存在问题",))


@pytest.mark.parametrize("bad", [{"colour": ["red"]}, {"year": ["去年"]}, "unit=市统计局"])
def test_parse_filters_rejects_bad_input_in_chinese(bad):
    with pytest.raises(QueryError) as e:
        parse_filters(bad)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(e.value))


@pytest.mark.parametrize("name,expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\win.ini.TXT", "win.ini.txt"),
    (".hidden.md", "hidden.md"),
    ("报告 <script>.docx", "报告_script.docx"),
    ("$(rm -rf ~).pdf", "(rm_-rf_).pdf"),
    ("...", "report"),
])
def test_safe_name_never_leaves_the_folder(name, expected):
    assert safe_name(name) == expected


def test_stage_files_checks_type_size_and_copies_under_safe_names(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    good = src / "a 报告.txt"
    good.write_text("市统计局工作总结。", encoding="utf-8")
    staged = stage_files([str(good), str(good)], tmp_path / "out", (".txt",), 1)
    assert [p.name for p in staged][0] == "a_报告.txt" and len({p.name for p in staged}) == 2
    assert all(p.parent == tmp_path / "out" and p.read_text(encoding="utf-8") == "市统计局工作总结。" for p in staged)
    exe = src / "x.exe"
    exe.write_bytes(b"MZ")
    empty = src / "e.txt"
    empty.write_bytes(b"")
    big = src / "big.txt"
    big.write_bytes(b"x" * 2048)
    for path, msg in ((exe, "不支持的文件类型"), (empty, "文件为空"), (big, "上限")):
        with pytest.raises(InputFileError, match=msg):
            check_upload(path, safe_name(path.name), (".txt",), 1 / 1024)


def test_progress_adapter_accepts_stage_done_total():
    seen = []
    report = progress_adapter(lambda frac, desc=None: seen.append((frac, desc)))
    report("嵌入", 3, 4)
    report("写入索引", 0, 0)
    assert seen == [(0.75, "嵌入"), (0, "写入索引")]


def test_parse_users_and_cli_flags():
    assert parse_users("a:1, b:p:w ,") == [("a", "1"), ("b", "p:w")]
    assert parse_users("") == []
    for bad in ("nopassword", ":pw", "name:"):
        with pytest.raises(AssistantError):
            parse_users(bad)
    a = parse_args(["--host", "0.0.0.0", "--port", "9000", "--backend", "extractive", "--no-build", "--auth", "u:p"])
    assert (a.host, a.port, a.backend, a.no_build, a.auth) == ("0.0.0.0", 9000, "extractive", True, "u:p")
    out = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True, text=True, timeout=60).stdout
    for flag in ("--host", "--port", "--index", "--config", "--backend", "--auth", "--no-build"):
        assert flag in out
