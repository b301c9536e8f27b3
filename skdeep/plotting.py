"""Matplotlib displays for skdeep estimators (the optional ``plot`` extra).

Four scikit-learn style ``Display`` objects: the constructor takes plain
data, ``from_estimator`` reads it from a fitted estimator (or the last step
of a fitted ``Pipeline``, or a fitted search's ``best_estimator_``) and
draws it, and ``plot`` returns the display with its matplotlib artists as
attributes ending in ``_``.

* :class:`TrainingCurveDisplay`: loss, validation score and learning rate
  per epoch.
* :class:`GradientNormDisplay`: gradient norms per layer, recorded by
  :class:`~skdeep.GradientNormRecorder`.
* :class:`FilterDisplay`: input-layer weights as a grid of small images.
* :class:`GridSearchDisplay`: a search's score against one parameter.

matplotlib is imported when something is drawn, so this module imports
without it. The displays are implemented in the private package
``skdeep._plotting``; import them from here.
"""

from ._plotting._curves import TrainingCurveDisplay
from ._plotting._filters import FilterDisplay
from ._plotting._gradients import GradientNormDisplay
from ._plotting._search import GridSearchDisplay

__all__ = [
    "FilterDisplay",
    "GradientNormDisplay",
    "GridSearchDisplay",
    "TrainingCurveDisplay",
]
