from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "dre.health"
    label = "health"
