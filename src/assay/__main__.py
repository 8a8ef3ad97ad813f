"""`python -m assay`: the same entry point as the `assay` console script."""

from .cli import main

main()
