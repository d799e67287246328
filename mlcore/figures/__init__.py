"""Figures and interactive widgets that draw what the engine computes.

This subpackage imports matplotlib (and, for live controls, ipywidgets); the
engine, :mod:`mlcore`, never imports it.  Importing it applies the book's figure
style (:func:`mlcore.figures.style.use`).

* :mod:`mlcore.figures.style` - the one figure style of the book: display sizes, fonts,
  the colour-blind-safe palette, line styles, 2x pixel density.
* :mod:`mlcore.figures.interactive` - one output that is a live ipywidgets view in
  a kernel and precomputed frames with plain HTML controls in the static book.
* :mod:`mlcore.figures.part1` - the figures of Part I.
* :mod:`mlcore.figures.part2` - the frames of Part II's explorables.
* :mod:`mlcore.figures.deep_digits`, :mod:`mlcore.figures.hyperparams`,
  :mod:`mlcore.figures.noise_floor` - the figures of Part III.
* :mod:`mlcore.figures.per_example` - the figures of Part IV's chapters on
  per-example gradients and private training.
* :mod:`mlcore.figures.distributed` - the figures of Part V.
"""

from . import style

style.use()
