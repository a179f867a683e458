"""Assemble the final PDF by streaming: pages are copied source by source, object by object,
straight to the output file.

pypdf's ``PdfWriter`` keeps every object it was given (each merged page's content and images)
until ``write``, so its memory grows with the dossier: a 400-page dossier of scans would sit in
memory whole. This writer reads each source lazily with pypdf's ``PdfReader``, writes each object
as soon as it is reached (renumbered), forgets it, and keeps only an offset per object. Memory is
bounded by the largest single object of a source (benchmarks/README.md measures it).

What the sources' catalogues held (their outlines, forms, named destinations) is not carried
over: the dossier writes its own outline, and each proof stays whole in the ZIP.

A merged page can be **stamped** in its bottom margin (« Pièce 3 – p. 1/2 · dossier p. 27 /
47 »): an overlay content stream appended to the page's own, the original wrapped in q … Q so
its graphics state cannot leak into the stamp, and one shared Helvetica font added to a copy of
the page's resources. The page's content is copied untouched: nothing is re-drawn or rasterised,
and no page is held in memory (pypdf's ``merge_page`` would need the whole page object tree).
"""

from __future__ import annotations

import contextlib
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..clock import utcnow

# A link that the generated part points at a page of another source: ``…:piece/12``.
LINK_SCHEME = "audit-tracker-dossier:"
# Keys of a page that would drag in the source's page tree, thumbnails or article beads.
_PAGE_SKIP = {"/Parent", "/B", "/Thumb", "/PieceInfo"}


class AssemblyError(RuntimeError):
    """A source PDF could not be copied (it was checked before: this is unexpected)."""


@dataclass
class OutlineNode:
    title: str
    page: int  # 0-based index in the final document
    top: float | None = None  # y of the target on that page; None = the whole page
    children: list[OutlineNode] = field(default_factory=list)
    open: bool = False

    def add(self, title: str, page: int, top: float | None = None,
            open: bool = False) -> OutlineNode:
        child = OutlineNode(title, page, top, open=open)
        self.children.append(child)
        return child


Stamp = Callable[[int], str]
STAMP_FONT = "/ATStamp"
STAMP_SIZE = 7


def _pdf_string(text: str) -> bytes:
    """A literal string for Helvetica in WinAnsiEncoding (è, –, · are in it)."""
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def stamp_operators(text: str, box: tuple[float, float, float, float]) -> bytes:
    """Draw ``text`` in the bottom-right margin of a page whose media box is ``box``, on a white
    band so it reads over any scan."""
    left, bottom, right, _top = box
    width = stringWidth(text, "Helvetica", STAMP_SIZE)
    x = max(left + 4, right - 14 - width)
    y = bottom + 6
    return (
        f"q 1 g {x - 2:.2f} {y - 2:.2f} {width + 4:.2f} {STAMP_SIZE + 3:.2f} re f "
        f"0.2 g BT {STAMP_FONT} {STAMP_SIZE} Tf {x:.2f} {y:.2f} Td ".encode()
        + _pdf_string(text) + b" Tj ET Q\n"
    )


class Source:
    """One source PDF, read lazily; its objects are written once however many pages use them."""

    def __init__(self, writer: StreamingPdfWriter, path: Path, targets: dict[int, int]) -> None:
        self.writer = writer
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")  # odd but readable files: pypdf warns, we copy
        try:
            handle = self._stack.enter_context(Path(path).open("rb"))  # noqa: SIM115 - closed by close()
            self.reader = PdfReader(handle, strict=False)
            if self.reader.is_encrypted and not self.reader.decrypt(""):
                raise AssemblyError(f"{path}: encrypted")
            self.pages = list(self.reader.pages)
        except BaseException:
            self._stack.close()
            raise
        self.page_count = len(self.pages)
        self.mapping: dict[tuple[int, int], int] = {}
        self.numbers: list[int] = []
        for index, page in enumerate(self.pages):
            number = targets.get(index) or writer.reserve()
            self.numbers.append(number)
            ref = page.indirect_reference
            if ref is not None:
                self.mapping[(ref.idnum, ref.generation)] = number

    def copy(self, indexes: Iterable[int], stamp: Stamp | None = None) -> None:
        """Write these pages (and whatever they use that is not written yet) to the output;
        ``stamp(index)`` gives the text stamped in the margin of each, if any."""
        for index in indexes:
            self.writer._copy_page(self.pages[index], self.numbers[index], self.mapping,
                                   stamp(index) if stamp else None)
            self.writer.page_ids.append(self.numbers[index])
            # pypdf caches every object it resolved: forget them page by page, so memory is
            # bounded by one page's objects, not the source's.
            cache = getattr(self.reader, "resolved_objects", None)
            if isinstance(cache, dict):
                cache.clear()

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class StreamingPdfWriter:
    """Write a PDF from pages of other PDFs without holding them: see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("wb")
        self.handle.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.offsets: list[int | None] = [None]  # object 0 is the free list's head
        self.pages_id = self.reserve()
        self.page_ids: list[int] = []
        self.link_targets: dict[str, int] = {}  # "piece/12" -> page object id
        self._stamp_objects: tuple[int, int, int] | None = None  # font, « q », « Q »

    # -- objects

    def reserve(self) -> int:
        self.offsets.append(None)
        return len(self.offsets) - 1

    def _write(self, number: int, obj: PdfObject) -> None:
        self.offsets[number] = self.handle.tell()
        self.handle.write(f"{number} 0 obj\n".encode())
        if isinstance(obj, StreamObject):
            data = obj.get_data() if isinstance(obj, ContentStream) else obj._data  # noqa: SLF001 - the raw (still encoded) bytes; pypdf has no public accessor
            header = DictionaryObject({k: v for k, v in obj.items() if k != "/Length"})
            header[NameObject("/Length")] = NumberObject(len(data))
            header.write_to_stream(self.handle)
            self.handle.write(b"\nstream\n")
            self.handle.write(data)
            self.handle.write(b"\nendstream")
        else:
            obj.write_to_stream(self.handle)
        self.handle.write(b"\nendobj\n")

    def ref(self, number: int) -> IndirectObject:
        return IndirectObject(number, 0, None)

    def reserve_link_target(self, key: str) -> None:
        """Reserve the page object that ``key`` (e.g. ``piece/12``) will land on, so pages
        written before it can already link to it; ``append_pdf(..., ids=…)`` then uses it."""
        self.link_targets.setdefault(key, self.reserve())

    # -- pages

    def open_source(self, source: Path, targets: dict[int, int] | None = None) -> Source:
        """Open a PDF to copy pages from. Every page gets its object number now, so references
        between its pages resolve whatever the order they are copied in; ``targets`` gives
        pre-reserved numbers (link targets) for some page indexes."""
        return Source(self, source, targets or {})

    def append_pdf(self, source: Path, targets: dict[int, int] | None = None,
                   stamp: Stamp | None = None) -> int:
        """Copy every page of ``source`` (stamped with ``stamp(index)`` when given); returns
        the index of its first page."""
        first = len(self.page_ids)
        with self.open_source(source, targets) as opened:
            opened.copy(range(opened.page_count), stamp)
        return first

    def _stamp_shared(self) -> tuple[int, int, int]:
        """The font and the two one-operator streams every stamped page shares, written once."""
        if self._stamp_objects is None:
            font = self.reserve()
            self._write(font, DictionaryObject({
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }))
            ids = []
            for operator in (b"q\n", b"\nQ\n"):
                number = self.reserve()
                stream = StreamObject()
                stream._data = operator  # noqa: SLF001 - raw bytes, see _write
                self._write(number, stream)
                ids.append(number)
            self._stamp_objects = (font, ids[0], ids[1])
        return self._stamp_objects

    def _stamp(self, page: DictionaryObject, clone: DictionaryObject, text: str, copy) -> None:
        """Overlay ``text`` on the copied page: its content wrapped in q … Q, then the stamp;
        its resources copied with the stamp's font added."""
        font, push, pop = self._stamp_shared()
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else DictionaryObject()
        new_resources = DictionaryObject({NameObject(k): copy(v) for k, v in resources.items()
                                          if k != "/Font"})
        fonts = resources.get("/Font")
        fonts = fonts.get_object() if fonts is not None else DictionaryObject()
        new_fonts = DictionaryObject({NameObject(k): copy(v) for k, v in fonts.items()})
        new_fonts[NameObject(STAMP_FONT)] = self.ref(font)
        new_resources[NameObject("/Font")] = new_fonts
        clone[NameObject("/Resources")] = new_resources
        try:
            box = tuple(float(v) for v in page.mediabox)
        except Exception:  # a page without a readable media box: A4
            box = (0.0, 0.0, 595.28, 841.89)
        overlay = self.reserve()
        stream = StreamObject()
        stream._data = stamp_operators(text, box)  # noqa: SLF001 - raw bytes, see _write
        self._write(overlay, stream)
        contents = clone.get("/Contents")
        if isinstance(contents, ArrayObject):
            original = list(contents)
        elif contents is not None:
            original = [contents]
        else:
            original = []
        clone[NameObject("/Contents")] = ArrayObject(
            [self.ref(push), *original, self.ref(pop), self.ref(overlay)])

    def _copy_page(self, page: DictionaryObject, number: int,
                   mapping: dict[tuple[int, int], int], stamp: str | None = None) -> None:
        pending: deque[IndirectObject] = deque()

        def copy(obj):
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation)
                if key not in mapping:
                    mapping[key] = self.reserve()
                    pending.append(obj)
                return self.ref(mapping[key])
            if isinstance(obj, StreamObject):
                clone = StreamObject()
                for key, value in obj.items():
                    clone[key] = copy(value)
                clone._data = (obj.get_data() if isinstance(obj, ContentStream)  # noqa: SLF001
                               else obj._data)  # noqa: SLF001 - raw bytes, see _write
                return clone
            if isinstance(obj, DictionaryObject):
                link = self._internal_link(obj)
                if link is not None:
                    return link
                return DictionaryObject({key: copy(value) for key, value in obj.items()})
            if isinstance(obj, ArrayObject):
                return ArrayObject(copy(value) for value in obj)
            return obj

        clone = DictionaryObject()
        for key, value in page.items():
            if key not in _PAGE_SKIP:
                clone[NameObject(key)] = copy(value)
        clone[NameObject("/Parent")] = self.ref(self.pages_id)
        clone[NameObject("/Type")] = NameObject("/Page")
        if stamp:
            self._stamp(page, clone, stamp, copy)
        self._write(number, clone)
        while pending:
            indirect = pending.popleft()
            try:
                obj = indirect.get_object()
            except Exception:  # a dangling or damaged reference: a null, as readers do
                obj = None
            target = mapping[(indirect.idnum, indirect.generation)]
            self._write(target, NullObject() if obj is None else copy(obj))

    def _internal_link(self, obj: DictionaryObject) -> DictionaryObject | None:
        """A generated link annotation to ``LINK_SCHEME…`` becomes a jump to that page."""
        if obj.get("/Subtype") != "/Link":
            return None
        action = obj.get("/A")
        if isinstance(action, IndirectObject):
            return None
        uri = action.get("/URI") if isinstance(action, DictionaryObject) else None
        if not isinstance(uri, str) or not uri.startswith(LINK_SCHEME):
            return None
        target = self.link_targets.get(uri[len(LINK_SCHEME):])
        if target is None:
            return None
        link = DictionaryObject({
            NameObject(k): v for k, v in obj.items() if k not in {"/A", "/P"}
        })
        link[NameObject("/Dest")] = ArrayObject([self.ref(target), NameObject("/Fit")])
        return link

    # -- the end

    def close(self, *, title: str, author: str, outline: list[OutlineNode]) -> int:
        """Write the page tree, outline, catalogue and cross-reference table; returns the page
        count."""
        pages = DictionaryObject({
            NameObject("/Type"): NameObject("/Pages"),
            NameObject("/Kids"): ArrayObject(self.ref(n) for n in self.page_ids),
            NameObject("/Count"): NumberObject(len(self.page_ids)),
        })
        self._write(self.pages_id, pages)
        catalog = DictionaryObject({
            NameObject("/Type"): NameObject("/Catalog"),
            NameObject("/Pages"): self.ref(self.pages_id),
            NameObject("/Lang"): TextStringObject("fr-FR"),
        })
        if outline:
            catalog[NameObject("/Outlines")] = self.ref(self._write_outline(outline))
            catalog[NameObject("/PageMode")] = NameObject("/UseOutlines")
        catalog_id = self.reserve()
        self._write(catalog_id, catalog)
        now = utcnow().strftime("D:%Y%m%d%H%M%SZ")
        info_id = self.reserve()
        self._write(info_id, DictionaryObject({
            NameObject("/Title"): TextStringObject(title),
            NameObject("/Author"): TextStringObject(author),
            NameObject("/Creator"): TextStringObject("audit_tracker"),
            NameObject("/Producer"): TextStringObject("audit_tracker (reportlab, pypdf)"),
            NameObject("/CreationDate"): TextStringObject(now),
        }))
        xref = self.handle.tell()
        self.handle.write(f"xref\n0 {len(self.offsets)}\n".encode())
        self.handle.write(b"0000000000 65535 f\r\n")
        for offset in self.offsets[1:]:
            if offset is None:  # reserved and never used (an unused link target)
                self.handle.write(b"0000000000 65535 f\r\n")
            else:
                self.handle.write(f"{offset:010d} 00000 n\r\n".encode())
        trailer = DictionaryObject({
            NameObject("/Size"): NumberObject(len(self.offsets)),
            NameObject("/Root"): self.ref(catalog_id),
            NameObject("/Info"): self.ref(info_id),
        })
        self.handle.write(b"trailer\n")
        trailer.write_to_stream(self.handle)
        self.handle.write(f"\nstartxref\n{xref}\n%%EOF\n".encode())
        self.handle.close()
        return len(self.page_ids)

    def abort(self) -> None:
        self.handle.close()

    def _write_outline(self, roots: list[OutlineNode]) -> int:
        root_id = self.reserve()
        first, last, visible = self._write_items(roots, root_id)
        self._write(root_id, DictionaryObject({
            NameObject("/Type"): NameObject("/Outlines"),
            NameObject("/First"): self.ref(first),
            NameObject("/Last"): self.ref(last),
            NameObject("/Count"): NumberObject(visible),
        }))
        return root_id

    def _write_items(self, nodes: list[OutlineNode], parent: int) -> tuple[int, int, int]:
        """Write sibling items; returns (first id, last id, visible descendants count)."""
        ids = [self.reserve() for _ in nodes]
        visible = len(nodes)
        for index, (node, number) in enumerate(zip(nodes, ids, strict=True)):
            page = self.page_ids[min(node.page, len(self.page_ids) - 1)]
            if node.top is None:
                dest = ArrayObject([self.ref(page), NameObject("/Fit")])
            else:
                dest = ArrayObject([self.ref(page), NameObject("/XYZ"), NullObject(),
                                    FloatObject(round(node.top, 2)), NullObject()])
            item = DictionaryObject({
                NameObject("/Title"): TextStringObject(node.title),
                NameObject("/Parent"): self.ref(parent),
                NameObject("/Dest"): dest,
            })
            if index:
                item[NameObject("/Prev")] = self.ref(ids[index - 1])
            if index + 1 < len(ids):
                item[NameObject("/Next")] = self.ref(ids[index + 1])
            if node.children:
                first, last, below = self._write_items(node.children, number)
                item[NameObject("/First")] = self.ref(first)
                item[NameObject("/Last")] = self.ref(last)
                item[NameObject("/Count")] = NumberObject(below if node.open else -below)
                if node.open:
                    visible += below
            self._write(number, item)
        return ids[0], ids[-1], visible
