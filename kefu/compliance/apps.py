from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "kefu.compliance"
    label = "compliance"
    verbose_name = _("Compliance and privacy")

    def ready(self) -> None:
        from . import signals

        signals.connect()
