"""The native REST API: reads of a project's data, and uploads.

Every view resolves its project through `projects_for(request.user)`, so a
project the caller may not see answers 404, exactly like one that does not
exist.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, pagination, parsers, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dre import blobs
from dre.accounts.models import Project, Role
from dre.accounts.selectors import has_role, projects_for
from dre.api import serializers as out
from dre.api.edge import LengthRequired, PayloadTooLarge
from dre.crashes import grouping
from dre.crashes.models import Coredump, GroupingRules, Issue, Trace
from dre.crashes.services import (
    NotACoredump,
    coredump_ingest_bytes,
    coredump_reprocess,
)
from dre.crashes.variables import trace_variables_read
from dre.fleet.models import Device
from dre.fleet.services import InvalidDeviceSerial, device_seen, software_version_get
from dre.leases import NotFailed
from dre.symbols.models import SymbolFile
from dre.symbols.services import (
    SymbolFileDuplicate,
    SymbolFileRejected,
    symbol_file_ingest,
    symbol_file_reprocess,
)


def ordered_by(*fields: str) -> type[pagination.CursorPagination]:
    """Cursor pagination over a stable ordering; cursors stay valid as rows arrive."""
    return type("Cursor", (pagination.CursorPagination,), {"ordering": (*fields, "-pk")})


class ProjectScoped:
    """Mixin: `self.project` is the URL's project, if the caller may read it."""

    @property
    def project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project = get_object_or_404(
                projects_for(self.request.user), pk=self.kwargs["project_id"]
            )
        return self._project

    def require_member(self) -> None:
        if not has_role(self.request.user, self.project, Role.MEMBER):
            raise PermissionDenied("uploading needs the member role in this organization")


class ProjectList(generics.ListAPIView):
    serializer_class = out.ProjectOut
    pagination_class = ordered_by("id")

    def get_queryset(self):
        return projects_for(self.request.user)


class DeviceList(ProjectScoped, generics.ListAPIView):
    serializer_class = out.DeviceOut
    pagination_class = ordered_by("-last_seen")

    def get_queryset(self):
        return Device.objects.filter(project=self.project).select_related(
            "hardware_version", "software_version", "cohort"
        )


class DeviceDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = out.DeviceOut

    def get_queryset(self):
        return Device.objects.filter(project=self.project)


class SymbolFileList(ProjectScoped, generics.ListAPIView):
    serializer_class = out.SymbolFileOut
    pagination_class = ordered_by("-created")

    def get_queryset(self):
        return SymbolFile.objects.filter(project=self.project).select_related(
            "software_version__software_type"
        )


class SymbolFileUpload(ProjectScoped, APIView):
    """Upload an ELF as multipart form data, with its software type and version."""

    parser_classes = [parsers.MultiPartParser]

    class Input(serializers.Serializer):
        file = serializers.FileField()
        software_type = serializers.CharField(required=False, max_length=128)
        software_version = serializers.CharField(required=False, max_length=128)

    @extend_schema(request=Input, responses={201: out.SymbolFileOut})
    def post(self, request, project_id):
        self.require_member()
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        name = blobs.blob_name("symbols", self.project.pk, ".elf")
        try:
            stored = blobs.blob_save_stream(name, upload, settings.MAX_SYMBOL_FILE_BYTES)
            symbol_file = symbol_file_ingest(
                self.project,
                stored,
                name=upload.name,
                software_type=data.validated_data.get("software_type"),
                software_version=data.validated_data.get("software_version"),
            )
        except blobs.TooLarge as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except SymbolFileRejected as exc:
            raise ValidationError({"file": str(exc)}) from None
        except SymbolFileDuplicate as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(out.SymbolFileOut(symbol_file).data, status=status.HTTP_201_CREATED)


class CoredumpList(ProjectScoped, generics.ListAPIView):
    serializer_class = out.CoredumpOut
    pagination_class = ordered_by("-received")

    def get_queryset(self):
        return Coredump.objects.filter(project=self.project).select_related(
            "device", "software_version__software_type", "hardware_version", "trace"
        )


# Room for the multipart boundaries and part headers around a coredump.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class CoredumpUpload(ProjectScoped, APIView):
    """Upload a raw coredump as the request body (application/octet-stream), or as
    the `file` field of multipart form data."""

    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        request={
            "application/octet-stream": bytes,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
        },
        parameters=[
            OpenApiParameter("device_serial", str, required=False),
            OpenApiParameter("software_type", str, required=False),
            OpenApiParameter("software_version", str, required=False),
        ],
        responses={202: out.CoredumpOut},
    )
    def post(self, request, project_id):
        self.require_member()
        data = coredump_bytes(request, settings.MAX_COREDUMP_BYTES)
        params = request.query_params
        try:
            serial = params.get("device_serial")
            device = device_seen(self.project, serial) if serial else None
            version = software_version_get(
                self.project,
                text_param(params, "software_type"),
                text_param(params, "software_version"),
            )
            coredump = coredump_ingest_bytes(
                self.project,
                data,
                source=Coredump.Source.API,
                device=device,
                software_version=version,
            )
        except (NotACoredump, InvalidDeviceSerial) as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response(out.CoredumpOut(coredump).data, status=status.HTTP_202_ACCEPTED)


def coredump_bytes(request, limit: int) -> bytes:
    """The coredump of an upload, its size checked before the body is read.

    Never `request.body`: with session authentication the CSRF check has already
    parsed a multipart body (DRF then serves it from request.FILES), and Django
    caps `body` at DATA_UPLOAD_MAX_MEMORY_SIZE, below the coredump limit.
    """
    size = content_length(request)
    multipart = request.content_type.startswith("multipart/form-data")
    if size > limit + (MULTIPART_OVERHEAD_BYTES if multipart else 0):
        raise PayloadTooLarge(f"body of {size} bytes is over the coredump limit of {limit}")
    if not multipart:
        return request.read(size)
    upload = request.data.get("file")
    if not hasattr(upload, "read"):
        raise ValidationError({"file": "a multipart upload needs the coredump as `file`"})
    if upload.size > limit:
        raise PayloadTooLarge(f"coredump of {upload.size} bytes is over the limit of {limit}")
    return upload.read()


def text_param(params, name: str) -> str | None:
    """A query parameter that names something: printable text, as the database stores."""
    value = params.get(name)
    if value is not None and not value.isprintable():
        raise ValidationError({name: f"{value!r} contains control characters"})
    return value


def content_length(request) -> int:
    length = request.META.get("CONTENT_LENGTH")
    if not length:
        raise LengthRequired()
    try:
        size = int(length)
    except ValueError:
        size = -1
    if size < 0:
        raise ValidationError({"detail": f"Content-Length {length!r} is not a size"})
    return size


class CoredumpDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = out.CoredumpOut

    def get_queryset(self):
        return Coredump.objects.filter(project=self.project)


class Reprocess(ProjectScoped, APIView):
    """Process a failed row again from its kept bytes (members); 409 unless it failed."""

    model: type
    output: type
    reprocess = None

    def post(self, request, project_id, pk):
        self.require_member()
        row = get_object_or_404(self.model.objects.filter(project=self.project), pk=pk)
        try:
            self.reprocess(row)
        except NotFailed as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        row.refresh_from_db()
        return Response(self.output(row).data, status=status.HTTP_202_ACCEPTED)


class CoredumpReprocess(Reprocess):
    model, output, reprocess = Coredump, out.CoredumpOut, staticmethod(coredump_reprocess)

    @extend_schema(request=None, responses={202: out.CoredumpOut})
    def post(self, request, project_id, pk):
        return super().post(request, project_id, pk)


class SymbolFileReprocess(Reprocess):
    model, output = SymbolFile, out.SymbolFileOut
    reprocess = staticmethod(symbol_file_reprocess)

    @extend_schema(request=None, responses={202: out.SymbolFileOut})
    def post(self, request, project_id, pk):
        return super().post(request, project_id, pk)


class TraceList(ProjectScoped, generics.ListAPIView):
    serializer_class = out.TraceSummaryOut
    pagination_class = ordered_by("-created")

    def get_queryset(self):
        traces = Trace.objects.filter(project=self.project)
        if issue := self.request.query_params.get("issue"):
            if not (issue.isascii() and issue.isdecimal()):
                raise ValidationError({"issue": f"{issue!r} is not an issue id"})
            traces = traces.filter(issue=int(issue))
        return traces


class TraceDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = out.TraceOut

    def get_queryset(self):
        return Trace.objects.filter(project=self.project).select_related("coredump__symbol_file")

    def get_object(self):
        return trace_variables_read(super().get_object())


@extend_schema(
    parameters=[
        OpenApiParameter("kind", str, enum=Issue.Kind.values, description="Only this kind.")
    ]
)
class IssueList(ProjectScoped, generics.ListAPIView):
    serializer_class = out.IssueOut
    pagination_class = ordered_by("-last_seen")

    def get_queryset(self):
        issues = Issue.objects.filter(project=self.project)
        kind = self.request.query_params.get("kind")
        if kind:
            if kind not in Issue.Kind.values:
                raise serializers.ValidationError(
                    {"kind": f"one of {', '.join(Issue.Kind.values)}"}
                )
            issues = issues.filter(kind=kind)
        return issues.prefetch_related("software_versions__software_type")


class IssueDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = out.IssueOut

    def get_queryset(self):
        return Issue.objects.filter(project=self.project)


class GroupingRulesDetail(ProjectScoped, APIView):
    """The project's grouping rules: in-app rules after the config's defaults, functions
    left out, frames used. Members change them; they apply to traces that arrive later."""

    class GroupingRulesIn(serializers.Serializer):
        not_in_app = serializers.CharField(allow_blank=True, required=False, default="")
        ignore_functions = serializers.CharField(allow_blank=True, required=False, default="")
        max_frames = serializers.IntegerField(min_value=1, max_value=50, default=5)

        def validate_not_in_app(self, value):
            try:
                grouping.Rules.parse(value)
            except grouping.RuleError as exc:
                raise serializers.ValidationError(str(exc)) from None
            return value

    @extend_schema(responses={200: out.GroupingRulesOut})
    def get(self, request, project_id):
        return Response(self._out())

    @extend_schema(request=GroupingRulesIn, responses={200: out.GroupingRulesOut})
    def put(self, request, project_id):
        if not has_role(request.user, self.project, Role.MEMBER):
            raise PermissionDenied("changing grouping rules needs the member role")
        data = self.GroupingRulesIn(data=request.data)
        data.is_valid(raise_exception=True)
        GroupingRules.objects.update_or_create(
            project=self.project, defaults={**data.validated_data, "updated": timezone.now()}
        )
        return Response(self._out())

    def _out(self) -> dict:
        rules = GroupingRules.objects.filter(project=self.project).first()
        return out.GroupingRulesOut(rules or GroupingRules(project=self.project)).data
