"""A box score as the page process sends it: the stored document as JSON, made once per version."""

from __future__ import annotations

import json

from web.cache import Latest


def document_json(copy: Latest) -> bytes:
    """The stored document as compact JSON; kept with the copy, so each version is encoded once."""
    if "json" not in copy.rendered:
        copy.rendered["json"] = json.dumps(copy.document, separators=(",", ":")).encode()
    return copy.rendered["json"]  # type: ignore[no-any-return]
