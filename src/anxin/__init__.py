"""anxin (安心): protection services on live data from the physical world."""

__version__ = "0.1.0"
