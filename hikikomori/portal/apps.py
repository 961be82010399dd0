from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "hikikomori.portal"
    label = "portal"
    verbose_name = "提出ポータル / submission portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hikikomori.portal import audit

        audit.connect_signals()
