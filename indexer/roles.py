"""Section roles (做法与成效 / 存在问题 / 下一步计划 / 其他) from heading wording, inherited down the heading tree."""
from __future__ import annotations

import re

_PROBLEM_STRONG = r"存在的?(?:主要)?(?:问题|不足)|问题(?:和|与|及)不足|不足之处|主要问题"
_PROBLEM = re.compile(rf"{_PROBLEM_STRONG}|问题(?!整改|清单|导向|线索)|不足|短板|差距|困难")
_PROBLEM_S = re.compile(_PROBLEM_STRONG)
# Plan words count anywhere only when they look ahead; 计划/思路/安排 count at the end of a heading ("2024年工作计划"),
# never inside a phrase such as "创新工作思路，做好…" or "制定工作计划，…".
_PLAN_ANCHOR = re.compile(r"下一步|下步|今后|明年|来年")
_PLAN_TAIL = re.compile(r"(?:(?:工作|年度?)(?:打算|计划|思路|安排|谋划|设想)|打算|展望|设想|改进措施|努力方向)$")
_DOING = re.compile(r"做法|成效|情况|开展|措施|亮点|成绩|主要工作|举措|成果|经验|回顾")
_YEAR = re.compile(r"(20\d{2})\s*年")


def _plan_pos(heading: str, level: int, report_year: int | None) -> int:
    """Where a heading starts naming a plan, or -1."""
    m = _PLAN_ANCHOR.search(heading)
    if m:
        return m.start()
    if level >= 5:
        return -1
    y = _YEAR.search(heading)
    if y and report_year and int(y.group(1)) > report_year:
        return y.start()  # "2024年…" in a 2023 report looks ahead
    head = heading.rstrip("。：:；; ")
    m = _PLAN_TAIL.search(head)
    if m:
        return max(head.rfind(w, 0, m.end()) for w in ("工作", "年", m.group(0)[-2:]) if w in head[: m.end()])
    return -1


def heading_roles(heading: str, level: int, report_year: int | None) -> list[str]:
    """Roles a heading names, first-mentioned first; headings below level 2 only count unambiguous phrases."""
    prob = (_PROBLEM_S if level >= 3 else _PROBLEM).search(heading)
    hits = [(prob.start(), "存在问题")] if prob else []
    plan = _plan_pos(heading, level, report_year)
    if plan >= 0:
        hits.append((plan, "下一步计划"))
    if not hits and level <= 2 and _DOING.search(heading):
        hits.append((0, "做法与成效"))
    return [r for _, r in sorted(hits)]


def assign_roles(headings: list[tuple[str, int]], report_year: int | None, has_body: list[bool] | None = None) -> list[str]:
    """Role of each (heading, level) in document order: its own, else its nearest ancestor's, else 做法与成效.

    A heading naming two roles ("存在问题及下一步打算") keeps the first for its own text, or takes its first
    child's role when it has no text of its own; children naming no role get its last role (plans follow problems).
    """
    has_body = has_body if has_body is not None else [True] * len(headings)
    own = [heading_roles(h, lvl, report_year) for h, lvl in headings]
    parents: list[int | None] = []
    stack: list[int] = []
    for i, (_, lvl) in enumerate(headings):
        while stack and headings[stack[-1]][1] >= lvl:
            stack.pop()
        parents.append(stack[-1] if stack else None)
        stack.append(i)
    chosen: list[str | None] = [o[0] if o else None for o in own]
    for i, o in enumerate(own):
        if len(set(o)) > 1 and not has_body[i]:
            kids = [j for j, p in enumerate(parents) if p == i and own[j]]
            if kids:
                chosen[i] = own[kids[0]][0]
    roles: list[str] = []
    for i in range(len(headings)):
        j, child_of_combined = i, False
        while j is not None and chosen[j] is None:
            j = parents[j]
            child_of_combined = j is not None and len(set(own[j])) > 1
        if j is None:
            roles.append("做法与成效")
        else:
            roles.append(own[j][-1] if child_of_combined else chosen[j])
    return roles
