"""Sphinx configuration of the skdeep documentation.

Build (from the repository root, with the ``docs`` extra installed)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

``-D plot_gallery=0`` builds without running the example gallery.
``SKDEEP_DOCS_INTERSPHINX=1`` links to the Python, NumPy, scikit-learn,
PyTorch and skorch documentation (it downloads their inventories, so it
needs a network).
"""

import os
import re
import sys
from pathlib import Path

import skdeep

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "sphinxext"))

# -- project ------------------------------------------------------------------

project = "skdeep"
author = "the skdeep developers"
copyright = "2026, the skdeep developers"
version = release = skdeep.__version__

# -- general ------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "skdeep_docs",
]
if os.environ.get("SKDEEP_DOCS_INTERSPHINX") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

templates_path = ["_templates"]
exclude_patterns = ["_build", "sphinxext", "Thumbs.db", ".DS_Store"]
root_doc = "index"
# `text` in the docstrings is code, as in scikit-learn's documentation.
default_role = "literal"
pygments_style = "sphinx"

# -- API reference: autodoc, autosummary, numpydoc ----------------------------

autosummary_generate = True
autodoc_typehints = "none"  # the numpydoc sections give the types
autodoc_member_order = "groupwise"
autodoc_preserve_defaults = True  # signatures show defaults as written
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _own_members_only() -> dict[str, bool]:
    """Classes whose method tables leave out what they inherit.

    The torch modules inherit some sixty ``nn.Module`` methods, the skorch
    callback the whole callback protocol, and the exception ``ValueError``'s
    methods: their pages list what skdeep adds.
    """
    import skdeep.modules

    names = {f"skdeep.modules.{name}" for name in skdeep.modules.__all__}
    names |= {"skdeep.ModelFileError", "skdeep.GradientNormRecorder"}
    try:
        import skdeep.plotting
    except ImportError:  # the API page reports it
        pass
    else:
        names |= {f"skdeep.plotting.{name}" for name in skdeep.plotting.__all__}
    return dict.fromkeys(sorted(names), False)


numpydoc_show_inherited_class_members = _own_members_only()

# -- the example gallery --------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every plot_*.py runs; its matplotlib figures become the example's images.
    "filename_pattern": re.escape(os.sep) + "plot_",
    "ignore_pattern": r"__init__\.py",
    # The textbook's order: perceptron ... DBN, then features (see CHAPTERS).
    "within_subsection_order": "skdeep_docs.ChapterOrder",
    # Each example saves its files into sys.argv[1]: a temporary folder,
    # never examples/ (where the examples run).
    "reset_argv": "skdeep_docs.reset_argv",
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    # "Examples using X" on each API page.
    "doc_module": ("skdeep",),
    "backreferences_dir": "generated/backreferences",
    "inspect_global_variables": False,
    "remove_config_comments": True,
    "show_memory": False,
    # A failing example is reported and fails the build at its end, after
    # every example ran (abort_on_example_error=True would stop at the first).
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML -----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skdeep {release}"
html_short_title = "skdeep"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "show_prev_next": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {
    "index": [],
    "changelog": [],
}
html_show_sourcelink = True
