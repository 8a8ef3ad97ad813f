"""Hold back transformers' own "Loading weights" bar while assay loads a model: a command's
output is its progress lines and its results, and a bar from inside a library (drawn on every
load, 103/103 or 272/272) is noise between them. Warnings still print."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def no_load_bars():
    """transformers' progress bars off inside the block, back as they were after it."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()
