from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "dre.monitors"
    label = "monitors"

    def ready(self):
        from dre import events
        from dre.monitors.receivers import heartbeats_recorded

        events.subscribe(heartbeats_recorded, uid="dre.monitors.heartbeats_recorded")
