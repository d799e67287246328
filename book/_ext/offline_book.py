"""Sphinx extension: keep the book's pages free of live-code scripts from a CDN.

Jupyter Book always loads ``sphinx_thebe``, which adds an inline configuration script
(twice, in this toolchain: a console error on every page) and a loader that would
fetch Thebe from a CDN. The book offers live code through Binder and Colab instead,
so the Thebe hooks are removed before any page is read.
"""

from __future__ import annotations


def _drop_thebe_listeners(app):
    for event, listeners in app.events.listeners.items():
        app.events.listeners[event] = [
            listener
            for listener in listeners
            if not getattr(listener.handler, "__module__", "").startswith("sphinx_thebe")
        ]


def setup(app):
    app.connect("builder-inited", _drop_thebe_listeners, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
