from django.contrib import admin

from dre.alerts.models import AlertRule, Notification, Webhook, WebhookDelivery


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "enabled", "email"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "kind", "enabled", "consecutive_failures"]
    exclude = ["secret"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["pk", "rule", "event", "created"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["delivery_id", "webhook", "event_type", "state", "attempts", "status_code"]
