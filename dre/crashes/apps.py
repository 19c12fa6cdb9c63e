from django.apps import AppConfig


class CrashesConfig(AppConfig):
    name = "dre.crashes"
    label = "crashes"
