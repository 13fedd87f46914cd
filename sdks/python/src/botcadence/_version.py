# The one place the version is written: pyproject.toml reads it (hatch dynamic version) and
# the User-Agent sends it.
__version__ = "0.1.0"
