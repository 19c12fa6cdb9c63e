from django.apps import AppConfig


class SymbolsConfig(AppConfig):
    name = "dre.symbols"
    label = "symbols"
