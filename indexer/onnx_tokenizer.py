"""A Unigram (SentencePiece) tokenizer.json segmented in Python: the same ids as tokenizers, ~250 MB less memory.

tokenizers builds a byte trie of all 250,002 pieces of multilingual-e5 that holds ~290 MB for the life of the app;
a dict of the pieces holds ~50 MB. The normaliser and pre-tokeniser still run in tokenizers (built from the same
file with a tiny vocabulary); only the Viterbi search over the pieces runs here, the way tokenizers' Unigram does it
(the first best path wins ties, unknown characters cost min score − 10 and adjacent ones fuse into one <unk>).
"""
from __future__ import annotations

import json
import marshal
import re
from pathlib import Path

from .cachefile import write_quietly

UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY


def supported(spec: dict) -> bool:
    """True for the layouts this module reproduces exactly; anything else is left to tokenizers itself."""
    model, pre = spec.get("model") or {}, spec.get("pre_tokenizer") or {}
    post = spec.get("post_processor") or {"type": "TemplateProcessing", "single": []}
    added_ok = all(t.get("special") and not t.get("normalized") and not t.get("lstrip") and not t.get("rstrip")
                   and not t.get("single_word") for t in spec.get("added_tokens") or [])
    return (model.get("type") == "Unigram" and not model.get("byte_fallback") and model.get("unk_id") is not None
            and pre.get("type") == "Metaspace" and pre.get("split") is False
            and pre.get("prepend_scheme") == "always" and post.get("type") == "TemplateProcessing"
            and not spec.get("truncation") and not spec.get("padding") and added_ok)


class UnigramTokenizer:
    """.encode_batch(texts, add_special_tokens) -> list of id lists, as tokenizers.Tokenizer would give them."""

    def __init__(self, spec: dict, pieces: list[str] | None = None, scores: list[float] | None = None):
        """spec is a tokenizer.json; pieces and scores, when given, replace its model's vocab (cached_unigram)."""
        from tokenizers import Tokenizer

        if not supported(spec):
            raise ValueError("tokenizer layout not reproduced by UnigramTokenizer")
        if pieces is None:
            pieces, scores = _vocab(spec)
        self._ids = {piece: i for i, piece in enumerate(pieces)}
        self._scores = scores
        self._unk = int(spec["model"]["unk_id"])
        self._unk_score = min(self._scores) - UNK_PENALTY
        self._longest: dict[str, int] = {}  # first character -> longest piece starting with it
        for piece in self._ids:
            if len(piece) > self._longest.get(piece[0], 0):
                self._longest[piece[0]] = len(piece)
        # Normaliser + pre-tokeniser of the same file; the model part gets just the special pieces.
        specials = [[piece, score] for piece, score in zip(pieces[: self._unk + 1], scores)]
        small = {**spec, "model": {**spec["model"], "vocab": specials}, "added_tokens": [],
                 "post_processor": None}
        pipeline = Tokenizer.from_str(json.dumps(small, ensure_ascii=False))
        self._normalizer, self._pre = pipeline.normalizer, pipeline.pre_tokenizer
        self._specials = {t["content"]: t["id"] for t in spec.get("added_tokens") or []}
        names = sorted(self._specials, key=len, reverse=True)  # leftmost-longest, as tokenizers matches them
        self._split = re.compile("(" + "|".join(map(re.escape, names)) + ")") if names else None
        template = (spec.get("post_processor") or {}).get("single") or []
        seq = next((i for i, part in enumerate(template) if "Sequence" in part), len(template))
        special_ids = (spec.get("post_processor") or {}).get("special_tokens") or {}
        self._head = [i for p in template[:seq] for i in special_ids[p["SpecialToken"]["id"]]["ids"]]
        self._tail = [i for p in template[seq + 1 :] for i in special_ids[p["SpecialToken"]["id"]]["ids"]]

    @classmethod
    def from_file(cls, path: Path) -> "UnigramTokenizer":
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def token_to_id(self, piece: str) -> int | None:
        return self._specials.get(piece, self._ids.get(piece))

    def encode_batch(self, texts: list[str], add_special_tokens: bool = True) -> list[list[int]]:
        return [self.encode(t, add_special_tokens) for t in texts]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        ids: list[int] = []
        for part in (self._split.split(text) if self._split else [text]):
            if not part:
                continue
            if part in self._specials:
                ids.append(self._specials[part])
                continue
            normalized = self._normalizer.normalize_str(part) if self._normalizer else part
            for piece, _ in self._pre.pre_tokenize_str(normalized):
                ids += self._viterbi(piece)
        return self._head + ids + self._tail if add_special_tokens else ids

    def _viterbi(self, s: str) -> list[int]:
        n = len(s)
        best: list[float | None] = [0.0] + [None] * n
        start, piece_id = [0] * (n + 1), [0] * (n + 1)
        ids, scores, longest = self._ids, self._scores, self._longest
        for i in range(n):
            base, single = best[i], False
            for j in range(i + 1, min(i + longest.get(s[i], 0), n) + 1):  # shortest first, as the trie yields them
                pid = ids.get(s[i:j])
                if pid is None:
                    continue
                single = single or j == i + 1
                cand = base + scores[pid]
                if best[j] is None or cand > best[j]:
                    best[j], start[j], piece_id[j] = cand, i, pid
            if not single:
                cand = base + self._unk_score
                if best[i + 1] is None or cand > best[i + 1]:
                    best[i + 1], start[i + 1], piece_id[i + 1] = cand, i, self._unk
        out, end = [], n
        while end > 0:
            pid = piece_id[end]
            if not (pid == self._unk and out and out[-1] == self._unk):  # a run of unknowns is one <unk>
                out.append(pid)
            end = start[end]
        return out[::-1]


def _vocab(spec: dict) -> tuple[list[str], list[float]]:
    """The pieces and scores of a tokenizer.json's unigram vocab."""
    vocab = spec["model"]["vocab"]
    return [piece for piece, _ in vocab], [float(score) for _, score in vocab]


def cached_unigram(path: Path, read_json=None) -> UnigramTokenizer | None:
    """The UnigramTokenizer of tokenizer.json at path, or None for a layout it does not reproduce.

    Parsing the 16 MB file (250k [piece, score] lists) took ~0.3 CPU-s of the app's start and left ~25 MB of freed but
    fragmented heap; its pieces and scores are kept once as two marshalled lists next to it (named by the file's size
    and time), from which the same tokenizer is built in a fraction of that.
    """
    path = Path(path)
    st = path.stat()
    cache = path.with_name(f"{path.stem}.unigram-{st.st_size}-{st.st_mtime_ns}-m{marshal.version}.marshal")
    try:
        rest, pieces, scores = marshal.loads(cache.read_bytes())
        return UnigramTokenizer(json.loads(rest), pieces, scores)
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        pass
    spec = (read_json or (lambda p: json.loads(p.read_text(encoding="utf-8"))))(path)
    if not supported(spec):
        return None
    pieces, scores = _vocab(spec)
    rest = json.dumps({**spec, "model": {**spec["model"], "vocab": []}}, ensure_ascii=False)
    del spec
    tok = UnigramTokenizer(json.loads(rest), pieces, scores)
    write_quietly(cache, marshal.dumps((rest, pieces, scores)))
    return tok

