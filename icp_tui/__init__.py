"""icp-tui: a terminal dashboard for the ICP filing queue."""

__version__ = "0.1.0"
