"""Evidence reads reports as searched (masks mapped back), counts in Chinese numerals, terms, meaning standing out."""
from __future__ import annotations

import functools

from app.backends.extractive import ExtractiveGenerator
from app.evidence import Candidate, Signals, _counts, _key_words, evidence, figure_clauses, stands_out
from indexer.searchtext import searchable
from tests.fake_llm import hits_for, make_chunk

MASKS = (("D员", "党员"), ("D日", "党日"), ("XX传", "宣传"))
PLAIN = functools.partial(searchable, mask_map=MASKS)


def test_a_count_in_chinese_numerals_is_a_figure_but_not_an_article_or_an_order():
    assert _counts("开展两次数据归集攻坚行动") == ["两次"]
    assert _counts("化解矛盾纠纷三十余起") == ["三十余起"]
    assert _counts("依据条例第二十条、二十一条规定") == []  # articles of a law
    assert _counts("召开第一次会议，一个D员就是一面旗帜") == []  # an order; 「一」 is mostly "a"
    assert _counts("受理申请12件，2023年4月") == ["12件"]  # dates are not figures
    assert figure_clauses("全年开展两次数据归集攻坚行动，归集总量显著提升", ["次"]) == [("", "全年开展两次数据归集攻坚行动")]


def test_a_masked_report_word_meets_the_plain_question_word():
    chunk = make_chunk("r-a", "市审计局2023年工作总结", "市审计局", "一、D建", "做法与成效",
                       "全年组织D员干部集中学习36次，开展主题D日活动12次。")
    question = "市审计局开展了多少次主题党日活动？"
    table = {"党日": 4.0, "主题党日": 4.5, "主题": 3.0, "开展": 1.0, "活动": 1.0}
    idf = lambda t: table.get(t, 9.0)  # noqa: E731
    found = evidence(question, hits_for([chunk]), ["市审计局"], Signals(idf=idf, plain=PLAIN))
    assert found is not None and found.text.startswith("全年组织D员干部集中学习36次")  # quoted as written
    unmapped = evidence(question, hits_for([chunk]), ["市审计局"], Signals(idf=idf))
    assert unmapped is None  # 党日 is not in 「D日」 as written: the figures name nothing asked


def test_two_key_words_side_by_side_are_one_term_named_by_the_rarer():
    idf = {"在线": 3.8, "访谈": 4.8, "在线访谈": 5.0, "图片": 3.5, "图解": 4.8}
    unseen = 9.0
    f = lambda t: idf.get(t, unseen)  # noqa: E731
    assert _key_words(["在线", "访谈"], f, "开展过在线访谈") == ("访谈",)
    assert _key_words(["图片", "图解"], f, "用图片或图解的形式") == ("图解", "图片")  # not side by side
    # Side by side but not a term any report holds (a tokenizer slip: 宣传时有): both stay keys.
    assert _key_words(["图解", "图片"], f, "图解图片") == ("图解", "图片")


def test_a_key_takes_the_one_character_word_cut_after_it_where_the_index_holds_the_whole():
    idf = {"公众": 2.1, "公众号": 4.0, "宣传": 2.0, "流程图": 4.8, "编制": 3.4, "编制了": 5.0}
    f = lambda t: idf.get(t, 9.0)  # noqa: E731
    assert _key_words(["公众", "宣传"], f, "用公众号发布信息或做宣传") == ("公众号", "宣传")  # 公众关注 is not it
    assert _key_words(["流程图", "编制"], f, "编制了流程图") == ("流程图", "编制")  # 了 is a particle
    assert _key_words(["公众", "宣传"], lambda t: idf.get(t, 9.0) if t != "公众号" else 9.0,
                      "用公众号发布信息或做宣传") == ("公众", "宣传")  # no report holds 公众号: the word stays


def _answering(question: str, chunks, idf_table: dict) -> list[bool]:
    """For each chunk alone, whether evidence() finds a sentence of it that answers the unit-less question."""
    signals = Signals(idf=lambda t: idf_table.get(t, 9.0), plain=PLAIN)
    return [evidence(question, hits_for([c]), (), signals) is not None for c in chunks]


def _rivals(texts_sims: dict[str, float]) -> tuple[list[Candidate], callable]:
    cands = [Candidate(1, t, 1.0 - i / 100, "r1") for i, t in enumerate(texts_sims)]
    return cands, lambda texts: [texts_sims[t] for t in texts]


def test_a_sentence_stands_out_only_by_a_margin_among_enough_rivals():
    near = {f"其他工作{i}。": 0.880 + i / 1000 for i in range(6)}
    cands, sim = _rivals({**near, "针对没有官网的机构，在醒目位置主动张贴需公开的信息。": 0.914})
    found = stands_out(cands, sim)
    assert found is not None and found.text.startswith("针对没有官网") and found.sim == 0.914
    cands, sim = _rivals({**near, "稍近一点的句子。": 0.895})  # 0.01 closer: as near as the unit's other sentences
    assert stands_out(cands, sim) is None
    cands, sim = _rivals({"其他工作。": 0.80, "针对没有官网的机构张贴信息。": 0.95})  # a short report stands out by chance
    assert stands_out(cands, sim) is None


def test_a_named_units_yes_no_in_other_words_is_answered_by_the_sentence_that_stands_out():
    sentences = ["按照法定程序和时限给与答复。", "完善政务公开制度建设。", "加强政务公开队伍建设。", "及时更新网站栏目内容。",
                 "做好政府信息公开年度报告。",
                 "注重运用简明问答、图标解读、卡通动漫等多元化形式解读政策。"]
    chunk = make_chunk("r-z", "市重点工程处2023年政务公开工作总结", "市重点工程处", "三、创新", "做法与成效",
                       "".join(sentences))
    sims = dict(zip(sentences, (0.88, 0.881, 0.879, 0.882, 0.878, 0.909)))
    signals = Signals(lambda texts: [sims.get(t, 0.85) for t in texts], lambda t: 3.0)
    question = "市重点工程处有没有用动画、一问一答这种活泼的方式给大家讲政策？"
    found = evidence(question, hits_for([chunk]), ["市重点工程处"], signals)
    assert found is not None and "卡通动漫" in found.text
    answer = list(ExtractiveGenerator().stream(question, hits_for([chunk]), [], signals=signals))[-1]
    assert "卡通动漫" in answer and answer.endswith("[1]。")
    flat = dict(sims, **{sentences[-1]: 0.889})  # no sentence stands out: not 「有」
    signals = Signals(lambda texts: [flat.get(t, 0.85) for t in texts], lambda t: 3.0)
    assert evidence(question, hits_for([chunk]), ["市重点工程处"], signals) is None


def test_a_yes_on_meaning_alone_says_the_reports_words_differ():
    from app.answer import YES_BY_MEANING, answer
    from tests.fake_llm import FakeSearcher

    sentences = ["按照法定程序和时限给与答复。", "完善政务公开制度建设。", "加强政务公开队伍建设。", "及时更新网站栏目内容。",
                 "做好政府信息公开年度报告。", "注重运用简明问答、图标解读、卡通动漫等多元化形式解读政策。"]
    chunk = make_chunk("r-z", "市重点工程处2023年政务公开工作总结", "市重点工程处", "三、创新", "做法与成效",
                       "".join(sentences))
    sims = dict(zip(sentences, (0.88, 0.881, 0.879, 0.882, 0.878, 0.909)))
    others = [make_chunk(f"r-{i}", f"单位{i}2023年工作总结", f"县单位{i}局", "一、工作", "做法与成效",
                         "持续推进各项工作，取得明显成效。") for i in range(3)]  # so that words have an idf

    class Meaning(FakeSearcher):
        def similarity(self, query, texts):
            return [sims.get(t, 0.85) for t in texts]

    searcher = Meaning([chunk, *others])
    state = answer("市重点工程处有没有用动画、一问一答这种活泼的方式给大家讲政策？", searcher, ExtractiveGenerator(),
                   searcher.cfg)
    assert not state.not_found and state.markdown.startswith(YES_BY_MEANING) and "卡通动漫" in state.markdown
    worded = answer("市重点工程处有没有用卡通动漫解读政策？", searcher, ExtractiveGenerator(), searcher.cfg)
    assert not worded.not_found and worded.markdown.startswith("有。")  # its own words say it


def test_a_yes_no_about_no_unit_needs_the_telling_words_too():
    # 「有没有微型消防站」: a sentence sharing only the common words (政务, 服务, 群众) is no 「有」, whoever wrote it
    common = make_chunk("r-c", "镇2023年度政务公开工作总结", "XX镇", "一、工作", "做法与成效",
                        "将政务专区与政务服务大厅合并建设，主动为前来办事的群众提供便利快捷的政务服务。")
    table = {"政务": 0.2, "服务": 0.5, "群众": 0.6, "大厅": 2.0, "延时": 6.0, "办事": 1.0}
    signals = Signals(idf=lambda t: table.get(t, 9.0))
    question = "有没有让群众在大厅延时办事的做法？"
    assert evidence(question, hits_for([common]), (), signals) is None
    told = make_chunk("r-d", "市数据资源管理局2023年工作总结", "市数据资源管理局", "一、工作", "做法与成效",
                      "开展延时服务专项行动，群众下班后也能到大厅办事。")
    assert evidence(question, hits_for([told]), (), signals) is not None


def test_published_says_how_a_figure_is_given_not_what_was_counted():
    chunk = make_chunk("r-w", "市卫健委政务公开2023年工作总结", "市卫健委", "一、主动公开", "做法与成效",
                       "2023年度关于卫生健康工作开展情况和群众关心的热点话题共发布信息1800余条，完成存量规范性文件梳理。")
    table = {"发布": 1.6, "政策": 1.5, "解读": 2.0, "信息": 0.8}
    idf = lambda t: table.get(t, 9.0)  # noqa: E731
    signals = Signals(idf=idf, plain=PLAIN)
    assert evidence("市卫健委2023年发布政策解读多少条？", hits_for([chunk]), ["市卫健委"], signals) is None
    found = evidence("市卫健委2023年发布信息多少条？", hits_for([chunk]), ["市卫健委"], signals)
    assert found is not None and "1800余条" in found.text


def test_a_quoted_term_is_said_in_its_words_not_only_in_its_neighbours():
    from app.evidence import quoted_terms, says_terms

    terms = quoted_terms("哪些单位借“防灾减灾日”开展宣传？")
    assert says_terms(terms, "利用“防灾减灾日”“宪法宣传周”等时机开展普法")
    assert not says_terms(terms, "发布预警信息和防灾减灾信息")  # its neighbour, not the day
    assert says_terms(quoted_terms("哪些单位提出坚持“以公开为常态、不公开为例外”？"), "按照“公开为常态，不公开为例外”的原则")
    assert says_terms(quoted_terms("落实“谁执法谁普法”"), "建立“谁普法谁执法”责任制")  # the same words turned round
    assert says_terms(quoted_terms("没有引号的问题"), "任何句子")
    lines = [make_chunk("r-1", "市水利局2023年法治政府建设工作总结", "市水利局", "一、普法", "做法与成效",
                        "利用“世界水日”“防灾减灾日”等时机，大力开展水利普法宣传活动。"),
             make_chunk("r-2", "市应急管理局2023年政务公开总结", "市应急管理局", "一、公开", "做法与成效",
                        "定期发布安全生产动态，通过新闻发布会等方式发布预警信息和防灾减灾信息。")]
    table = {"防灾": 4.0, "减灾": 4.0, "宣传": 1.5, "开展": 0.8}
    assert _answering("哪些单位借“防灾减灾日”开展宣传？", lines, table) == [True, False]


def test_quoted_terms_of_a_respectively_question_belong_to_each_unit_not_to_both():
    chunks = [make_chunk("r-1", "市民宗局2023年工作总结", "市民宗局", "一、统战", "做法与成效",
                         "建设“之江同心·石榴红”阵地15处，入选全省品牌建设典型案例。"),
              make_chunk("r-2", "街道2023年度工作总结", "街道", "一、民生", "做法与成效",
                         "建成XX街道服务中心，建成瓯江红“共享社·幸福里”2处，创成残疾人之家。")]
    table = {"建成": 3.6, "石榴": 4.5, "阵地": 4.8, "共享": 4.3, "幸福": 4.8}
    signals = Signals(idf=lambda t: table.get(t, 9.0), plain=PLAIN)
    question = "市民宗局和街道2023年分别建成了多少处“石榴红”阵地、“共享社·幸福里”？"
    for chunk, unit in zip(chunks, ["市民宗局", "街道"]):
        found = evidence(question, hits_for([chunk]), ["市民宗局", "街道"], signals)
        assert found is not None and found.unit == unit


def test_a_figure_clause_is_read_with_the_clause_before_it_that_says_what_it_counts():
    from app.evidence import clause_cover

    lead = figure_clauses("推进“公共企事业单位”专题上线，公开信息751条。", ["条"])
    assert lead == [("推进“公共企事业单位”专题上线", "公开信息751条")]
    assert clause_cover(lead, "", ["公共", "企事业", "专题", "公开"]) == 1.0
    # each figure of a run keeps to its own words, and a clause holding another figure lends none
    assert figure_clauses("制作文字解读4条，负责人解读3条。", ["条"]) == [("", "制作文字解读4条"), ("", "负责人解读3条")]
    # a figure whose own words name nothing asked counts something else, whatever comes before it
    assert clause_cover(figure_clauses("加强信息公开管理，举办讲座463条。", ["条"]), "", ["信息", "公开"]) == 0.0


def test_how_a_report_speaks_or_works_is_not_what_a_list_asks_about():
    lines = [make_chunk("r-1", "市民宗局2023年工作总结", "市民宗局", "一、宣传", "做法与成效",
                        "投放电台频道和3300处对农广播开展每日宣传。"),
             make_chunk("r-2", "区数据资源管理局2023年扶贫工作总结", "区数据资源管理局", "二、工作", "做法与成效",
                        "七是充分利用职能优势，帮助群众办理各类事项。")]
    table = {"广播": 4.5, "利用": 2.5, "强调": 3.0, "隐私": 4.0}
    assert _answering("哪些单位的总结提到利用广播？", lines, table) == [True, False]  # 利用 alone says nothing of 广播
