"""The portal's Django settings, built from ``hikikomori.settings`` (the project's one settings module).

Nothing happens at import: ``setup`` configures Django once per process from a ``Settings``. Templates
and static files are found inside the installed package (app directories), never via the cwd.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from hikikomori.settings import Settings

_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def django_settings(settings: Settings, *, debug: bool = False) -> dict[str, Any]:
    """Every Django setting the portal uses; ``HIKIKOMORI`` carries the project's own settings."""
    from csp.constants import NONE, SELF

    portal = settings.portal
    https = portal.https
    return {
        "DEBUG": debug,
        "HIKIKOMORI": settings,
        "SECRET_KEY": portal.secret_key or _secret_key(portal.secret_key_path),
        "ALLOWED_HOSTS": sorted({*_LOOPBACK_HOSTS, portal.host, *portal.allowed_hosts}),
        "INSTALLED_APPS": [
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "axes",
            "csp",
            "hikikomori.portal.apps.PortalConfig",
        ],
        "MIDDLEWARE": [
            "hikikomori.portal.middleware.request_body_limit",  # first: 413 before anything reads the body
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",  # static files: answered here, no data
            "hikikomori.portal.middleware.no_store",
            "csp.middleware.CSPMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
            "axes.middleware.AxesMiddleware",  # last, as django-axes asks
        ],
        "ROOT_URLCONF": "hikikomori.portal.urls",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,  # hikikomori/portal/templates inside the installed package
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ],
                },
            }
        ],
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(portal.database_path),
                # Several server processes share the file: WAL lets readers and the writer work at once,
                # IMMEDIATE takes the write lock at the start of a transaction (no upgrade deadlocks).
                "OPTIONS": {
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 20,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                },
                "TEST": {"NAME": None},
            }
        },
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "AUTH_USER_MODEL": "portal.User",
        "AUTHENTICATION_BACKENDS": [
            "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out user name before any check
            "django.contrib.auth.backends.ModelBackend",
        ],
        # Argon2id only: no weaker algorithm can verify (or upgrade from) a stored password.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.Argon2PasswordHasher"],
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        ],
        "LOGIN_URL": "login",
        "LOGIN_REDIRECT_URL": "home",
        "LOGOUT_REDIRECT_URL": "login",
        # Sessions: server-side (database), ended after an idle period, at browser close and at logout.
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "SESSION_COOKIE_AGE": portal.session_idle_seconds,
        "SESSION_SAVE_EVERY_REQUEST": True,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "SESSION_COOKIE_NAME": "hikikomori_session",
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Strict",
        "CSRF_COOKIE_SECURE": https,
        "CSRF_COOKIE_NAME": "hikikomori_csrf",
        "CSRF_FAILURE_VIEW": "hikikomori.portal.views.csrf_failure",
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https") if https else None,
        "SECURE_HSTS_SECONDS": 31_536_000 if https else 0,
        "X_FRAME_OPTIONS": "DENY",
        "CONTENT_SECURITY_POLICY": {
            "DIRECTIVES": {
                "default-src": [NONE],
                "script-src": [SELF],  # the admin's own files; the portal's pages have no script at all
                "style-src": [SELF],
                "img-src": [SELF],
                "font-src": [SELF],
                "connect-src": [SELF],
                "form-action": [SELF],
                "frame-ancestors": [NONE],
                "base-uri": [NONE],
                "object-src": [NONE],
            }
        },
        # Login throttling (django-axes): per user name and address, then a cool-off.
        "AXES_FAILURE_LIMIT": portal.login_failure_limit,
        "AXES_COOLOFF_TIME": timedelta(minutes=portal.login_lockout_minutes),
        "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
        "AXES_RESET_ON_SUCCESS": True,
        "AXES_LOCKOUT_TEMPLATE": "portal/locked_out.html",
        "AXES_VERBOSE": False,
        # An upload stays in memory (it is at most the size limit); larger bodies never get this far.
        "DATA_UPLOAD_MAX_MEMORY_SIZE": portal.max_request_bytes,
        "FILE_UPLOAD_MAX_MEMORY_SIZE": portal.max_request_bytes,
        "DATA_UPLOAD_MAX_NUMBER_FILES": 1,
        "STATIC_URL": "/static/",
        "WHITENOISE_USE_FINDERS": True,  # from the installed apps' static folders: no collectstatic step
        "WHITENOISE_AUTOREFRESH": False,
        "LANGUAGE_CODE": "ja",  # pages carry both languages; the admin speaks Japanese
        "USE_I18N": True,
        "TIME_ZONE": "Asia/Tokyo",
        "USE_TZ": True,
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"console": {"class": "logging.StreamHandler"}},
            "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
        },
    }


def setup(settings: Settings) -> None:
    """Configure Django for this process from ``settings`` (once; a second call must agree)."""
    import django
    from django.conf import settings as configured

    if configured.configured:
        database = configured.DATABASES["default"]["NAME"]
        if Path(database) != settings.portal.database_path and database != ":memory:":
            raise RuntimeError(f"the portal is already set up for {database}")
        return
    configured.configure(**django_settings(settings))
    django.setup()


def migrate() -> None:
    """Create or update the portal's tables (accounts, sessions, audit log, uploads)."""
    from django.core.management import call_command
    from django.db import connections

    Path(connections["default"].settings_dict["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()


def _secret_key(path: Path) -> str:
    """The key signing sessions and CSRF tokens: made once, kept beside the portal database (0600)."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return _new_secret_key(path)


def _new_secret_key(path: Path) -> str:
    """A new key written to ``path`` (0600), or the one another process wrote there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
