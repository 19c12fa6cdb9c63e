from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dre.web"
    label = "web"
