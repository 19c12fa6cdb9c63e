from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dre.api"
    label = "api"

    def ready(self):
        # drf-spectacular finds schema extensions by importing them.
        from dre.api import edge  # noqa: F401
