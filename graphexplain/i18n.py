"""Translations: one gettext catalogue, English by default, Chinese (``zh``) in the seed's terms.

What it does: holds the language the prose is written in, and the functions every module
wraps its user-facing sentences in, as Python programs do with :mod:`gettext`::

    from .i18n import _, ngettext
    print(_("Backward pass (adjoints, from the output back; forks add)"))
    print(ngettext("{n} path", "{n} paths", n).format(n=n))

The msgids are the English text, so English needs no catalogue and prints exactly the
msgid. Chinese is ``locale/zh/LC_MESSAGES/graphexplain.mo``, compiled from the ``.po`` beside
it (``scripts/translations`` re-extracts the msgids with Babel, updates the ``.po`` and
compiles the ``.mo``). Formulas, numbers and names are never in a msgid: they are
``{placeholders}`` filled in after translation, so they print the same in every language.

Choosing the language:

- on the command line, ``--lang zh`` (every command that prints prose);
- in a program, ``graphexplain.i18n.use("zh")`` for the rest of the process, or
  ``with graphexplain.i18n.using("zh"): ...`` for a block; ``use("en")`` goes back.

An unknown language is a :class:`ValueError` naming the ones there are (:data:`LANGUAGES`).
Plots add the language's fonts (:data:`PLOT_FONTS`) with :func:`with_plot_fonts`.

What it does not do: translate formulas, numbers, names, JSON or ``--format program`` (those
are for machines), or the error messages of bad input (one line, in English).
"""

from __future__ import annotations

import functools
import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DOMAIN = "graphexplain"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "zh")  # en is the msgids themselves
DEFAULT = "en"
# Fonts a language's plots need besides matplotlib's own (DejaVu Sans has no Chinese), in order
# of preference; the first installed one is used (Debian: fonts-noto-cjk, see scripts/setup).
PLOT_FONTS = {"zh": ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC",
                     "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")}

_state = {"lang": DEFAULT, "translation": gettext.NullTranslations()}


def _translation(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang``; English (no catalogue) falls back to the msgids."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=lang == DEFAULT)


def check(lang: str) -> str:
    """``lang`` when it is one of :data:`LANGUAGES`, else a one-line ValueError listing them."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}' (the languages are "
                         f"{', '.join(LANGUAGES)})")
    return lang


def use(lang: str) -> None:
    """Write every later sentence in ``lang`` (``"en"`` or ``"zh"``).

    Examples
    --------
    >>> use("zh"); _("Gradients (and the sum over paths)")
    '梯度（以及各条路径之和）'
    >>> use("en"); _("Gradients (and the sum over paths)")
    'Gradients (and the sum over paths)'
    """
    _state["translation"] = _translation(check(lang))
    _state["lang"] = lang


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Write in ``lang`` inside the block, then go back to the language before it."""
    before = _state["lang"]
    use(lang)
    try:
        yield
    finally:
        use(before)


def language() -> str:
    """The language sentences are written in now (``<html lang="…">``)."""
    return _state["lang"]


def _(message: str) -> str:
    """``message`` (its English msgid) in the current language."""
    return _state["translation"].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language (Chinese has one)."""
    return _state["translation"].ngettext(singular, plural, n)


def plot_fonts() -> dict:
    """matplotlib settings for the current language: its fonts as fallbacks after matplotlib's
    own, so that Latin letters and maths look as in English; ``{}`` when none are needed (or
    none is installed: the text then shows as boxes)."""
    wanted = PLOT_FONTS.get(language(), ())
    if not wanted:
        return {}
    from matplotlib import font_manager, rcParams

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = [name for name in wanted if name in installed][:1]
    return {"font.family": [*rcParams["font.family"], *found]} if found else {}


def with_plot_fonts(plot):
    """Decorator: draw (and save) the plot with :func:`plot_fonts`."""
    @functools.wraps(plot)
    def drawn(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(plot_fonts()):
            return plot(*args, **kwargs)

    return drawn


def N_(message: str) -> str:
    """Marks a msgid for extraction where it is defined; ``_(...)`` translates it where used."""
    return message
