from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dre.api"
    label = "api"

    def ready(self):
        # Registers the bearer scheme; without it `check --deploy` warns (drf_spectacular.W001).
        from dre.api import openapi  # noqa: F401
