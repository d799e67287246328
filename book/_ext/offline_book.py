"""Sphinx extension: the book's pages are served whole from the site, and stay light.

- **No live-code scripts from a CDN.** Jupyter Book always loads ``sphinx_thebe``, which
  adds an inline configuration script (twice, in this toolchain: a console error on every
  page) and a loader that would fetch Thebe from a CDN. The book offers live code through
  Binder and Colab instead, so the Thebe hooks are removed before any page is read.
- **No widget renderer where no widget is shown.** myst-nb adds the stored widget state and
  the ipywidgets renderer (``nb_ipywidgets_js``, 4.3 MB) to every notebook page that stores
  widget state. The book shows the precomputed ``text/html`` version of its interactive
  figures (``nb_mime_priority_overrides``), so a page keeps those scripts only if its body
  really holds a widget view. Notebooks are untouched: in JupyterLab the live widgets show
  as before when a cell runs.
- **No print-dialog "download".** The theme's download menu offers ".pdf", which only opens
  the browser's print dialog; the entry is removed (the ``.ipynb`` and ``.md`` downloads
  stay).
- **Icon fonts with only the icons in use.** The theme ships Font Awesome's full web
  fonts (270 kB per page). After the build, every icon the pages use (the ``fa-*``
  classes of the built pages, the theme's ``--pst-icon-*`` glyphs and the icons the
  stylesheets draw themselves) is cut from the theme's own fonts into small WOFF files,
  which the book's stylesheet declares in place of the full ones.
- **The book's stylesheet** (``static/offline_book.css``): display math scrolls sideways
  instead of being cut off, and a few contrast and layout adjustments; and a few lines of
  JavaScript (``static/offline_book.js``): on phones and tablets, a tap on a link of the
  chapter menu or of the page contents closes that menu, and a code block or equation
  that scrolls sideways shows a shadow on the side where it hides more.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

STATIC = Path(__file__).parent / "static"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# How myst-nb writes a widget view into the page body.
WIDGET_VIEW = '<script type="application/vnd.jupyter.widget-view+json">'


def _drop_thebe_listeners(app):
    for event, listeners in app.events.listeners.items():
        app.events.listeners[event] = [
            listener
            for listener in listeners
            if not getattr(listener.handler, "__module__", "").startswith(
                "sphinx_thebe"
            )
        ]


def _add_static_path(app):
    app.config.html_static_path.append(str(STATIC))


def _widget_script(asset, renderer_files) -> bool:
    """Whether a page script is myst-nb's widget state or one of its renderer files."""
    attributes = getattr(asset, "attributes", {}) or {}
    filename = getattr(asset, "filename", None) or ""
    if attributes.get("type") == WIDGET_STATE:
        return True
    return (
        "://" not in filename
        and posixpath.normpath(filename) in renderer_files
    )


def _drop_unused_widget_scripts(
    app, pagename, templatename, context, doctree
):
    scripts = context.get("script_files")
    if not scripts or WIDGET_VIEW in context.get("body", ""):
        return
    # Sphinx stores a local script as "_static/<path as configured>".
    renderer_files = {
        posixpath.normpath(posixpath.join("_static", path))
        for path in app.config.nb_ipywidgets_js or {}
    }
    # In place: the template reads this very list.
    scripts[:] = [
        s for s in scripts if not _widget_script(s, renderer_files)
    ]


def _drop_print_button(app, pagename, templatename, context, doctree):
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"] = [
                b
                for b in button.get("buttons", [])
                if b.get("label") != "download-pdf-button"
            ]


# Font Awesome's fonts in the pinned pydata-sphinx-theme, and the subsets that
# static/offline_book.css declares in their place (same folder as that stylesheet).
ICON_FONTS = {
    "fa-solid-900": "offline_book-fa-solid-900.woff",
    "fa-regular-400": "offline_book-fa-regular-400.woff",
    "fa-brands-400": "offline_book-fa-brands-400.woff",
}
_ICON_RULE = re.compile(
    r"([^{}]+)\{[^{}]*?content:\s*\"\\([0-9a-fA-F]{4,5})\s?\""
)
_CONTENT = re.compile(
    r"content:\s*\"([^\"]*)\"|--pst-icon-[\w-]+:\s*\"([^\"]*)\""
)
_CLASS_ATTR = re.compile(r'class="([^"]*)"')


def _glyphs(value: str) -> set[int]:
    """Private-use code points (Font Awesome's) of a CSS string, escaped or written out."""
    text = re.sub(
        r"\\([0-9a-fA-F]{1,6})\s?",
        lambda m: chr(int(m.group(1), 16)),
        value,
    )
    return {ord(c) for c in text if 0xE000 <= ord(c) <= 0xF8FF}


def icon_code_points(outdir: Path) -> set[int]:
    """Every Font Awesome code point the built pages can show."""
    static = outdir / "_static"
    theme_css = (static / "styles" / "pydata-sphinx-theme.css").read_text()
    by_class = {}
    for selectors, code in _ICON_RULE.findall(theme_css):
        for name in re.findall(
            r"\.(fa-[\w-]+):(?:before|after)", selectors
        ):
            by_class[name] = int(code, 16)
    used = set()
    for page in outdir.rglob("*.html"):
        for classes in _CLASS_ATTR.findall(
            page.read_text(errors="replace")
        ):
            used.update(c for c in classes.split() if c.startswith("fa-"))
    points = {by_class[name] for name in used if name in by_class}
    # Glyphs the stylesheets draw themselves (admonition and link icons, chevrons, ...):
    # every content string outside Font Awesome's own class list.
    for css in static.rglob("*.css"):
        text = css.read_text(errors="replace")
        if css.name == "pydata-sphinx-theme.css":
            text = _ICON_RULE.sub("", text)
        for content, icon in _CONTENT.findall(text):
            points |= _glyphs(content or icon)
    return points


def _subset_icon_fonts(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from fontTools import subset

    outdir = Path(app.outdir)
    points = icon_code_points(outdir)
    webfonts = outdir / "_static" / "vendor" / "fontawesome" / "webfonts"
    for name, target in ICON_FONTS.items():
        options = subset.Options()
        options.flavor = "woff"
        font = subset.load_font(str(webfonts / f"{name}.ttf"), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=points)
        subsetter.subset(font)
        subset.save_font(font, str(outdir / "_static" / target), options)


def _list_roles_of_citations(app, pagename, templatename, context, doctree):
    """Make the bibliography a list of references for screen readers.

    sphinxcontrib-bibtex wraps the entries, each ``role="doc-biblioentry"``, in a
    ``div role="list"``: a list whose children are not list items, and a role that
    DPUB-ARIA 1.1 deprecates (axe-core reports both).  The entries become list items of
    that list.
    """
    body = context.get("body")
    if body and 'role="list" class="citation-list"' in body:
        context["body"] = body.replace(
            'role="doc-biblioentry"', 'role="listitem"'
        )


def setup(app):
    app.connect("builder-inited", _drop_thebe_listeners, priority=900)
    app.connect("builder-inited", _add_static_path)
    # After myst-nb (500) and sphinx-book-theme (501) have filled the page context.
    app.connect(
        "html-page-context", _drop_unused_widget_scripts, priority=900
    )
    app.connect("html-page-context", _drop_print_button, priority=900)
    app.connect("html-page-context", _list_roles_of_citations, priority=900)
    app.connect("build-finished", _subset_icon_fonts)
    app.add_css_file("offline_book.css")
    app.add_js_file("offline_book.js", loading_method="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
