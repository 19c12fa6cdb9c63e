from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "dre.fleet"
    label = "fleet"
