"""Loaders for public datasets and deterministic splits of task items."""

from .crc import CRC_CATEGORIES, CrcData, Split, load_crc, stratified_split, write_split

__all__ = ["CRC_CATEGORIES", "CrcData", "Split", "load_crc", "stratified_split", "write_split"]
