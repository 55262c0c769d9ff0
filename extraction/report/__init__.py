"""Static HTML review report: a page per document and an archive overview."""
