"""A device's diagnostics in the REST API: trace events, log lines, custom data recordings
(with an authorized download), attributes and the timeline. Reads only, through the
selectors of dre.diagnostics and dre.health."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from dre.api.views import ProjectScoped, ordered_by
from dre.diagnostics import selectors
from dre.diagnostics.models import LogLine, Recording, TraceEvent
from dre.diagnostics.timeline import device_timeline
from dre.fleet.models import Device
from dre.health.attributes import device_attributes
from dre.web.views.devices import recording_response

TIMELINE_MAX = 500


class LocationOut(serializers.Serializer):
    address = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["symbolicated", "missing_symbol"])
    function = serializers.CharField(required=False)
    file = serializers.CharField(required=False, allow_null=True)
    line = serializers.IntegerField(required=False, allow_null=True)


class RenderedLogOut(serializers.Serializer):
    status = serializers.CharField(
        help_text="formatted, preformatted, awaiting_symbols, no_log_fmt, unknown_format, "
        "argument_mismatch or malformed"
    )
    text = serializers.CharField(allow_blank=True)
    format_id = serializers.IntegerField(required=False, allow_null=True)
    args = serializers.ListField(required=False)
    file = serializers.CharField(required=False, allow_null=True)
    line = serializers.IntegerField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True)


class TraceEventOut(serializers.ModelSerializer):
    device = serializers.SlugRelatedField(slug_field="serial", read_only=True)
    pc_location = LocationOut(allow_null=True, read_only=True)
    lr_location = LocationOut(allow_null=True, read_only=True)
    log = RenderedLogOut(allow_null=True, read_only=True)

    class Meta:
        model = TraceEvent
        fields = [
            "id",
            "device",
            "time",
            "time_known",
            "reason",
            "reason_name",
            "status_code",
            "pc",
            "lr",
            "pc_location",
            "lr_location",
            "log",
            "state",
            "issue",
            "fingerprint",
            "grouping",
            "software_version",
            "hardware_version",
        ]


class LogLineOut(serializers.ModelSerializer):
    device = serializers.SlugRelatedField(slug_field="serial", read_only=True)
    level_name = serializers.CharField(read_only=True)

    class Meta:
        model = LogLine
        fields = [
            "id",
            "device",
            "time",
            "time_known",
            "level",
            "level_name",
            "compact",
            "text",
            "status",
            "detail",
            "state",
            "collected",
            "coredump",
            "source_event_id",
            "position",
        ]


class RecordingOut(serializers.ModelSerializer):
    device = serializers.SlugRelatedField(slug_field="serial", read_only=True)

    class Meta:
        model = Recording
        fields = [
            "id",
            "device",
            "time",
            "time_known",
            "reason",
            "mimetypes",
            "duration_ms",
            "size",
            "sha256",
            "software_version",
            "hardware_version",
        ]


class Filtered(ProjectScoped):
    """`?device=<id>` narrows a project-wide list to one device of the project."""

    def device_filter(self) -> Device | None:
        raw = self.request.query_params.get("device")
        if not raw:
            return None
        if not raw.isdigit():
            raise serializers.ValidationError({"device": "a device id"})
        return get_object_or_404(Device, project=self.project, pk=int(raw))


DEVICE_PARAMETER = OpenApiParameter("device", int, description="Only this device's rows.")


@extend_schema(
    parameters=[
        DEVICE_PARAMETER,
        OpenApiParameter("issue", int, description="Only the occurrences of this issue."),
    ]
)
class TraceEventList(Filtered, generics.ListAPIView):
    serializer_class = TraceEventOut
    pagination_class = ordered_by("-time")

    def get_queryset(self):
        issue = self.request.query_params.get("issue")
        if issue is not None and not issue.isdigit():
            raise serializers.ValidationError({"issue": "an issue id"})
        return selectors.trace_events(
            self.project, device=self.device_filter(), issue_id=int(issue) if issue else None
        )


class TraceEventDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = TraceEventOut

    def get_queryset(self):
        return selectors.trace_events(self.project)


@extend_schema(parameters=[DEVICE_PARAMETER])
class LogLineList(Filtered, generics.ListAPIView):
    serializer_class = LogLineOut
    pagination_class = ordered_by("-time", "-position")

    def get_queryset(self):
        return selectors.log_lines(self.project, device=self.device_filter())


@extend_schema(parameters=[DEVICE_PARAMETER])
class RecordingList(Filtered, generics.ListAPIView):
    serializer_class = RecordingOut
    pagination_class = ordered_by("-time")

    def get_queryset(self):
        return selectors.recordings(self.project, device=self.device_filter())


class RecordingDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = RecordingOut

    def get_queryset(self):
        return selectors.recordings(self.project)


class RecordingDownload(ProjectScoped, APIView):
    """The recording's bytes, typed with the first MIME type the device gave."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, project_id, pk):
        recording = selectors.recording_get(self.project, pk)
        if recording is None:
            raise Http404("no such recording")
        return recording_response(recording)


class AttributeOut(serializers.Serializer):
    key = serializers.CharField()
    display_name = serializers.CharField()
    value = serializers.JSONField()
    unit = serializers.CharField(allow_blank=True)
    reported = serializers.DateTimeField()


class DeviceAttributes(ProjectScoped, APIView):
    @extend_schema(responses={200: AttributeOut(many=True)})
    def get(self, request, project_id, pk):
        device = get_object_or_404(Device, project=self.project, pk=pk)
        return Response(AttributeOut(device_attributes(device), many=True).data)


class TimelineItemOut(serializers.Serializer):
    time = serializers.DateTimeField()
    kind = serializers.ChoiceField(
        choices=["heartbeat", "reboot", "trace", "trace_event", "logs", "recording"]
    )
    title = serializers.CharField()
    id = serializers.IntegerField(help_text="The row's id in its own list endpoint.")


class TimelineQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=TIMELINE_MAX, default=100)


ITEM_IDS = {
    "heartbeat": lambda item: item["interval"].pk,
    "reboot": lambda item: item["reboot"].pk,
    "trace": lambda item: item["trace"].pk,
    "trace_event": lambda item: item["trace_event"].pk,
    "logs": lambda item: item["logs"].source_event_id,
    "recording": lambda item: item["recording"].pk,
}


class DeviceTimeline(ProjectScoped, APIView):
    """Everything the device sent, newest first (a log item is one log event's lines)."""

    @extend_schema(parameters=[TimelineQuery], responses={200: TimelineItemOut(many=True)})
    def get(self, request, project_id, pk):
        device = get_object_or_404(Device, project=self.project, pk=pk)
        query = TimelineQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        items = device_timeline(self.project, device, limit=query.validated_data["limit"])
        rows = [
            {
                "time": i["time"],
                "kind": i["kind"],
                "title": i["title"],
                "id": ITEM_IDS[i["kind"]](i),
            }
            for i in items
        ]
        return Response(TimelineItemOut(rows, many=True).data)
