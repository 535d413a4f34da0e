"""Shared fixtures: a tiny corpus of three short reports, a fake embedder, and a small config."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.config import load_config, with_overrides

REPORT_A = """市统计局2023年政务公开工作总结

2023年，市统计局认真贯彻落实《中华人民共和国政府信息公开条例》，现将有关情况总结如下。
一、工作开展情况
（一）主动公开情况
全年主动公开政府信息915条，其中统计数据发布126条。通过门户网站、政务新媒体等渠道及时发布统计信息。
（二）依申请公开情况
全年共受理政府信息公开申请12件，均在法定期限内办结，未发生行政复议和行政诉讼。
（三）政策解读
创新开展图解、视频等多种形式的政策解读，全年发布解读材料38篇，D员干部带头XX传统计法。
二、存在问题
一是公开内容不够全面，部分栏目更新不及时；二是政策解读形式较为单一。
三、下一步工作计划
1.加强队伍建设，组织业务培训，提升工作人员能力。
2.丰富解读形式，推动政策解读多样化。
"""

REPORT_B = """县住建局2023年度法治政府建设工作总结

一、主要做法和成效
（一）加强组织领导
县住建局成立法治政府建设领导小组，局长任组长，全年召开专题会议6次。
（二）推进严格规范公正文明执法
全年办理行政处罚案件43件，罚没款共计85万元，行政执法公示率达到100%。
二、存在的不足
执法人员专业能力有待提升，普法宣传覆盖面不够广。
三、下一步打算
继续加强执法队伍建设，开展法律知识培训，提高依法行政水平。
"""

REPORT_C = """XX街道2023年安全生产工作总结

一、基本情况
街道共排查企业安全隐患217处，已整改210处，整改率96.8%。
二、存在问题
部分小微企业主体责任落实不到位，安全投入不足。
三、下一步工作安排
持续开展安全生产专项整治行动，强化隐患排查治理。
"""


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    d = tmp_path / "reports"
    d.mkdir()
    (d / "a_统计局.txt").write_text(REPORT_A, encoding="utf-8")
    (d / "b_住建局.txt").write_text(REPORT_B, encoding="gb18030")
    (d / "c_街道.md").write_text(REPORT_C, encoding="utf-8-sig")
    return d


@pytest.fixture
def fake_embedder():
    from tests.fakes import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture
def tiny_cfg(tmp_path: Path, tiny_corpus: Path):
    cfg = load_config()
    return with_overrides(
        cfg,
        corpus={"dir": str(tiny_corpus)},
        index={"dir": str(tmp_path / "index")},
        embedding={"model": "fake", "cache_dir": str(tmp_path / "cache")},
    )
