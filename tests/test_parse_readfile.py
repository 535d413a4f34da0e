"""read_source: encodings, .docx/.pdf extraction and every kind of bad input gives InputFileError."""
from __future__ import annotations

import pytest

from indexer.errors import InputFileError
from indexer.readfile import decode_bytes, read_source

TEXT = "市统计局2023年政务公开工作总结\n一、工作开展情况\n全年主动公开政府信息915条。\n"
MB = 1 << 20


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_decodes_common_encodings(tmp_path, encoding):
    p = tmp_path / "r.txt"
    p.write_bytes(TEXT.encode(encoding))
    assert read_source(p, MB) == TEXT


def test_bom_is_stripped():
    assert decode_bytes(b"\xef\xbb\xbf" + TEXT.encode("utf-8")) == TEXT


def test_utf8_cut_inside_last_character_is_kept():
    data = TEXT.encode("utf-8") + "党".encode("utf-8")[:2]
    assert decode_bytes(data) == TEXT


def test_md_extension_reads_as_text(tmp_path):
    p = tmp_path / "r.md"
    p.write_text("# 标题\n正文", encoding="utf-8")
    assert read_source(p, MB) == "# 标题\n正文"


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("empty.txt", b"", "空"),
        ("blank.txt", b" \n\t\n", "空"),
        ("nul.txt", b"abc\x00\x01\x02def" * 10, "二进制"),
        ("noise.txt", bytes(range(1, 32)) * 50, "二进制"),
    ],
)
def test_bad_text_files(tmp_path, name, data, message):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(InputFileError, match=message):
        read_source(p, MB)


def test_random_bytes_are_rejected(tmp_path):
    import random

    rng = random.Random(7)
    p = tmp_path / "x.txt"
    p.write_bytes(bytes(rng.randrange(1, 256) for _ in range(4000)))
    with pytest.raises(InputFileError):
        read_source(p, MB)


def test_unsupported_extension(tmp_path):
    p = tmp_path / "r.exe"
    p.write_bytes(b"MZ")
    with pytest.raises(InputFileError, match="不支持的文件类型"):
        read_source(p, MB)


def test_too_large(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("政务" * 1000, encoding="utf-8")
    with pytest.raises(InputFileError, match="太大"):
        read_source(p, 100)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError):
        read_source(tmp_path / "nope.txt", MB)


def test_docx_paragraphs_and_table_cells_in_order(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("县住建局2023年度法治政府建设工作总结")
    d.add_paragraph("一、主要做法和成效")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "指标", "数值"
    table.cell(1, 0).text, table.cell(1, 1).text = "行政处罚案件", "43件"
    d.add_paragraph("二、存在的不足")
    p = tmp_path / "r.docx"
    d.save(p)
    lines = read_source(p, MB).split("\n")
    assert lines == ["县住建局2023年度法治政府建设工作总结", "一、主要做法和成效", "指标", "数值", "行政处罚案件", "43件", "二、存在的不足"]


@pytest.mark.parametrize("ext", [".docx", ".pdf"])
def test_corrupt_documents(tmp_path, ext):
    p = tmp_path / f"bad{ext}"
    p.write_bytes(b"PK\x03\x04 this is not really a document" * 20)
    with pytest.raises(InputFileError, match="损坏"):
        read_source(p, MB)


def _tiny_pdf(text: str) -> bytes:
    """A one-page PDF drawing `text` (ASCII) in Helvetica, with a correct xref table."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_pdf_text_is_extracted(tmp_path):
    p = tmp_path / "r.pdf"
    p.write_bytes(_tiny_pdf("Work report 2023"))
    assert "Work report 2023" in read_source(p, MB)


def test_pdf_without_text_layer(tmp_path):
    p = tmp_path / "scan.pdf"
    p.write_bytes(_tiny_pdf(""))
    with pytest.raises(InputFileError, match="没有可提取的文字"):
        read_source(p, MB)
