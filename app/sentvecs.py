"""Every report sentence the answer layer may weigh by meaning, embedded between questions and kept in a file."""
from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from indexer.cachefile import write_quietly

from .citations import MIN_BIGRAMS, bigrams, sentence_spans
from .evidence import MAX_SENTENCE
from .safety import is_planted

FORMAT = 2  # of the file and of the choice of sentences: a change makes every file stale
IDLE_S = 1.0  # a pass of the fill only after the model has had no question for this long
GROUP = 8  # sentences a pass: a question arriving during one shares the cores with ~0.1 s of work at most
CHECK_S = 5.0  # how often the fill looks whether the index moved to another generation
START_S = 10.0  # nothing is embedded (or even chosen) this soon after the app starts serving: its first questions
READY_LOG = "句子向量已就绪"  # the log line eval.load waits for before it measures
log = logging.getLogger(__name__)


def sentence_texts(searcher) -> list[str]:
    """The texts Searcher.similarity embeds for the evidence rerank's sentences, every one the index holds, sorted.

    app.evidence weighs a passage's sentences of at least 6 bigrams, a longer one than MAX_SENTENCE characters cut to
    the run of clauses around the clause that best matches the question (cut_forms: each clause's run). Taken here:
    every sentence of MIN_BIGRAMS or more, a few more than the rerank uses; a vector is looked up by its text, so an
    extra one costs only its embedding.
    """
    out = set()
    for c in searcher.chunks:
        for s, e in sentence_spans(c.text):
            sent = c.text[s:e]
            if len(bigrams(sent)) < MIN_BIGRAMS or is_planted(sent):
                continue
            for form in cut_forms(sent) if len(sent) > MAX_SENTENCE else (sent,):
                out.add(searcher.embedded_text(form))
    return sorted(out)


def cut_forms(sentence: str) -> set[str]:
    """What app.evidence shows of a sentence longer than MAX_SENTENCE: trim_sentence grows a run of clauses around the
    clause that best matches the question, the same run whatever the question once that clause is chosen; so one form
    per clause, found by asking trim_sentence with that clause as the only question word (an earlier clause holding it
    gives that clause's form instead: a form missed here is embedded when asked)."""
    from .evidence import trim_clauses, trim_sentence  # the rerank's own cut, so the forms are its forms
    from .intent import Intent

    return {trim_sentence(sentence, [c], Intent("general")) for c in trim_clauses(sentence)}


def cache_key(searcher, embedder) -> str:
    """What decides the file's texts and vectors: the generation's manifest (its files' checksums, the model's
    weights hash, prefixes, mask map), the model as loaded and how sentences are chosen here."""
    inner = getattr(embedder, "inner", embedder)
    ort = sys.modules.get("onnxruntime")
    what = {"format": FORMAT, "max_sentence": MAX_SENTENCE, "min_bigrams": MIN_BIGRAMS,
            "manifest": searcher.manifest, "model": getattr(inner, "name", type(inner).__name__),
            "runtime": getattr(inner, "runtime", None), "dim": int(embedder.dim),
            "onnxruntime": getattr(ort, "__version__", None)}
    blob = json.dumps(what, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def cache_file(cache_dir: Path, searcher, key: str) -> Path:
    """One file per index directory and generation (named by both), so a new generation's file replaces the old."""
    where = hashlib.sha256(str(searcher.gen_dir.parent).encode("utf-8")).hexdigest()[:12]
    return Path(cache_dir) / f"sentences-{where}-{key}.marshal"


def save(path: Path, key: str, vectors: dict[str, np.ndarray]) -> bool:
    """Written atomically (a reader sees the old file, none, or the whole new one); older files of the same index
    directory are removed. False when the folder cannot be written (the next start embeds again)."""
    texts = sorted(vectors)
    matrix = np.stack([vectors[t] for t in texts]).astype(np.float32, copy=False) if texts else np.zeros((0, 0))
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    blob = marshal.dumps((FORMAT, key, texts, int(matrix.shape[1]) if texts else 0, matrix.tobytes()))
    if not write_quietly(path, blob):
        return False
    prefix = path.name.rsplit("-", 1)[0] + "-"
    for old in path.parent.glob(f"{prefix}*.marshal"):
        if old.name != path.name:
            old.unlink(missing_ok=True)
    return True


def load(path: Path, key: str, dim: int) -> dict[str, np.ndarray] | None:
    """text → vector from the file at path, or None when it is missing, damaged or made for another key."""
    try:
        fmt, got, texts, width, raw = marshal.loads(Path(path).read_bytes())
        if fmt != FORMAT or got != key or width != dim or len(raw) != 4 * dim * len(texts):
            return None
        matrix = np.frombuffer(raw, dtype=np.float32).reshape(len(texts), dim)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return dict(zip(texts, matrix))


class SentenceFill:
    """Fills batcher.ahead (app.querybatch) with the vectors of every sentence of the served generation: loaded from
    the cache file when there is one for it, else embedded GROUP sentences at a time whenever the model has been idle
    for IDLE_S, then saved. Until then questions embed what they need, as before; the vectors are the same bytes (a
    row's vector does not depend on the other rows of its pass), so answers do not change.

    watch(searcher) after an upload's reopen; a generation the searcher itself follows is noticed every CHECK_S.
    """

    def __init__(self, batcher, cache_dir: Path, idle_s: float = IDLE_S, check_s: float = CHECK_S,
                 start_s: float = START_S):
        self.batcher, self.cache_dir, self.idle_s, self.check_s = batcher, Path(cache_dir), idle_s, check_s
        self._not_before = time.monotonic() + start_s
        self._searcher = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.done = threading.Event()  # set when the current generation's vectors are all in batcher.ahead
        self.loaded_from_file = False
        self.embedded = 0  # sentences embedded by the fill (not loaded)
        self._thread: threading.Thread | None = None

    def start(self, searcher) -> SentenceFill:
        self._searcher = searcher
        self.batcher.filler = self
        self._thread = threading.Thread(target=self._run, name="sentence-fill", daemon=True)
        self._thread.start()
        return self

    def watch(self, searcher) -> None:
        self._searcher = searcher
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        _lower_priority()
        done_for = None
        while not self._stop.is_set():
            searcher = self._searcher
            where = (id(searcher), searcher.gen_dir)
            if where != done_for:
                try:
                    self._fill(searcher)
                    done_for = where
                except Exception:  # noqa: BLE001 - the fill only saves time: questions embed what they need
                    log.exception("预先计算句子向量失败，提问时按需计算")
                    return
            self._wake.wait(self.check_s)
            self._wake.clear()

    def _fill(self, searcher) -> None:
        self.done.clear()
        batcher, where = self.batcher, searcher.gen_dir
        key = cache_key(searcher, batcher)
        path = cache_file(self.cache_dir, searcher, key)
        found = load(path, key, int(batcher.dim))
        if found is not None:
            batcher.ahead = found
            self.loaded_from_file = True
            self.done.set()
            log.info("%s：%d 句，读自 %s", READY_LOG, len(found), path)
            return
        if not self._wait_quiet():  # even choosing the sentences (~0.15 CPU-s) waits: the app may be answering
            return
        texts = sentence_texts(searcher)
        vectors = batcher.cached_passages(texts)
        batcher.ahead = table = dict(vectors)
        todo = sorted((t for t in texts if t not in vectors), key=len)  # neighbours in length: little padding
        for i in range(0, len(todo), GROUP):
            if not self._wait_quiet() or self._searcher is not searcher:
                return
            group = todo[i:i + GROUP]
            for text, vec in zip(group, batcher.inner.encode_passages(group)):
                table[text] = vec  # questions see each vector as soon as it is made
            self.embedded += len(group)
        if searcher.gen_dir == where:  # else the texts may be the next generation's: that one is filled next
            save(path, key, table)
        self.done.set()
        log.info("%s：%d 句，其中 %d 句在提问间隙计算", READY_LOG, len(table), self.embedded)

    def _wait_quiet(self) -> bool:
        """Until start_s after the start and the model idle for idle_s; False when stopped."""
        while not self._stop.is_set():
            early, quiet = self._not_before - time.monotonic(), self.batcher.quiet_for()
            if early <= 0 and quiet >= self.idle_s:
                return True
            self._stop.wait(max(early, self.idle_s - quiet if quiet else self.idle_s / 4))
        return False


def _lower_priority() -> None:
    """This thread at the lowest CPU priority (Linux sets nice per thread): its share of a pass yields to questions'.
    Elsewhere the id would name a process, so nothing is changed there."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def fill_ahead(batcher, searcher, cache_dir: Path, start_s: float = START_S) -> SentenceFill | None:
    """Start the fill for a QueryBatcher (None for another embedder, which keeps no passage vectors)."""
    if not hasattr(batcher, "ahead"):
        return None
    return SentenceFill(batcher, cache_dir, start_s=start_s).start(searcher)

