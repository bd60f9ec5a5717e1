"""nox-release: a release pipeline for Python packages.

build -> TestPyPI -> verify the install -> PyPI, the very same bytes; no version twice.
This package is copied into host projects; it needs the libraries in requirements.txt.
"""

__version__ = "0.1.0"
