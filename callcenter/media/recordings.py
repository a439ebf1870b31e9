"""Where a request's recording is, and its bytes.

The store keeps the path *as Asterisk wrote it* (``pbx_recordings_dir/request-<id>.wav``).
This host reads the same file under ``recordings_dir`` (a mount or a shared disk);
when the PBX runs on another host and no mount exists, ``recordings_fetch_url`` names
an HTTP server there and the file is fetched (total deadline, size cap). Every way this
fails is a domain error with a clear id (404 missing, 502 unreadable/unreachable),
never a 500. Only file names the IVR writes are accepted (no ``..``, no other folder).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx

from callcenter.media.exceptions import RecordingMissing, RecordingUnavailable
from callcenter.settings import Settings

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
MAX_FETCH_BYTES = 64 * 1024 * 1024  # a 2-minute 8 kHz wav is ~2 MB
CONTENT_TYPES = {".wav": "audio/wav", ".gsm": "audio/x-gsm", ".mp3": "audio/mpeg",
                 ".ogg": "audio/ogg", ".ulaw": "audio/basic", ".sln": "audio/L16"}


@dataclass(frozen=True)
class RecordingSource:
    """A recording found: on this host's disk (``path``) or fetched (``data``)."""

    name: str
    size: int
    content_type: str
    path: Path | None = None
    data: bytes | None = None

    def read(self, start: int, length: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
        """The bytes ``start .. start+length-1``, in chunks (a generator)."""
        if self.data is not None:
            yield self.data[start:start + length]
            return
        assert self.path is not None
        with self.path.open("rb") as handle:
            handle.seek(start)
            left = length
            while left > 0:
                block = handle.read(min(chunk, left))
                if not block:
                    return
                left -= len(block)
                yield block


def file_name(settings: Settings, stored_path: str) -> str:
    """The recording's file name, if ``stored_path`` is one the IVR writes."""
    pure = PurePosixPath(stored_path)
    if str(pure.parent) != str(PurePosixPath(settings.pbx_recordings_dir)) \
            or not SAFE_NAME.fullmatch(pure.name):
        raise RecordingMissing("the stored recording is not in the PBX's recordings folder")
    return pure.name


def local_path(settings: Settings, stored_path: str) -> Path:
    return Path(settings.recordings_dir) / file_name(settings, stored_path)


async def open_recording(settings: Settings, stored_path: str,
                         http: httpx.AsyncClient | None = None) -> RecordingSource:
    """The recording on this host, else fetched from the PBX host, else an error."""
    name = file_name(settings, stored_path)
    kind = CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")
    path = Path(settings.recordings_dir) / name
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass  # readable: checked before the 200/206 is committed to
        return RecordingSource(name=name, size=size, content_type=kind, path=path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise RecordingUnavailable(f"the recording cannot be read: {type(exc).__name__}",
                                   file=name) from exc
    if not settings.recordings_fetch_url:
        raise RecordingMissing("the recording is not on this host, and no fetch URL is set "
                               "(recordings_fetch_url)", file=name)
    data = await _fetch(settings, name, http)
    return RecordingSource(name=name, size=len(data), content_type=kind, data=data)


async def _fetch(settings: Settings, name: str, http: httpx.AsyncClient | None) -> bytes:
    """The whole file from the PBX host within ``recordings_fetch_timeout_seconds`` (a
    total deadline: httpx's timeout is per read)."""
    url = f"{settings.recordings_fetch_url.rstrip('/')}/{name}"
    deadline = settings.recordings_fetch_timeout_seconds
    client = http or httpx.AsyncClient(timeout=deadline)
    try:
        return await asyncio.wait_for(_download(client, url, name, deadline), deadline)
    except TimeoutError as exc:
        raise RecordingUnavailable("the PBX host did not send the recording in time",
                                   file=name) from exc
    except httpx.HTTPError as exc:
        raise RecordingUnavailable(f"the PBX host is unreachable: {type(exc).__name__}",
                                   file=name) from exc
    finally:
        if http is None:
            await client.aclose()


async def _download(client: httpx.AsyncClient, url: str, name: str,
                    read_timeout: float) -> bytes:
    async with client.stream("GET", url, timeout=read_timeout) as answer:
        if answer.status_code == 404:
            raise RecordingMissing("the PBX host has no such recording", file=name)
        if answer.status_code != 200:
            raise RecordingUnavailable(f"the PBX host answered {answer.status_code}",
                                       file=name)
        chunks, total = [], 0
        async for chunk in answer.aiter_bytes():
            total += len(chunk)
            if total > MAX_FETCH_BYTES:
                raise RecordingUnavailable("the recording is larger than allowed", file=name)
            chunks.append(chunk)
        return b"".join(chunks)
