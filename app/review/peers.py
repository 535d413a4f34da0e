"""What reports of one kind normally contain, learned once per index from section roles, headings and wording."""
from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass

from app.citations import MEASURES
from indexer.metadata import TOPICS
from indexer.roles import heading_roles
from indexer.searchtext import searchable
from indexer.tokenize import loaded_jieba

MIN_PEERS = 3  # fewer reports of the draft's topic than this: compare with the whole corpus instead
MIN_ITEM_PEERS = 5  # recurring wordings are learned only from at least this many reports of the topic
ITEM_SHARE = 0.4  # a wording is a recurring item when this share of peers use it …
ITEM_LIFT = 3.0  # … and it is this many times more common in them than in reports of other topics
MAX_ITEMS = 24
_TERM = re.compile(r"[\u4e00-\u9fff]{3,8}")
_LIST_LEAD = re.compile(r"^[一二三四五六七八九十]+[是要]|^一步")
_BAD_EDGE_START = set("的了和与及等年是在对将把被并或也就都而其之以于中上下个有我各该这那为月日")
_BAD_EDGE_END = set("的了和与及等是在对将把被并或也就都而其之以于为各")
_KIND_WORDS = ("总结", "报告", "如下", "汇报")
MEASURED = rf"\d+(?:\.\d+)?\s*(?:余|多)?(?:%|％|{MEASURES}|万|亿)"  # a figure with a measure
FIGURE_AFTER = r"[^。；;\n]{0,20}?" + MEASURED  # a figure given with a wording, in the same clause
_NUMBERING = re.compile(r"^(?:第[一二三四五六七八九十]+(?:部分|章)|[一二三四五六七八九十]+[、．.]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、])\s*")


@dataclass(frozen=True)
class PeerReport:
    """One indexed report as the review sees it."""

    report_id: str
    title: str
    unit: str
    level: str
    year: int | None
    topic: str
    roles: frozenset[str]
    headings: tuple[tuple[str, int, str], ...]  # (role, level, heading without its number)
    search_text: str
    terms: frozenset[str]


@dataclass(frozen=True)
class Item:
    """A wording most peers use: how many use it and how many give a figure with it."""

    term: str
    share: float
    figure_share: float


def terms_of(search_text: str) -> frozenset[str]:
    """Candidate item wordings of a text: runs of 1–3 adjacent jieba words, 3–8 Chinese characters, clean edges."""
    toks = loaded_jieba().lcut(search_text)
    out = set()
    for n in (1, 2, 3):
        for i in range(len(toks) - n + 1):
            w = "".join(toks[i:i + n])
            if (_TERM.fullmatch(w) and w[0] not in _BAD_EDGE_START and w[-1] not in _BAD_EDGE_END
                    and not _LIST_LEAD.match(w) and not any(k in w for k in _KIND_WORDS)):
                out.add(w)
    return frozenset(out)


def bare_heading(heading: str) -> str:
    """A heading without its number and closing punctuation: "（二）存在的不足。" → "存在的不足"."""
    return _NUMBERING.sub("", heading.strip()).rstrip("。：:；;，, ")


def _topic_words(topic: str) -> tuple[str, ...]:
    return next((kws for name, kws in TOPICS if name == topic), ())


def learn_items(peers: list[PeerReport], others: list[PeerReport], topic: str) -> tuple[Item, ...]:
    """Wordings common in peers and rare elsewhere; a shorter wording inside a kept longer one used as often is dropped."""
    if len(peers) < MIN_ITEM_PEERS or not others:
        return ()
    df = Counter(t for r in peers for t in r.terms)
    dfo = Counter(t for r in others for t in r.terms)
    banned = _topic_words(topic)
    cands = []
    for term, n in df.items():
        share, other = n / len(peers), dfo[term] / len(others)
        if share < ITEM_SHARE or share < ITEM_LIFT * other or any(k in term for k in banned):
            continue
        if heading_roles(term, 1, None):  # 存在问题 / 下一步: the structure check covers sections
            continue
        cands.append((share, term))
    # A wording nearly always seen inside a longer one ("政府信息" in "政府信息公开") is that longer one's fragment.
    longer = sorted(((n, t) for t, n in df.items() if len(t) > 3), key=lambda x: -len(x[1]))
    kept = [(share, term) for share, term in cands
            if not any(len(t) > len(term) and term in t and n >= 0.85 * share * len(peers) for n, t in longer)]
    kept = [(share, term) for share, term in kept if not _mostly_in_topic_words(term, peers, banned)]
    kept.sort(key=lambda x: (-x[0], x[1]))
    items = []
    for share, term in kept[:MAX_ITEMS]:
        rx = re.compile(re.escape(term) + FIGURE_AFTER)
        with_fig = sum(1 for r in peers if rx.search(r.search_text))
        items.append(Item(term, round(share, 3), round(with_fig / len(peers), 3)))
    return tuple(items)


def _mostly_in_topic_words(term: str, peers: list[PeerReport], words: tuple[str, ...]) -> bool:
    """True when most uses of term overlap the topic's own words ("公开内容" in "政务公开内容"): a fragment of them."""
    if not words:
        return False
    rx_words = re.compile("|".join(map(re.escape, words)))
    inside = total = 0
    for r in peers:
        spans = [m.span() for m in rx_words.finditer(r.search_text)]
        for m in re.finditer(re.escape(term), r.search_text):
            total += 1
            inside += any(a < m.end() and m.start() < b for a, b in spans)
    return total > 0 and inside * 2 > total


class Profile:
    """Every report of one index generation with its roles, headings and wordings; items learned per topic, cached."""

    def __init__(self, searcher):
        mask = searcher.cfg.parse.mask_map
        reports = []
        for meta in searcher.reports():
            rec = searcher.report(meta["report_id"])
            text = searchable(rec["text"], mask)
            heads = tuple((s["role"], s["level"], bare_heading(s["heading"])) for s in rec["sections"] if s["heading"])
            reports.append(PeerReport(meta["report_id"], meta["title"], meta.get("unit") or "", meta.get("level") or "",
                                      meta.get("year"), meta.get("topic") or "综合",
                                      frozenset(s["role"] for s in rec["sections"] if s["heading"]), heads, text,
                                      terms_of(text)))
        self.reports = tuple(reports)
        self._items: dict[str, tuple[Item, ...]] = {}
        self._lock = threading.Lock()

    def peers(self, topic: str, exclude: frozenset[str] = frozenset()) -> tuple[list[PeerReport], str]:
        """Reports of the same topic (or all reports when too few), and a Chinese phrase naming that basis."""
        pool = [r for r in self.reports if r.report_id not in exclude]
        same = [r for r in pool if r.topic == topic]
        if topic != "综合" and len(same) >= MIN_PEERS:
            return same, f"同主题（{topic}）报告 {len(same)} 份"
        return pool, f"全部报告 {len(pool)} 份（同主题报告不足 {MIN_PEERS} 份）"

    def items(self, topic: str) -> tuple[Item, ...]:
        with self._lock:
            if topic not in self._items:
                same = [r for r in self.reports if r.topic == topic]
                others = [r for r in self.reports if r.topic != topic]
                self._items[topic] = learn_items(same, others, topic) if topic != "综合" else ()
            return self._items[topic]


_PROFILES: dict[str, Profile] = {}
_PROFILES_LOCK = threading.Lock()


def profile_for(searcher) -> Profile:
    """The Profile of this searcher's index generation, built on first use (a reopened index gets a new one)."""
    key = str(searcher.gen_dir)
    with _PROFILES_LOCK:
        prof = _PROFILES.get(key)
        if prof is None:
            prof = Profile(searcher)
            _PROFILES.clear()  # only the live generation is worth keeping
            _PROFILES[key] = prof
        return prof
