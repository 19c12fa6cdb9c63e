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
from dre.health.models import DeviceMetricValue, HeartbeatInterval, Metric, Reboot


class EstimateOut(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="95 % interval, lower bound.")
    high = serializers.FloatField(allow_null=True, help_text="Upper bound; null if unbounded.")
    sample = serializers.FloatField(help_text="Hours, sessions, device-days behind it.")


class BatteryOut(serializers.Serializer):
    soc_drop_per_hour = serializers.FloatField(
        allow_null=True, help_text="State-of-charge points lost per hour of discharge."
    )
    projected_life_hours = serializers.FloatField(
        allow_null=True, help_text="Hours a full charge lasts at that rate."
    )
    discharge_hours = serializers.FloatField(help_text="Hours of discharge behind it.")
    intervals = serializers.IntegerField(help_text="Heartbeat intervals that discharged.")


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
    battery = BatteryOut()
    connectivity = EstimateOut(
        help_text="Connected over expected time; Wilson score interval; sample in hours."
    )


class StabilityQuery(serializers.Serializer):
    group_by = serializers.ChoiceField(
        choices=list(selectors.GROUPINGS), default="software_version"
    )
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    software_version = serializers.IntegerField(required=False, help_text="Only this version.")
    hardware_version = serializers.IntegerField(required=False, help_text="Only this hardware.")
    cohort = serializers.IntegerField(required=False, help_text="Only this cohort.")


class StabilityList(ProjectScoped, APIView):
    @extend_schema(parameters=[StabilityQuery], responses={200: StabilityOut(many=True)})
    def get(self, request, project_id):
        query = StabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        filters = {
            f"{name}_id": params[name]
            for name in ("software_version", "hardware_version", "cohort")
            if name in params
        }
        rows = selectors.stability_by(
            self.project,
            params["group_by"],
            since=params.get("since"),
            until=params.get("until"),
            **filters,
        )
        return Response([_group_as_text(row.as_dict()) for row in rows])


def _group_as_text(row: dict) -> dict:
    group = row["group"]
    row["group"] = None if group is None else str(group)
    return row


class MetricOut(serializers.ModelSerializer):
    class Meta:
        model = Metric
        fields = [
            "key",
            "display_name",
            "description",
            "type",
            "kind",
            "unit",
            "scale",
            "range_min",
            "range_max",
            "filter_out_of_range",
            "created",
        ]
        read_only_fields = ["key", "type", "scale", "created"]

    def validate(self, attrs):
        low = attrs.get("range_min", getattr(self.instance, "range_min", None))
        high = attrs.get("range_max", getattr(self.instance, "range_max", None))
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"range_min": "must not exceed range_max"})
        return attrs


class MetricList(ProjectScoped, generics.ListAPIView):
    serializer_class = MetricOut
    pagination_class = ordered_by("key")

    def get_queryset(self):
        return Metric.objects.filter(project=self.project)


class MetricDetail(ProjectScoped, generics.RetrieveUpdateAPIView):
    """One registry entry. Members may rename it, give it a unit, a range (filtering values
    outside it at ingress when asked) and say whether it is a timeseries, an attribute or
    both; type and scale come from the devices and their ELF."""

    serializer_class = MetricOut
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return get_object_or_404(Metric, project=self.project, key=self.kwargs["key"])

    def perform_update(self, serializer):
        self.require_member()
        serializer.save()


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
        params = _metric_query(self, key, MetricQuery)
        rows = selectors.metric_daily(self.project, key, **params)
        return Response(MetricDayOut(rows, many=True).data)


def _metric_query(view: ProjectScoped, key: str, query: type[serializers.Serializer]) -> dict:
    """The request's parameters for a metric of the project: 404 for a key the registry
    does not have, then 400 for parameters `query` does not accept."""
    get_object_or_404(Metric, project=view.project, key=key)
    found = query(data=view.request.query_params)
    found.is_valid(raise_exception=True)
    return found.validated_data


class MetricSeriesOut(serializers.Serializer):
    day = serializers.DateField()
    group = serializers.IntegerField(allow_null=True, help_text="The id split by; null: fleet.")
    count = serializers.IntegerField()
    sum = serializers.FloatField()
    min = serializers.FloatField()
    mean = serializers.FloatField(allow_null=True)
    max = serializers.FloatField()
    p50 = serializers.FloatField(allow_null=True, help_text="Within 1 % relative error.")
    p90 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class MetricSeriesQuery(MetricQuery):
    split_by = serializers.ChoiceField(
        choices=["software_version", "hardware_version", "cohort", "none"],
        default="software_version",
    )


class MetricSeries(ProjectScoped, APIView):
    """The metrics explorer's data: per day and group, from the daily rollups."""

    @extend_schema(parameters=[MetricSeriesQuery], responses={200: MetricSeriesOut(many=True)})
    def get(self, request, project_id, key):
        params = _metric_query(self, key, MetricSeriesQuery)
        split_by = None if params["split_by"] == "none" else params["split_by"]
        rows = selectors.metric_explore(self.project, key, split_by=split_by, days=params["days"])
        return Response(MetricSeriesOut(rows, many=True).data)


class MetricValueOut(serializers.ModelSerializer):
    class Meta:
        model = DeviceMetricValue
        fields = ["key", "value", "time"]


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
            "filtered",
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


class DeviceMetricValues(DeviceScoped, generics.ListAPIView):
    """The device's attribute metrics with their latest values."""

    serializer_class = MetricValueOut
    pagination_class = ordered_by("key")

    def get_queryset(self):
        return DeviceMetricValue.objects.filter(project=self.project, device=self.device)
