"""Figures and interactive widgets that draw what the engine computes.

This subpackage imports matplotlib (and, for live controls, ipywidgets); the
engine, :mod:`mlcore`, never imports it.

* :mod:`mlcore.figures.interactive` - one output that is a live ipywidgets view in
  a kernel and precomputed frames with plain HTML controls in the static book.
* :mod:`mlcore.figures.part1` - the figures of Part I.
* :mod:`mlcore.figures.part2` - the frames of Part II's explorables.
"""
