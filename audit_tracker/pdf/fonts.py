"""The embedded Unicode font of every PDF: DejaVu, found once per process, registered with
reportlab.

Why DejaVu from the system (Debian's ``fonts-dejavu-core``) rather than a font from PyPI: the only
TrueType font that ships with a package we already depend on is reportlab's Bitstream Vera, and
Vera has no narrow no-break space (U+202F), which French typography puts before « ; ! ? % ». No
well-kept PyPI package ships DejaVu alone (matplotlib does, but as a 40 MB dependency for one
file). DejaVu is Vera extended to the whole of Latin, œ, €, ’, U+202F and many symbols, it is in
every Debian and Ubuntu, ``.ci/run`` installs it, and ``DOSSIER_FONT_DIR`` points elsewhere when a
machine keeps it somewhere else. Without it the build stops with a French message that says what
to install, rather than a dossier full of missing-glyph boxes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from weakref import WeakKeyDictionary

from flask_babel import gettext as _
from reportlab import rl_config
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# Binary streams (Flate only), not Flate then ASCII85: reportlab's ASCII85 encoder ran in pure
# Python before ``rl_accel`` (reportlab's C accelerator, now a dependency) was installed, and it
# was most of a big dossier's time spent on images and page streams; the files are also a fifth
# smaller. Every generated PDF imports this module.
rl_config.useA85 = 0

DEFAULT_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),  # Fedora, Arch
    Path("/usr/local/share/fonts/dejavu"),
)

# reportlab name -> file name
FILES = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono": "DejaVuSansMono.ttf",
    # Charts are laid out for Helvetica's widths; the condensed face is the closest.
    "DejaVuSansCondensed": "DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Bold": "DejaVuSansCondensed-Bold.ttf",
}

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
MONO = "DejaVuSansMono"
CHART = "DejaVuSansCondensed"
CHART_BOLD = "DejaVuSansCondensed-Bold"

# What our PDFs write around the user's text; each must have a glyph (tested).
TYPOGRAPHY_CHARS = "\u202f\u00a0«»’œŒ€…–—·✓•"
REPLACEMENT = "\ufffd"
# Joiners and variation selectors only shape the character before them (an emoji's colour form):
# dropped, so "❤️" gives one replacement mark, not two.
INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufe0e", "\ufe0f", "\ufeff"}

_lock = threading.Lock()


class FontMissing(RuntimeError):
    """The PDF font cannot be found: the message (French) says what to install or configure."""


@dataclass(frozen=True)
class FontSet:
    directory: Path
    glyphs: frozenset[int]  # code points the regular face can draw

    def has_glyph(self, char: str) -> bool:
        return ord(char) in self.glyphs


_registered: FontSet | None = None


class _Face(TTFont):
    """A TrueType face that maps each distinct string to its subset codes once per document.

    Every string drawn in a TrueType font goes through ``splitString`` (character by character,
    in Python), and a dossier draws the same strings thousands of times: page headers and
    footers, the separator pages' labels, repeated cells. A character keeps the code it was
    given the first time the document met it, so the same string always splits the same way
    in one document."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._splits: WeakKeyDictionary = WeakKeyDictionary()  # document -> text -> split

    def splitString(self, text, doc, encoding="utf-8"):  # noqa: N802 - reportlab's name
        try:
            known = self._splits[doc]
        except KeyError:
            known = self._splits[doc] = {}
        found = known.get(text)
        if found is None:
            found = known[text] = super().splitString(text, doc, encoding)
        return found


def _candidates(configured: str | Path | None) -> list[Path]:
    return [Path(configured)] if configured else list(DEFAULT_FONT_DIRS)


def find_font_dir(configured: str | Path | None = None) -> Path:
    """The first folder holding every DejaVu file the PDFs use, or ``FontMissing``."""
    for folder in _candidates(configured):
        if all((folder / name).is_file() for name in FILES.values()):
            return folder
    where = ", ".join(str(p) for p in _candidates(configured))
    raise FontMissing(_(
        "Police DejaVu introuvable (cherchée dans : %(where)s). Installez le paquet "
        "fonts-dejavu-core (apt-get install fonts-dejavu-core) ou indiquez le dossier qui contient "
        "DejaVuSans.ttf avec AUDIT_TRACKER_DOSSIER_FONT_DIR.", where=where))


def register_fonts(configured: str | Path | None = None) -> FontSet:
    """Register DejaVu with reportlab (once per process) and return what it can draw."""
    global _registered
    with _lock:
        if _registered is not None and (configured is None
                                        or Path(configured) == _registered.directory):
            return _registered
        folder = find_font_dir(configured)
        faces = {}
        for name, filename in FILES.items():
            try:
                faces[name] = _Face(name, str(folder / filename))
            except Exception as error:  # a damaged or non-TrueType file in the folder
                raise FontMissing(_("Police illisible : %(file)s (%(error)s).",
                                    file=folder / filename, error=error)) from error
        for face in faces.values():
            pdfmetrics.registerFont(face)
        for bold, italic, name in ((0, 0, REGULAR), (1, 0, BOLD), (0, 1, ITALIC),
                                   (1, 1, "DejaVuSans-BoldOblique")):
            addMapping(REGULAR, bold, italic, name)
        for bold, italic in ((0, 0), (1, 0), (0, 1), (1, 1)):
            addMapping(MONO, bold, italic, MONO)
        _registered = FontSet(folder, frozenset(faces[REGULAR].face.charToGlyph))
        return _registered


def drawable(text: str, fonts: FontSet) -> str:
    """``text`` with every character the font cannot draw replaced by U+FFFD, so an emoji or a
    rare script never silently becomes an empty box; control characters are dropped."""
    # Most text is already drawable as it is: checked at C speed (no control, separator or
    # format character, nothing invisible, every glyph there) before going character by
    # character.
    if text.isprintable() and INVISIBLE.isdisjoint(text) \
            and fonts.glyphs.issuperset(map(ord, text)):
        return text
    out = []
    for char in text:
        if char in "\n\t":
            out.append(char)
        elif ord(char) < 32 or 0x7F <= ord(char) < 0xA0 or char in INVISIBLE:
            continue
        elif fonts.has_glyph(char):
            out.append(char)
        else:
            out.append(REPLACEMENT)
    return "".join(out)
