"""Planted text in reports: sentences that address the assistant are data, never instructions, and never quoted."""
from __future__ import annotations

import re

# A sentence that speaks to a model or its operator rather than about the unit's work.
_PLANTED = re.compile(
    r"忽略(?:掉)?(?:之前|以上|上述|前面|此前|先前|你的|所有|全部|一切)[^。！？!?\n]{0,12}?(?:指令|指示|提示|要求|规则|设定|内容)"
    r"|(?:无视|不要理会|不要遵守|覆盖)[^。！？!?\n]{0,10}?(?:指令|提示|规则|设定)"
    r"|系统提示|系统指令|提示词|system\s*prompt|ignore\s+(?:all\s+|any\s+)?(?:previous|prior|above)"
    r"|你现在是|你现在扮演|你是一个|请你扮演|扮演一个|作为(?:一个)?(?:AI|人工智能|语言模型|助手)"
    r"|(?:AI|人工智能|大模型|语言模型|助手)[，,]?\s*(?:请|必须|应当|务必)"
    r"|(?:请|直接|只|仅)(?:回答|输出|回复)(?:为|以下内容)?[:：]\s*\S",
    re.IGNORECASE,
)
# Brackets that look like the prompt's <资料> wrapper: a title or passage must not open or close it.
_WRAPPER = re.compile(r"[<＜〈‹﹤《⟨〈«]\s*/?\s*资\s*料\s*[>＞〉›﹥》⟩〉»]")
_ANGLES = str.maketrans({"<": "＜", ">": "＞"})
_MARKER = re.compile(r"\[(\d+)\]|【(\d+)】")


def is_planted(sentence: str) -> bool:
    """True for a sentence that gives orders to an assistant (忽略之前的所有指令…, 你现在是…)."""
    return bool(_PLANTED.search(sentence or ""))


def planted_spans(text: str, spans) -> list[tuple[int, int]]:
    """The (start, end) sentence spans of text that are planted instructions."""
    return [(s, e) for s, e in spans if is_planted(text[s:e])]


def neutralise(text: str) -> str:
    """Report text made safe to place inside the prompt's data wrapper: no wrapper tags, no [n] markers, no '<>'."""
    text = _WRAPPER.sub("（资料）", text or "")
    text = _MARKER.sub(lambda m: f"〔{m.group(1) or m.group(2)}〕", text)
    return text.translate(_ANGLES)
