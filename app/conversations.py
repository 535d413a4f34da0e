"""Saved conversations in SQLite: a list per user to come back to, each turn with its sources and feedback."""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', title TEXT NOT NULL, created REAL, updated REAL);
CREATE TABLE IF NOT EXISTS turns (
    conv_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    question TEXT NOT NULL, answer TEXT NOT NULL, sources TEXT NOT NULL, flagged TEXT NOT NULL,
    not_found INTEGER NOT NULL, feedback TEXT, created REAL, PRIMARY KEY (conv_id, idx));
"""
TITLE_CHARS = 24


@dataclass(frozen=True)
class Turn:
    """One question and its final answer, as shown: markdown with [n], the sources it cites, flagged figures."""

    question: str
    answer: str
    sources: list = field(default_factory=list)
    flagged: list = field(default_factory=list)
    not_found: bool = False
    feedback: str | None = None  # "up" | "down" | None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Turn":
        return cls(**{k: d[k] for k in ("question", "answer", "sources", "flagged", "not_found", "feedback") if k in d})


@dataclass(frozen=True)
class Summary:
    id: str
    title: str
    updated: float
    turns: int


def db_path(cfg, index_dir=None) -> Path:
    """[app] conversations_db, else conversations.sqlite next to the index directory."""
    if cfg.app.conversations_db:
        return cfg.path(cfg.app.conversations_db)
    root = Path(index_dir) if index_dir else cfg.path(cfg.index.dir)
    return root.parent / "conversations.sqlite"


def default_title(question: str) -> str:
    q = " ".join((question or "").split())
    return q if len(q) <= TITLE_CHARS else q[:TITLE_CHARS] + "…"


class ConversationStore:
    """Thread-safe SQLite store; every method opens its own short connection (Gradio calls from worker threads)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._db() as db:
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self):
        with self._lock:
            db = sqlite3.connect(self.path, timeout=10)
            try:
                db.execute("PRAGMA foreign_keys = ON")
                with db:
                    yield db
            finally:
                db.close()

    def create(self, owner: str, title: str) -> str:
        cid, now = uuid.uuid4().hex[:12], time.time()
        with self._db() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", (cid, owner or "", title or "新对话", now, now))
        return cid

    def list(self, owner: str) -> list[Summary]:
        """The owner's conversations, most recently used first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.updated, COUNT(t.idx) FROM conversations c LEFT JOIN turns t ON t.conv_id = c.id"
                " WHERE c.owner = ? GROUP BY c.id ORDER BY c.updated DESC", (owner or "",)).fetchall()
        return [Summary(*r) for r in rows]

    def owns(self, owner: str, cid: str | None) -> bool:
        if not cid:
            return False
        with self._db() as db:
            return db.execute("SELECT 1 FROM conversations WHERE id = ? AND owner = ?", (cid, owner or "")).fetchone() is not None

    def title(self, cid: str) -> str:
        with self._db() as db:
            row = db.execute("SELECT title FROM conversations WHERE id = ?", (cid,)).fetchone()
        return row[0] if row else ""

    def turns(self, cid: str) -> list[Turn]:
        with self._db() as db:
            rows = db.execute("SELECT question, answer, sources, flagged, not_found, feedback FROM turns"
                              " WHERE conv_id = ? ORDER BY idx", (cid,)).fetchall()
        return [Turn(q, a, json.loads(s), json.loads(f), bool(nf), fb) for q, a, s, f, nf, fb in rows]

    def add_turn(self, cid: str, turn: Turn, at: int | None = None) -> int:
        """Append a turn, or put it at index `at` dropping that turn and every later one (regenerate)."""
        now = time.time()
        with self._db() as db:
            if at is not None:
                db.execute("DELETE FROM turns WHERE conv_id = ? AND idx >= ?", (cid, at))
            idx = db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM turns WHERE conv_id = ?", (cid,)).fetchone()[0]
            db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (cid, idx, turn.question, turn.answer, json.dumps(turn.sources, ensure_ascii=False),
                        json.dumps(turn.flagged, ensure_ascii=False), int(turn.not_found), turn.feedback, now))
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, cid))
        return idx

    def set_feedback(self, cid: str, idx: int, value: str | None) -> None:
        with self._db() as db:
            db.execute("UPDATE turns SET feedback = ? WHERE conv_id = ? AND idx = ?", (value, cid, idx))

    def rename(self, cid: str, title: str) -> None:
        title = " ".join((title or "").split())[:60]
        if title:
            with self._db() as db:
                db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, cid))

    def delete(self, cid: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (cid,))

    def rated(self, owner: str | None = None) -> list[tuple[str, int, Turn]]:
        """(conversation id, turn index, turn) of every turn with feedback, oldest first; all owners when None."""
        sql = ("SELECT t.conv_id, t.idx, t.question, t.answer, t.sources, t.flagged, t.not_found, t.feedback"
               " FROM turns t JOIN conversations c ON c.id = t.conv_id WHERE t.feedback IS NOT NULL")
        args: tuple = ()
        if owner is not None:
            sql, args = sql + " AND c.owner = ?", (owner,)
        with self._db() as db:
            rows = db.execute(sql + " ORDER BY t.created", args).fetchall()
        return [(c, i, Turn(q, a, json.loads(s), json.loads(f), bool(nf), fb)) for c, i, q, a, s, f, nf, fb in rows]
