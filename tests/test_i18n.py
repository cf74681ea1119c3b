"""Translations: one gettext catalogue, complete and compiled; ``--lang zh`` writes the prose in
Chinese (the seed's terms) and leaves every formula, number and name as it is."""

import gettext
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import graphexplain
import graphexplain.html
from graphexplain import i18n
from graphexplain.cli import main

babel = pytest.importorskip("babel", reason="Babel extracts the messages (the test extra)")
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir  # noqa: E402
from babel.messages.frontend import parse_mapping_cfg  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = ROOT / "graphexplain" / "locale" / "zh" / "LC_MESSAGES"
J = ["explain", "J(a,b,c) = 3(a+bc)", "--at", "a=1", "b=2", "c=3"]

# English prose: two words of letters in a row ("the gradient", "agrees on"), or one of these
# words alone. Identifiers (torch.autograd, sympy.count_ops, --const), names (J, w1[1,2]),
# op names inside formulas (σ, max, log) and numbers are not prose.
PROSE_WORDS = {"the", "of", "and", "to", "is", "are", "at", "on", "for", "with", "from", "by",
               "gradient", "gradients", "path", "paths", "input", "inputs", "pass", "passes",
               "value", "values", "error", "agrees", "local", "partial", "partials", "step",
               "steps", "where", "none", "notes", "verification", "sum", "over", "cost",
               "forward", "backward", "graph", "computation", "each", "per", "layer",
               "weight", "weights", "bias", "learning", "rate", "descent", "explained", "verdict"}
# The seed names the loss "loss", and Python's None is a value (w.grad is None): names, not prose.
NAMES = re.compile(r"\bNone\b")
# Not in the catalogue yet: the torch model's header and its own-autograd line, written by
# graphexplain/nn/torch/summary.py (header_lines, module_line). Each line is listed exactly, so
# that any other English still fails.
IDENTIFIERS = re.compile(r"[\w.\-]*[._\[(][\w.,\[\]()\-]*|--[\w-]+|https?://\S+|\S+\.(?:py|png|"
                         r"svg|html|json)\b|\b[a-z]+(?:-[a-z]+)+\b")  # a lint's code: weight-input


def english_prose(text: str) -> list[str]:
    """The runs of English prose left in ``text`` (see PROSE_WORDS)."""
    text = IDENTIFIERS.sub(" ", NAMES.sub(" ", text))
    runs = re.findall(r"\b[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,})+\b", text)
    words = [w for w in re.findall(r"\b[A-Za-z]+\b", text) if w.lower() in PROSE_WORDS]
    return runs + words


def test_the_prose_check_finds_english():
    assert english_prose("梯度 ∂J/∂b = 3·c = 9") == []
    assert english_prose("torch.autograd (float64)：一致") == []
    assert english_prose("∂J/∂b = 3·c, the gradient") != []
    assert english_prose("梯度 gradient") == ["gradient"]


# --- the catalogue ------------------------------------------------------------------------------


def _extracted() -> set:
    """Every msgid Babel extracts from the package and the examples (babel.cfg)."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.fixture(scope="module")
def catalogue():
    with open(MESSAGES / "graphexplain.po", "rb") as f:
        return read_po(f)


def _key(message):
    return message.id if isinstance(message.id, str) else tuple(message.id)


def test_every_extracted_message_has_its_chinese(catalogue):
    extracted = _extracted()
    assert len(extracted) > 150  # the report, lints, explorer, demo and examples
    entries = {_key(m): m for m in catalogue if m.id}
    missing = sorted(map(str, extracted - entries.keys()))
    assert not missing, f"not in the .po (run scripts/translations): {missing[:5]}"
    for key in extracted:
        m = entries[key]
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        assert all(s.strip() for s in strings), f"no Chinese for {key!r}"
        assert not m.fuzzy, f"fuzzy (check the Chinese, then unmark): {key!r}"


def _called() -> set:
    """Every literal msgid the code passes to _, N_ or ngettext, as Python reads it (ast sees
    the calls inside f-strings, which Babel's extractor may miss)."""
    import ast

    found = set()
    files = [*(ROOT / "graphexplain").rglob("*.py"), *(ROOT / "examples").glob("part*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id in ("_", "N_") and args and isinstance(args[0], str):
                found.add(args[0])
            elif node.func.id == "ngettext" and len(args) >= 2:
                found.add((args[0], args[1]))
    return found


def test_every_message_in_the_code_is_extracted():
    called, extracted = _called(), _extracted()
    assert len(called) > 150
    missed = called - extracted
    assert not missed, f"Babel does not see these (a call inside an f-string?): {missed}"


def test_placeholders_match(catalogue):
    """Formulas, numbers and names are {placeholders}: the Chinese keeps every one."""
    for m in catalogue:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set(re.findall(r"\{\w*\}", ids[-1]))
        for s in strings:
            assert set(re.findall(r"\{\w*\}", s)) == wanted, (m.id, s)


def test_the_compiled_catalogue_is_the_po(catalogue):
    """The shipped .mo says what the .po says (scripts/translations compiles it)."""
    with open(MESSAGES / "graphexplain.mo", "rb") as f:
        mo = gettext.GNUTranslations(f)
    for m in catalogue:
        if not m.id:
            continue
        if isinstance(m.id, str):
            assert mo.gettext(m.id) == m.string, f"the .mo is stale for {m.id!r}"
        else:
            for n in (1, 2):
                assert mo.ngettext(m.id[0], m.id[1], n) == m.string[0], \
                    f"the .mo is stale for {m.id!r}"


def test_use_and_using_choose_the_language():
    assert i18n.language() == "en"
    with i18n.using("zh"):
        assert i18n.language() == "zh"
        assert i18n._("Backward pass") == "反向传播"
        assert i18n.ngettext("{n} path", "{n} paths", 3) == "{n} 条路径"
    assert i18n._("Backward pass") == "Backward pass"
    with pytest.raises(ValueError, match="en, zh"):
        i18n.use("xx")
    assert i18n.language() == "en"


# --- the command line ---------------------------------------------------------------------------


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_in_chinese_keeps_every_formula(capsys):
    code, zh, _err = run(capsys, *J, "--lang", "zh")
    assert code == 0
    code, en, _err = run(capsys, *J)
    assert code == 0 and "Backward pass" in en  # the language ended with the command
    for term in ("计算图", "偏导", "反向传播", "梯度", "中心差分", "路径"):
        assert term in zh, term
    assert english_prose(zh) == [], english_prose(zh)
    # the formulas, numbers and names: every worked line of the English run, unchanged
    formulas = [line.strip() for line in en.splitlines() if line.strip().startswith("∂")]
    assert len(formulas) >= 9 and "∂J/∂b = ∂J/∂v · ∂v/∂b = 3 · c = 3 · 3 = 9" in formulas
    for line in formulas:
        assert line.split("   (")[0] in zh, line
    assert "3·c" in zh and "b → v → u → J: c · 1 · 3 = 9" in zh


def test_english_is_the_default_and_unchanged(capsys):
    _code, default, _err = run(capsys, *J)
    _code, en, _err = run(capsys, *J, "--lang", "en")
    assert default == en and default.startswith("Computation graph (forward pass, at a=1")


def test_markdown_and_the_notes_follow(capsys):
    code, md, _err = run(capsys, "explain", "L = y*log(p)", "--at", "y=1", "p=0.5",
                         "--format", "markdown", "--lang", "zh")
    assert code == 0
    assert "### 前向传播" in md and "| 节点 | 定义 | 值 |" in md and "交叉熵要带负号" in md
    prose = [line for line in md.splitlines() if not line.startswith(("$", "\\", "|"))]
    assert english_prose("\n".join(prose)) == []


def test_an_unknown_language_is_one_line(capsys):
    for command in (J, ["demo"], ["mlp"], ["torch", "model.py:M"], ["fd-study", "J=a"]):
        code, out, err = run(capsys, *command, "--lang", "xx")
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("error: ") and "en, zh" in err, err
        assert "Traceback" not in err


# --- the HTML explorer and the demo -------------------------------------------------------------


def visible_text(page: str) -> str:
    """What a reader sees of a page: no scripts, styles, formulas (MathML) or tags."""
    page = re.sub(r"(?s)<(script|style|math|svg)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_explorer_page_in_chinese():
    e = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
    with i18n.using("zh"):
        page = graphexplain.html.page(e)
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh">')
    text = visible_text(page)
    assert "验证" in text and "局部偏导之积" in text
    assert english_prose(text) == [], english_prose(text)
    data = json.loads(re.search(r'id="data">(.*?)</script>', page, re.S).group(1))
    said = [s["caption"] for s in data["steps"]] + list(data["words"].values()) + [
        line[2] for leaf in data["leaves"] for line in leaf["lines"]] + [
        r[k] for r in data["cost"] for k in ("what", "how")] + [data["title"]]
    assert english_prose("\n".join(said)) == [], english_prose("\n".join(said))
    assert "反向传播：u → a" in said
    english = graphexplain.html.page(e)
    assert '<html lang="en">' in english and "product of local partials" in english


def test_the_demo_in_chinese(tmp_path):
    out = tmp_path / "demo"
    p = subprocess.run([sys.executable, "-m", "graphexplain", "demo", "--lang", "zh",
                        "--out", str(out)], capture_output=True, text=True, timeout=300,
                       cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "全部 9 个部分都与 torch 一致" in p.stdout
    assert english_prose(p.stdout.replace(str(out.resolve()), "")) == [], p.stdout
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in page
    text = visible_text(page)
    for term in ("计算图", "偏导", "反向传播", "梯度", "激活函数", "损失函数", "学习率"):
        assert term in text, term
    assert english_prose(text) == [], english_prose(text)[:20]
    explorer = (out / "part6_J.html").read_text(encoding="utf-8")
    assert '<html lang="zh">' in explorer


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                    reason="needs Debian's chromium (scripts/setup installs it)")
def test_the_explorer_script_writes_chinese(tmp_path):
    """What the page's script writes (subtitle, counter, a leaf's paths) comes from the
    catalogue too, through data.words."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    e = graphexplain.explain("J(a,b,c) = 3(a+bc)", at={"a": 1, "b": 2, "c": 3})
    with i18n.using("zh"):
        path = tmp_path / "j.html"
        path.write_text(graphexplain.html.page(e), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path.as_uri())
        page.select_option("#leafselect", label="b")
        shown = {k: page.inner_text(f"#{k}") for k in ("subtitle", "counter", "caption",
                                                       "leaftitle", "pathcount")}
        shown["rows"] = page.inner_text("#verification")
        page.screenshot(path=str(tmp_path / "explorer_zh.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert shown["counter"] == "第 1 步，共 10 步"
    assert shown["leaftitle"] == "梯度 ∂J/∂b"
    assert shown["pathcount"].startswith("从 b 到 J 共 1 条路径")
    assert "均已验证" in shown["subtitle"] and "✓ 一致" in shown["rows"]
    for text in shown.values():
        assert english_prose(text) == [], text


@pytest.mark.parametrize("argv, heading, worked", [
    (["mlp", "--no-verify"], "权重和偏置：", "∂"),
    (["torch", str(ROOT / "examples" / "seed_linear_regression.py") + ":Lr", "--no-verify"],
     "计算图（前向传播", "∂"),
    (["fd-study", "f = x**3", "--at", "x=2"], "截断误差 ≈ |f‴|·h²/6", "10"),
], ids=["mlp", "torch", "fd-study"])
def test_every_command_takes_lang(capsys, argv, heading, worked):
    """--lang zh on mlp, torch and fd-study: the prose changes; the worked lines (formulas,
    or fd-study's table) do not."""
    code, en, _err = run(capsys, *argv)
    assert code == 0
    code, zh, _err = run(capsys, *argv, "--lang", "zh")
    assert code == 0 and heading in zh and heading not in en

    def lines(text):
        return [line.split("  ←")[0].strip() for line in text.splitlines()
                if line.strip().startswith(worked)]  # a table row's mark is prose

    assert len(lines(en)) >= 5 and lines(zh) == lines(en)


def test_the_diagrams_legends_in_chinese(tmp_path):
    """The circuit's legend, its constants and the paths legend follow the language; the
    English drawing is unchanged."""
    from graphexplain.api import explain
    from graphexplain.i18n import using

    e = explain("J(a,b,c) = 3(a+bc)", {"a": 1, "b": 2, "c": 3}, consts=["c"], verify=False)
    english = e.svg(wrt="b", view="paths") + e.svg()
    with using("zh"):
        chinese = e.svg() + e.svg(wrt="b", view="paths")
    assert "what the wire carries forward" in english and "c (const)" in english
    assert "这条线前向传递的值" in chinese and "c（常数）" in chinese
    assert "路径 1" in chinese and "每条都是局部偏导的乘积" in chinese
    assert "what the wire" not in chinese and "(const)" not in chinese
