"""Every precomputed interactive figure in the built book responds to its controls.

On each page with a ``.mlcore-explorable`` (made by :mod:`mlcore.figures.interactive`), every
static control is moved (range to its ends, every option of a select, checkbox
toggled) and the figure's image must change, with no console error.
"""

from __future__ import annotations

import pytest

from book_support import REPO, open_page, toc_sources

pytestmark = [pytest.mark.book, pytest.mark.browser]

PAGES = [
    s.relative_to(REPO).with_suffix(".html").as_posix()
    for s in toc_sources()
    if s.suffix == ".ipynb" and "mlcore.figures.interactive" in s.read_text()
]

SRC = "el => el.querySelector('img').getAttribute('src')"


def _move(control, kind):
    """Set a static control to a new state and fire the events a reader's action fires."""
    if kind == "range":
        new = control.evaluate(
            "el => { el.value = el.value === el.max ? el.min : el.max; "
            "el.dispatchEvent(new Event('input', {bubbles: true})); return el.value; }"
        )
    elif kind == "select":
        new = control.evaluate(
            "el => { el.selectedIndex = (el.selectedIndex + 1) % el.options.length; "
            "el.dispatchEvent(new Event('change', {bubbles: true})); return el.value; }"
        )
    else:
        control.click()  # a real click toggles and fires input/change
        new = control.is_checked()
    return new


def test_the_chapters_with_explorables_are_found():
    """The parametrised test below runs once per chapter found here: never on none."""
    assert len(PAGES) >= 4, PAGES


@pytest.mark.parametrize("path", PAGES)
def test_static_controls_swap_the_frame(browser, site, path):
    page, record = open_page(browser, f"{site}/{path}")
    try:
        figures = page.locator(".mlcore-explorable")
        assert figures.count() > 0, (
            f"{path} imports mlcore.figures.interactive but shows no explorable"
        )
        for i in range(figures.count()):
            fig = figures.nth(i)
            assert fig.get_attribute("id").startswith("mlcore-")
            controls = fig.locator("[data-mlcore-control]")
            assert controls.count() > 0
            for j in range(controls.count()):
                control = controls.nth(j)
                tag = control.evaluate("el => el.tagName.toLowerCase()")
                kind = control.get_attribute("type") if tag == "input" else tag
                if kind == "range" and control.get_attribute("max") == "0":
                    continue  # a one-value slider has nowhere to go
                control.scroll_into_view_if_needed()
                before = fig.evaluate(SRC)
                _move(control, kind)
                after = fig.evaluate(SRC)
                assert after != before, f"{path}: figure {i}, control {j} ({kind}) did nothing"
                assert after.startswith("data:image/png;base64,")
            assert fig.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
        assert not record["errors"], "console errors:\n" + "\n".join(record["errors"])
    finally:
        page.close()
