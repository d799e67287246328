"""The numbers quoted on the summary page are still printed by the chapters' cells.

``book/in_practice.md`` is Markdown, so its numbers cannot come from a cell directly.
Each one is listed here with the notebook whose stored outputs must contain it (in a
cell whose outputs nbval compares), so that a chapter that changes makes this test fail
until the summary is updated.
"""

from __future__ import annotations

import json

import pytest

from book_support import REPO

QUOTED = [
    ("book/critical_batch.ipynb", "B = 8 to 32: 3.9 times fewer steps", "3.9 times fewer steps"),
    ("book/critical_batch.ipynb", "  256    1.6     27.3", "(27.3, 23.3\nand 24.0"),
    ("book/critical_batch.ipynb", "  512    1.6     23.3", "(27.3, 23.3\nand 24.0"),
    ("book/critical_batch.ipynb", " 1150    1.6     24.0", "(27.3, 23.3\nand 24.0"),
    ("book/critical_batch.ipynb", "B_crit = E_min / S_min = 105", "$B_{\\text{crit}} = 105$"),
    (
        "book/critical_batch.ipynb",
        "   0.1    19.1    2012      105                    169 (1.6)",
        "was 169 there",
    ),
    (
        "book/critical_batch.ipynb",
        "   0.5    10.1     339       34                     76 (2.3)",
        "1.6 to 2.3 times",
    ),
    (
        "book/per_example_gradients.ipynb",
        "norm averaged over epochs   k = 58: 94.8%",
        "94.8% of 58",
    ),
    (
        "book/per_example_gradients.ipynb",
        "norm after the last epoch   k = 58: 69.0%",
        "the norm finds 69.0%",
    ),
    (
        "book/private_training.ipynb",
        "sigma = 1.0, C = 1.0: test accuracy 0.936, (9.72, 1e-05)-DP",
        "0.936 at $\\varepsilon = 9.72$",
    ),
    (
        "book/private_training.ipynb",
        "sigma = 2.0, C = 0.3: test accuracy 0.908, (3.25, 1e-05)-DP",
        "0.908 at $\\varepsilon = 3.25$",
    ),
    ("book/private_training.ipynb", "non-private: test accuracy 0.967", "against 0.967"),
    ("book/input_gradients.ipynb", "largest relative error over 5 digits: 6e-07", "6e-07"),
    (
        "book/input_gradients.ipynb",
        "smallest flipping eps: median 0.345, quartiles 0.210 and 0.557",
        "0.345 standard deviations",
    ),
    (
        "book/input_gradients.ipynb",
        "eps  0.5: test accuracy 0.276 under the attack, 0.925 with random signs",
        "0.276, against 0.925",
    ),
    (
        "book/deep_digits.ipynb",
        "reaches validation loss 0.1 after  80 epochs",
        "after 80 epochs of GD",
    ),
    ("book/deep_digits.ipynb", "reaches validation loss 0.1 after  20 epochs", "20 at $B = 32$"),
    ("book/deep_digits.ipynb", "reaches validation loss 0.1 after   9 epochs", "9 at $B = 1$"),
    ("book/deep_digits.ipynb", "less than 4.0 GD epochs", "less than 4.0 GD epochs"),
    ("book/deep_digits.ipynb", "test accuracy 0.967", "0.967, 0.964 and 0.955"),
    ("book/deep_digits.ipynb", "test accuracy 0.955", "0.967, 0.964 and 0.955"),
    ("book/deep_digits.ipynb", "largest difference: 4 images", "differ by 4 images"),
    ("book/deep_digits.ipynb", "validation [33, 46, 61]", "from epoch 33 (GD: 97)"),
    ("book/deep_digits.ipynb", "validation [97, 125, 158]", "from epoch 33 (GD: 97)"),
    ("book/deep_digits.ipynb", "keeps epoch  72", "patience 5 keeps epoch 72"),
    (
        "book/deep_digits.ipynb",
        "lr 1.0    validation loss 0.0858  training loss 0.0046  <- chosen",
        "1.0 for full-batch GD",
    ),
    (
        "book/deep_digits.ipynb",
        "lr 0.1    validation loss 0.0792  training loss 0.0021  <- chosen",
        "wanted 0.1 at $B = 32$",
    ),
    ("book/batch_lr_map.ipynb", "best accuracies from 0.962 to 0.993", "from 0.962 to 0.993"),
    ("book/batch_lr_map.ipynb", "0.892 (    1)", "(full batch: 0.892)"),
    ("book/batch_lr_map.ipynb", "B_noise = 32.9", "= 32.9$"),
    ("book/batch_lr_map.ipynb", "noise / signal =   1.001", "noise about equals its signal"),
    (
        "book/optimisers.ipynb",
        "Adam          0.958 (0.001 )        0.001  to 0.022",
        "best at 0.001, within 0.02 of its best from 0.001 to 0.022",
    ),
    (
        "book/optimisers.ipynb",
        "momentum 0.9  0.976 (0.046 )        0.01   to 0.1",
        "momentum 0.9 was best from 0.01 to 0.1",
    ),
    ("book/shuffling.ipynb", "sorted, never shuffled    1.339", "1.339 against 1.008"),
    ("book/shuffling.ipynb", "reshuffled every epoch    1.008", "1.339 against 1.008"),
    (
        "book/shuffling.ipynb",
        "sorted                                  0.566",
        "0.566 against 0.948",
    ),
    (
        "book/shuffling.ipynb",
        "reshuffled                              0.948",
        "0.566 against 0.948",
    ),
    ("book/accumulation.ipynb", "divide by micro-batches: relative error 0.52", "error of 0.52"),
    (
        "book/accumulation.ipynb",
        "micro-batch sizes: [32, 32, 32, 4]",
        "(32, 32, 32 and 4 examples)",
    ),
]


def compared_text(notebook: str) -> str:
    """The text outputs of the cells whose outputs nbval compares."""
    nb = json.loads((REPO / notebook).read_text())
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        if "nbval-ignore-output" in cell.get("metadata", {}).get("tags", []):
            continue
        for o in cell.get("outputs", []):
            text = o.get("text") or o.get("data", {}).get("text/plain") or ""
            out.append(text if isinstance(text, str) else "".join(text))
    return "".join(out)


@pytest.mark.parametrize(("notebook", "printed", "quoted"), QUOTED)
def test_summary_quotes_what_the_cells_print(notebook, printed, quoted):
    assert printed in compared_text(notebook), f"{notebook} no longer prints {printed!r}"
    summary = (REPO / "book" / "in_practice.md").read_text()
    assert quoted in summary, f"the summary no longer says {quoted!r}"
