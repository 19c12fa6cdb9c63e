from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "dre.releases"
    label = "releases"
