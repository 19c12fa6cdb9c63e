from django.contrib import admin

from dre.fleet.models import Cohort, Device, HardwareVersion, SoftwareType, SoftwareVersion


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["serial", "project", "hardware_version", "software_version", "last_seen"]
    search_fields = ["serial"]
    list_filter = ["project"]


admin.site.register([Cohort, HardwareVersion, SoftwareType, SoftwareVersion])
