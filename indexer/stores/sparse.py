"""Client-side BM25 as sparse vectors: the same bm25s scores as the FAISS store, portable to any Milvus >= 2.4."""
from __future__ import annotations

from collections import Counter


def bm25_doc_vectors(tokens: list[list[str]]) -> tuple[list[dict[int, float]], dict[str, int]]:
    """One {token id: BM25 weight} per document and the vocabulary; a query's score is the inner product with
    query_vector(), exactly bm25s get_scores (each query token counted as often as it occurs)."""
    import bm25s
    from scipy.sparse import csc_matrix

    retriever = bm25s.BM25()
    # bm25s needs at least one token per document to build its matrix (the same stand-in as the FAISS store).
    retriever.index([t or ["<empty>"] for t in tokens] or [["<empty>"]], show_progress=False)
    s = retriever.scores
    n_terms = len(s["indptr"]) - 1
    by_doc = csc_matrix((s["data"], s["indices"], s["indptr"]), shape=(s["num_docs"], n_terms)).tocsr()
    docs = [dict(zip(by_doc.indices[by_doc.indptr[d]:by_doc.indptr[d + 1]].tolist(),
                     by_doc.data[by_doc.indptr[d]:by_doc.indptr[d + 1]].tolist()))
            for d in range(len(tokens))]
    vocab = {t: i for t, i in retriever.vocab_dict.items() if i < n_terms}
    return docs, vocab


def query_vector(tokens: list[str], vocab: dict[str, int]) -> dict[int, float]:
    """Sparse query: known tokens with their counts; {} when no token is known."""
    return {vocab[t]: float(n) for t, n in Counter(tokens).items() if t in vocab}


def dot(a: dict[int, float], b: dict[int, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return float(sum(v * b.get(k, 0.0) for k, v in a.items()))
