"""Request and response guards that Django does not bring: the body size limit and ``no-store``.

The size limit is answered before anything reads the body: Django's middleware sees only the
declared Content-Length; a chunked body (no length) is counted by the WSGI wrapper while it streams
in, and never held beyond the limit.
"""

import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_STREAM_CHUNK = 64 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024  # a chunked body beyond this waits in a temporary file, not in memory
TOO_LARGE_MARK = "hikikomori.body_too_large"


def request_body_limit(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """413 for a body declared larger than the limit: first in the chain, before the body is read."""

    def middleware(request: HttpRequest) -> HttpResponse:
        limit = django_settings.HIKIKOMORI.portal.max_request_bytes
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit or request.META.get(TOO_LARGE_MARK):
            return too_large(request.path.startswith("/api/"), django_settings.HIKIKOMORI.portal.max_upload_bytes)
        return get_response(request)

    return middleware


def too_large(api: bool, limit: int) -> HttpResponse:
    megabytes = f"{limit / 1024 / 1024:g}"
    if api:
        response: HttpResponse = JsonResponse(
            {"status": "too_large", "max_bytes": limit, "message_ja": f"ファイルが大きすぎます（上限 {megabytes} MB）"},
            status=413,
        )
    else:
        response = HttpResponse(
            "<!doctype html><html lang=ja><meta charset=utf-8><title>413</title>"
            f"<p>ファイルが大きすぎます（上限 {megabytes} MB）/ The file is over the {megabytes} MB limit.</p>"
            '<p><a href="/">戻る / back</a></p>',
            status=413,
            content_type="text/html; charset=utf-8",
        )
    response["Connection"] = "close"  # the unread body is not drained: the connection ends here
    add_never_cache_headers(response)
    return response


def no_store(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """Every page and API answer may hold a center's data: never kept by a browser or a proxy."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        add_never_cache_headers(response)  # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private
        return response

    return middleware


class ChunkedBodyLimit:
    """WSGI wrapper: counts a chunked request body as it streams in and stops at the limit.

    Django reads only Content-Length bytes, so a chunked body would otherwise be invisible to it.
    Within the limit, the body is handed on with its length; beyond, nothing more is read and the
    request is marked for the 413 answer.
    """

    def __init__(self, app: WSGIApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = self.limit()
            spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (read by the app)
            received = 0
            stream = environ["wsgi.input"]
            while True:
                chunk = stream.read(min(_STREAM_CHUNK, limit + 1 - received))
                if not chunk:
                    break
                received += len(chunk)
                if received > limit:
                    environ[TOO_LARGE_MARK] = True
                    break
                spool.write(chunk)
            spool.seek(0)
            environ["wsgi.input"] = spool
            environ["CONTENT_LENGTH"] = "0" if environ.get(TOO_LARGE_MARK) else str(received)
        return self.app(environ, start_response)
