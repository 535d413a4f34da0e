"""Read one report file (.txt/.md/.docx/.pdf) into text, or raise InputFileError with a Chinese message."""
from __future__ import annotations

import zipfile
from pathlib import Path

from .errors import InputFileError

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
_ZIP_RATIO = 20  # a .docx expanding to more than this many times its limit is treated as a zip bomb


def text_quality(text: str) -> float:
    """Share of characters that look like text (printable, CJK, common whitespace)."""
    if not text:
        return 0.0
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\n\r\t\f") or c in "\ufffd\x7f")
    return 1 - bad / len(text)


def decode_bytes(data: bytes, name: str = "文件") -> str:
    """UTF-8 (BOM stripped), UTF-16 with BOM, GB18030/GBK, else charset-normalizer's guess; never mojibake silently."""
    if not data.strip():
        raise InputFileError(f"{name} 是空文件")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return _checked(data.decode("utf-16"), name)
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{name} 的 UTF-16 编码已损坏") from exc
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise InputFileError(f"{name} 是二进制文件，不是文本")
        return _checked(text, name)
    try:
        return _checked(data.decode("utf-8-sig"), name)
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3 and exc.start > 0:  # UTF-8 cut inside its last character
            return _checked(data[: exc.start].decode("utf-8-sig"), name)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    # GB18030 decodes almost any bytes: believe it only when the ideographs are the common ones real text uses.
    if text is not None and _common_share(text) >= 0.6:
        return _guessed(text, name)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or _plain_share(str(best)) < 0.9:  # a guess that reads as Hangul/Thai/symbol soup is no text
        raise InputFileError(f"{name} 的文字编码无法识别（请另存为 UTF-8）")
    return _guessed(str(best), name)


def _plain_share(text: str) -> float:
    """Share of CJK, ASCII-printable, whitespace and CJK-punctuation characters: high for real text."""
    ok = sum(1 for c in text if c.isascii() and (c.isprintable() or c in "\n\r\t")
             or "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef"
             or "\u2000" <= c <= "\u206f" or "\u00a0" <= c <= "\u00ff" or "\u2460" <= c <= "\u24ff")
    return ok / len(text) if text else 0.0


def _common_share(text: str) -> float:
    """Share of the ideographs in text that GB2312 has (the 6,763 in everyday use); 1.0 without ideographs."""
    cjk = [c for c in text if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"]
    if not cjk:
        return 1.0
    common = 0
    for c in cjk:
        try:
            c.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(cjk)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 LE/BE without a byte-order mark (Windows tools write it): the reading that looks like text, or None."""
    if len(data) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        # Random bytes decode to scattered code points; real text is mostly CJK, ASCII and punctuation.
        if text.strip() and "\x00" not in text and _plain_share(text) >= 0.9:
            return text
    return None


GUESS_MIN_CHARS = 10  # below this, a guessed encoding (GB18030, charset-normalizer) is as likely noise as text


def _guessed(text: str, name: str) -> str:
    visible = sum(1 for c in text if not c.isspace())
    if visible < GUESS_MIN_CHARS:
        raise InputFileError(f"{name} 内容过短（{visible} 个字）且编码无法确定，不像一篇报告（请另存为 UTF-8）")
    return _checked(text, name)


def _checked(text: str, name: str) -> str:
    if not text.strip():
        raise InputFileError(f"{name} 内容为空")
    if text_quality(text) < 0.95:
        raise InputFileError(f"{name} 看起来是二进制文件或编码错误，无法作为文本读取")
    if not any(c.isalpha() for c in text):
        raise InputFileError(f"{name} 中没有文字（只有数字或符号）")
    return text


def read_docx(path: Path, max_bytes: int) -> str:
    """Paragraphs and table cells (one per line) in document order."""
    try:
        with zipfile.ZipFile(path) as z:
            if sum(i.file_size for i in z.infolist()) > max_bytes * _ZIP_RATIO:
                raise InputFileError(f"{path.name} 解压后过大，拒绝读取")
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        doc = docx.Document(str(path))
        lines: list[str] = []
        for child in doc.element.body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                lines.append(Paragraph(child, doc).text)
            elif tag == "tbl":
                for row in Table(child, doc).rows:
                    seen: list[str] = []
                    for cell in row.cells:
                        if cell.text.strip() and cell.text not in seen:  # merged cells repeat their text
                            seen.append(cell.text)
                    lines.extend(seen)
    except InputFileError:
        raise
    except Exception as exc:  # python-docx raises many kinds on a damaged package
        raise InputFileError(f"{path.name} 不是有效的 Word(.docx) 文件或已损坏") from exc
    return _checked("\n".join(lines), path.name)


def read_pdf(path: Path) -> str:
    """Text of every page; a scanned PDF without a text layer is an error."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise InputFileError(f"{path.name} 是加密的 PDF，无法读取")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"{path.name} 不是有效的 PDF 文件或已损坏") from exc
    text = "\n".join(pages)
    if not text.strip():
        raise InputFileError(f"{path.name} 中没有可提取的文字（可能是扫描件）")
    return _checked(text, path.name)


def read_source(path: Path, max_bytes: int) -> str:
    """Decoded text of one report file; raises InputFileError for anything that cannot be read as a report."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise InputFileError(f"不支持的文件类型 {ext or '（无扩展名）'}：{path.name}（支持 {' '.join(SUPPORTED)}）")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputFileError(f"无法读取文件 {path.name}：{exc.strerror or exc}") from exc
    if size == 0:
        raise InputFileError(f"{path.name} 是空文件")
    if size > max_bytes:
        raise InputFileError(f"{path.name} 太大（{size / 1048576:.1f} MB，上限 {max_bytes / 1048576:.1f} MB）")
    if ext == ".docx":
        return read_docx(path, max_bytes)
    if ext == ".pdf":
        return read_pdf(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"无法读取文件 {path.name}：{exc.strerror or exc}") from exc
    return decode_bytes(data, path.name)
