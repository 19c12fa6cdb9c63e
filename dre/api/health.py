"""Fleet health in the REST API: stability with intervals, the metric registry, metric
series, and a device's heartbeats and reboots. Reads only, through dre.health.selectors."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from dre.api.views import ProjectScoped, ordered_by
from dre.fleet.models import Device
from dre.health import selectors
from dre.health.models import HeartbeatInterval, Metric, Reboot


class EstimateOut(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="95 % interval, lower bound.")
    high = serializers.FloatField(allow_null=True, help_text="Upper bound; null if unbounded.")
    sample = serializers.FloatField(help_text="Hours, sessions, device-days behind it.")


class StabilityOut(serializers.Serializer):
    group = serializers.CharField(allow_null=True, help_text="The id or day grouped by.")
    crash_free_hours = EstimateOut(help_text="Wilson score interval; sample in hours.")
    crash_free_sessions = EstimateOut(help_text="Wilson score interval; sample in sessions.")
    crash_free_devices = EstimateOut(help_text="Wilson score interval; sample in device-days.")
    mean_hours_between_unexpected_reboots = EstimateOut(
        help_text="Garwood exact Poisson interval; sample in hours."
    )
    unexpected_reboots = serializers.IntegerField()
    expected_reboots = serializers.IntegerField()


class StabilityQuery(serializers.Serializer):
    group_by = serializers.ChoiceField(
        choices=list(selectors.GROUPINGS), default="software_version"
    )
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class StabilityList(ProjectScoped, APIView):
    @extend_schema(parameters=[StabilityQuery], responses={200: StabilityOut(many=True)})
    def get(self, request, project_id):
        query = StabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = selectors.stability_by(
            self.project,
            params["group_by"],
            since=params.get("since"),
            until=params.get("until"),
        )
        return Response([_group_as_text(row.as_dict()) for row in rows])


def _group_as_text(row: dict) -> dict:
    group = row["group"]
    row["group"] = None if group is None else str(group)
    return row


class MetricOut(serializers.ModelSerializer):
    class Meta:
        model = Metric
        fields = ["key", "display_name", "type", "unit", "scale", "created"]


class MetricList(ProjectScoped, generics.ListAPIView):
    serializer_class = MetricOut
    pagination_class = ordered_by("key")

    def get_queryset(self):
        return Metric.objects.filter(project=self.project)


class MetricDayOut(serializers.Serializer):
    day = serializers.DateField()
    group = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    min = serializers.FloatField()
    max = serializers.FloatField()


class MetricQuery(serializers.Serializer):
    split_by = serializers.ChoiceField(
        choices=["software_version", "hardware_version", "cohort"], default="software_version"
    )
    days = serializers.IntegerField(min_value=1, max_value=366, default=30)


class MetricDaily(ProjectScoped, APIView):
    @extend_schema(parameters=[MetricQuery], responses={200: MetricDayOut(many=True)})
    def get(self, request, project_id, key):
        get_object_or_404(Metric, project=self.project, key=key)
        query = MetricQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.metric_daily(self.project, key, **query.validated_data)
        return Response(MetricDayOut(rows, many=True).data)


class HeartbeatOut(serializers.ModelSerializer):
    class Meta:
        model = HeartbeatInterval
        fields = [
            "id",
            "session",
            "started",
            "ended",
            "duration_ms",
            "state",
            "error",
            "values",
            "positional",
            "software_version",
            "hardware_version",
            "cohort",
        ]


class RebootOut(serializers.ModelSerializer):
    class Meta:
        model = Reboot
        fields = [
            "id",
            "time",
            "time_known",
            "reason",
            "reason_name",
            "unexpected",
            "pc",
            "lr",
            "coredump_saved",
            "software_version",
            "hardware_version",
            "cohort",
        ]


class DeviceScoped(ProjectScoped):
    @property
    def device(self) -> Device:
        return get_object_or_404(Device, project=self.project, pk=self.kwargs["pk"])


class DeviceHeartbeats(DeviceScoped, generics.ListAPIView):
    serializer_class = HeartbeatOut
    pagination_class = ordered_by("-ended")

    def get_queryset(self):
        return HeartbeatInterval.objects.filter(project=self.project, device=self.device)


class DeviceReboots(DeviceScoped, generics.ListAPIView):
    serializer_class = RebootOut
    pagination_class = ordered_by("-time")

    def get_queryset(self):
        return Reboot.objects.filter(project=self.project, device=self.device)
