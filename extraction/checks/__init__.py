"""zhibiao."""
