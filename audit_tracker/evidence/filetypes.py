"""What an uploaded evidence file really is, judged by its bytes rather than its name.

Every upload goes through ``check_filename`` (the name the user sees) and ``inspect_file`` (the
content) before it is stored. Accepted: PDF, PNG/JPEG/GIF/WebP images, DOCX/XLSX/PPTX,
ODT/ODS/ODP, plain text and CSV. Everything else is refused with a French message naming the file,
most importantly executables, scripts, SVG and HTML (both can carry script) and archives that are
not office documents. Encrypted or damaged PDFs are accepted but flagged, so the quality lead can
still file them while the reviewer knows they cannot be read here.

Reads are bounded whatever the file size (the benchmark stores 500 MB): at most the first 64 KiB
to decide, then at most ``TEXT_LIMIT`` characters of search text.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import struct
import threading
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax import handler as sax_handler

from defusedxml import ElementTree as SafeElementTree
from defusedxml.expatreader import DefusedExpatParser
from flask_babel import gettext as _

from ..domain.errors import DomainError
from ..storage import archives

__all__ = ["TEXT_LIMIT", "Inspection", "RefusedFile", "check_filename", "inspect_file"]

TEXT_LIMIT = 1_000_000

_MAX_NAME_CHARS = 255
_SNIFF_BYTES = 8 * 1024
_TEXT_SNIFF_BYTES = 64 * 1024
_READ_CHUNK = 64 * 1024

# The zip-bomb guard (entries, directory size, declared sizes, ratios) is storage.archives'.
# Declared sizes can lie, so reading a part for search text stops here whatever they say.
_ZIP_PART_READ_LIMIT = 32 * 1024 * 1024
_ZIP_SMALL_PART_LIMIT = 1024 * 1024
_MAX_NUMBERED_PARTS = 500  # slides or worksheets read for search text

_PDF_HEADER_WINDOW = 1024
_PDF_TAIL_BYTES = 2048
_PDF_MAX_PAGES = 2000
# pypdf repairs a broken cross-reference table by reading the whole file into memory: fine for
# an ordinary document, not for the 500 MB ones, which are flagged instead.
_PDF_WHOLE_READ_LIMIT = 32 * 1024 * 1024

_ENCRYPTED = "chiffre"
_UNREADABLE = "illisible"

_PDF = "application/pdf"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"
_ODP = "application/vnd.oasis.opendocument.presentation"

# Main-part content types of [Content_Types].xml, then of the ODF ``mimetype`` entry.
_OOXML_MAIN_TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": _DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": _XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": _PPTX,
}
_OOXML_MACRO_TYPES = {
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.ms-excel.sheet.binary.macroEnabled.main",
    "application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml",
    "application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml",
    "application/vnd.ms-powerpoint.template.macroEnabled.main+xml",
}
# Fallback when [Content_Types].xml cannot be parsed: the conventional main part names.
_OOXML_MAIN_PARTS = {
    "word/document.xml": _DOCX,
    "xl/workbook.xml": _XLSX,
    "ppt/presentation.xml": _PPTX,
}
_ODF_TYPES = {_ODT, _ODS, _ODP}

_KINDS = {  # media type -> (French label, canonical extension)
    _PDF: ("PDF", ".pdf"),
    "image/png": ("Image PNG", ".png"),
    "image/jpeg": ("Image JPEG", ".jpg"),
    "image/gif": ("Image GIF", ".gif"),
    "image/webp": ("Image WebP", ".webp"),
    _DOCX: ("Document Word (DOCX)", ".docx"),
    _XLSX: ("Classeur Excel (XLSX)", ".xlsx"),
    _PPTX: ("Présentation PowerPoint (PPTX)", ".pptx"),
    _ODT: ("Document OpenDocument (ODT)", ".odt"),
    _ODS: ("Classeur OpenDocument (ODS)", ".ods"),
    _ODP: ("Présentation OpenDocument (ODP)", ".odp"),
    "text/plain": ("Texte", ".txt"),
    "text/csv": ("CSV", ".csv"),
}

# The extensions a name may have for each detected type (compared in lower case). A file whose
# extension names something else is refused, so nothing is ever stored or downloaded as
# « .vbs », « .hta » or « .html »: Windows acts on the extension, not on our media type.
# No extension at all is accepted: nothing opens it on a double click.
_TEXT_EXTENSIONS = frozenset({".txt", ".text", ".csv", ".tsv", ".md", ".log", ".dat"})
_EXTENSIONS = {
    _PDF: frozenset({".pdf"}),
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    "image/gif": frozenset({".gif"}),
    "image/webp": frozenset({".webp"}),
    _DOCX: frozenset({".docx"}),
    _XLSX: frozenset({".xlsx"}),
    _PPTX: frozenset({".pptx"}),
    _ODT: frozenset({".odt"}),
    _ODS: frozenset({".ods"}),
    _ODP: frozenset({".odp"}),
    "text/plain": _TEXT_EXTENSIONS,
    "text/csv": _TEXT_EXTENSIONS,
}
# Shorter than a header and an end mark (« %PDF-1.7\n%%EOF »): not even a damaged PDF.
_PDF_MIN_BYTES = 16

_EXECUTABLE_MAGICS = (
    b"\x7fELF",  # Linux and most Unix
    b"\xfe\xed\xfa\xce",  # Mach-O 32-bit, big-endian
    b"\xfe\xed\xfa\xcf",  # Mach-O 64-bit, big-endian
    b"\xce\xfa\xed\xfe",  # Mach-O 32-bit, little-endian
    b"\xcf\xfa\xed\xfe",  # Mach-O 64-bit, little-endian
    b"\xca\xfe\xba\xbe",  # Mach-O universal binary (also a Java class file: refused either way)
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # DOC/XLS/PPT and password-protected OOXML
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

# Tags that make a browser render text as HTML (WHATWG MIME sniffing, "text/html" patterns).
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p"
    r"|!--)(?:[\s>/]|$)"
)
# Old browsers sniffed HTML anywhere in the first bytes, so these are refused there too.
_MARKUP_EARLY = re.compile(r"<(?:html|script|iframe)[\s>/]")
_MARKUP_EARLY_CHARS = 1024
# Anywhere in a text file: a tag that makes markup active if anything ever renders it as HTML.
_MARKUP_ANYWHERE = re.compile(
    r"<(?:!doctype\s+html|html|head|body|script|iframe|frame|frameset|object|embed|applet|svg"
    r"|math|style|meta|link|base|form|img|video|audio|template|a)(?:[\s>/]|$)",
    re.IGNORECASE,
)
_MARKUP_OVERLAP = 32  # a tag cut between two chunks is still seen
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1a")  # \x1a: end-of-file mark of old DOS editors
_MAX_CONTROL_SHARE = 0.01

# Bidirectional overrides let "rapport\u202efdp.exe" display as "rapportexe.pdf".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Malformed uploads are expected input: they become the "illisible" flag, not log noise.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)
# warnings.catch_warnings swaps process-wide state; serialising our use keeps it consistent.
# It costs no parallelism: pypdf is pure Python, so threads would share the GIL anyway.
_PYPDF_LOCK = threading.Lock()


class RefusedFile(DomainError):
    """A file refused before storage; str(error) is the French message for the user."""


@dataclass(frozen=True)
class Inspection:
    """What an accepted file is, with its search text and how it may be shown."""

    media_type: str  # "application/pdf", "image/png", "text/csv"...
    label: str  # short French label: "PDF", "Image PNG", "Document Word (DOCX)"...
    extension: str  # canonical extension for downloads: ".pdf", ".png", ".docx"...
    flags: frozenset[str]  # "chiffre" (encrypted PDF), "illisible" (damaged PDF); else empty
    text: str  # search text, at most TEXT_LIMIT characters ("" when none)
    inline_preview: bool  # clean PDF or raster image: safe to show in a sandboxed frame


def check_filename(name: str) -> str:
    """The user's file name, kept as is for display (accents included), or RefusedFile."""
    # NFC so that "é" typed on macOS (e + combining accent) matches the same name typed elsewhere.
    name = unicodedata.normalize("NFC", name)
    if not name.strip():
        raise RefusedFile(_("Le nom du fichier est vide."))
    if any(_is_control(char) for char in name):
        raise RefusedFile(
            _(
                "Le nom de fichier « %(name)s » contient des caractères invisibles ou de contrôle, "
                "il est refusé.",
                name=_shown(name),
            )
        )
    if "/" in name or "\\" in name or name in {".", ".."}:
        raise RefusedFile(
            _(
                "Le nom de fichier « %(name)s » ne doit pas contenir de chemin (/, \\ ou ..).",
                name=_shown(name),
            )
        )
    if len(name) > _MAX_NAME_CHARS:
        raise RefusedFile(
            _(
                "Le nom de fichier « %(name)s » dépasse %(limit)s caractères ; raccourcissez-le.",
                name=_shown(name),
                limit=_MAX_NAME_CHARS,
            )
        )
    return name


def inspect_file(path: Path, filename: str) -> Inspection:
    """What the file really is, judged by its bytes; RefusedFile when it is not accepted, or
    when its name's extension says something else than its bytes."""
    inspection = _inspect_content(Path(path), filename)
    _check_extension(filename, inspection)
    return inspection


def _check_extension(filename: str, inspection: Inspection) -> None:
    # Windows drops trailing dots and spaces: « note.vbs. » is saved as « note.vbs ».
    extension = os.path.splitext(filename.rstrip(" ."))[1].lower()
    allowed = _EXTENSIONS[inspection.media_type]
    if extension and extension not in allowed:
        raise _refusal(
            filename,
            _(
                "l’extension « %(extension)s » ne correspond pas au contenu (%(label)s) ; "
                "renommez le fichier en « %(expected)s » ou déposez le bon fichier.",
                extension=_shown(extension, 20),
                label=inspection.label,
                expected=inspection.extension,
            ),
        )


def _inspect_content(path: Path, filename: str) -> Inspection:
    size = path.stat().st_size
    if size == 0:
        raise _refusal(filename, _("le fichier est vide."))
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)

    if _is_executable(head):
        raise _refusal(filename, _("ce fichier est un programme exécutable, il est refusé."))
    if head.startswith(b"#!"):
        raise _refusal(filename, _("ce fichier est un script exécutable, il est refusé."))
    if b"%PDF-" in head[:_PDF_HEADER_WINDOW]:
        if size < _PDF_MIN_BYTES:
            raise _refusal(filename, _("ce PDF est vide ou tronqué, il est refusé."))
        flags, text = _pdf_report(path, size)
        return _inspection(_PDF, flags=flags, text=text, inline_preview=not flags)
    image_type = _image_type(head)
    if image_type:
        return _inspection(image_type, inline_preview=True)
    if head.startswith(_ZIP_MAGICS):
        media_type, text = _office_report(path, size, filename)
        return _inspection(media_type, text=text)
    if head.startswith(_OLE2_MAGIC):
        raise _refusal(
            filename,
            _(
                "les anciens formats Office (DOC, XLS, PPT) et les documents protégés par mot de "
                "passe ne sont pas acceptés ; enregistrez-le en DOCX, XLSX ou PDF, sans mot de "
                "passe."
            ),
        )
    return _text_inspection(path, size, filename)


def _refusal(filename: str, reason: str) -> RefusedFile:
    return RefusedFile(_("« %(name)s » : %(reason)s", name=_shown(filename), reason=reason))


def _unknown(filename: str) -> RefusedFile:
    return _refusal(
        filename,
        _(
            "ce type de fichier n’est pas accepté ; formats acceptés : PDF, images "
            "PNG/JPEG/GIF/WebP, DOCX, XLSX, PPTX, ODT, ODS, ODP, texte, CSV."
        ),
    )


def _is_control(char: str) -> bool:
    # Cs: a lone surrogate (a badly decoded name) cannot be stored as UTF-8.
    return unicodedata.category(char) in {"Cc", "Cs"} or char in _BIDI_CONTROLS


def _shown(name: str, limit: int = 80) -> str:
    # Messages echo the name: never echo control characters, nor 300 characters of it.
    safe = "".join("\ufffd" if _is_control(char) else char for char in name)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def _inspection(
    media_type: str,
    *,
    flags: frozenset[str] = frozenset(),
    text: str = "",
    inline_preview: bool = False,
) -> Inspection:
    label, extension = _KINDS[media_type]
    return Inspection(media_type, label, extension, flags, text, inline_preview)


def _is_executable(head: bytes) -> bool:
    if head.startswith(_EXECUTABLE_MAGICS):
        return True
    if not head.startswith(b"MZ"):
        return False
    # A Windows program: its DOS header points at the "PE\0\0" signature. Plain DOS programs
    # have no such signature but are binary; a text that merely starts with "MZ" is neither.
    if len(head) >= 0x40:
        (pe_offset,) = struct.unpack_from("<I", head, 0x3C)
        if head[pe_offset : pe_offset + 4] == b"PE\0\0":
            return True
    return b"\0" in head


def _image_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class _TextBuffer:
    """Search text gathered piece by piece, never beyond TEXT_LIMIT characters."""

    def __init__(self) -> None:
        self.limit = TEXT_LIMIT  # read at call time, so tests can lower it
        self.parts: list[str] = []
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size >= self.limit

    def add(self, text: str) -> None:
        if text and not self.full:
            text = text[: self.limit - self.size]
            self.parts.append(text)
            self.size += len(text)

    def text(self) -> str:
        text = "".join(self.parts).replace("\0", "")  # PostgreSQL text cannot hold NUL
        # Parsers can yield lone surrogates from broken font maps; they are not valid UTF-8.
        return text.encode("utf-8", "replace").decode("utf-8").strip()


# --- PDF -------------------------------------------------------------------------------------


class _WholeFileRead(MemoryError):
    """pypdf wanted a large file whole; a MemoryError, because pypdf never swallows those."""


class _PdfStream(io.BufferedReader):
    """The PDF as pypdf reads it: any amount at a time, but not a whole large file at once."""

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            remaining = os.fstat(self.fileno()).st_size - self.tell()
            if remaining > _PDF_WHOLE_READ_LIMIT:
                raise _WholeFileRead
        return super().read(size)


def _pdf_report(path: Path, size: int) -> tuple[frozenset[str], str]:
    with path.open("rb") as handle:
        handle.seek(max(0, size - _PDF_TAIL_BYTES))
        tail = handle.read(_PDF_TAIL_BYTES)
    if b"%%EOF" not in tail:
        # Truncated upload: pypdf would rebuild it by scanning the whole file; it is flagged.
        return frozenset({_UNREADABLE}), ""

    from pypdf import PdfReader  # imported here: only PDF uploads pay for it

    flags: set[str] = set()
    buffer = _TextBuffer()
    with _PYPDF_LOCK, warnings.catch_warnings():
        # pypdf and the crypto backends warn about old algorithms and odd files; neither is for
        # the user to see, and the test suite turns any warning into an error.
        warnings.simplefilter("ignore")
        try:
            with _PdfStream(io.FileIO(path, "rb")) as stream:
                reader = PdfReader(stream, strict=False)
                if reader.is_encrypted:
                    flags.add(_ENCRYPTED)
                    if not _opens_without_password(reader):
                        return frozenset(flags), ""
                if len(reader.pages) == 0:
                    flags.add(_UNREADABLE)
                for number, page in enumerate(reader.pages):
                    if number >= _PDF_MAX_PAGES or buffer.full:
                        break
                    buffer.add(page.extract_text() or "")
                    buffer.add("\n")
                    # pypdf keeps every object it resolved (a scan's page images) until the
                    # reader goes: forget them page by page, so memory is bounded by the largest
                    # page, not the file (benchmarks/README.md: 500 MB → 25 MB peak).
                    cache = getattr(reader, "resolved_objects", None)
                    if isinstance(cache, dict):
                        cache.clear()
        except Exception:
            # Untrusted input: whatever pypdf raises means "we cannot read it", not a crash.
            flags.add(_UNREADABLE)
    return frozenset(flags), buffer.text()


def _opens_without_password(reader) -> bool:
    # Many "protected" PDFs only restrict printing or copying: the empty password opens them.
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False  # missing crypto backend or unsupported scheme: still just "chiffré"


# --- Office documents (zip) ------------------------------------------------------------------


@dataclass(frozen=True)
class _XmlText:
    """Which elements of an office XML part hold the text a reader would search."""

    capture: frozenset[str]  # local names whose character data is text
    line_ends: frozenset[str]  # local names after which a line ends
    spaces: frozenset[str] = frozenset({"tab", "s"})
    breaks: frozenset[str] = frozenset({"br", "cr", "line-break"})


_WORD_TEXT = _XmlText(capture=frozenset({"t"}), line_ends=frozenset({"p"}))
_SHARED_STRINGS_TEXT = _XmlText(capture=frozenset({"t"}), line_ends=frozenset({"si"}))
# Cells typed straight into a sheet (inline strings, as openpyxl and some exporters write them).
_SHEET_TEXT = _XmlText(
    capture=frozenset({"t"}), line_ends=frozenset({"row"}), spaces=frozenset({"c"})
)
_ODF_TEXT = _XmlText(capture=frozenset({"p", "h"}), line_ends=frozenset({"p", "h"}))


def _office_report(path: Path, size: int, filename: str) -> tuple[str, str]:
    with path.open("rb") as handle:
        try:
            archive = archives.open_zip(handle, size)
        except archives.SuspiciousArchive as error:
            raise _refusal(filename, error.reason) from error
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
            raise _damaged_archive(filename) from error
        with archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                media_type = _odf_type(archive, filename)
                return media_type, _zip_text(archive, [("content.xml", _ODF_TEXT)])
            if "[Content_Types].xml" in names:
                media_type = _ooxml_type(archive, names, filename)
                return media_type, _zip_text(archive, _ooxml_text_parts(media_type, names))
    raise _refusal(
        filename,
        _("les archives ZIP ne sont pas acceptées ; déposez les documents un par un."),
    )


def _damaged_archive(filename: str) -> RefusedFile:
    return _refusal(filename, _("l’archive est endommagée ou illisible, elle est refusée."))


def _read_small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as part:
        return part.read(_ZIP_SMALL_PART_LIMIT)


def _odf_type(archive: zipfile.ZipFile, filename: str) -> str:
    try:
        declared = _read_small_part(archive, "mimetype")[:200].decode("ascii").strip()
    except UnicodeDecodeError:
        declared = ""
    except Exception as error:  # CRC error, encrypted entry, unknown compression...
        raise _damaged_archive(filename) from error
    if declared in _ODF_TYPES:
        return declared
    raise _unknown(filename)  # other ODF kinds (drawings, formulas), EPUB and the like


def _ooxml_type(archive: zipfile.ZipFile, names: set[str], filename: str) -> str:
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _macros_refused(filename)
    declared = _declared_content_types(archive)
    if declared & _OOXML_MACRO_TYPES:
        raise _macros_refused(filename)
    for content_type, media_type in _OOXML_MAIN_TYPES.items():
        if content_type in declared:
            return media_type
    if not declared:  # unreadable [Content_Types].xml: fall back on the main part's name
        for part, media_type in _OOXML_MAIN_PARTS.items():
            if part in names:
                return media_type
    raise _unknown(filename)  # templates, Visio, XPS and other OPC packages


def _declared_content_types(archive: zipfile.ZipFile) -> set[str]:
    try:
        data = _read_small_part(archive, "[Content_Types].xml")
        root = SafeElementTree.fromstring(data, forbid_dtd=True)
    except Exception:
        return set()  # damaged or hostile: the caller falls back on part names
    return {
        element.get("ContentType", "")
        for element in root.iter()
        if element.tag.rsplit("}", 1)[-1] == "Override"
    }


def _macros_refused(filename: str) -> RefusedFile:
    return _refusal(
        filename,
        _(
            "les documents contenant des macros ne sont pas acceptés ; enregistrez-le sans "
            "macros (DOCX, XLSX ou PPTX) ou en PDF."
        ),
    )


def _ooxml_text_parts(media_type: str, names: set[str]) -> list[tuple[str, _XmlText]]:
    if media_type == _DOCX:
        return [("word/document.xml", _WORD_TEXT)]
    if media_type == _XLSX:
        sheets = _numbered_parts(names, r"xl/worksheets/sheet(\d+)\.xml")
        return [("xl/sharedStrings.xml", _SHARED_STRINGS_TEXT)] + [
            (sheet, _SHEET_TEXT) for sheet in sheets
        ]
    return [(slide, _WORD_TEXT) for slide in _numbered_parts(names, r"ppt/slides/slide(\d+)\.xml")]


def _numbered_parts(names: set[str], pattern: str) -> list[str]:
    # In document order (slide2 before slide10), and not more than a reader would search.
    numbered = []
    for name in names:
        match = re.fullmatch(pattern, name)
        if match:
            numbered.append((int(match.group(1)), name))
    return [name for _number, name in sorted(numbered)[:_MAX_NUMBERED_PARTS]]


class _TextCollector(sax_handler.ContentHandler):
    """Streams an office XML part, keeping only the character data of text elements.

    Method names are SAX's, hence the camelCase.
    """

    def __init__(self, spec: _XmlText, buffer: _TextBuffer) -> None:
        super().__init__()
        self.spec = spec
        self.buffer = buffer
        self.depth = 0

    def startElementNS(self, name, qname, attrs) -> None:
        local = name[1]
        if local in self.spec.capture:
            self.depth += 1
        elif local in self.spec.spaces:
            self.buffer.add(" ")
        elif local in self.spec.breaks:
            self.buffer.add("\n")

    def endElementNS(self, name, qname) -> None:
        local = name[1]
        if local in self.spec.capture:
            self.depth -= 1
        if local in self.spec.line_ends:
            self.buffer.add("\n")

    def characters(self, content: str) -> None:
        if self.depth > 0:
            self.buffer.add(content)


def _zip_text(archive: zipfile.ZipFile, parts: list[tuple[str, _XmlText]]) -> str:
    buffer = _TextBuffer()
    for name, spec in parts:
        if buffer.full:
            break
        try:
            _stream_xml_text(archive, name, spec, buffer)
        except Exception:  # noqa: S112
            # No search text is not a reason to refuse the document: keep what was read.
            continue
    return buffer.text()


def _stream_xml_text(
    archive: zipfile.ZipFile, name: str, spec: _XmlText, buffer: _TextBuffer
) -> None:
    # defusedxml refuses DTDs and entity declarations: no "billion laughs" in a DOCX.
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(sax_handler.feature_namespaces, True)
    parser.setContentHandler(_TextCollector(spec, buffer))
    read = 0
    with archive.open(name) as part:
        # Chunked, and capped whatever the declared size says.
        while read < _ZIP_PART_READ_LIMIT and not buffer.full:
            chunk = part.read(_READ_CHUNK)
            if not chunk:
                parser.close()
                return
            read += len(chunk)
            parser.feed(chunk)


# --- Text and CSV ----------------------------------------------------------------------------


def _text_inspection(path: Path, size: int, filename: str) -> Inspection:
    with path.open("rb") as handle:
        head = handle.read(_TEXT_SNIFF_BYTES)
    complete = len(head) >= size
    encoding, sample = _text_encoding(head, complete)
    if encoding is None or _too_many_controls(sample):
        raise _unknown(filename)

    markup = sample.lstrip("\ufeff \t\r\n\f").lower()
    early = markup[:_MARKUP_EARLY_CHARS]
    # An SVG may open with an XML prologue, a doctype or comments before its <svg> element.
    if "<svg" in early or (markup.startswith("<") and "<svg" in markup):
        raise _refusal(
            filename,
            _(
                "les images SVG ne sont pas acceptées (elles peuvent contenir du script) ; "
                "exportez-la en PNG ou en PDF."
            ),
        )
    if _HTML_START.match(markup) or _MARKUP_EARLY.search(early):
        raise _html_refused(filename)
    # XML of any other kind (XHTML, XSLT...), RTF and PostScript are documents a program
    # interprets, not text to read: not in the accepted list.
    if markup.startswith(("<?xml", "<!doctype", "{\\rtf", "%!ps")):
        raise _unknown(filename)

    media_type = "text/csv" if _is_csv(filename, sample, complete) else "text/plain"
    return _inspection(media_type, text=_read_text(path, encoding, filename))


def _text_encoding(head: bytes, complete: bool) -> tuple[str | None, str]:
    """The encoding the first bytes are in (UTF-8, with or without BOM, else cp1252)."""
    if b"\0" in head:
        return None, ""  # binary, or UTF-16/32, which we do not accept
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        # Incremental: the 64 KiB cut may fall inside a multi-byte character.
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        return encoding, decoder.decode(head, final=complete)
    except UnicodeDecodeError:
        pass
    if encoding == "utf-8-sig":
        return None, ""  # a UTF-8 mark followed by something else: not a text we can trust
    try:
        # cp1252 (Excel's "CSV (séparateur : point-virgule)" on French Windows) leaves five
        # bytes undefined, so strict decoding still rejects much binary data.
        return "cp1252", head.decode("cp1252")
    except UnicodeDecodeError:
        return None, ""


def _too_many_controls(sample: str) -> bool:
    controls = sum(
        1 for char in sample if unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS
    )
    return controls > _MAX_CONTROL_SHARE * max(len(sample), 1)


def _is_csv(filename: str, sample: str, complete: bool) -> bool:
    """CSV by extension .csv; .txt stays text; otherwise a consistent ; or , delimiter."""
    # The extension only chooses between two equally safe text labels: the content was already
    # checked to be text, so a name cannot smuggle anything in this way.
    extension = os.path.splitext(filename)[1].lower()
    if extension == ".csv":
        return True
    if extension == ".txt":
        return False
    lines = sample.splitlines()
    if not complete:
        lines = lines[:-1]  # the last line may be cut at the sniff boundary
    lines = [line for line in lines if line.strip()][:50]
    if len(lines) < 2:  # a header and at least one row
        return False
    for delimiter in (";", ","):  # semicolon first: French spreadsheets write it
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return True
    return False


def _read_text(path: Path, encoding: str, filename: str) -> str:
    """The search text (at most TEXT_LIMIT characters), after the whole file was looked through
    for markup: HTML after the first bytes is refused as it is at the start."""
    buffer = _TextBuffer()
    tail = ""
    # Beyond the sniffed head, a stray byte must not refuse a file already judged text.
    with path.open(encoding=encoding, errors="replace") as handle:
        while True:
            chunk = handle.read(_READ_CHUNK)
            if not chunk:
                break
            # Every tag starts with "<": a chunk without one (most of a CSV) skips the regular
            # expression, which took 0.4 s of a 200 MB upload (issue 17).
            if ("<" in chunk or "<" in tail) and _MARKUP_ANYWHERE.search(tail + chunk):
                raise _html_refused(filename)
            tail = chunk[-_MARKUP_OVERLAP:]
            buffer.add(chunk)
    return buffer.text()


def _html_refused(filename: str) -> RefusedFile:
    return _refusal(
        filename,
        _(
            "les pages HTML ne sont pas acceptées (elles peuvent contenir du script) ; "
            "enregistrez-la en PDF."
        ),
    )
