from django.contrib import admin

from dre.ingest.models import ChunkStream, DeviceMessage, Event, Upload


@admin.register(DeviceMessage)
class DeviceMessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "device", "kind", "status", "error", "received"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["device", "coredump"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["pk", "device", "kind", "captured", "received"]
    list_filter = ["kind"]
    raw_id_fields = ["device", "message"]


admin.site.register([Upload, ChunkStream])
