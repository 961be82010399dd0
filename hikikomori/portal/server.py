"""``hikikomori serve``: the portal on gunicorn, started in this process (no other service to start).

gunicorn's arbiter stops cleanly on SIGTERM (finishing requests under way) and on Ctrl-C. The app is
loaded once before the worker processes fork; each worker opens its own database connections.
"""

from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

from hikikomori.settings import Settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
GRACEFUL_STOP_SECONDS = 10
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'  # no query strings or cookies beyond the request line


def wsgi_application(settings: Settings) -> WSGIApp:
    """The portal as a WSGI application, Django configured from ``settings``."""
    from django.core.wsgi import get_wsgi_application

    from hikikomori.portal.config import setup
    from hikikomori.portal.middleware import ChunkedBodyLimit

    setup(settings)
    return ChunkedBodyLimit(get_wsgi_application(), lambda: settings.portal.max_request_bytes)


def prepare(settings: Settings) -> None:
    """Before serving: tables up to date, half-built hand-overs removed, undelivered uploads delivered."""
    from hikikomori.portal.config import migrate, setup

    setup(settings)  # before any module with Django models is imported
    from django.db import connections

    from hikikomori.portal.handover import remove_interrupted
    from hikikomori.portal.uploads import deliver_pending

    migrate()
    remove_interrupted(settings.inbox_dir)
    deliver_pending(settings)
    connections.close_all()  # no connection may cross the fork into the workers


class PortalServer(BaseApplication):
    def __init__(self, application: WSGIApp, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self.application


def server_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    portal = settings.portal
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return {
        "bind": [bind],
        "workers": portal.workers,
        "worker_class": "gthread",
        "threads": portal.threads,
        "preload_app": True,
        "graceful_timeout": GRACEFUL_STOP_SECONDS,
        "timeout": 60,
        "keepalive": 5,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "hikikomori-portal",
        "control_socket_disable": True,  # gunicorn would otherwise create ~/.gunicorn/gunicorn.ctl
        "limit_request_line": 4094,
        "limit_request_fields": 100,
        "forwarded_allow_ips": "127.0.0.1,::1" if portal.https else "",
    }


def serve(settings: Settings, host: str, port: int) -> None:
    """Run until SIGTERM or Ctrl-C."""
    prepare(settings)
    PortalServer(wsgi_application(settings), server_options(settings, host, port)).run()
