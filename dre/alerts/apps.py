from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "dre.alerts"
    label = "alerts"

    def ready(self):
        from dre import events
        from dre.alerts.receivers import event_received

        events.subscribe(event_received, uid="dre.alerts.event_received")
