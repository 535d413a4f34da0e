"""Saved conversations: SQLite store survives reopening, owners are kept apart, regenerate replaces turns."""
import json

from app.conversations import ConversationStore, Turn, db_path, default_title
from app.feedback import to_question, write_jsonl

SRC = {"n": 1, "cited": True, "report_id": "r", "chunk_id": "c", "report_title": "市统计局总结",
       "heading_path": ["一、工作"], "text": "全年主动公开政府信息915条，其中统计数据发布126条。", "highlights": [[0, 14]]}


def test_store_keeps_turns_across_reopen_and_separates_owners(tmp_path):
    path = tmp_path / "c.sqlite"
    s = ConversationStore(path)
    cid = s.create("alice", default_title("市统计局2023年全年主动公开政府信息多少条？这是一个很长的问题"))
    s.add_turn(cid, Turn("q1", "答[1]", [SRC], ["915"], False))
    s.add_turn(cid, Turn("q2", "答2", [], [], True))
    again = ConversationStore(path)
    assert [t.question for t in again.turns(cid)] == ["q1", "q2"]
    assert again.turns(cid)[0].sources == [SRC] and again.turns(cid)[0].flagged == ["915"]
    assert [x.turns for x in again.list("alice")] == [2] and again.list("bob") == []
    assert again.owns("alice", cid) and not again.owns("bob", cid) and not again.owns("alice", None)
    assert again.list("alice")[0].title.endswith("…")


def test_regenerate_replaces_the_turn_and_drops_later_ones(tmp_path):
    s = ConversationStore(tmp_path / "c.sqlite")
    cid = s.create("", "t")
    for q in ("a", "b", "c"):
        s.add_turn(cid, Turn(q, q.upper()))
    s.add_turn(cid, Turn("b", "B2"), at=1)
    assert [(t.question, t.answer) for t in s.turns(cid)] == [("a", "A"), ("b", "B2")]


def test_rename_delete_and_feedback(tmp_path):
    s = ConversationStore(tmp_path / "c.sqlite")
    cid = s.create("", "t")
    s.add_turn(cid, Turn("q", "a[1]", [SRC]))
    s.rename(cid, "  新  名称 ")
    s.rename(cid, "   ")  # a blank name is ignored
    assert s.title(cid) == "新 名称"
    s.set_feedback(cid, 0, "up")
    assert [(c, i, t.feedback) for c, i, t in s.rated()] == [(cid, 0, "up")]
    s.delete(cid)
    assert s.list("") == [] and s.turns(cid) == [] and s.rated() == []


def test_db_path_next_to_index_or_configured(tmp_path):
    from indexer.config import load_config, with_overrides

    cfg = with_overrides(load_config(), index={"dir": str(tmp_path / "idx")})
    assert db_path(cfg) == tmp_path / "conversations.sqlite"
    assert db_path(cfg, tmp_path / "other" / "index") == tmp_path / "other" / "conversations.sqlite"
    cfg = with_overrides(cfg, app={"conversations_db": str(tmp_path / "x.db")})
    assert db_path(cfg) == tmp_path / "x.db"


def test_feedback_jsonl_in_eval_question_format(tmp_path):
    liked = Turn("市统计局主动公开多少条？", "全年915条[1]。", [SRC], [], False, "up")
    disliked = Turn("那问题呢？", "资料中未找到", [], [], True, "down")
    rec = to_question("abcdef123456", 0, liked)
    assert rec["answers"] == ["全年主动公开政府信息915条"] and rec["type"] == "fact"
    assert rec["report_title"] == "市统计局总结" and rec["id"] == "fb-abcdef12-1" and "👍" in rec["note"]
    bad = to_question("x", 3, disliked)
    assert bad["answers"] == [] and bad["type"] == "no_answer" and "👎" in bad["note"]
    path = write_jsonl([("abcdef123456", 0, liked), ("x", 3, disliked)], tmp_path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["fb-abcdef12-1", "fb-x-4"]
    assert "全年" in path.read_text(encoding="utf-8")  # ensure_ascii=False
    assert set(rows[0]) == {"id", "query", "answers", "type", "report_title", "note"}


def test_export_markdown_and_docx_carry_citations(tmp_path):
    from docx import Document

    from app.export import write

    turns = [Turn("统计局多少条？", "全年915条[1]，含\\*号。", [SRC], ["126"], False)]
    md = write("对话 1", turns, "md", tmp_path).read_text(encoding="utf-8")
    assert "## 问：统计局多少条？" in md and "\\[1\\] 《市统计局总结》 › 一、工作" in md and "请核对：126" in md
    doc = Document(write("对话/../1", turns, "docx", tmp_path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "全年915条[1]，含*号。" in text and "[1] 《市统计局总结》 › 一、工作" in text and "引用来源" in text
    assert list(tmp_path.glob("*.docx"))  # written inside dest whatever the title says


def test_liked_real_answers_export_as_questions_the_team_validator_accepts(tiny_cfg, tiny_corpus, fake_embedder):
    from app.answer import answer, make_generator
    from eval.validate_questions import validate
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    build_index(tiny_cfg, embedder=fake_embedder)
    searcher = Searcher.open(tiny_cfg, embedder=fake_embedder)
    gen = make_generator(tiny_cfg.llm)
    records = []
    for i, q in enumerate(["县住建局全年办理行政处罚案件多少件？", "XX街道共排查企业安全隐患多少处？"]):
        st = answer(q, searcher, gen, tiny_cfg)
        records.append(to_question("conv", i, Turn(q, st.markdown, st.sources, st.flagged_numbers, st.not_found, "up")))
    assert all(r["answers"] for r in records)
    texts = {p.name: p.read_bytes().decode("gb18030" if p.name.startswith("b_") else "utf-8-sig")
             for p in tiny_corpus.iterdir()}
    assert validate(records, texts) == []
