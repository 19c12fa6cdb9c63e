from django.contrib import admin

from dre.symbols.models import SymbolFile


@admin.register(SymbolFile)
class SymbolFileAdmin(admin.ModelAdmin):
    list_display = ["name", "build_id", "software_version", "state", "created"]
    list_filter = ["state", "project"]
    search_fields = ["build_id", "name"]
