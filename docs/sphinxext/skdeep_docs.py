"""Small Sphinx helpers for the skdeep documentation.

* :class:`ChapterOrder`: the order of the example gallery, chapter by chapter.
* :func:`reset_argv`: each gallery example gets its own output folder in a
  temporary directory, so that building the docs never writes into
  ``examples/``.
* ``.. markdown-include:: FILE``: include a Markdown file of this repository
  (``CHANGELOG.md``, ``benchmarks/README.md``), converted to
  reStructuredText. It reads the subset those files use: ATX headings,
  paragraphs, bullet and numbered lists, fenced code blocks, pipe tables,
  inline code, bold and links.
* A check that the API reference lists every public name: each name in the
  ``__all__`` of a documented package must appear in ``api.rst``, or the
  build warns (and fails under ``-W``).

Everything given to sphinx-gallery is a plain string naming an object here,
so the configuration stays picklable.
"""

import atexit
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from docutils.utils import column_width
from sphinx.pycode import ModuleAnalyzer, PycodeError
from sphinx.util import logging

logger = logging.getLogger(__name__)

# -- the example gallery ------------------------------------------------------

#: The gallery follows the textbook: from the perceptron to deep belief
#: networks, then features of trained nets. Examples not listed here come
#: after these, by file name.
CHAPTERS = (
    "plot_perceptron_xor.py",
    "plot_activations.py",
    "plot_losses.py",
    "plot_gradient_check.py",
    "plot_dropout_overfitting.py",
    "plot_vanishing_gradients.py",
    "plot_batch_modes.py",
    "plot_optimizers.py",
    "plot_dnn_digits.py",
    "plot_cnn_lenet5_digits.py",
    "plot_cnn_signals.py",
    "plot_cnn_grid_search.py",
    "plot_rnn_vanishing_gradient.py",
    "plot_rnn_forecast.py",
    "plot_rnn_variable_length.py",
    "plot_rbm_filters.py",
    "plot_dbn_pretraining.py",
    "plot_dbn_pipeline.py",
    "plot_transform_features.py",
)


class ChapterOrder:
    """sphinx-gallery's ``within_subsection_order``: :data:`CHAPTERS` first."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        rank = CHAPTERS.index(name) if name in CHAPTERS else len(CHAPTERS)
        return rank, name

    def __repr__(self):
        return "ChapterOrder"


_OUTPUT_ROOT = None


def reset_argv(gallery_conf, script_vars):
    """``sys.argv[1:]`` of a gallery example: a fresh folder for its files.

    The examples save their figures into ``sys.argv[1]``; under
    sphinx-gallery they run with ``examples/`` as the working directory,
    where their default folder would land. A temporary directory, removed
    when the build ends, takes the files instead (the gallery takes the
    figures from matplotlib, not from these files).
    """
    global _OUTPUT_ROOT
    if _OUTPUT_ROOT is None:
        _OUTPUT_ROOT = tempfile.mkdtemp(prefix="skdeep-gallery-")
        atexit.register(shutil.rmtree, _OUTPUT_ROOT, ignore_errors=True)
    folder = Path(_OUTPUT_ROOT) / Path(script_vars["src_file"]).stem
    return [str(folder)]


# -- Markdown files of the repository -------------------------------------------

_FENCE = re.compile(r"^(\s*)```\s*([\w+-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_WORD_END_UNDERSCORE = re.compile(r"(?<=\w)_(?=\W|$)")
# What rst, not Markdown, reads as an enumerated list: "(a) ", "a) ", "b. ".
_RST_ENUMERATOR = re.compile(r"^(\s*)(\(\w+\)|[A-Za-z][.)])(?=\s|$)")


def _not_a_list(text):
    """Text that starts a paragraph or a cell, kept from being an rst list."""
    return _RST_ENUMERATOR.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _inline_text(text):
    """Markdown text outside code spans as reStructuredText."""
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = _WORD_END_UNDERSCORE.sub(r"\\_", text)
    return _LINK.sub(lambda m: f"`{m.group(1)} <{m.group(2)}>`__", text)


def _inline(text):
    """One line of Markdown inline markup as reStructuredText."""
    parts = re.split(r"(`+)(.+?)\1", text)
    out = []
    # re.split with two groups: text, ticks, code, ticks, code, ..., text
    for i in range(0, len(parts), 3):
        out.append(_inline_text(parts[i]))
        if i + 2 < len(parts):
            code = parts[i + 2].strip()
            before = out[-1][-1:] if out[-1] else ""
            after = parts[i + 3][:1] if i + 3 < len(parts) else ""
            literal = f"``{code}``"
            if before and not (before.isspace() or before in "([{'\"-/:"):
                literal = "\\ " + literal
            if after and not (after.isspace() or after in ")]}'\".,;:!?-/"):
                literal += "\\ "
            out.append(literal)
    line = "".join(out)
    if line.rstrip().endswith("::"):  # not a literal block marker
        line = line.rstrip()[:-1] + "\\:"
    return line


def _cells(row):
    """The cells of a pipe-table row; pipes inside code spans do not split."""
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    cells, current, in_code = [], "", False
    for char in row:
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append(current.strip())
    return cells


def _table(rows):
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        for j, cell in enumerate(_cells(row)):
            mark = "   * -" if j == 0 else "     -"
            text = _not_a_list(_inline(cell))
            out.append(f"{mark} {text}" if text else mark)
    return [*out, ""]


def markdown_to_rst(text, levels="=-~^\"'", skip_title=False):
    """Convert the Markdown subset of the repository's files to rst lines."""
    lines = text.splitlines()
    out, i, seen_title, previous = [], 0, False, ""
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            indent, language = fence.group(1), fence.group(2) or "text"
            block, i = [], i + 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i][len(indent) :] if lines[i].strip() else "")
                i += 1
            out += ["", f"{indent}.. code-block:: {language}", ""]
            out += [f"{indent}   {b}" if b else "" for b in block]
            out.append("")
            i, previous = i + 1, ""
            continue
        heading = _HEADING.match(line)
        if heading:
            level, title = len(heading.group(1)), _inline(heading.group(2))
            i += 1
            if level == 1 and skip_title and not seen_title:
                seen_title = True
                continue
            char = levels[min(level, len(levels)) - 1]
            out += ["", title, char * column_width(title), ""]
            previous = ""
            continue
        if line.lstrip().startswith("|") and i + 1 < len(lines):
            if _TABLE_RULE.match(lines[i + 1]):
                rows, i = [line], i + 2
                while i < len(lines) and lines[i].lstrip().startswith("|"):
                    rows.append(lines[i])
                    i += 1
                out += ["", *_table(rows)]
                previous = ""
                continue
        if _BULLET.match(line) and previous.strip() and not _BULLET.match(previous):
            if not previous.startswith(" "):
                out.append("")  # rst needs a blank line before a list
        text = _inline(line) if line.strip() else ""
        if not previous.strip():
            text = _not_a_list(text)
        out.append(text)
        previous = line
        i += 1
    return out


class MarkdownInclude(Directive):
    """``.. markdown-include:: PATH`` (relative to this document)."""

    required_arguments = 1
    has_content = False
    option_spec = {
        "skip-title": directives.flag,
        "heading-levels": directives.unchanged,
    }

    def run(self):
        env = self.state.document.settings.env
        _, path = env.relfn2path(self.arguments[0], env.docname)
        path = Path(path)
        if not path.is_file():
            raise self.error(f"markdown-include: no file {path}")
        env.note_dependency(str(path))
        lines = markdown_to_rst(
            path.read_text(encoding="utf-8"),
            levels=self.options.get("heading-levels", "=-~^\"'"),
            skip_title="skip-title" in self.options,
        )
        source = str(path)
        self.state_machine.insert_input(StringList(lines, source=source), source)
        return []


# -- module constants -------------------------------------------------------------


def _plain_repr(value):
    """A value as source code would spell it; classes by their full name."""
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, dict):
        items = ", ".join(f"{k!r}: {_plain_repr(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, tuple):
        items = ", ".join(_plain_repr(v) for v in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


def _doc_comment(package, attr, value):
    """The ``#:`` comment of ``attr`` in the submodule of ``package`` defining it."""
    submodules = sorted(n for n in sys.modules if n.startswith(package + "."))
    candidates = [package, *submodules]
    for name in candidates:
        if getattr(sys.modules.get(name), attr, None) is not value:
            continue
        try:
            analyzer = ModuleAnalyzer.for_module(name)
            analyzer.analyze()
        except PycodeError:
            continue
        comment = analyzer.attr_docs.get(("", attr))
        if comment:
            return [line for line in comment if line is not None]
    return []


class ModuleConstant(Directive):
    """``.. module-constant:: package.NAME``: a public constant, documented
    with its value and the ``#:`` comment where a submodule defines it
    (autodata would look for the comment in ``package`` itself)."""

    required_arguments = 1
    has_content = True

    def run(self):
        full = self.arguments[0]
        package, attr = full.rsplit(".", 1)
        value = getattr(importlib.import_module(package), attr)
        comment = _doc_comment(package, attr, value)
        lines = [
            f".. py:data:: {attr}",
            f"   :module: {package}",
            f"   :value: {_plain_repr(value)}",
            "",
        ]
        body = [*comment, "", *self.content]
        lines += [f"   {line}" if line else "" for line in body]
        source = self.state_machine.get_source(self.lineno)
        self.state_machine.insert_input(StringList(lines, source=source), source)
        return []


# -- the API reference lists every public name ----------------------------------

#: Packages whose ``__all__`` the API reference must cover.
DOCUMENTED_PACKAGES = ("skdeep", "skdeep.modules", "skdeep.plotting")

_CURRENT_MODULE = re.compile(r"^\.\. currentmodule:: (\S+)\s*$")
_ENTRY = re.compile(r"^ {3,}(~?[A-Za-z_][\w.]*)\s*$")


def documented_names(api_text):
    """The fully qualified names listed in the autosummary tables of api.rst."""
    names, module, in_summary = set(), "", False
    for line in api_text.splitlines():
        current = _CURRENT_MODULE.match(line)
        if current:
            module = current.group(1)
            continue
        if line.startswith((".. autosummary::", ".. module-constant::")):
            in_summary = line.startswith(".. autosummary::")
            if not in_summary:
                names.add(line.split("::", 1)[1].strip())
            continue
        if in_summary:
            entry = _ENTRY.match(line)
            if entry and not line.strip().startswith(":"):
                name = entry.group(1).lstrip("~")
                names.add(f"{module}.{name}")
            elif line.strip() and not line.startswith(" "):
                in_summary = False
    return names


def check_api_reference(app):
    """Warn about each public name missing from api.rst."""
    api = Path(app.srcdir) / "api.rst"
    if not api.is_file():
        logger.warning("API reference: no api.rst to check")
        return
    listed = documented_names(api.read_text(encoding="utf-8"))
    for package in DOCUMENTED_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError as exc:
            logger.warning(f"API reference: cannot import {package}: {exc}")
            continue
        for name in getattr(module, "__all__", ()):
            if f"{package}.{name}" not in listed:
                logger.warning(
                    f"API reference: {package}.{name} is public (in "
                    f"{package}.__all__) but api.rst does not list it",
                    location="api",
                )


# -- references in docstrings inherited from scikit-learn -------------------------

#: Labels and glossary terms of scikit-learn's own documentation that the
#: docstrings skdeep's estimators inherit (``score``, ``set_output``,
#: ``get_metadata_routing``, ``set_*_request``) refer to. Built without
#: intersphinx (``SKDEEP_DOCS_INTERSPHINX=1``), they are shown as plain text
#: instead of failing the build. Any other missing reference still warns.
SKLEARN_REFERENCES = {
    "ref": {
        "accuracy_score",
        "r2_score",
        "metadata_routing",
        "df_output_transform",
        "sphx_glr_auto_examples_miscellaneous_plot_set_output.py",
    },
    "term": {"meta-estimator"},
}


def sklearn_reference_as_text(app, env, node, contnode):
    """``missing-reference``: scikit-learn's labels become their text."""
    if node.get("refdomain") != "std":
        return None
    if node["reftarget"].lower() in SKLEARN_REFERENCES.get(node["reftype"], ()):
        return contnode
    return None


def setup(app):
    app.add_directive("markdown-include", MarkdownInclude)
    app.add_directive("module-constant", ModuleConstant)
    app.connect("builder-inited", check_api_reference)
    # After intersphinx (priority 500), which links them when it is enabled.
    app.connect("missing-reference", sklearn_reference_as_text, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = [
    "CHAPTERS",
    "ChapterOrder",
    "MarkdownInclude",
    "ModuleConstant",
    "check_api_reference",
    "markdown_to_rst",
    "reset_argv",
    "setup",
    "sklearn_reference_as_text",
]
