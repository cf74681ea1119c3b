"""The HTML explorer in a real browser: Debian's headless Chromium, driven by Playwright (see
../shared/recipes/browser-tests.md; scripts/setup installs both).

The seed's J = 3(a+bc) at a=1, b=2, c=3 is stepped through, forward and backward, with the
buttons, the arrow keys and the slider; each step must light the right element of the diagram
and show the right formula. Clicking the leaf b shows its gradient and its one path. Nothing
may be fetched from outside the file, and nothing the user wrote may run. A screenshot goes to
the test's tmp dir (and, with GRAPHEXPLAIN_SCREENSHOT=path, to that path: this is how
docs/images/explorer.png was made).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import graphexplain
import graphexplain.html
from graphexplain.html import data as explorer_data

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium (scripts/setup installs it)")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")

J = "J(a,b,c) = 3(a+bc)"
AT = {"a": 1, "b": 2, "c": 3}

# (highlighted element, formula) at every step of J: the inputs, the forward pass node by
# node, the seed, then the backward pass edge by edge, in the order backprop runs it
J_STEPS = [
    ({"a", "b", "c"}, "a = 1, b = 2, c = 3"),
    ({"v"}, "v = b·c = 2·3 = 6"),
    ({"u"}, "u = a + v = 1 + 6 = 7"),
    ({"J"}, "J = 3·u = 3·7 = 21"),
    ({"J"}, "∂J/∂J = 1"),
    ({"u->J"}, "∂J/∂u = 3"),
    ({"a->u"}, "∂J/∂a = ∂J/∂u · ∂u/∂a = 3 · 1 = 3"),
    ({"v->u"}, "∂J/∂v = ∂J/∂u · ∂u/∂v = 3 · 1 = 3"),
    ({"b->v"}, "∂J/∂b = ∂J/∂v · ∂v/∂b = 3 · c = 3 · 3 = 9"),
    ({"c->v"}, "∂J/∂c = ∂J/∂v · ∂v/∂c = 3 · b = 3 · 2 = 6"),
]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield b
        b.close()


class Page:
    """A page of the browser, recording every request, dialog and script error."""

    def __init__(self, browser, path: Path, width: int = 1300, height: int = 900):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())

    def lit(self, root: str = "") -> set[str]:
        """What the current step lights: node ids and ``u->v`` edges."""
        out = set()
        for el in self.page.locator(f"{root} .current").all():
            out.add(el.get_attribute("data-ge-node") or el.get_attribute("data-ge-edge"))
        return out

    def titles(self) -> set[str]:
        """The ``<title>`` of each lit SVG element (the diagram's own name for it)."""
        return set(self.page.eval_on_selector_all(
            ".current", "els => els.map(e => e.querySelector(':scope > title').textContent)"))

    def formula(self, prefix: str = "") -> str:
        return self.page.locator(f"#{prefix}formula").get_attribute("data-text")

    def close(self):
        self.page.close()


def write(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


@pytest.fixture
def seed_page(browser, tmp_path):
    e = graphexplain.explain(J, at=AT)
    page = Page(browser, write(tmp_path, "J.html", graphexplain.html.page(e)))
    yield page
    page.close()


def expect_step(p: Page, i: int) -> None:
    lit, formula = J_STEPS[i]
    assert p.lit() == lit, f"step {i}"
    # the element's own <title> names the same node or edge (a drawing of both passes
    # prefixes it with the copy, f_ or b_)
    assert {re.sub(r"\b[fb]_", "", t) for t in p.titles()} == lit
    assert p.formula() == formula, f"step {i}"
    assert p.page.locator("#slider").input_value() == str(i)
    assert p.page.locator("#counter").inner_text() == f"step {i + 1} of {len(J_STEPS)}"


def test_step_through_J_forward_and_backward(seed_page):
    p = seed_page
    page = p.page
    expect_step(p, 0)
    assert page.locator("#prev").is_disabled()
    # the formula is typeset: MathML, with ∂J/∂v as a fraction
    for i in range(1, len(J_STEPS)):
        page.click("#next")
        expect_step(p, i)
        assert page.locator("#formula math").count() >= 1
    assert page.locator("#next").is_disabled()
    assert page.locator("#formula math mfrac").count() == 3  # ∂J/∂c, ∂J/∂v, ∂v/∂c
    assert "ge-backward" in page.locator("#root").get_attribute("class")
    # and back again with the keys
    for i in reversed(range(len(J_STEPS) - 1)):
        page.keyboard.press("ArrowLeft")
        expect_step(p, i)
    for i in range(1, 6):
        page.keyboard.press("ArrowRight")
        expect_step(p, i)
    # the slider goes anywhere at once
    page.locator("#slider").fill("8")
    expect_step(p, 8)
    assert p.errors == [] and p.dialogs == []


def test_a_fork_shows_plus_equals(browser, tmp_path):
    e = graphexplain.explain("y = x·x + 2x; x = 3·w", at={"w": 0.5})
    p = Page(browser, write(tmp_path, "fork.html", graphexplain.html.page(e)))
    formulas = []
    while not p.page.locator("#next").is_disabled():
        p.page.click("#next")
        formulas.append(p.formula())
    plus = [f for f in formulas if "+=" in f]
    assert len(plus) == 1 and plus[0].startswith("∂y/∂x += ")
    assert "\n∂y/∂x = " in plus[0]  # with the running sum beneath
    assert p.errors == []
    p.close()


def test_click_leaf_b(seed_page):
    p = seed_page
    page = p.page
    page.locator('[data-ge-node="b"]').first.click()
    assert page.locator("#leaf").is_visible()
    assert page.locator("#leaftitle").inner_text() == "The gradient ∂J/∂b"
    assert page.locator("#leafformula").get_attribute("data-text") == "∂J/∂b = 3·c = 9"
    assert page.locator("#leafformula math").count() == 1
    assert page.locator("#leafselect option:checked").inner_text() == "b"
    rows = page.locator("#paths tbody tr")
    assert rows.count() == 1
    cells = rows.first.locator("td")
    assert cells.nth(0).inner_text() == "b → v → u → J"
    assert cells.nth(1).get_attribute("data-text") == "c · 1 · 3"
    assert cells.nth(2).inner_text() == "9" and cells.nth(3).inner_text() == "100%"
    assert page.locator("#pathcount").inner_text().startswith("1 path from b to J")
    on_path = {el.get_attribute("data-ge-edge") for el in page.locator("g.edge.onpath").all()}
    assert on_path == {"b->v", "v->u", "u->J"}
    # choosing another input from the list
    page.select_option("#leafselect", label="c")
    assert page.locator("#leafformula").get_attribute("data-text") == "∂J/∂c = 3·b = 6"
    assert page.locator("#paths tbody tr td").nth(1).get_attribute("data-text") == "b · 1 · 3"
    assert p.errors == []


def test_nothing_leaves_the_file_and_a_screenshot(seed_page, tmp_path):
    p = seed_page
    page = p.page
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    page.locator('[data-ge-node="b"]').first.click()
    page.locator("#paths tbody tr").first.hover()
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    target = os.environ.get("GRAPHEXPLAIN_SCREENSHOT")
    if target:  # docs/images/explorer.png is made this way
        page.screenshot(path=target, full_page=True)
    assert p.requests and all(u.startswith("file://") for u in p.requests), p.requests
    assert p.errors == [] and p.dialogs == []


def test_the_verification_and_cost_are_shown(seed_page):
    page = seed_page.page
    rows = page.locator("#verification tbody tr")
    assert rows.count() == 2
    assert "✓ agrees" in rows.nth(0).inner_text() and "h ≈" in rows.nth(1).inner_text()
    cost = page.locator("#cost")
    from graphexplain import derive

    assert cost.is_visible() == hasattr(derive, "cost_table")
    assert page.locator("#program pre").inner_text() == J


def test_what_the_user_wrote_never_runs(browser, tmp_path):
    evil = "</script><script>window.pwned = 1; alert(1)</script><img src=x onerror=alert(2)>"
    program = f"# {evil}\nJ = 3*a  # {evil}"
    e = graphexplain.explain(program, at={"a": 1})
    p = Page(browser, write(tmp_path, "evil.html", graphexplain.html.page(e, title=evil)))
    assert p.page.evaluate("() => window.pwned") is None
    assert p.dialogs == [] and p.errors == []
    assert p.page.locator("#program pre").inner_text() == program
    assert p.page.locator("#title").inner_text() == evil
    assert p.page.title() == evil
    assert all(u.startswith("file://") for u in p.requests)
    p.close()


def test_two_explorers_on_one_page_do_not_clash(browser, tmp_path):
    """Two notebook fragments side by side: each has its own ids, steps and keys."""
    one = graphexplain.html.notebook(graphexplain.explain(J, at=AT))
    two = graphexplain.html.notebook(graphexplain.explain("y = σ(w·x)", at={"w": 2, "x": 0.5}))
    p1, p2 = (re.search(r'id="(ge[0-9a-f]+-)root"', h).group(1) for h in (one, two))
    html = f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{one}{two}</body></html>"
    p = Page(browser, write(tmp_path, "two.html", html), height=2400)
    page = p.page
    assert p.formula(p1) == "a = 1, b = 2, c = 3" and p.formula(p2) == "w = 2, x = 0.5"
    page.click(f"#{p1}next")
    page.click(f"#{p1}next")
    assert p.formula(p1) == "u = a + v = 1 + 6 = 7"
    assert p.formula(p2) == "w = 2, x = 0.5"  # untouched
    assert p.lit(f"#{p1}root") == {"u"} and p.lit(f"#{p2}root") == {"w", "x"}
    page.click(f"#{p2}next")
    page.keyboard.press("ArrowRight")  # the keys go to the explorer that has the focus
    assert p.formula(p1) == "u = a + v = 1 + 6 = 7"
    assert p.page.locator(f"#{p2}counter").inner_text() == "step 3 of 7"
    page.locator(f'#{p1}root [data-ge-node="b"]').first.click()
    assert page.locator(f"#{p1}leafformula").get_attribute("data-text") == "∂J/∂b = 3·c = 9"
    assert page.locator(f"#{p2}leaf").is_hidden()
    assert p.errors == [] and all(u.startswith("file://") for u in p.requests)
    p.close()


def test_a_network_and_a_big_graph_by_layer(browser, tmp_path, monkeypatch):
    from graphexplain.nn.mlp import MLPSpec

    e = graphexplain.explain_mlp(MLPSpec((2, 2, 2, 1), bias=False))
    p = Page(browser, write(tmp_path, "mlp.html", graphexplain.html.page(e)))
    p.page.select_option("#leafselect", label="w1[1,2]")
    assert p.page.locator("#paths tbody tr").count() == 2  # the seed's two paths
    shares = p.page.locator("#paths tbody tr td:nth-child(4)").all_inner_texts()
    assert abs(sum(float(s.rstrip("%").replace("−", "-")) for s in shares) - 100) < 0.2
    assert p.errors == []
    p.close()
    # the same network stepped through by layer, as a big one is
    monkeypatch.setattr(explorer_data, "STEP_CAP", 5)
    p = Page(browser, write(tmp_path, "layers.html", graphexplain.html.page(e)))
    p.page.click("#next")
    assert p.page.locator("#caption").inner_text().startswith("Forward pass: layer 1, f1 … f2")
    assert p.lit() == {"f1", "f2"}
    while not p.page.locator("#next").is_disabled():
        p.page.keyboard.press("ArrowRight")
    assert "passes its gradient" in p.page.locator("#caption").inner_text() or \
        "pass their gradients" in p.page.locator("#caption").inner_text()
    assert p.errors == []
    p.close()


def test_32_64_64_10_opens_at_once(browser, tmp_path):
    """6,922 weights: the page opens and answers at once (the paths are listed on demand)."""
    import time

    from graphexplain.nn.mlp import MLPSpec

    e = graphexplain.explain_mlp(MLPSpec((32, 64, 64, 10)))
    path = write(tmp_path, "big.html", graphexplain.html.page(e))
    start = time.monotonic()
    p = Page(browser, path)
    p.page.wait_for_selector("#formula .ge-line")
    assert time.monotonic() - start < 5
    p.page.keyboard.press("ArrowRight")
    assert p.page.locator("#caption").inner_text().startswith("Forward pass: layer 1, f1 … f64")
    p.page.select_option("#leafselect", label="w2[43,14]")
    assert p.page.locator("#paths tbody tr").count() == 10  # through each of the 10 outputs
    assert p.page.locator("#leafformula").get_attribute("data-text").startswith(
        "∂loss/∂w2[43,14] = ")
    assert p.errors == [] and all(u.startswith("file://") for u in p.requests)
    p.close()
