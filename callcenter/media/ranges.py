"""HTTP Range for one file (RFC 9110 14): one range served as 206 with Content-Range,
a range past the end 416 with ``Content-Range: bytes */<size>``, a malformed header
ignored (the whole file, 200), as the RFC allows. Several ranges: the first only
(browsers' audio players ask for one)."""

from __future__ import annotations

import re

from fastapi.responses import StreamingResponse

from callcenter.media.exceptions import RangeNotSatisfiable
from callcenter.media.recordings import RecordingSource

_RANGE = re.compile(r"bytes=(\d{0,15})-(\d{0,15})")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` inclusive, or None for the whole file; raises when unsatisfiable."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip().split(",")[0].strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable("an empty suffix range", size=size)
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(f"the range starts past the end ({size} bytes)", size=size)
    return start, min(end, size - 1)


def ranged_response(source: RecordingSource, range_header: str | None,
                    *, cache: str = "private, no-store") -> StreamingResponse:
    headers = {"Accept-Ranges": "bytes", "Cache-Control": cache,
               "Content-Disposition": f'inline; filename="{source.name}"'}
    wanted = byte_range(range_header, source.size)
    if wanted is None:
        headers["Content-Length"] = str(source.size)
        return StreamingResponse(source.read(0, source.size), status_code=200,
                                 media_type=source.content_type, headers=headers)
    start, end = wanted
    headers.update({"Content-Range": f"bytes {start}-{end}/{source.size}",
                    "Content-Length": str(end - start + 1)})
    return StreamingResponse(source.read(start, end - start + 1), status_code=206,
                             media_type=source.content_type, headers=headers)
