"""Milvus store: a collection per generation behind an alias; the same pymilvus code for Milvus Lite and clusters."""
from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from pathlib import PurePosixPath

import numpy as np

from ..config import Config
from ..errors import AssistantError, IndexDamagedError, IndexMissingError, StoreUnavailableError
from ..models import Chunk, Filters, Report
from .base import FILTER_FIELDS, Ranked, text_key
from .milvus_records import docs_name, ensure_loaded, jsonl, read_docs, write_docs
from .sparse import bm25_doc_vectors, dot, query_vector

INSERT_ROWS = 2000
QUERY_ROWS = 5000
SEARCH_QUERIES = 256
_VARCHAR = ("unit", "level", "topic", "section_role", "report_id")  # filterable; stored whole (never cut: filters match)
_clients: dict[tuple[str, str], object] = {}
_clients_lock = threading.Lock()


def milvus_uri(cfg: Config) -> str:
    """The configured URI: a server address as is, a Milvus Lite path resolved against config.toml's directory."""
    return cfg.milvus.uri if cfg.milvus.is_remote() else str(cfg.path(cfg.milvus.uri))


def connect(cfg: Config):
    """One MilvusClient per URI and token in this process (Milvus Lite allows one process per data directory)."""
    uri = milvus_uri(cfg)
    token = os.environ.get(cfg.milvus.token_env, "")
    with _clients_lock:
        client = _clients.get((uri, token))
        if client is None:
            with _unavailable(cfg, connecting=True):
                from pymilvus import MilvusClient

                if not cfg.milvus.is_remote():
                    os.makedirs(os.path.dirname(uri) or ".", exist_ok=True)
                client = MilvusClient(uri=uri, token=token, timeout=cfg.milvus.timeout_s)
            _clients[(uri, token)] = client
    return client


@contextmanager
def _unavailable(cfg: Config, connecting: bool = False):
    """Any failure talking to Milvus becomes one message naming the URI, never a traceback."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as exc:  # pymilvus raises MilvusException, grpc errors, ConnectionError, ValueError on bad URIs
        reason = str(getattr(exc, "message", "") or exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if connecting and not cfg.milvus.is_remote():  # the lock error itself is raised in Lite's own server process
            raise StoreUnavailableError(
                f"无法打开 Milvus Lite 数据目录 {milvus_uri(cfg)}（{reason}）。嵌入式 Milvus Lite 只允许一个进程打开它；"
                f"多个进程（例如应用的上传重建）共用时，请启动 python -m milvus_lite server 并把 uri 设为其 http 地址") from exc
        what = "无法连接 Milvus" if connecting else "Milvus 请求失败"
        raise StoreUnavailableError(
            f"{what}（{milvus_uri(cfg)}）：{reason}。请确认 Milvus 已启动、[milvus] uri 或 --milvus-uri 地址正确，"
            f"需要令牌时放在环境变量 {cfg.milvus.token_env} 中") from exc


def filter_expr(filters: Filters | None) -> str:
    """Filters as a Milvus boolean expression ("" = every row); values quoted as JSON strings, never spliced raw."""
    if filters is None or filters.is_empty():
        return ""
    parts = []
    for name in FILTER_FIELDS:
        wanted = getattr(filters, name)
        if wanted:
            values = (str(int(v)) for v in wanted) if name == "year" else (
                json.dumps(str(v), ensure_ascii=False) for v in wanted)
            parts.append(f"{name} in [{', '.join(values)}]")
    return " and ".join(parts)


def _index_params(client, cfg: Config, n: int):
    """The [index] faiss_type as a Milvus index: flat → FLAT, hnsw → HNSW, ivf → IVF_FLAT (nlist shrunk as in FAISS)."""
    params = client.prepare_index_params()
    kind = cfg.index.faiss_type
    if kind == "hnsw":
        params.add_index("dense", index_type="HNSW", metric_type="IP", params={"M": cfg.index.hnsw_m, "efConstruction": 80})
    elif kind == "ivf":
        params.add_index("dense", index_type="IVF_FLAT", metric_type="IP",
                         params={"nlist": max(1, min(cfg.index.ivf_nlist, n // 39))})
    else:
        params.add_index("dense", index_type="FLAT", metric_type="IP")
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    return params


def _search_params(cfg: Config, n: int) -> dict:
    if cfg.index.faiss_type == "hnsw":
        return {"metric_type": "IP", "params": {"ef": max(cfg.index.hnsw_ef_search, n)}}
    if cfg.index.faiss_type == "ivf":
        return {"metric_type": "IP", "params": {"nprobe": cfg.index.ivf_nprobe}}
    return {"metric_type": "IP"}


def _live(client, alias: str) -> str | None:
    """The collection the alias points at, None when the alias does not exist yet."""
    got = client.list_aliases()  # describe_alias on an unknown alias logs an RPC error before raising
    if alias not in (got.get("aliases", []) if isinstance(got, dict) else got):
        return None
    return client.describe_alias(alias)["collection_name"]


class MilvusStore:
    """ChunkStore over the collection the alias names at open time (rows never change under a running reader)."""

    def __init__(self, cfg: Config, client, name: str, docs: dict[str, str]):
        from .. import store

        self.cfg = cfg
        self._client = client
        self._name = name
        self.location = PurePosixPath(milvus_uri(cfg).replace("://", ":/")) / name
        self.manifest = json.loads(docs["manifest"])
        self.chunks = [Chunk.from_json(json.loads(line)) for line in docs["chunks"].splitlines() if line]
        self.reports = {r["report_id"]: r for r in (json.loads(line) for line in docs["reports"].splitlines() if line)}
        self._vocab: dict[str, int] = json.loads(docs["vocab"])
        self._bytes = sum(len(v.encode("utf-8")) for v in docs.values())
        want = self.manifest.get("counts", {}).get("chunks")
        with _unavailable(cfg):
            rows = int(client.get_collection_stats(name).get("row_count", -1))
        for what, n in (("chunks", len(self.chunks)), ("rows", rows)):
            if want is not None and n != want:
                raise IndexDamagedError(store.damage_message(self.location.parent, [(f"{name} {what}",
                                                                                      f"有 {n} 条，清单记录为 {want} 条")]))

    @classmethod
    def open(cls, cfg: Config) -> "MilvusStore":
        client = connect(cfg)
        alias = cfg.milvus.collection
        with _unavailable(cfg):
            name = _live(client, alias)
            if name is None:
                raise IndexMissingError(f"Milvus（{milvus_uri(cfg)}）中没有集合 {alias}（先运行 python -m indexer build --store milvus）")
            docs = read_docs(client, name, ("manifest", "chunks", "reports", "vocab"))
            ensure_loaded(client, name)
        if docs is None:
            from .. import store

            raise IndexDamagedError(store.damage_message(PurePosixPath(milvus_uri(cfg)), [(f"{name}_docs", "记录缺失或不完整")]))
        return cls(cfg, client, name, docs)

    def known(self, token: str) -> bool:
        return token in self._vocab

    def _search(self, data, field: str, n: int, filters: Filters | None, params: dict) -> list[Ranked]:
        if not data or n <= 0 or not self.chunks:
            return [[] for _ in data]
        out = []
        with _unavailable(self.cfg):
            for s in range(0, len(data), SEARCH_QUERIES):  # one reply stays far below gRPC's 256 MB
                # output_fields=["id"]: an empty list makes Milvus Lite return every field, vectors included
                res = self._client.search(self._name, data=data[s:s + SEARCH_QUERIES], anns_field=field,
                                          limit=min(n, len(self.chunks)), filter=filter_expr(filters),
                                          search_params=params, output_fields=["id"], consistency_level="Strong")
                out += [[(int(h["id"]), float(h["distance"])) for h in hits] for hits in res]
        return out

    def dense_search(self, qvecs: np.ndarray, n: int, filters: Filters | None) -> list[Ranked]:
        data = [np.asarray(q, dtype=np.float32).tolist() for q in qvecs]
        return self._search(data, "dense", n, filters, _search_params(self.cfg, n))

    def sparse_search(self, tokens: list[list[str]], n: int, filters: Filters | None) -> list[Ranked]:
        queries = [query_vector(t, self._vocab) for t in tokens]
        asked = [i for i, q in enumerate(queries) if q]
        found = self._search([queries[i] for i in asked], "sparse", n, filters, {"metric_type": "IP"})
        out: list[Ranked] = [[] for _ in tokens]
        for i, hits in zip(asked, found):
            out[i] = [(row, score) for row, score in hits if score > 0]
        return out

    def _rows(self, rows: list[int], field: str) -> dict[int, object]:
        if not rows:
            return {}
        with _unavailable(self.cfg):
            got = self._client.query(self._name, filter=f"id in {json.dumps(sorted(set(rows)))}",
                                     output_fields=["id", field], limit=len(set(rows)), consistency_level="Strong")
        return {int(r["id"]): r[field] for r in got}

    def dense_scores(self, qvec: np.ndarray, rows: list[int]) -> list[float]:
        vecs = self._rows(rows, "dense")
        q = np.asarray(qvec, dtype=np.float32)
        return [float(np.dot(np.asarray(vecs[i], dtype=np.float32), q)) for i in rows]

    def sparse_scores(self, tokens: list[str], rows: list[int]) -> list[float]:
        q = query_vector(tokens, self._vocab)
        if not q:
            return [0.0 for _ in rows]
        vecs = self._rows(rows, "sparse")
        return [dot({int(k): float(v) for k, v in vecs[i].items()}, q) for i in rows]

    def size_bytes(self) -> int:
        """Records as stored plus dense vectors; Milvus's own index and sparse rows are not counted."""
        return self._bytes + len(self.chunks) * int(self.manifest.get("dim", 0)) * 4

    def moved(self) -> bool:
        """Whether the alias names another collection now (a writer built a new generation)."""
        with _unavailable(self.cfg):
            return _live(self._client, self.cfg.milvus.collection) != self._name


class MilvusWriter:
    """StoreWriter: a new collection per build, filled and checked, then the alias switched to it."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.alias = cfg.milvus.collection
        self.location = f"{milvus_uri(cfg)} 集合 {self.alias}"
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = connect(self.cfg)
        return self._client

    def _generations(self) -> list[str]:
        with _unavailable(self.cfg):
            names = self.client.list_collections()
        prefix = f"{self.alias}_g"
        return sorted(n for n in names if n.startswith(prefix) and not n.endswith("_docs"))

    def prepare(self) -> list[str]:
        """Drop what earlier builds left behind (half-built or superseded generations), keeping the live one and the
        one before it (replicas that opened it keep answering until they reopen)."""
        with _unavailable(self.cfg):
            live = _live(self.client, self.alias)
            keep = {live}
            problems = []
            if live is not None:
                docs = read_docs(self.client, live, ("manifest",))
                if docs is None:
                    problems.append(f"{live}_docs: 记录缺失或不完整")
                else:
                    manifest = json.loads(docs["manifest"])
                    keep.add(manifest.get("store", {}).get("previous"))
                    rows = int(self.client.get_collection_stats(live).get("row_count", -1))
                    if rows != manifest.get("counts", {}).get("chunks"):
                        problems.append(f"{live}: 有 {rows} 条，清单记录为 {manifest.get('counts', {}).get('chunks')} 条")
            self._prune(keep)
        return problems

    def _prune(self, keep: set) -> None:
        for name in self._generations():
            if name not in keep:
                self._drop(name)

    def _drop(self, name: str) -> None:
        for n in (name, docs_name(name)):
            if self.client.has_collection(n):
                self.client.drop_collection(n)

    def current_manifest(self) -> dict | None:
        with _unavailable(self.cfg):
            live = _live(self.client, self.alias)
            docs = read_docs(self.client, live, ("manifest",)) if live else None
        return json.loads(docs["manifest"]) if docs else None

    def previous_vectors(self, fingerprint: dict) -> dict[str, np.ndarray]:
        manifest = self.current_manifest()
        if manifest is None or manifest.get("settings") != fingerprint:
            return {}
        live = _live(self.client, self.alias)
        n = int(manifest.get("counts", {}).get("chunks", 0))
        out = {}
        with _unavailable(self.cfg):
            ensure_loaded(self.client, live)
            for s in range(0, n, QUERY_ROWS):
                for r in self.client.query(live, filter=f"id >= {s} and id < {s + QUERY_ROWS}", limit=QUERY_ROWS,
                                           output_fields=["text_key", "dense"], consistency_level="Strong"):
                    out[r["text_key"]] = np.asarray(r["dense"], dtype=np.float32)
        return out

    def write(self, chunks: list[Chunk], vectors: np.ndarray, reports: list[Report], manifest: dict,
              tokens: list[list[str]]) -> str:
        from pymilvus import DataType, MilvusClient

        from ..manifest import FORMAT_VERSION
        from ..store import report_record

        client = self.client
        name = f"{self.alias}_g{time.strftime('%Y%m%d_%H%M%S')}_{os.getpid()}_{time.monotonic_ns() % 10**6:06d}"
        sparse, vocab = bm25_doc_vectors(tokens)
        dim = int(manifest["dim"])
        with _unavailable(self.cfg):
            previous = _live(client, self.alias)
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field("id", DataType.INT64, is_primary=True)  # the row in chunks: what the reader returns
            schema.add_field("text_key", DataType.VARCHAR, max_length=64)
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            for field in _VARCHAR:
                schema.add_field(field, DataType.VARCHAR, max_length=65535)
            schema.add_field("year", DataType.INT64)  # -1 = no year: never matches a year filter
            client.create_collection(name, schema=schema, index_params=_index_params(client, self.cfg, len(chunks)),
                                     consistency_level="Strong")
            for s in range(0, len(chunks), INSERT_ROWS):
                rows = [{"id": i, "text_key": text_key(c.search_text), "dense": vectors[i].astype(np.float32).tolist(),
                         "sparse": sparse[i], "year": -1 if c.year is None else int(c.year),
                         **{f: str(getattr(c, f) or "") for f in _VARCHAR}}
                        for i, c in enumerate(chunks[s:s + INSERT_ROWS], start=s)]
                client.insert(name, rows)
            manifest = {**manifest, "format_version": FORMAT_VERSION, "generation": name,
                        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        "store": {"kind": "milvus", "collection": name, "previous": previous}}
            write_docs(client, name, {
                "manifest": json.dumps(manifest, ensure_ascii=False),
                "chunks": jsonl(c.to_json() for c in chunks),
                "reports": jsonl(report_record(r) for r in reports),
                "vocab": json.dumps(vocab, ensure_ascii=False),
            })
            client.flush(name)
            rows = int(client.get_collection_stats(name).get("row_count", -1))
            if rows != len(chunks):  # never switch readers to a generation that lost rows on the way
                raise IndexDamagedError(f"Milvus 集合 {name} 写入后有 {rows} 条，应为 {len(chunks)} 条；仍使用原索引")
            if previous is None:
                client.create_alias(name, self.alias)
            else:
                client.alter_alias(name, self.alias)
            self._prune({name, previous})
        return self.location
