"""OCR engines behind one interface and page OCR for scans and pictures."""
