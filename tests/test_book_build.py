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
        "mathjax/tex-chtml.js",
        "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
        "mathjax/input/tex/extensions/cancel.js",
        "mathjax/a11y/explorer.js",
        "mathjax/LICENSE",
        "widgets/require.js",
        "widgets/embed-amd.js",
        "widgets/LICENSE",
    ):
        assert (built_book / path).is_file(), path
    intro = (built_book / "book" / "intro.html").read_text()
    assert "mathjax/tex-chtml.js" in intro


def test_no_page_loads_the_font_awesome_script(built_book):
    """Icons are drawn by Font Awesome's CSS and web fonts; its 1.5 MB SVG script is not loaded."""
    offenders = [
        str(page.relative_to(built_book))
        for page in html_pages(built_book)
        if any("fontawesome.js" in url for url in parse(page).loaded)
    ]
    assert not offenders


def test_widget_scripts_only_where_a_widget_view_is_shown(built_book):
    """The 4.3 MB ipywidgets renderer and the stored state come only with a widget view."""
    for page in html_pages(built_book):
        text = page.read_text()
        shows_view = '<script type="application/vnd.jupyter.widget-view+json">' in text
        loads = [u for u in parse(page).loaded if "widgets/" in u]
        has_state = "application/vnd.jupyter.widget-state+json" in text
        rel = page.relative_to(built_book)
        if shows_view:
            assert loads and has_state, f"{rel} shows a widget view without its renderer"
        else:
            assert not loads and not has_state, f"{rel}: widget scripts without a view: {loads}"


def test_download_menu_has_no_print_dialog_entry(built_book):
    """The download menu offers the source files; ".pdf" (window.print) is removed."""
    for page in html_pages(built_book):
        text = page.read_text()
        assert "window.print()" not in text, page.relative_to(built_book)


def test_widget_filter_keeps_scripts_for_a_page_with_a_view():
    """The build-time filter (book/_ext/offline_book.py) drops only unused widget scripts."""
    import importlib.util
    from types import SimpleNamespace

    from sphinx.builders.html._assets import _JavaScript

    spec = importlib.util.spec_from_file_location(
        "offline_book", REPO / "book" / "_ext" / "offline_book.py"
    )
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    app = SimpleNamespace(config=SimpleNamespace(nb_ipywidgets_js={"../widgets/require.js": {}}))

    def scripts():
        return [
            _JavaScript("_static/doctools.js"),
            _JavaScript(None, body="{}", type=ext.WIDGET_STATE),
            _JavaScript("_static/../widgets/require.js"),
        ]

    kept = scripts()
    ext._drop_unused_widget_scripts(
        app, "p", "page.html", {"script_files": kept, "body": ext.WIDGET_VIEW}, None
    )
    assert len(kept) == 3
    dropped = scripts()
    ext._drop_unused_widget_scripts(
        app, "p", "page.html", {"script_files": dropped, "body": "<p>no view</p>"}, None
    )
    assert [s.filename for s in dropped] == ["_static/doctools.js"]


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


def test_icon_fonts_hold_the_icons_the_pages_use(built_book):
    """The small Font Awesome subsets (book/_ext/offline_book.py) draw every icon in use."""
    from fontTools.ttLib import TTFont

    cmap = {}
    for name in ("fa-solid-900", "fa-regular-400", "fa-brands-400"):
        path = built_book / "_static" / f"offline_book-{name}.woff"
        assert path.stat().st_size < 20_000, f"{path.name}: {path.stat().st_size} bytes"
        cmap[name] = set(TTFont(path).getBestCmap())
    icons = {
        "fa-solid-900": {
            0xF0C9: "bars (chapter menu)",
            0xF03A: "list (page contents)",
            0xF002: "magnifying glass (search)",
            0xF019: "download",
            0xF135: "rocket (launch)",
            0xF185: "sun (colour mode)",
            0xF186: "moon (colour mode)",
            0xF303: "pencil (exercises)",
        },
        "fa-brands-400": {0xF09B: "GitHub"},
    }
    for font, glyphs in icons.items():
        missing = [what for point, what in glyphs.items() if point not in cmap[font]]
        assert not missing, f"{font} subset lacks {missing}"
    css = (built_book / "_static" / "offline_book.css").read_text()
    for name in ("fa-solid-900", "fa-regular-400", "fa-brands-400"):
        assert f"url(offline_book-{name}.woff)" in css
