from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dre.accounts"
    label = "accounts"

    def ready(self):
        from dre import checks  # noqa: F401  (registers the system checks)
