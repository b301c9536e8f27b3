"""The per-epoch table printed when ``verbose``."""

import re
import sys

from skorch.callbacks import PrintLog

__all__ = ["EpochLog"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class EpochLog(PrintLog):
    """skorch's per-epoch table, headed by the stage that is training.

    Colours mark the best values only on a terminal: written to a file or a
    pipe, the table is plain text. A DBN trains several nets in a row, so
    each table says whose it is (``"DBNClassifier: pretraining layer 1 of
    2"``, ``"DBNClassifier: fine-tuning"``).
    """

    def __init__(self, stage: str = "", sink=print):
        super().__init__(sink=sink)
        self.stage = stage

    def initialize(self):
        super().initialize()
        stream = sys.stdout
        self.colour_ = self.sink is print and bool(
            getattr(stream, "isatty", None) and stream.isatty()
        )
        return self

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if self.colour_ or not isinstance(text, str):
            return text
        return _ANSI.sub("", text)

    def table(self, row):
        # Per-layer records (a GradientNormRecorder's dict) do not fit a row.
        return super().table({k: v for k, v in row.items() if not isinstance(v, dict)})

    def on_epoch_end(self, net, **kwargs):
        if self.first_iteration_ and self.stage:
            self._sink(self.stage, net.verbose)
        super().on_epoch_end(net, **kwargs)
