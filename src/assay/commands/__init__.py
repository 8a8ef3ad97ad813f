"""CLI verbs, one module each, registered by assay.cli."""
