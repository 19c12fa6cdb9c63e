from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dre.api"
    label = "api"
