"""Character-level labels <-> subword token labels, and stride windows over long token sequences.

The tokenizer of a Chinese BERT gives one token per CJK character but joins digits and Latin letters
(``351``, ``##95``); entity spans are in characters. A token takes the label of its first character
(``B-X`` when an entity starts there, ``I-X`` inside it, ``O`` outside); decoding maps the tokens of an
entity back to the characters they cover, so spans round-trip exactly whenever entity boundaries fall
on token boundaries (``token_boundaries_ok`` tells when they do not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zhibiao.eval.spans import bio_to_spans

Span = tuple[int, int, str]
Offset = tuple[int, int]
IGNORE = -100
"""Label id of special/padding tokens (ignored by the loss)."""


def char_tags(length: int, spans: Sequence[Span]) -> list[str]:
    """IOB2 tag per character of a text with ``length`` characters."""
    tags = ["O"] * length
    for start, end, label in spans:
        if not 0 <= start < end <= length:
            raise ValueError(f"span {(start, end, label)} outside a text of {length} characters")
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
    return tags


def token_tags(offsets: Sequence[Offset], spans: Sequence[Span], length: int) -> list[str]:
    """IOB2 tag per token: the tag of the token's first character."""
    chars = char_tags(length, spans)
    return [chars[start] if start < end else "O" for start, end in offsets]


def token_boundaries_ok(offsets: Sequence[Offset], spans: Sequence[Span]) -> bool:
    """Whether every span starts at a token start and ends at a token end (exact round trip)."""
    starts = {s for s, e in offsets if s < e}
    ends = {e for s, e in offsets if s < e}
    return all(start in starts and end in ends for start, end, _ in spans)


def tags_to_spans(offsets: Sequence[Offset], tags: Sequence[str]) -> list[Span]:
    """Character spans of strict IOB2 token tags (an entity covers its tokens' characters)."""
    return [
        (offsets[first][0], offsets[last - 1][1], label) for first, last, label in bio_to_spans(list(tags))
    ]


@dataclass(frozen=True)
class Window:
    """Token positions ``[start, end)`` of one model input, and the part ``[keep_from, keep_to)`` whose
    predictions it supplies (the central part, so every token is predicted once with most context)."""

    start: int
    end: int
    keep_from: int
    keep_to: int


def windows(n_tokens: int, size: int, stride: int) -> list[Window]:
    """Windows of ``size`` tokens that overlap by ``stride`` tokens and cover ``n_tokens`` tokens.

    Each token is kept from exactly one window: overlaps are split in the middle.
    """
    if size <= 0 or not 0 <= stride < size:
        raise ValueError(f"need size > 0 and 0 <= stride < size (size={size}, stride={stride})")
    if n_tokens <= size:
        return [Window(0, n_tokens, 0, n_tokens)]
    step = size - stride
    starts = [*list(range(0, n_tokens - size, step)), n_tokens - size]
    out = []
    for i, start in enumerate(starts):
        end = start + size
        keep_from = 0 if i == 0 else (start + starts[i - 1] + size) // 2
        keep_to = n_tokens if i == len(starts) - 1 else (starts[i + 1] + end) // 2
        out.append(Window(start, end, max(keep_from, start), min(keep_to, end)))
    return out
