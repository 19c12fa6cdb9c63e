from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "dre.monitors"
    label = "monitors"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from dre import events
        from dre.monitors.models import Monitor
        from dre.monitors.receivers import heartbeats_recorded, monitor_changed

        events.subscribe(heartbeats_recorded, uid="dre.monitors.heartbeats_recorded")
        post_save.connect(monitor_changed, sender=Monitor, dispatch_uid="monitor_saved")
        post_delete.connect(monitor_changed, sender=Monitor, dispatch_uid="monitor_deleted")
