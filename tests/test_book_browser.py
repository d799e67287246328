"""Open every built page in headless Chromium, served from 127.0.0.1, as a reader would.

Every page, at desktop width (1280x900): math is typeset (no raw TeX, no MathJax error),
every image loads and has alt text that says what it shows, no console error, no request
leaves 127.0.0.1, the page stays within its byte budget, no code block or equation is cut
off by the text column, and axe-core finds no accessibility violation of any impact,
in the light and in the dark colour mode (of the tokens of code boxes, one of each
colour and background). At phone (390x844) width the chapter menu opens on every page
and leads to every chapter, and the page contents open; at tablet (768x1024) width the
same on the first pages. Without Chromium these
tests skip, except in CI (``CI=true``), where they fail."""

from __future__ import annotations

from importlib.resources import files

import pytest

from book_support import REPO, open_page, toc_sources, typeset

pytestmark = [pytest.mark.book, pytest.mark.browser]

PAGES = [s.relative_to(REPO).with_suffix(".html").as_posix() for s in toc_sources()]

# Bytes a reader's browser receives for one page (the sum of the response bodies, as the
# local server sends them: uncompressed, empty cache). The figure frames of the
# explorables are part of their page.
TEXT_PAGE_BUDGET = 3_000_000
EXPLORABLE_PAGE_BUDGET = 5_000_000


AXE_JS = files("axe_playwright_python").joinpath("axe.min.js").read_text()

# After MathJax has run, typeset math lives in <mjx-container>; raw TeX left in the
# text (outside code) means a formula was not rendered.
RAW_TEX_JS = r"""
() => {
  const walker = document.createTreeWalker(document.querySelector('main') || document.body,
                                           NodeFilter.SHOW_TEXT);
  const bad = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement.closest('pre, code, script, style, mjx-container, .highlight, textarea'))
      continue;
    const t = n.textContent;
    const raw = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac|\\partial/;
    if (raw.test(t)) bad.push(t.trim().slice(0, 80));
  }
  return bad;
}
"""

# A formula MathJax could not read shows as an error box (merror) or, for an unknown
# macro, as its name in red.
MATH_ERRORS_JS = r"""
() => {
  const bad = [];
  for (const item of window.MathJax.startup.document.math) {
    item.root.walkTree(node => {
      if (node.isKind('merror') || node.attributes.get('mathcolor') === 'red')
        bad.push(item.math.slice(0, 80));
    });
  }
  return bad;
}
"""

BROKEN_IMAGES_JS = """
() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.src.slice(0, 100))
"""

# Alt text that says nothing: missing, empty, or a file name / URL (what docutils writes
# when a figure has no alt text of its own).
IMAGES_WITHOUT_ALT_JS = r"""
() => Array.from(document.querySelectorAll('main img')).filter(img => {
  const alt = (img.getAttribute('alt') || '').trim();
  return alt.length < 8 || /^(\.\.\/|\/|https?:|data:)|\.(png|jpe?g|svg|gif|webp)$/i.test(alt);
}).map(img => (img.getAttribute('alt') || '(none)').slice(0, 60))
"""

# Code blocks and display equations, at desktop width: each either fits the text column
# or scrolls sideways, with a shadow on the side that hides more. Cut off means content
# wider than the box with no scrollbar, or a box sticking out of the column (its content
# box), with no scrolling box around it inside the column.
CLIPPED_JS = r"""
() => {
  const column = document.querySelector('article.bd-article');
  const right = column.getBoundingClientRect().right
                - parseFloat(getComputedStyle(column).paddingRight) + 1;
  const cued = 'div.highlight pre, div.math > mjx-container';
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const scrolledInColumn = el => {
    for (let p = el.parentElement; p && p !== column; p = p.parentElement)
      if (scrolls(p) && p.getBoundingClientRect().right <= right) return true;
    return false;
  };
  const bad = [];
  let scrolling = 0;
  for (const el of column.querySelectorAll(
      'pre, div.highlight, div.math, mjx-container[display="true"]')) {
    if (el.closest('.mlcore-explorable')) continue;
    const wide = el.scrollWidth > el.clientWidth + 1;
    if (scrolls(el)) {
      if (wide && el.matches('pre')) scrolling += 1;
      // A box that scrolls says so: a shadow on the side that hides more.
      if (wide && el.matches(cued) && !el.classList.contains('scroll-more-right'))
        bad.push(`${el.tagName.toLowerCase()} scrolls with no shadow: ` +
                 el.textContent.trim().replace(/\s+/g, ' ').slice(0, 60));
      continue;
    }
    const out = el.getBoundingClientRect().right > right;
    if ((wide || out) && !scrolledInColumn(el)) {
      const text = el.textContent.trim().replace(/\s+/g, ' ').slice(0, 60);
      bad.push(`${el.tagName.toLowerCase()}.${el.className}: ${text}`);
    }
  }
  return {bad, scrolling};
}
"""

# The code of a notebook cell is formatted to fit the text column (book/ruff.toml): at
# desktop width none of it scrolls sideways.
WIDE_CELL_CODE_JS = r"""
() => Array.from(document.querySelectorAll('.cell_input pre'))
  .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a)))
"""

AXE_RUN_JS = """
async (rules) => {
  // preload: false, so that axe does not fetch the stylesheets again by itself.
  const options = {resultTypes: ['violations'], preload: false};
  if (rules) options.runOnly = {type: 'rule', values: rules};
  const result = await axe.run(document, options);
  return result.violations
    .map(v => `${v.impact} ${v.id}: ${v.help} at ` +
              v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}
"""

# Code boxes are drawn token by token: thousands of <span>s on a chapter, and axe's
# contrast rule spent about three quarters of its time on them. Tokens with the same
# colour, font and backgrounds behind them have the same contrast, so the rule checks the
# first token drawn of each kind (7 kinds on a chapter) and skips the others, marked
# here; the marks are set again after the colour mode changes. Every other element is
# checked.
MARK_SAME_CODE_TOKENS_JS = """
() => {
  for (const el of document.querySelectorAll('[data-axe-same]'))
    el.removeAttribute('data-axe-same');
  const kinds = new Set();
  for (const el of document.querySelectorAll('.highlight pre span')) {
    // A token that is not drawn (in a collapsed cell) cannot stand for its kind: axe
    // skips it, so it is left to axe as it is.
    if (!el.getClientRects().length) continue;
    const s = getComputedStyle(el);
    const behind = [];  // background colours up to the first opaque one
    for (let a = el; a; a = a.parentElement) {
      const bg = getComputedStyle(a).backgroundColor;
      if (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent') continue;
      behind.push(bg);
      if (bg.startsWith('rgb(')) break;
    }
    const kind = [s.color, s.fontSize, s.fontWeight, s.fontStyle, s.opacity, s.textShadow,
                  ...behind].join('|');
    if (kinds.has(kind)) el.setAttribute('data-axe-same', '');
    else kinds.add(kind);
  }
}
"""
SKIP_SAME_CODE_TOKENS_JS = """
() => axe.configure({rules: [{id: 'color-contrast', selector: '*:not([data-axe-same])'}]})
"""

# The axe rules that depend on colours: the only ones whose result can change with the
# colour mode, so the dark mode is checked with these (every rule runs in the light one).
COLOUR_RULES = ["color-contrast", "link-in-text-block"]

# What the theme's colour-mode button does, for dark; with CSS transitions switched off,
# so that axe reads the final colours, not those of a fade still under way.
DARK_MODE_JS = """
() => {
  const still = document.createElement('style');
  still.textContent = '*, *::before, *::after { transition: none !important; ' +
                      'animation: none !important; }';
  document.head.appendChild(still);
  document.documentElement.dataset.mode = 'dark';
  document.documentElement.dataset.theme = 'dark';
}
"""

_visits: dict[str, dict] = {}


def visit(browser, site, path) -> dict:
    """Everything the desktop checks need from one page, read in a single visit."""
    if path not in _visits:
        page, record = open_page(browser, f"{site}/{path}")
        try:
            page.evaluate("() => document.fonts.ready")
            page.wait_for_timeout(300)
            page.wait_for_load_state("networkidle")
            report = {
                "raw_tex": page.evaluate(RAW_TEX_JS),
                "math_errors": page.evaluate(MATH_ERRORS_JS)
                if page.evaluate("() => !!window.MathJax")
                else [],
                "broken_images": page.evaluate(BROKEN_IMAGES_JS),
                "images_without_alt": page.evaluate(IMAGES_WITHOUT_ALT_JS),
                "clipped": page.evaluate(CLIPPED_JS),
                "wide_cell_code": page.evaluate(WIDE_CELL_CODE_JS),
                "explorables": page.locator(".mlcore-explorable").count(),
            }
            # What the page itself loaded, before axe runs in it.
            report.update({key: type(value)(value) for key, value in record.items()})
            page.evaluate(AXE_JS)
            page.evaluate(SKIP_SAME_CODE_TOKENS_JS)
            page.evaluate(MARK_SAME_CODE_TOKENS_JS)
            report["axe"] = page.evaluate(AXE_RUN_JS)
            # The same page as a reader who picked the dark colour mode sees it.
            page.evaluate(DARK_MODE_JS)
            page.evaluate(MARK_SAME_CODE_TOKENS_JS)
            dark = page.evaluate(AXE_RUN_JS, COLOUR_RULES)
            report["axe"] += [f"(dark) {v}" for v in dark]
            _visits[path] = report
        finally:
            page.close()
    return _visits[path]


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_offline(browser, site, path):
    report = visit(browser, site, path)
    assert not report["raw_tex"], f"raw TeX left on the page: {report['raw_tex']}"
    assert not report["math_errors"], f"formulas MathJax could not read: {report['math_errors']}"
    assert not report["broken_images"], f"images that did not load: {report['broken_images']}"
    outside = [
        u for u in report["requests"] if not u.startswith(("http://127.0.0.1", "data:", "blob:"))
    ]
    assert not outside, f"requests leaving the site: {outside}"
    assert not report["errors"], "console errors:\n" + "\n".join(report["errors"])


@pytest.mark.parametrize("path", PAGES)
def test_page_weight_within_budget(browser, site, path):
    report = visit(browser, site, path)
    budget = EXPLORABLE_PAGE_BUDGET if report["explorables"] else TEXT_PAGE_BUDGET
    total = sum(report["bytes"].values())
    largest = sorted(report["bytes"].items(), key=lambda kv: -kv[1])[:5]
    listing = "\n".join(f"  {size:>10,}  {url.split('/', 3)[-1]}" for url, size in largest)
    assert total <= budget, f"{path}: {total:,} bytes > {budget:,}; largest:\n{listing}"


@pytest.mark.parametrize("path", PAGES)
def test_no_code_or_math_cut_off_at_desktop_width(browser, site, path):
    report = visit(browser, site, path)
    clipped = report["clipped"]["bad"]
    assert not clipped, "cut off by the text column, with no scrollbar:\n" + "\n".join(clipped)
    wide = report["wide_cell_code"]
    assert not wide, "code cells wider than the column (longest line shown):\n" + "\n".join(wide)


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_violation(browser, site, path):
    violations = visit(browser, site, path)["axe"]
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("path", PAGES)
def test_every_image_says_what_it_shows(browser, site, path):
    missing = visit(browser, site, path)["images_without_alt"]
    assert not missing, f"images without alt text (cell metadata mystnb.image.alt): {missing}"


def test_math_is_typeset_somewhere(browser, site):
    page, _ = open_page(browser, f"{site}/book/intro.html")
    try:
        assert page.locator("mjx-container").count() > 0
    finally:
        page.close()


# --------------------------------------------------------------------- phones, tablets

PRIMARY = "#pst-primary-sidebar-modal"
SECONDARY = "#pst-secondary-sidebar-modal"
OPEN_DIALOGS_JS = "() => Array.from(document.querySelectorAll('dialog[open]')).map(d => d.id)"


def _open_menu(page, toggle, dialog):
    button = page.locator(f"{toggle}:visible")
    assert button.count() == 1, f"{page.url}: {button.count()} visible {toggle} buttons"
    button.tap()
    page.wait_for_selector(f"{dialog}[open]", timeout=5_000)
    box = page.locator(dialog).bounding_box()
    assert box and box["width"] > 200, f"{page.url}: {dialog} opened but is not shown: {box}"


@pytest.mark.parametrize(
    ("viewport", "num_pages"),
    [({"width": 390, "height": 844}, len(PAGES)), ({"width": 768, "height": 1024}, 5)],
    ids=["phone", "tablet"],
)
def test_chapter_menu_and_page_contents_on_touch_screens(browser, site, viewport, num_pages):
    """Read the book through the ☰ menu: on each page open it and tap the next chapter;
    on each page with sections open the page contents and jump to one. On a phone the
    walk goes through the whole book; a tablet shows the same menu, so a few pages do."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    walk = PAGES[:num_pages]
    page, record = open_page(browser, f"{site}/{walk[0]}", viewport=viewport, touch=True)
    try:
        page.evaluate(AXE_JS)
        for i, path in enumerate(walk):
            assert page.url.split("#")[0].endswith(path), (page.url, path)
            assert page.evaluate(OPEN_DIALOGS_JS) == []

            if page.locator(".secondary-toggle").count():
                _open_menu(page, ".secondary-toggle", SECONDARY)
                section = page.locator(f"{SECONDARY} nav a").first
                target = section.get_attribute("href")
                section.tap()
                page.wait_for_function(f"() => !document.querySelector('{SECONDARY}').open")
                assert page.url.endswith(target), (page.url, target)
                heading = page.locator(f"[id='{target[1:]}']")
                assert heading.is_visible() and heading.bounding_box()["y"] < viewport["height"]
                # No tooltip of the toggle left over the header's buttons (its fade-out
                # may still be running on a busy machine: a tooltip gone within 3 s is
                # not left).
                try:
                    page.wait_for_function(
                        "() => !document.querySelector('.tooltip.show')", timeout=3_000
                    )
                except PlaywrightTimeoutError:
                    pytest.fail(f"{path}: tooltip left")

            _open_menu(page, ".primary-toggle", PRIMARY)
            chapters = page.locator(f"{PRIMARY} nav a.reference.internal")
            hrefs = chapters.evaluate_all("els => els.map(e => e.getAttribute('href'))")
            for other in PAGES:
                if other == path:
                    continue
                name = other.rsplit("/", 1)[-1]
                assert any(h.split("#")[0].endswith(name) for h in hrefs if h != "#"), (
                    f"{path}: the chapter menu has no link to {other}: {hrefs}"
                )
            if i == 0:
                violations = page.evaluate(AXE_RUN_JS)
                assert not violations, "axe, menu open:\n" + "\n".join(violations)
            if i + 1 == len(walk):
                break
            name = walk[i + 1].rsplit("/", 1)[-1]
            link = page.locator(f"{PRIMARY} a[href='{name}']")
            assert link.count(), f"{path}: no menu link to {name}"
            # The next page has loaded (its scripts have run) once the navigation is
            # over; what the walk reads there needs its math typeset, not the network
            # idle (the desktop visits check what the pages request).
            with page.expect_navigation():
                link.first.tap()
            typeset(page)
        assert not record["errors"], "console errors:\n" + "\n".join(record["errors"])
    finally:
        page.close()


def test_sidebar_toggle_collapses_the_chapter_list_at_desktop_width(browser, site):
    page, record = open_page(browser, f"{site}/book/backprop.html")
    try:
        sidebar = page.locator("#pst-primary-sidebar")
        assert sidebar.is_visible()
        page.locator(".primary-toggle:visible").click()
        page.wait_for_function(
            "() => getComputedStyle(document.getElementById('pst-primary-sidebar'))"
            ".visibility === 'hidden'"
        )
        assert page.evaluate(OPEN_DIALOGS_JS) == []
        # Back again from the keyboard alone.
        page.locator(".primary-toggle:visible").focus()
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => getComputedStyle(document.getElementById('pst-primary-sidebar'))"
            ".visibility === 'visible'"
        )
        assert not record["errors"], "\n".join(record["errors"])
    finally:
        page.close()
