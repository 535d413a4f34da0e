"""Users' 👍/👎 as candidate test cases: JSONL in the team's eval question format (eval/data/README.md)."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .export import plain, short

MIN_ANSWER, MAX_ANSWER = 6, 40  # the eval set's answer-string length bounds


def candidate_answers(turn) -> list[str]:
    """Verbatim strings of the cited passages that support a liked answer (the words the citation check marked)."""
    out: list[str] = []
    for s in turn.sources:
        if not s.get("cited"):
            continue
        text = s.get("text", "")
        for a, b in s.get("highlights") or []:
            piece = text[a:b].strip()[:MAX_ANSWER]
            if len(piece) >= MIN_ANSWER and "\n" not in piece and piece not in out:
                out.append(piece)
    return out


def to_question(conv_id: str, idx: int, turn) -> dict:
    """One eval question record; answers are only proposed for 👍, a human checks every record before use."""
    liked = turn.feedback == "up"
    titles = list(dict.fromkeys(s.get("report_title", "") for s in turn.sources if s.get("cited")))
    return {
        "id": f"fb-{conv_id[:8]}-{idx + 1}",
        "query": turn.question,
        "answers": candidate_answers(turn) if liked and not turn.not_found else [],
        "type": "no_answer" if turn.not_found else "fact",
        "report_title": "；".join(t for t in titles if t),
        "note": f"[用户反馈 {'👍' if liked else '👎'}] 待人工核对。回答：{short(plain(turn.answer), 120)}",
    }


def write_jsonl(rated, dest: Path | None = None) -> Path:
    """rated = ConversationStore.rated(...) rows; one JSON object a line, ensure_ascii=False."""
    dest = Path(dest or tempfile.mkdtemp(prefix="feedback-"))
    path = dest / "feedback_questions.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for cid, idx, turn in rated:
            f.write(json.dumps(to_question(cid, idx, turn), ensure_ascii=False) + "\n")
    return path
