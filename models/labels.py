"""The classifier's entity labels and their IOB2 tags.

The entity labels are shared with the Label Studio span tasks (``zhibiao.annotations.labels``).
Guidelines with examples: ``annotations/GUIDELINES.md`` ("Text spans").
"""

from __future__ import annotations

from zhibiao.annotations.labels import SPAN_LABELS

VALUE_LABELS = ("TARGET", "ACTUAL")
"""Labels of a value as printed, with its attached unit ("100%", "100名以上"); an operator printed before
it is a separate OP span, a unit printed apart from any value a UNIT span."""
OUTSIDE = "O"


def bio_tags(labels: tuple[str, ...] = SPAN_LABELS) -> tuple[str, ...]:
    """``O`` then ``B-X``, ``I-X`` per label, in label order (the classifier's output classes)."""
    return (OUTSIDE, *(f"{prefix}-{label}" for label in labels for prefix in ("B", "I")))


BIO_TAGS = bio_tags()
TAG_IDS = {tag: i for i, tag in enumerate(BIO_TAGS)}

__all__ = ["BIO_TAGS", "OUTSIDE", "SPAN_LABELS", "TAG_IDS", "VALUE_LABELS", "bio_tags"]
