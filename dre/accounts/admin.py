from django.contrib import admin

from dre.accounts.models import ApiToken, Membership, Organization, Project, ProjectKey


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created"]
    search_fields = ["slug", "name"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["slug", "organization", "name", "created"]
    list_filter = ["organization"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role", "organization"]


class SecretAdmin(admin.ModelAdmin):
    """Secrets are created with the management commands, which show them once."""

    readonly_fields = ["prefix", "digest", "created", "last_used"]
    list_display = ["prefix", "name", "created", "last_used", "revoked_at"]

    def has_add_permission(self, request):
        return False


admin.site.register(ProjectKey, SecretAdmin)
admin.site.register(ApiToken, SecretAdmin)
