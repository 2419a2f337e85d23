"""Making untrusted text inert for terminals.

Domains, entities, notes and reasons come from applicants and pasted text. Stored exactly as
given, they are shown with control characters, escape sequences and bidi overrides made
visible, so nothing a filing holds can move the cursor, retitle the window or reorder a line.
(Textual markup is made inert separately: the UI only ever builds `Text` objects from data.)
"""

from __future__ import annotations

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_VISIBLE: dict[int, str] = {
    **{code: f"\\x{code:02x}" for code in range(0x20)},
    0x7F: "\\x7f",
    **{code: f"\\x{code:02x}" for code in range(0x80, 0xA0)},
    **{code: f"\\u{code:04x}" for code in _BIDI},
    0x09: "\\t",
    0x0A: "\\n",
    0x0D: "\\r",
}
_VISIBLE_KEEP_LINES = {code: text for code, text in _VISIBLE.items() if code != 0x0A}
# JSON output: json already escapes C0; escape C1 and bidi too, as JSON \u escapes.
_JSON_ESCAPES = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), *_BIDI)}


def inert(text: str, keep_newlines: bool = False) -> str:
    """`text` with every control, escape and bidi character written out visibly."""
    return text.translate(_VISIBLE_KEEP_LINES if keep_newlines else _VISIBLE)


def inert_json(dumped: str) -> str:
    """A JSON document with C1 and bidi characters escaped too (still the same JSON value)."""
    return dumped.translate(_JSON_ESCAPES)
