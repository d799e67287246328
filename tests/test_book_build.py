"""The HTML book builds with warnings as errors, links only to itself, and launches right."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from book_support import REPO, config, toc_notebooks, toc_sources

pytestmark = pytest.mark.book


def html_pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)


def page_for(source: Path, html: Path) -> Path:
    return html / source.relative_to(REPO).with_suffix(".html")


def test_build_has_no_warnings(built_book):
    log = (built_book / "_build.log").read_text()
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert not warnings, "\n".join(warnings)


def test_every_toc_page_is_built(built_book):
    missing = [str(s) for s in toc_sources() if not page_for(s, built_book).exists()]
    assert not missing


class _Resources(HTMLParser):
    """Collect the URLs a page loads by itself (scripts, styles, images, frames)."""

    def __init__(self):
        super().__init__()
        self.loaded: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.loaded.append(a["src"])
        if tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.loaded.append(a["href"])
        if tag == "link" and a.get("rel") in ("preload", "icon", "modulepreload"):
            self.loaded.append(a.get("href", ""))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])


def parse(page: Path) -> _Resources:
    parser = _Resources()
    parser.feed(page.read_text())
    return parser


def test_pages_load_nothing_from_other_sites(built_book):
    offenders = []
    for page in html_pages(built_book):
        for url in parse(page).loaded:
            if re.match(r"^(https?:)?//", url):
                offenders.append(f"{page.relative_to(built_book)}: {url}")
    assert not offenders, "\n".join(offenders)


def test_offline_assets_are_served_with_their_licences(built_book):
    for path in (
        "mathjax/tex-svg-full.js",
        "mathjax/LICENSE",
        "widgets/require.js",
        "widgets/embed-amd.js",
        "widgets/LICENSE",
    ):
        assert (built_book / path).is_file(), path
    intro = (built_book / "book" / "intro.html").read_text()
    assert "mathjax/tex-svg-full.js" in intro


@pytest.mark.parametrize("notebook", toc_notebooks(), ids=lambda p: p.name)
def test_launch_buttons_point_at_this_notebook(built_book, notebook):
    repo_url = config()["repository"]["url"].rstrip("/")
    branch = config()["repository"]["branch"]
    owner_repo = urlparse(repo_url).path.strip("/")
    rel = notebook.relative_to(REPO).as_posix()
    links = parse(page_for(notebook, built_book)).links
    binder = [u for u in links if "mybinder" in u]
    colab = [u for u in links if "colab.research.google.com" in u]
    assert binder and colab, f"no launch buttons on {rel}: {links[:20]}"
    b = urlparse(binder[0])
    assert b.path == f"/v2/gh/{owner_repo}/{branch}", b.path
    urlpath = parse_qs(b.query)["urlpath"][0]
    assert urlpath.endswith(rel), urlpath
    assert colab[0].endswith(f"/github/{owner_repo}/blob/{branch}/{rel}"), colab[0]
    assert (REPO / rel).is_file()
