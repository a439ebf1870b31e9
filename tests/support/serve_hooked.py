"""``callcenter serve`` with the test hooks mounted: what the browser tests and the
screen-pop benchmark run (``python tests/support/serve_hooked.py --port N``).

Production (``callcenter serve``) never mounts the hooks; this is the only served app
that does, and the hooks still answer only in the "test" environment.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn
from hooks import router  # this file's folder is on sys.path when run as a script

from callcenter.app import create_app
from callcenter.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    settings = load_settings(web_port=args.port)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(settings, extra_routers=[router]), host=settings.web_host,
                port=settings.web_port, log_level=args.log_level, ws="websockets-sansio")


if __name__ == "__main__":
    main()
