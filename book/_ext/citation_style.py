"""Author-year citations that tell apart one author's sources of one year: "NVIDIA, 2024a".

sphinxcontrib-bibtex's ``author_year`` style prints "NVIDIA, 2024" for the H200
datasheet, the DGX B200 datasheet and the GB200 NVL72 page alike.  This style
(``bibtex_reference_style: author_year_unique``) appends the letter that the
bibliography's alpha labels already give such entries (``NVIDIA24a``, ``NVIDIA24b``),
so the citation in the text and the entry on the references page carry the same
letter.  Entries without an author or editor (titled seed documents) keep a bare
year: their citation text is their title, which is already unique.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pybtex.plugin import register_plugin as pybtex_register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels.alpha import LabelStyle as AlphaLabelStyle
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import GroupReferenceStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle, BasicAuthorYearTextualReferenceStyle)
from sphinxcontrib.bibtex.style.referencing.extra_author import ExtraAuthorReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_empty import ExtraEmptyReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_label import ExtraLabelReferenceStyle
from sphinxcontrib.bibtex.style.referencing.extra_year import ExtraYearReferenceStyle
from sphinxcontrib.bibtex.style.template import join, join2, node, post_text, pre_text, reference, year

NAME = "author_year_unique"
LABELS = "author_year_labels"   # the bibliography's style: alpha, with labels that read as the citations


def year_suffix(label: str, has_persons: bool) -> str:
    """The disambiguating letters of an alpha label ("NVIDIA24b" gives "b"), for entries with persons."""
    m = re.search(r"\d{2}([a-z]+)$", label)   # "NVIDIA24b" (alpha) or "NVIDIA, 2024b" (author_year_labels)
    return m.group(1) if m and has_persons else ""


@node
def year_unique(children, data):
    """The entry's year, followed by its alpha label's letter when it has one."""
    assert not children
    entry = data["entry"]
    persons = bool(entry.persons.get("author") or entry.persons.get("editor"))
    return Text(year.format_data(data), year_suffix(data["formatted_entry"].label, persons))


@dataclass
class Parenthetical(BasicAuthorYearParentheticalReferenceStyle):
    def inner(self, role_name: str):
        return join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[
            pre_text,
            reference[join(sep=self.author_year_sep)[
                self.person.author_or_editor_or_title(full="s" in role_name), year_unique]],
            post_text,
        ]


@dataclass
class Textual(BasicAuthorYearTextualReferenceStyle):
    def inner(self, role_name: str):
        return join(sep=self.text_reference_sep)[
            self.person.author_or_editor_or_title(full="s" in role_name),
            join[self.bracket.left,
                 join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)[pre_text, reference[year_unique], post_text],
                 self.bracket.right],
        ]


@dataclass
class AuthorYearUniqueReferenceStyle(AuthorYearReferenceStyle):
    def __post_init__(self):
        self.styles.extend([
            Parenthetical(bracket=self.bracket_parenthetical, person=self.person,
                          author_year_sep=self.author_year_sep, pre_text_sep=self.pre_text_sep,
                          post_text_sep=self.post_text_sep),
            Textual(bracket=self.bracket_textual, person=self.person, text_reference_sep=self.text_reference_sep,
                    pre_text_sep=self.pre_text_sep, post_text_sep=self.post_text_sep),
            ExtraAuthorReferenceStyle(bracket=self.bracket_author, person=self.person),
            ExtraLabelReferenceStyle(bracket=self.bracket_label),
            ExtraYearReferenceStyle(bracket=self.bracket_year),
            ExtraEmptyReferenceStyle(),
        ])
        GroupReferenceStyle.__post_init__(self)


def _plain(latex_text: str) -> str:
    return Text.from_latex(latex_text).render_as("text") if latex_text else ""


class AuthorYearLabelStyle(AlphaLabelStyle):
    """References-page labels that read like the citations in the text: "[NVIDIA, 2024c]".

    One author: the last name; two: "A and B"; more: "A et al."; no author or editor: the title.
    Alpha's rule then appends a letter to labels that occur more than once, the letter the text's
    :func:`year_unique` repeats.
    """

    def format_label(self, entry):
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
        if not names:
            who = _plain(entry.fields.get("title", entry.key))
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields['year']}" if "year" in entry.fields else who


class AuthorYearLabelsStyle(AlphaStyle):
    default_label_style = AuthorYearLabelStyle


def setup(app):
    register_plugin("sphinxcontrib.bibtex.style.referencing", NAME, AuthorYearUniqueReferenceStyle)
    pybtex_register_plugin("pybtex.style.formatting", LABELS, AuthorYearLabelsStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
