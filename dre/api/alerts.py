"""Alerts in the REST API: alert rules, metric monitors, incidents with their timelines,
webhooks with their delivery logs and a test delivery.

Reads need the viewer role; rules and monitors need the member role to change; webhooks
hold signing secrets, so everything about them needs the admin role (as on the pages).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dre.accounts.models import Role
from dre.accounts.selectors import has_role
from dre.alerts import services as alert_services
from dre.alerts import webhooks
from dre.alerts.models import AlertRule, DeliveryAttempt, Webhook, WebhookDelivery
from dre.api.views import ProjectScoped, ordered_by
from dre.events import EventType
from dre.fleet.models import Cohort, SoftwareType, SoftwareVersion
from dre.monitors import selectors as monitor_selectors
from dre.monitors import services as monitor_services
from dre.monitors.models import Incident, IncidentEntry, Monitor


class AdminScoped(ProjectScoped):
    def require_admin(self) -> None:
        if not has_role(self.request.user, self.project, Role.ADMIN):
            raise PermissionDenied("webhooks need the admin role in this organization")


def _in_project(model, project, ids, what):
    found = list(model.objects.filter(pk__in=ids, **_project_filter(model, project)))
    if len(found) != len(set(ids)):
        raise ValidationError({what: f"unknown {what} in this project"})
    return found


def _project_filter(model, project) -> dict:
    if model is SoftwareVersion:
        return {"software_type__project": project}
    return {"project": project}


# -- alert rules ------------------------------------------------------------------------------


class AlertRuleOut(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", "name", "events", "min_devices_last_hour", "software_types",
                  "cohorts", "webhooks", "email", "enabled", "created"]  # fmt: skip


class AlertRuleIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EventType.NOTIFIABLE)), allow_empty=False
    )
    min_devices_last_hour = serializers.IntegerField(min_value=0, default=0)
    software_types = serializers.ListField(child=serializers.IntegerField(), default=list)
    cohorts = serializers.ListField(child=serializers.IntegerField(), default=list)
    webhooks = serializers.ListField(child=serializers.IntegerField(), default=list)
    email = serializers.BooleanField(default=True)
    enabled = serializers.BooleanField(default=True)


def _rule_save(project, rule: AlertRule, data: dict) -> AlertRule:
    related = {
        "software_types": _in_project(
            SoftwareType, project, data.pop("software_types"), "software_types"
        ),
        "cohorts": _in_project(Cohort, project, data.pop("cohorts"), "cohorts"),
        "webhooks": _in_project(Webhook, project, data.pop("webhooks"), "webhooks"),
    }
    for field, value in data.items():
        setattr(rule, field, value)
    try:
        return alert_services.rule_save(rule, **related)
    except alert_services.AlertError as error:
        raise ValidationError({"detail": str(error)}) from None


class AlertRuleList(ProjectScoped, generics.ListAPIView):
    """Issue, metric and rollout alert rules: which events notify whom."""

    serializer_class = AlertRuleOut
    pagination_class = ordered_by("name")

    def get_queryset(self):
        return AlertRule.objects.filter(project=self.project).prefetch_related(
            "software_types", "cohorts", "webhooks"
        )

    @extend_schema(request=AlertRuleIn, responses={201: AlertRuleOut})
    def post(self, request, project_id):
        self.require_member()
        data = AlertRuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        rule = _rule_save(self.project, AlertRule(project=self.project), dict(data.validated_data))
        return Response(AlertRuleOut(rule).data, status=status.HTTP_201_CREATED)


class AlertRuleDetail(ProjectScoped, generics.RetrieveDestroyAPIView):
    serializer_class = AlertRuleOut

    def get_queryset(self):
        return AlertRule.objects.filter(project=self.project)

    @extend_schema(request=AlertRuleIn, responses={200: AlertRuleOut})
    def put(self, request, project_id, pk):
        self.require_member()
        data = AlertRuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        rule = _rule_save(self.project, self.get_object(), dict(data.validated_data))
        return Response(AlertRuleOut(rule).data)

    def perform_destroy(self, instance):
        self.require_member()
        instance.delete()


# -- monitors and incidents ---------------------------------------------------------------


class MonitorOut(serializers.ModelSerializer):
    condition = serializers.CharField(source="describe", read_only=True)

    class Meta:
        model = Monitor
        fields = ["id", "name", "kind", "metric_key", "aggregate", "operator", "threshold",
                  "condition", "cohort", "software_version", "window_seconds", "every_seconds",
                  "start_delay_seconds", "end_delay_seconds", "min_devices", "enabled",
                  "last_evaluated", "last_value", "last_error", "created"]  # fmt: skip


class MonitorIn(serializers.ModelSerializer):
    cohort = serializers.IntegerField(required=False, allow_null=True)
    software_version = serializers.IntegerField(required=False, allow_null=True)

    class Meta:
        model = Monitor
        fields = ["name", "kind", "metric_key", "aggregate", "operator", "threshold",
                  "cohort", "software_version", "window_seconds", "every_seconds",
                  "start_delay_seconds", "end_delay_seconds", "min_devices",
                  "enabled"]  # fmt: skip


def _monitor_save(project, monitor: Monitor, data: dict) -> Monitor:
    for field, model in (("cohort", Cohort), ("software_version", SoftwareVersion)):
        chosen = data.pop(field, None)
        found = _in_project(model, project, [chosen], field)[0] if chosen else None
        setattr(monitor, field, found)
    for field, value in data.items():
        setattr(monitor, field, value)
    try:
        return monitor_services.monitor_save(monitor)
    except monitor_services.MonitorError as error:
        raise ValidationError({"detail": str(error)}) from None


class MonitorList(ProjectScoped, generics.ListAPIView):
    """Metric monitors: fleet thresholds (on a schedule) and device thresholds (every
    heartbeat). Their incidents are announced as metric alert events."""

    serializer_class = MonitorOut
    pagination_class = ordered_by("name")

    def get_queryset(self):
        return Monitor.objects.filter(project=self.project)

    @extend_schema(request=MonitorIn, responses={201: MonitorOut})
    def post(self, request, project_id):
        self.require_member()
        data = MonitorIn(data=request.data)
        data.is_valid(raise_exception=True)
        monitor = _monitor_save(
            self.project, Monitor(project=self.project), dict(data.validated_data)
        )
        return Response(MonitorOut(monitor).data, status=status.HTTP_201_CREATED)


class MonitorDetail(ProjectScoped, generics.RetrieveDestroyAPIView):
    serializer_class = MonitorOut

    def get_queryset(self):
        return Monitor.objects.filter(project=self.project)

    @extend_schema(request=MonitorIn, responses={200: MonitorOut})
    def put(self, request, project_id, pk):
        self.require_member()
        data = MonitorIn(data=request.data)
        data.is_valid(raise_exception=True)
        monitor = _monitor_save(self.project, self.get_object(), dict(data.validated_data))
        return Response(MonitorOut(monitor).data)

    def perform_destroy(self, instance):
        self.require_member()
        monitor_services.monitor_delete(instance)


class IncidentEntryOut(serializers.ModelSerializer):
    class Meta:
        model = IncidentEntry
        fields = ["kind", "time", "value", "note"]


class IncidentOut(serializers.ModelSerializer):
    monitor_name = serializers.CharField(source="monitor.name", read_only=True)
    device_serial = serializers.CharField(source="device.serial", read_only=True, default=None)

    class Meta:
        model = Incident
        fields = ["id", "monitor", "monitor_name", "device", "device_serial", "state",
                  "started", "triggered", "resolved", "value", "last_value"]  # fmt: skip


class IncidentDetailOut(IncidentOut):
    timeline = IncidentEntryOut(many=True, read_only=True)

    class Meta(IncidentOut.Meta):
        fields = [*IncidentOut.Meta.fields, "timeline"]


class IncidentList(ProjectScoped, generics.ListAPIView):
    """Incidents, newest first."""

    serializer_class = IncidentOut
    pagination_class = ordered_by("-triggered")

    @extend_schema(
        parameters=[
            OpenApiParameter("state", enum=Incident.State.values),
            OpenApiParameter("monitor", int),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        state = params.get("state")
        if state and state not in Incident.State.values:
            raise ValidationError({"state": f"one of {Incident.State.values}"})
        monitor = params.get("monitor")
        if monitor and not monitor.isdigit():
            raise ValidationError({"monitor": "a monitor id"})
        return monitor_selectors.incidents_of(
            self.project, state=state, monitor_id=int(monitor) if monitor else None
        )


class IncidentDetail(ProjectScoped, generics.RetrieveAPIView):
    """One incident with its timeline."""

    serializer_class = IncidentDetailOut

    def get_queryset(self):
        return Incident.objects.filter(project=self.project).prefetch_related("timeline")


# -- webhooks -----------------------------------------------------------------------------


class WebhookOut(serializers.ModelSerializer):
    class Meta:
        model = Webhook
        fields = ["id", "name", "url", "kind", "secret", "enabled", "consecutive_failures",
                  "disabled_at", "disabled_reason", "created"]  # fmt: skip


class WebhookIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    url = serializers.URLField(max_length=2000)
    kind = serializers.ChoiceField(choices=Webhook.Kind.values, default=Webhook.Kind.GENERIC)


class WebhookList(AdminScoped, generics.ListAPIView):
    """Webhooks with their signing secrets; POST creates one with a fresh secret."""

    serializer_class = WebhookOut
    pagination_class = ordered_by("name")

    def get_queryset(self):
        self.require_admin()
        return Webhook.objects.filter(project=self.project)

    @extend_schema(request=WebhookIn, responses={201: WebhookOut})
    def post(self, request, project_id):
        self.require_admin()
        data = WebhookIn(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = Webhook.objects.create(
            project=self.project, secret=webhooks.new_secret(), **data.validated_data
        )
        return Response(WebhookOut(webhook).data, status=status.HTTP_201_CREATED)


class WebhookDetail(AdminScoped, generics.RetrieveDestroyAPIView):
    serializer_class = WebhookOut

    def get_queryset(self):
        self.require_admin()
        return Webhook.objects.filter(project=self.project)


class DeliveryAttemptOut(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "status_code", "error", "duration_ms", "created"]


class WebhookDeliveryOut(serializers.ModelSerializer):
    attempts_log = DeliveryAttemptOut(source="attempt_log", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "delivery_id", "event_type", "state", "attempts", "status_code",
                  "error", "created", "next_attempt", "finished", "body",
                  "attempts_log"]  # fmt: skip


class WebhookDeliveryList(AdminScoped, generics.ListAPIView):
    """The delivery log of one webhook, newest first, with every attempt."""

    serializer_class = WebhookDeliveryOut
    pagination_class = ordered_by("-created")

    def get_queryset(self):
        self.require_admin()
        webhook = get_object_or_404(Webhook, project=self.project, pk=self.kwargs["pk"])
        return WebhookDelivery.objects.filter(webhook=webhook).prefetch_related("attempt_log")


class WebhookAction(AdminScoped, APIView):
    """POST test: queue a signed `webhook.test` delivery; POST enable: switch a disabled
    webhook back on."""

    @extend_schema(
        request=None,
        responses={202: WebhookDeliveryOut, 200: WebhookOut},
        operation_id="webhook_action",
    )
    def post(self, request, project_id, pk, action):
        self.require_admin()
        webhook = get_object_or_404(Webhook, project=self.project, pk=pk)
        if action == "enable":
            alert_services.webhook_enable(webhook)
            return Response(WebhookOut(webhook).data)
        if action != "test":
            raise ValidationError({"action": "test or enable"})
        if not webhook.enabled:
            raise ValidationError({"detail": "the webhook is disabled: enable it first"})
        delivery = webhooks.delivery_create_test(webhook)
        return Response(WebhookDeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)
