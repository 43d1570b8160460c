"""Sphinx configuration of the sklearn-nodecoll documentation."""

import os
import re
import sys

sys.path.insert(0, os.path.abspath(".."))

import sklearn_nodecoll  # noqa: E402

project = "sklearn-nodecoll"
author = "sklearn-nodecoll developers"
release = sklearn_nodecoll.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# Members are listed by the autoclass directives of api.rst; numpydoc's own
# member tables would repeat them.
numpydoc_show_class_members = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # Run with SKLEARN_NODECOLL_EXAMPLE_SIZE=small for a quick build.
    "abort_on_example_error": True,
}

templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []


# In a parameter or attribute line such as "loss_curve_ : ndarray of shape
# (n_iter_ + 1,)", docutils reads "n_iter_" in the type as a link to a
# target "n_iter". Escaping the underscore keeps it literal.
_FIELD_LINE = re.compile(r"^(\s*[\w, ]+ : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"\b(\w+)_(?=[\s,)+]|$)")


def _escape_type_underscores(app, what, name, obj, options, lines):
    for index, line in enumerate(lines):
        match = _FIELD_LINE.match(line)
        if match:
            field_type = _TRAILING_UNDERSCORE.sub(r"\1\\_", match.group(2))
            lines[index] = match.group(1) + field_type


def setup(app):
    # Runs before numpydoc's own handler, which has the default priority 500.
    app.connect("autodoc-process-docstring", _escape_type_underscores, priority=400)
