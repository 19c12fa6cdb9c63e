from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "dre.ingest"
    label = "ingest"
