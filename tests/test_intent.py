"""Role intent of questions and putting passages of that role first."""
from app.intent import merge_role_hits, role_intent
from indexer.models import Chunk, Hit


def _hit(cid, rank, role="做法与成效"):
    c = Chunk(cid, "r", "报告", ("一、",), role, "文本", "文本", 0, 2, 0, 2, "f.txt")
    return Hit(rank, 1.0 / rank, c)


def test_role_intent_reads_the_question():
    assert role_intent("市统计局存在哪些问题？") == "存在问题"
    assert role_intent("工作中有哪些不足和短板") == "存在问题"
    assert role_intent("下一步打算怎么做？") == "下一步计划"
    assert role_intent("下一步如何解决存在的问题") == "下一步计划"
    assert role_intent("全年主动公开政府信息多少条？") is None


def test_merge_puts_role_hits_first_without_repeats_and_renumbers():
    hits = [_hit("a", 1), _hit("b", 2), _hit("p1", 3, "存在问题")]
    role_hits = [_hit("p1", 1, "存在问题"), _hit("p2", 2, "存在问题")]
    merged = merge_role_hits(hits, role_hits, k=4, lead=3)
    assert [h.chunk.chunk_id for h in merged] == ["p1", "p2", "a", "b"]
    assert [h.rank for h in merged] == [1, 2, 3, 4]
    assert len(merge_role_hits(hits, role_hits, k=2)) == 2
