"""Hostile content in the dossier: what the school typed is shown as text, never obeyed as markup,
and nothing it contains can stop the build."""

from __future__ import annotations

from pypdf import PdfReader

from audit_tracker.evidence.service import link_criterion
from audit_tracker.extensions import db
from audit_tracker.models import CampaignCriterion
from audit_tracker.pdf import fonts as font_mod
from audit_tracker.pdf.text import Styles, Text

from .test_dossier_pdf import build, criterion_of, page_texts, put_forward, setting  # noqa: F401

LONG_WORDS = 5000
HOSTILE_ARGUMENT = f"""Notre **argumentaire** tient en R&D & co < 3 > 2.

<para>paragraphe forgé</para> <font color="red" size="40">INJECTION-FONT</font>
<b>gras non fermé <i>italique <a href="javascript:alert(1)">lien piégé</a>
<script>alert("xss")</script><img src=x onerror=alert(1)>

Code : `<b>balise affichée</b>` et une liste :

- premier point 🎓 avec un emoji
- second point

{" ".join(f"mot{i}" for i in range(LONG_WORDS))}
"""


def test_hostile_argument_and_titles_are_text(setting, tmp_path):  # noqa: F811
    campaign, quality = setting.campaign, setting.quality
    a1 = setting.criteria[("e2c-label", "A1")]
    db.session.add(CampaignCriterion(campaign_id=campaign.id, criterion_id=a1.id,
                                     argument=HOSTILE_ARGUMENT))
    long_title = ("Compte rendu <b>du</b> comité & partenaires 🎓 " * 8)[:300]
    hostile = setting.proofs["rapport"]
    hostile.title = long_title
    db.session.commit()
    link_criterion(db.session, hostile, criterion_of("e2c-label", "A3"),
                   "<para>note</para> & <br/>", quality)
    db.session.commit()

    result, _steps = build(setting, tmp_path)
    texts = page_texts(result.pdf_path)
    text = "\n".join(texts)
    flat = " ".join(text.split())

    # Special characters and would-be tags are shown as they were typed.
    assert "R&D & co < 3 > 2" in flat
    assert "<b>balise affichée</b>" in flat
    assert "paragraphe forgé" in flat and "INJECTION-FONT" in flat
    assert "gras non fermé" in flat and "lien piégé" in flat
    assert "<para>note</para> &" in flat
    # Scripts are dropped whole; nothing of them reaches the page.
    assert "alert" not in flat and "onerror" not in flat
    # The 5,000-word paragraph is all there, over several pages.
    assert "mot0 mot1" in flat and f"mot{LONG_WORDS - 1}" in flat
    pages_with_words = [i for i, t in enumerate(texts) if "mot2500" in t or "mot4999" in t]
    assert pages_with_words
    # The emoji: the font has no such glyph, so a visible replacement mark, not a silent box.
    font_set = font_mod.register_fonts()
    if not font_set.has_glyph("🎓"):
        assert "🎓" not in text and font_mod.REPLACEMENT in text
    assert "premier point" in flat
    # The 300-character title with its markup-looking text, in the table and on its annex.
    assert "Compte rendu <b>du</b> comité & partenaires" in flat
    separator = next(t for t in texts if "Annexe – Pièce 1" in t)
    assert "Compte rendu <b>du</b>" in " ".join(separator.split())
    # The injected font size was not applied: the argument's text is in the body size.
    reader = PdfReader(result.pdf_path)
    page = next(p for p in reader.pages if "INJECTION-FONT" in (p.extract_text() or ""))
    sizes = []
    page.extract_text(visitor_text=lambda t, _cm, _tm, _font, size: sizes.append(size)
                      if "INJECTION-FONT" in t else None)
    assert sizes and max(sizes) < 20


def test_markdown_mapping_survives_unbalanced_and_unknown_markup(app):
    """The Markdown mapper alone: odd nesting still gives valid paragraphs, text escaped."""
    text = Text(font_mod.register_fonts(), Styles())
    flowables = text.markdown("**gras *mêlé** fin* <x-y>&amp; `a<b`\n\n> cité\n\n1. un\n2. deux")
    assert flowables
    markup = " ".join(getattr(f, "text", "") for f in flowables)
    assert "&amp;" in markup and "a&lt;b" in markup
    assert "<x-y>" not in markup
    assert text.markdown("") == [] and text.markdown("   ") == []
