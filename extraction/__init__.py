"""zhibiao: Chinese government performance self-evaluation reports -> checked, traceable indicator records."""

__version__ = "0.1.0"
