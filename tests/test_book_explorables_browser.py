"""Every precomputed interactive figure in the built book responds to its controls.

On each page with a ``.mlcore-explorable`` (made by :mod:`mlcore.figures.interactive`), every
static control is moved (range to its ends, every option of a select, checkbox
toggled) and the figure's image must change, with no console error. Every control works
from the keyboard alone, every frame has alt text, and every slider announces its value
in words (``aria-valuetext``). Each page is opened once: the checks run one after the
other in that visit (each works from whatever state the one before left), and each test
reads what its check found.
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

# The key a keyboard user presses to move a control, from where it stands.
KEY_JS = """
el => {
  if (el.type === 'range') return el.value === el.max ? 'Home' : 'End';
  if (el.tagName === 'SELECT')
    return el.selectedIndex === el.options.length - 1 ? 'ArrowUp' : 'ArrowDown';
  return 'Space';
}
"""


def _controls(page):
    """Every control of every explorable on the page: (figure no., figure, control no.,
    control, kind), kind being ``range``, ``checkbox`` or ``select``."""
    figures = page.locator(".mlcore-explorable")
    for i in range(figures.count()):
        fig = figures.nth(i)
        controls = fig.locator("[data-mlcore-control]")
        for j in range(controls.count()):
            control = controls.nth(j)
            tag = control.evaluate("el => el.tagName.toLowerCase()")
            kind = control.get_attribute("type") if tag == "input" else tag
            yield i, fig, j, control, kind


def _fixed(control, kind) -> bool:
    """A one-value slider has nowhere to go."""
    return kind == "range" and control.get_attribute("max") == "0"


def _keyboard_problems(page, path) -> list[str]:
    """Alt text on every frame; every control reached with Tab, labelled, and moved by
    its key."""
    problems = []
    for i, fig, j, control, kind in _controls(page):
        where = f"{path}: figure {i}, control {j} ({kind})"
        alt = fig.locator("img").get_attribute("alt") or ""
        if len(alt.strip()) < 8:
            problems.append(f"{path}: figure {i} has no alt text")
        if _fixed(control, kind):
            continue
        if not control.evaluate("el => el.tabIndex >= 0 && !el.disabled"):
            problems.append(f"{where} cannot be reached with Tab")
            continue
        if not control.evaluate("el => el.labels.length && el.labels[0].textContent"):
            problems.append(f"{where} has no label")
        control.focus()
        before = fig.evaluate(SRC)
        page.keyboard.press(control.evaluate(KEY_JS))
        if fig.evaluate(SRC) == before:
            problems.append(f"{where} ignored its key")
    return problems


def _valuetext_problems(page, path) -> list[str]:
    """``aria-valuetext`` names the value shown beside each slider, at both ends."""
    problems = []
    for i, _fig, j, control, kind in _controls(page):
        if kind != "range":
            continue
        for key in ("Home", "End"):
            control.focus()
            page.keyboard.press(key)
            text = control.get_attribute("aria-valuetext") or ""
            shown = control.evaluate(
                "el => el.nextElementSibling ? el.nextElementSibling.textContent : ''"
            )
            where = f"{path}: figure {i}, slider {j} at {key}"
            if not text.strip():
                problems.append(f"{where}: no aria-valuetext")
            elif shown.strip() not in text:
                problems.append(f"{where}: says {text!r}, shows {shown!r}")
            elif text.strip() == control.input_value():
                problems.append(f"{where}: only the position")
    return problems


def _move(control, kind):
    """Set a static control to a new state and fire the events a reader's action fires."""
    if kind == "range":
        control.evaluate(
            "el => { el.value = el.value === el.max ? el.min : el.max; "
            "el.dispatchEvent(new Event('input', {bubbles: true})); }"
        )
    elif kind == "select":
        control.evaluate(
            "el => { el.selectedIndex = (el.selectedIndex + 1) % el.options.length; "
            "el.dispatchEvent(new Event('change', {bubbles: true})); }"
        )
    else:
        control.click()  # a real click toggles and fires input/change


def _swap_problems(page, path) -> list[str]:
    """Every control, moved as a pointer moves it, swaps the frame for another PNG."""
    figures = page.locator(".mlcore-explorable")
    if not figures.count():
        return [f"{path} imports mlcore.figures.interactive but shows no explorable"]
    problems = []
    for i in range(figures.count()):
        fig = figures.nth(i)
        if not (fig.get_attribute("id") or "").startswith("mlcore-"):
            problems.append(f"{path}: figure {i} has no mlcore- id")
        if not fig.locator("[data-mlcore-control]").count():
            problems.append(f"{path}: figure {i} has no control")
    for i, fig, j, control, kind in _controls(page):
        if _fixed(control, kind):
            continue
        control.scroll_into_view_if_needed()
        before = fig.evaluate(SRC)
        _move(control, kind)
        after = fig.evaluate(SRC)
        if after == before:
            problems.append(f"{path}: figure {i}, control {j} ({kind}) did nothing")
        elif not after.startswith("data:image/png;base64,"):
            problems.append(f"{path}: figure {i}, control {j} ({kind}) shows {after[:40]}")
        if not fig.locator("img").evaluate("img => img.complete && img.naturalWidth > 0"):
            problems.append(f"{path}: figure {i}: the frame after control {j} did not load")
    return problems


_explored: dict[str, dict] = {}


def explore(browser, site, path) -> dict:
    """The problems each check finds on one page, from a single visit."""
    if path not in _explored:
        page, record = open_page(browser, f"{site}/{path}")
        try:
            report = {
                "keyboard": _keyboard_problems(page, path),
                "valuetext": _valuetext_problems(page, path),
                "swap": _swap_problems(page, path),
                "errors": list(record["errors"]),
            }
        finally:
            page.close()
        _explored[path] = report
    return _explored[path]


def test_the_chapters_with_explorables_are_found():
    """The parametrised tests below run once per chapter found here: never on none."""
    assert len(PAGES) >= 4, PAGES


@pytest.mark.parametrize("path", PAGES)
def test_static_controls_swap_the_frame(browser, site, path):
    report = explore(browser, site, path)
    assert not report["swap"], "\n".join(report["swap"])
    assert not report["errors"], "console errors:\n" + "\n".join(report["errors"])


@pytest.mark.parametrize("path", PAGES)
def test_controls_work_from_the_keyboard(browser, site, path):
    problems = explore(browser, site, path)["keyboard"]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", PAGES)
def test_sliders_announce_their_value_in_words(browser, site, path):
    """``aria-valuetext`` names the value shown beside the slider, and follows it."""
    problems = explore(browser, site, path)["valuetext"]
    assert not problems, "\n".join(problems)
