"""Records kept with a Milvus generation (manifest, chunks, reports, BM25 vocabulary) in a companion collection."""
from __future__ import annotations

import json

PIECE_CHARS = 16000  # a VARCHAR holds at most 65535 bytes: 16000 characters of up to 4 UTF-8 bytes each


def docs_name(name: str) -> str:
    return f"{name}_docs"


def write_docs(client, name: str, blobs: dict[str, str]) -> None:
    """Manifest, chunk and report records and the BM25 vocabulary, in pieces; "parts" last marks them complete."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=128)
    schema.add_field("body", DataType.VARCHAR, max_length=65535)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus requires a vector field in every collection
    params = client.prepare_index_params()
    params.add_index("v", index_type="FLAT", metric_type="L2")
    client.create_collection(docs_name(name), schema=schema, index_params=params, consistency_level="Strong")
    parts, rows = {}, []
    for blob, text in blobs.items():
        pieces = [text[i:i + PIECE_CHARS] for i in range(0, len(text), PIECE_CHARS)] or [""]
        parts[blob] = len(pieces)
        rows += [{"key": f"{blob}:{i}", "body": p, "v": [0.0, 0.0]} for i, p in enumerate(pieces)]
    for s in range(0, len(rows), 200):
        client.insert(docs_name(name), rows[s:s + 200])
    client.insert(docs_name(name), [{"key": "parts", "body": json.dumps(parts), "v": [0.0, 0.0]}])


def ensure_loaded(client, name: str) -> None:
    """Collections come back released after a restart (or a new Milvus Lite process): searches need them loaded."""
    state = client.get_load_state(name).get("state")
    if getattr(state, "name", str(state)) != "Loaded":
        client.load_collection(name)


def read_docs(client, name: str, which: tuple[str, ...]) -> dict[str, str] | None:
    """The named blobs of a generation, None when its records are absent or incomplete (a half-built generation)."""
    if not client.has_collection(docs_name(name)):
        return None
    ensure_loaded(client, docs_name(name))
    got = client.query(docs_name(name), filter='key == "parts"', output_fields=["body"], consistency_level="Strong")
    if not got:
        return None
    parts = json.loads(got[0]["body"])
    out = {}
    for blob in which:
        keys = [f"{blob}:{i}" for i in range(parts.get(blob, 0))]
        bodies = {}
        for s in range(0, len(keys), 100):
            batch = keys[s:s + 100]
            for row in client.query(docs_name(name), filter=f"key in {json.dumps(batch)}", output_fields=["key", "body"],
                                    limit=len(batch), consistency_level="Strong"):
                bodies[row["key"]] = row["body"]
        if len(bodies) != len(keys):
            return None
        out[blob] = "".join(bodies[k] for k in keys)
    return out


def jsonl(rows) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
