"""The walkthrough (``graphexplain demo``): every part in the seed's order, one index.html."""

import re
from pathlib import Path

import pytest

from graphexplain import walkthrough


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    out = tmp_path_factory.mktemp("walkthrough")
    return out, walkthrough.run(out, quiet=True)


def test_every_part_agrees_with_torch(walked):
    _out, results = walked
    assert len(results) == len(walkthrough.PARTS) == 9
    assert all(ok for _, ok, _ in results), results
    titles = [title for title, _, _ in results]
    assert [t.split(".")[0] for t in titles] == [str(i) for i in range(1, 10)]


def test_index_links_every_part_in_the_seeds_order(walked):
    out, _results = walked
    page = (out / "index.html").read_text(encoding="utf-8")
    anchors = re.findall(r'<a href="#(part\d)">', page)
    assert anchors == [f"part{i}" for i in range(1, 10)]
    positions = [page.index(f'<section id="part{i}">') for i in range(1, 10)]
    assert positions == sorted(positions)
    assert page.count("<img ") >= 8
    assert "<pre>" in page and "Verdict:" in page
    for href in re.findall(r'<a href="([^"#]+)"', page):  # the explorers, next to the index
        assert (out / href).is_file() and href.endswith(".html")
    assert 'src="http' not in page and "<script src" not in page  # nothing fetched


def test_summary_is_one_line_per_part_and_the_folder(walked):
    out, results = walked
    text = walkthrough.summary(results, out)
    lines = text.splitlines()
    assert sum(line.startswith("ok ") for line in lines) == 9
    assert str(Path(out).resolve() / "index.html") in text
    assert "all 9 parts agree with torch" in text
    assert len(lines) <= 12


def test_a_failing_part_is_reported_as_failed(tmp_path, monkeypatch):
    load = walkthrough.load_part

    def broken(name):
        module = load(name)
        if name == "part6_j":
            def main(out):
                print("about to disagree")
                raise AssertionError("∂J/∂b disagrees with torch")
            module.main = main
        return module

    monkeypatch.setattr(walkthrough, "PARTS", ["part6_j", "part3_losses"])
    monkeypatch.setattr(walkthrough, "load_part", broken)
    results = walkthrough.run(tmp_path, quiet=True)
    (title, ok, line), (_, ok2, _) = results
    assert title.startswith("6.") and ok is False and "∂J/∂b disagrees" in line
    assert ok2 is True
    text = walkthrough.summary(results, tmp_path)
    assert "FAILED" in text and "1 of 2 parts FAILED" in text
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "FAILED" in page and "about to disagree" in page


def test_the_page_escapes_what_it_shows(tmp_path, monkeypatch):
    load = walkthrough.load_part

    def noisy(name):
        module = load(name)
        module.main = lambda out: print("<script>alert(1)</script> & Verdict: <b>") or []
        return module

    monkeypatch.setattr(walkthrough, "PARTS", ["part6_j"])
    monkeypatch.setattr(walkthrough, "load_part", noisy)
    walkthrough.run(tmp_path, quiet=True)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
