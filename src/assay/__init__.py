"""assay: distill, train and honestly evaluate small reviewer and judge models."""

__version__ = "0.1.0"
