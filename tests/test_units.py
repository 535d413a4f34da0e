"""Which index units a question names: full names, abbreviations, masked places, levels; unknown unit-shaped names."""
import pytest

from app.intent import detect_intent, relative_year, search_query, years_in
from app.units import resolve_units, without_units

KNOWN = ["市人力资源和社会保障局", "县税务局", "县司法局", "市统计局", "市应急管理局", "县住建局", "市数据资源管理局",
         "区数据资源管理局", "XX街道", "街道", "乡", "县生态环境分局", "市卫健委", "县发改委（粮储局）", ""]  # 「」: a report without a unit


@pytest.mark.parametrize("question, groups, unknown", [
    ("人社局去年政策解读发了多少条？", [["市人力资源和社会保障局"]], []),
    ("市人社局存在哪些问题？", [["市人力资源和社会保障局"]], []),
    ("县税务局和县司法局分别主动公开了多少条信息？", [["县税务局"], ["县司法局"]], []),
    # The second name is written right after the first (one run of characters): both are found.
    ("统计局和人社局分别主动公开了多少条？", [["市统计局"], ["市人力资源和社会保障局"]], []),
    ("县税务局与街道分别收到几件申请？", [["县税务局"], ["XX街道", "街道"]], []),
    ("请问统计局主动公开多少条", [["市统计局"]], []),
    ("数据资源管理局帮扶多少户", [["市数据资源管理局", "区数据资源管理局"]], []),
    ("XX街道主题教育", [["XX街道", "街道"]], []),
    ("生态环境局的问题", [["县生态环境分局"]], []),
    ("县应急管理局有多少条", [], ["县应急管理局"]),  # another level is another unit
    ("市住建局的执法情况", [], ["市住建局"]),
    # Full official names of units stored by their short names.
    ("市卫生健康委员会收到多少件依申请公开？", [["市卫健委"]], []),
    ("县住房和城乡建设局存在哪些问题", [["县住建局"]], []),
    ("县发展和改革委员会的粮食工作", [["县发改委（粮储局）"]], []),
    # A lead-in is no part of a name, and the 办 of 办理 is no second name.
    ("帮我查一下市公积金中心办理了多少件申请", [], ["市公积金中心"]),
    ("请问统计局主动公开多少条", [["市统计局"]], []),
    ("合肥市蜀山区2023年主动公开多少条", [], ["合肥市蜀山区"]),
    ("县残联主动公开了多少条", [], ["县残联"]),
    ("救护车赶到城乡病人身边用时多少", [], []),  # 乡 the unit is not every 城乡
    ("乡政府2023年收到了多少件依申请公开？", [["乡"]], []),  # …but 乡政府 is the unit filed as 乡
    ("乡里有没有设政务公开AB岗？", [["乡"]], []),  # and so is 乡里, as people say it
    ("城乡里的公共服务有哪些", [], []),
    ("乡2023年受理了多少件依申请公开？", [["乡"]], []),  # 乡 opening the question, before its year, is the unit too
    ("请问乡有没有设AB岗", [["乡"]], []),
    ("县税务局和乡分别收到多少件", [["县税务局"], ["乡"]], []),
    ("乡镇政府信息公开做得怎样", [], []),  # 乡镇 and 乡村 are not it
    ("乡村振兴有哪些做法", [], []),
    ("有没有在社区里建微型消防站的做法？", [], []),  # 社区 is no district, a 站 no unit
    # 「管理局」 alone names no unit: 县市场监督管理局 is not 市应急管理局 or 市数据资源管理局.
    ("县市场监督管理局去年受理了多少件依申请公开？", [], ["县市场监督管理局"]),
    ("哪些单位在总结里提到县政府的部署", [], []),  # a report without a unit (「」) is no seat: 里 and 政府 name nobody
    # A known unit named by its field; 「相关部门」 or an unknown field names nobody and is no unknown unit.
    ("生态环境部门有哪些做法", [["县生态环境分局"]], []),
    ("统计机关公开了多少条", [["市统计局"]], []),
    ("相关部门有哪些做法", [], []),
    ("财政部门公开了多少条", [], []),
    ("XX乡人民政府有没有召开新闻发布会", [["乡"]], []),
    ("哪些单位推进了政务公开专区建设？", [], []),  # 专区 is no place
    # 是否对 is no part of a name, and 县区统计局 are the counties' bureaus, not a unit missing from the index.
    ("市统计局是否对县区统计局的政务公开做定期考核？", [["市统计局"]], []),
    ("市统计局是否对县商务局开展考核？", [["市统计局"]], ["县商务局"]),
])
def test_resolve_units(question, groups, unknown):
    got_groups, got_unknown = resolve_units(question, KNOWN)
    assert [sorted(g) for g in got_groups] == [sorted(g) for g in groups]
    assert got_unknown == unknown


def test_without_units_keeps_what_is_asked():
    assert without_units("县税务局和县司法局分别主动公开了多少条", KNOWN) == "和分别主动公开了多少条"


def test_relative_years_resolve_against_the_latest_report_year():
    assert relative_year("人社局去年政策解读多少条", 2023) == (2023, "去年")
    assert relative_year("前年的情况", 2023) == (2022, "前年")
    assert relative_year("2023年的情况", 2023) == (None, "")
    assert relative_year("去年", None) == (None, "")


def test_years_are_read_in_digits_and_in_chinese_numerals():
    assert years_in("县住建局二〇二二年主动公开了多少条信息？") == ["2022"]
    assert years_in("2023年和二零二一年分别") == ["2021", "2023"]
    assert years_in("二〇二三") == []  # a year is followed by 年
    assert years_in("第二十二条") == []


def test_search_query_drops_framing_words_only():
    assert search_query("人社局去年政策解读发了多少条？") == "人社局政策解读发了 条"
    assert search_query("多少？") == "多少？"
    # 请 only as the question opens: inside a word it is 依申请, 聘请 (「依申 公开」 found no passage of the unit)
    assert search_query("请问市统计局有几个依申请公开？") == "市统计局有几个依申请公开"
    assert search_query("请列出聘请法律顾问的单位") == "列出聘请法律顾问的单位"


@pytest.mark.parametrize("question, kind, per_unit, yesno", [
    ("哪些单位在政策解读上存在不足？", "problem", True, False),
    ("各单位在政策解读上有哪些创新做法？", "measure", True, False),
    ("有没有单位开展政策解读直播？", "general", False, True),
    # Whether anyone does it: a yes/no judged by meaning, not a list whose lines must each match in wording.
    ("有没有哪个单位把执法过程做成直播节目？", "general", False, True),
    ("市统计局是否召开新闻发布会？", "general", False, True),
    ("县里要求各乡镇的公示栏至少多大？", "general", False, False),
    ("审计机关整改时用不同颜色区分进度，分别是哪几种？", "general", False, False),  # 分别 alone lists no units
    # A rate named as what is mentioned asks who says it (「提升群众满意度」 does), not its figure; asked for, it is one.
    ("哪些单位的总结提到满意度或满意率？", "general", True, False),
    ("哪些单位提到办结率，各是多少？", "count", True, False),
    ("市统计局的满意率是多少？", "count", False, False),
    ("县税务局的办结率？", "count", False, False),
])
def test_detect_intent_shapes(question, kind, per_unit, yesno):
    intent = detect_intent(question)
    assert (intent.kind, intent.per_unit, intent.yesno) == (kind, per_unit, yesno)


def test_an_ambiguous_name_lists_its_units_in_one_order_whatever_the_index_order():
    units = ["市粮食和物资储备局", "县发改委（粮储局）", "市统计局"]
    assert resolve_units("粮储局的情况", units) == resolve_units("粮储局的情况", units[::-1])


def test_each_unit_of_a_respectively_question_is_asked_its_own_words():
    from app.units import unit_topics

    known = ["区数据资源管理局", "市机关事务管理局", "县税务局", "县司法局"]
    topics = unit_topics("区数据局局长和市机关事务管理局的每位局领导分别联系帮扶几户群众？", known)
    assert "局长" in topics["区数据资源管理局"] and "每位局领导" not in topics["区数据资源管理局"]
    assert "每位局领导" in topics["市机关事务管理局"] and "局长和" not in topics["市机关事务管理局"]
    assert all("分别联系帮扶几户群众" in t for t in topics.values())  # what both are asked
    same = unit_topics("2023年县税务局和县司法局分别主动公开了多少条信息？", known)
    assert same["县税务局"] == same["县司法局"] == "2023年分别主动公开了多少条信息？"
    assert unit_topics("县税务局主动公开了多少条", known) == {}


def test_a_unit_the_index_lacks_is_not_read_as_every_unit_its_level_and_organ_abbreviate():
    known = ["市数据资源管理局", "市机关事务管理局", "市应急管理局", "市人力资源和社会保障局"]
    # 「市管理局」, the tail of 市城市管理局, abbreviates all three 市…管理局 in order: it names none of them
    assert resolve_units("市城市管理局2023年办理了多少件依申请公开？", known) == ([], ["市城市管理局"])
    assert resolve_units("市应急局有没有召开新闻发布会？", known) == ([["市应急管理局"]], [])
    assert resolve_units("市人社局去年政策解读发了多少条？", known) == ([["市人力资源和社会保障局"]], [])
