"""The implementation of :mod:`skdeep.plotting`, one module per display.

``_common`` holds what they share (the fitted model to read, the lazy
matplotlib import); ``_curves``, ``_gradients``, ``_filters`` and ``_search``
hold one display each. Import the displays from ``skdeep.plotting``.
"""
