"""The seed's course as a walkthrough: every example script in ``examples/``, run in the
seed's order, gathered into one ``index.html``.

What it does: imports each part's script by path (``examples/part1_layer.py`` …), runs its
``main(out)`` with its printed explanation captured, and writes ``out/index.html``: for each
part, its verdict against torch, its pictures inline (as data: URIs, so the page is one
self-contained file that fetches nothing), links to its HTML explorers, and its text. A part
whose assertions fail (a number that disagrees with torch) is reported as failed, and the
others still run.

What it does not do: print the parts' text to the terminal (``summary`` gives one line per
part), or need anything but the repository's ``examples/`` folder.
"""

from __future__ import annotations

import base64
import contextlib
import html
import importlib.util
import io
import time
import traceback
from pathlib import Path
from types import ModuleType

from .i18n import _, language, ngettext

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The parts, in the seed's order (each is examples/NAME.py with TITLE and main(out)).
PARTS = [
    "part1_layer",
    "part2_activations",
    "part3_losses",
    "part4_numerical_gradient",
    "part5_gradient_descent",
    "part6_j",
    "part7_three_layer_net",
    "part8_autograd",
    "part9_module_sgd",
]


def load_part(name: str) -> ModuleType:
    """Import ``examples/NAME.py`` by path (the examples folder is not a package)."""
    path = EXAMPLES / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the walkthrough needs the repository's examples/ folder")
    spec = importlib.util.spec_from_file_location(f"graphexplain_examples_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _verdict(text: str) -> str:
    """The part's own one-line summary: its last line starting with "Verdict:"."""
    verdict = _("Verdict: ").strip()  # the examples print _("Verdict: ") + their verdict
    for line in reversed(text.splitlines()):
        if line.startswith(verdict):
            return line.removeprefix(verdict).strip()
    return _("done")


def run_part(name: str, out: Path) -> dict:
    """Run one part: {name, title, ok, summary, text, files, seconds}."""
    start, buffer, files = time.perf_counter(), io.StringIO(), []
    title = name
    try:
        module = load_part(name)
        title = getattr(module, "TITLE", name)
        with contextlib.redirect_stdout(buffer):
            files = [Path(f) for f in module.main(out)]
        ok, summary = True, _verdict(buffer.getvalue())
    except AssertionError as exc:
        ok, summary = False, _("disagrees: {why}").format(why=exc or _("an assertion failed"))
        buffer.write("\n" + traceback.format_exc())
    except Exception as exc:
        ok, summary = False, _("error: {error}").format(error=f"{type(exc).__name__}: {exc}")
        buffer.write("\n" + traceback.format_exc())
    return {"name": name, "title": title, "ok": ok, "summary": summary,
            "text": buffer.getvalue(), "files": files,
            "seconds": time.perf_counter() - start}


def run(out: Path, quiet: bool = False) -> list[tuple[str, bool, str]]:
    """Run every part in the seed's order into ``out`` and write ``out/index.html``.

    Returns (part title, ok, one-line summary) per part; ok is False when the part's checks
    against torch failed (an AssertionError) or it could not run. Unless ``quiet``, prints
    one line per part as it finishes.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for name in PARTS:
        part = run_part(name, out)
        parts.append(part)
        if not quiet:
            mark = _("ok    ") if part["ok"] else _("FAILED")
            print(f"{mark} {part['title']} ({part['seconds']:.1f} s)", flush=True)
    (out / "index.html").write_text(index_html(parts, out), encoding="utf-8")
    return [(p["title"], p["ok"], p["summary"]) for p in parts]


def summary(results: list[tuple[str, bool, str]], out: Path) -> str:
    """One line per part with its verdict against torch, then where the folder is."""
    lines = [_("{mark} {title}: {summary}").format(
        mark=_("ok    ") if ok else _("FAILED"), title=title, summary=line)
        for title, ok, line in results]
    failed = sum(not ok for _t, ok, _s in results)
    verdict = (_("all {n} parts agree with torch").format(n=len(results)) if not failed else
               _("{failed} of {n} parts FAILED").format(failed=failed, n=len(results)))
    index = Path(out).resolve() / "index.html"
    lines += ["", _("{verdict}. Open {index} (pictures, explorers and the full text).").format(
        verdict=verdict, index=index)]
    return "\n".join(lines)


# --- the page ----------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.ok { color: #1a7f37; font-weight: bold; } .failed { color: #c62828; font-weight: bold; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5rem 0; display: block; }
pre { background: #f6f8fa; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem;
      max-height: 40rem; }
nav ol { line-height: 1.8; }
"""


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    kind = {"svg": "svg+xml"}.get(path.suffix.lstrip(".").lower(), path.suffix.lstrip(".").lower())
    name = html.escape(path.name)
    return f'<img src="data:image/{kind};base64,{data}" alt="{name}" title="{name}">'


def _section(i: int, part: dict, out: Path) -> list[str]:
    agrees, failed = html.escape(_("agrees with torch")), html.escape(_("FAILED"))
    state = (f'<span class="ok">{agrees}</span>' if part["ok"]
             else f'<span class="failed">{failed}</span>')
    lines = [f'<section id="part{i}">', f"<h2>{html.escape(part['title'])}</h2>",
             "<p>" + _("{state}: {summary}").format(state=state,
                                                    summary=html.escape(part["summary"])) + "</p>"]
    files = [f for f in part["files"] if f.is_file()]
    pages = [f for f in files if f.suffix == ".html"]
    if pages:
        links = ", ".join(f'<a href="{html.escape(f.name)}">{html.escape(f.name)}</a>'
                          for f in pages)
        lines.append("<p>" + html.escape(_("The HTML explorer (steps through the forward "
                                           "and backward pass):")) + f" {links}</p>")
    lines += [_image(f) for f in files if f.suffix.lower() in (".png", ".svg")]
    lines += [f"<pre>{html.escape(part['text'])}</pre>", "</section>"]
    return lines


def index_html(parts: list[dict], out: Path) -> str:
    """The walkthrough's page: a table of contents in the seed's order, then every part."""
    ok = sum(p["ok"] for p in parts)
    toc = [f'<li><a href="#part{i}">{html.escape(p["title"])}</a> '
           f'<span class="{"ok" if p["ok"] else "failed"}">{"✓" if p["ok"] else "✗"}</span></li>'
           for i, p in enumerate(parts, 1)]
    intro = html.escape(ngettext(
        "{ok} of {n} part agrees with torch (float64).",
        "{ok} of {n} parts agree with torch (float64).", len(parts)).format(ok=ok, n=len(parts))
        + _(" Each part prints its explanation, draws its pictures and asserts its numbers "
            "against torch; the scripts are in {folder}.")).format(
                      folder="<code>examples/</code>")
    body = ["<!DOCTYPE html>", f'<html lang="{language()}">', "<head>", '<meta charset="utf-8">',
            "<title>" + html.escape(_("graphexplain: the course, worked and checked against "
                                      "torch")) + "</title>",
            f"<style>{_STYLE}</style>", "</head>", "<body>",
            "<h1>" + html.escape(_("Backpropagation, the course's examples worked and checked "
                                   "against torch"), quote=False) + "</h1>",
            f"<p>{intro}</p>",
            "<nav><ol>", *toc, "</ol></nav>"]
    for i, part in enumerate(parts, 1):
        body += _section(i, part, out)
    body += ["</body>", "</html>", ""]
    return "\n".join(body)
