"""Hand corrections of report metadata: `metadata_overrides.toml` in the corpus folder, keyed by report title."""
from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from .errors import CorpusError
from .metadata import unit_level
from .models import LEVELS, Report

OVERRIDES_FILE = "metadata_overrides.toml"
_KEYS = {"unit": str, "year": int, "level": str, "topic": str}
EXAMPLE = '["乡镇20_年度政务公开总结"]\nunit = "XX镇"\nyear = 2023'


def load_overrides(corpus_root: Path) -> dict[str, dict]:
    """{report title: {unit, year, level, topic}} from the corpus folder's override file ({} when there is none)."""
    path = Path(corpus_root) / OVERRIDES_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{OVERRIDES_FILE} 格式有误（{exc}），示例：\n{EXAMPLE}") from exc
    out = {}
    for title, fields in data.items():
        if not isinstance(fields, dict):
            raise CorpusError(f"{OVERRIDES_FILE}：[{title}] 下应写 unit / year / level / topic，示例：\n{EXAMPLE}")
        for key, value in fields.items():
            want = _KEYS.get(key)
            if want is None or not isinstance(value, want) or isinstance(value, bool):
                raise CorpusError(f"{OVERRIDES_FILE}：[{title}] 的 {key} = {value!r} 无效"
                                  f"（可写 unit、level、topic 为文字，year 为整数）")
        if fields.get("level", "") not in LEVELS:
            raise CorpusError(f"{OVERRIDES_FILE}：[{title}] 的 level 应为 {'、'.join(x for x in LEVELS if x)} 之一")
        out[str(title)] = dict(fields)
    return out


def apply_overrides(reports: list[Report], overrides: dict[str, dict]) -> list[Report]:
    """Reports with their corrected unit/year/level/topic; a new unit brings its level unless one is given."""
    out = []
    for r in reports:
        fix = overrides.get(r.title)
        if fix:
            if "unit" in fix and "level" not in fix:
                fix = {**fix, "level": unit_level(fix["unit"]) or r.level}
            r = replace(r, **fix)
        out.append(r)
    return out
