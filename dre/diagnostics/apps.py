from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "dre.diagnostics"
    label = "diagnostics"
