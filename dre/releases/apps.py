from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "dre.releases"
    label = "releases"

    def ready(self):
        # Connects the signals that make kept release choices stale, in every
        # process (a worker halting a rollout too), not only where the views load.
        from dre.releases import device_cache  # noqa: F401
