"""Sphinx configuration of the upsampling site (``make docs``; ``docs/README.md`` says why)."""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
# matplotlib without a display, also in the gallery's worker
os.environ.setdefault("MPLBACKEND", "Agg")

import upsampling  # noqa: E402

project = "upsampling"
author = "the upsampling developers"
copyright = "the upsampling developers, MIT licence"
version = release = upsampling.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "mathml",  # _ext/mathml.py: formulas as MathML at build time (no MathJax from a CDN)
    "updocs",  # _ext/updocs.py: explain figures, CLI help, conventions table, run-code
]

# _generated/*.rst are included by the pages that show them, not pages of their own
exclude_patterns = ["_build", "_generated", "README.md", "examples/README.rst"]
templates_path = ["_templates"]
root_doc = "index"

# ----------------------------------------------------------------------------- API reference
# Every cross-reference must resolve (with -W a broken one fails the build), except these:
nitpicky = True
nitpick_ignore_regex = [
    # base classes shown by :show-inheritance: (PyTorch's site is not reachable offline)
    (r"py:class", r"torch\..*"),
    # modules and classes of the implementation that the docstrings name but that have no
    # page of their own (not in any __all__ the site documents)
    (r"py:.*", r"upsampling\.(_\w+|nn\._\w+)(\..*)?"),
    (r"py:.*", r"upsampling\.(coordinates|filters|spec|modes)(\..*)?"),
    (r"py:class", r"(Plan|ResizeSpec)(\..*)?"),
    (r"py:meth", r"ResizeSpec\.of"),
    # short names in docstrings for functions of their own module that are not public at the
    # top level (the reference documents them under their full name or not at all): shapes'
    # size cores, _backend.serial, deblur's noise estimate, SubPixelConv's blur, the bilinear
    # kernel of nn.conv_transpose, Upsample's spec attribute
    (r"py:func", r"(conv|conv_transpose|pool|unpool|max_unpool|interpolate)_sizes"),
    (r"py:func", r"serial|estimate_noise|blur|bilinear_kernel"),
    (r"py:attr", r"spec"),
]
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say the types
numpydoc_show_class_members = False  # the class template lists the members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# ------------------------------------------------------------------------------------ theme
html_theme = "pydata_sphinx_theme"
html_title = f"upsampling {release}"
html_static_path = ["_static"]
html_css_files = ["upsampling.css"]
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_math_renderer = "mathml"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": [],
    # no icon links, no version switcher, no analytics: nothing to fetch from the network
    "icon_links": [],
    "secondary_sidebar_items": ["page-toc"],
}
# pages whose wide tables need the whole width
html_sidebars = {
    "index": [],
    "performance": [],
    "quality": [],
    "api/conventions": [],
    "api/cli": [],
}
pygments_style = "sphinx"

# --------------------------------------------------------------------------- sphinx-gallery
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "tutorials",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "write_computation_times": False,  # its page loads DataTables from a CDN
    "show_signature": False,
    "min_reported_time": 10**6,  # no timing line on each page
    "abort_on_example_error": False,  # every failing tutorial is reported, then the build fails
    "only_warn_on_example_error": False,
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "capture_repr": ("_repr_html_", "__repr__"),
    "thumbnail_size": (320, 240),
    "default_thumb_file": None,
}

# One thread for PyTorch and our kernels while the site builds: the build is one process on a
# 2-core machine that CI and developers share with other work, where PyTorch's OpenMP workers
# spin-wait and collapse under load (the U-Net tutorial: 68 s at 2 threads, 12 s at 1, under
# a load of 7). The numbers shown do not depend on the thread count.
try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the reference pages need torch; the build reports it
    pass
upsampling.set_num_threads(1)
