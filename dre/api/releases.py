"""The REST API for releases, artifacts, deployments and cohorts (issue 10).

Reads need the viewer role; every change needs the member role and is logged
with the caller (dre.releases.services.actor_label).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, parsers, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from dre import blobs
from dre.api.views import ProjectScoped, ordered_by
from dre.fleet.models import DEFAULT_COHORT
from dre.fleet.selectors import cohort_find, cohort_list
from dre.fleet.services import (
    InvalidDeviceSerial,
    UnknownDevices,
    cohort_get_default,
    cohort_get_or_create,
)
from dre.releases import services
from dre.releases.models import Artifact, Deployment, DeploymentLog, Release
from dre.releases.rollouts import cohort_rule


class ReleaseConflictError(serializers.ValidationError):
    status_code = status.HTTP_409_CONFLICT


def release_errors(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except services.ReleaseRejected as exc:
        raise ValidationError({"detail": str(exc)}) from None
    except services.ReleaseConflict as exc:
        raise ReleaseConflictError({"detail": str(exc)}) from None


# -- output shapes -----------------------------------------------------------------


class ArtifactOut(serializers.ModelSerializer):
    hardware_version = serializers.StringRelatedField()

    class Meta:
        model = Artifact
        fields = ["id", "hardware_version", "filename", "size", "md5", "sha256",
                  "firmware_type", "extra_info", "created"]  # fmt: skip


class ReleaseOut(serializers.ModelSerializer):
    software_type = serializers.StringRelatedField()
    version = serializers.SlugRelatedField(slug_field="version", read_only=True)
    delta_from = serializers.SlugRelatedField(slug_field="version", read_only=True)
    artifacts = ArtifactOut(many=True, read_only=True)

    class Meta:
        model = Release
        fields = ["id", "software_type", "version", "delta_from", "is_delta", "revision",
                  "notes", "min_version", "must_pass_through", "extra_info", "artifacts",
                  "created"]  # fmt: skip


class DeploymentLogOut(serializers.ModelSerializer):
    class Meta:
        model = DeploymentLog
        fields = ["action", "actor", "from_percent", "to_percent", "reason", "evidence", "at"]


class DeploymentOut(serializers.ModelSerializer):
    cohort = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    log = DeploymentLogOut(many=True, read_only=True)

    class Meta:
        model = Deployment
        fields = ["id", "release", "cohort", "type", "rollout_percent", "status", "created",
                  "updated", "log"]  # fmt: skip


class RuleOut(serializers.Serializer):
    safety_enabled = serializers.BooleanField()
    min_hours = serializers.FloatField()
    min_devices = serializers.IntegerField()
    margin = serializers.FloatField()
    alpha = serializers.FloatField()
    auto_widen = serializers.BooleanField()
    widen_after_hours = serializers.FloatField()


class CohortOut(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    allow_downgrades = serializers.BooleanField()
    rollout_rule = RuleOut()


def cohort_out(cohort) -> dict:
    allowed = services.cohort_allows_downgrades(cohort.pk)
    rule, enabled = cohort_rule(cohort.pk)
    return CohortOut(
        {
            "slug": cohort.slug,
            "name": cohort.name,
            "allow_downgrades": allowed,
            "rollout_rule": {**rule.__dict__, "safety_enabled": enabled},
        }
    ).data


# -- releases and artifacts ----------------------------------------------------------


class ReleaseList(ProjectScoped, generics.ListAPIView):
    """Releases of the project; POST creates one (artifacts are uploaded to it after)."""

    serializer_class = ReleaseOut
    pagination_class = ordered_by("-created")

    class ReleaseListIn(serializers.Serializer):
        software_type = serializers.CharField(max_length=128)
        version = serializers.CharField(max_length=128)
        delta_from = serializers.CharField(max_length=128, required=False)
        revision = serializers.CharField(max_length=128, required=False, default="")
        notes = serializers.CharField(required=False, allow_blank=True, default="")
        min_version = serializers.CharField(max_length=128, required=False, default="")
        must_pass_through = serializers.BooleanField(required=False, default=False)
        extra_info = serializers.DictField(child=serializers.CharField(), required=False)

    def get_queryset(self):
        return Release.objects.filter(project=self.project).select_related(
            "software_type", "version", "delta_from"
        ).prefetch_related("artifacts__hardware_version")  # fmt: skip

    @extend_schema(request=ReleaseListIn, responses={201: ReleaseOut})
    def post(self, request, project_id):
        self.require_member()
        data = self.ReleaseListIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        release = release_errors(
            services.release_get_or_create,
            self.project,
            fields.pop("software_type"),
            fields.pop("version"),
            delta_from=fields.pop("delta_from", None),
            **fields,
        )
        return Response(ReleaseOut(release).data, status=status.HTTP_201_CREATED)


class ReleaseDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = ReleaseOut

    def get_queryset(self):
        return Release.objects.filter(project=self.project)


class ArtifactUpload(ProjectScoped, APIView):
    """Upload a release's payload for one hardware version, as multipart form data."""

    parser_classes = [parsers.MultiPartParser]

    class ArtifactUploadIn(serializers.Serializer):
        file = serializers.FileField()
        hardware_version = serializers.CharField(max_length=128)
        firmware_type = serializers.ChoiceField(services.FIRMWARE_TYPES, default="standalone")
        extra_info = serializers.JSONField(required=False, binary=True)

    @extend_schema(request=ArtifactUploadIn, responses={201: ArtifactOut})
    def post(self, request, project_id, pk):
        self.require_member()
        release = get_object_or_404(Release, project=self.project, pk=pk)
        data = self.ArtifactUploadIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        name = blobs.blob_name("ota", self.project.pk, ".bin")
        try:
            stored = blobs.blob_save_stream(name, upload, settings.MAX_OTA_PAYLOAD_BYTES)
        except blobs.TooLarge as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        artifact = release_errors(
            services.artifact_add,
            release,
            data.validated_data["hardware_version"],
            stored,
            filename=upload.name,
            firmware_type=data.validated_data["firmware_type"],
            extra_info=data.validated_data.get("extra_info"),
        )
        return Response(ArtifactOut(artifact).data, status=status.HTTP_201_CREATED)


# -- deployments ---------------------------------------------------------------------


class DeploymentList(ProjectScoped, generics.ListAPIView):
    """Deployments, newest first; POST activates a release in a cohort."""

    serializer_class = DeploymentOut
    pagination_class = ordered_by("-created")

    class DeploymentListIn(serializers.Serializer):
        release = serializers.IntegerField()
        cohort = serializers.SlugField()
        rollout_percent = serializers.IntegerField(min_value=1, max_value=100, default=100)

    def get_queryset(self):
        deployments = Deployment.objects.filter(project=self.project).select_related("cohort")
        if release := self.request.query_params.get("release"):
            deployments = deployments.filter(release=_int(release, "release"))
        if cohort := self.request.query_params.get("cohort"):
            deployments = deployments.filter(cohort__slug=cohort)
        return deployments.prefetch_related("log")

    @extend_schema(request=DeploymentListIn, responses={201: DeploymentOut})
    def post(self, request, project_id):
        self.require_member()
        data = self.DeploymentListIn(data=request.data)
        data.is_valid(raise_exception=True)
        release = get_object_or_404(
            Release, project=self.project, pk=data.validated_data["release"]
        )
        deployment = release_errors(
            services.deployment_activate,
            release,
            _cohort(self.project, data.validated_data["cohort"]),
            percent=data.validated_data["rollout_percent"],
            actor=request.user,
        )
        return Response(DeploymentOut(deployment).data, status=status.HTTP_201_CREATED)


def _int(value: str, name: str) -> int:
    if not (value.isascii() and value.isdecimal()):
        raise ValidationError({name: f"{value!r} is not an id"})
    return int(value)


def _cohort(project, slug: str):
    cohort = cohort_get_default(project) if slug == DEFAULT_COHORT else cohort_find(project, slug)
    if cohort is None:
        raise NotFound(f"no cohort {slug!r} in this project")
    return cohort


DEPLOYMENT_ACTIONS = {
    "pause": lambda d, actor, data: services.deployment_pause(
        d, actor=actor, reason=data["reason"]
    ),
    "resume": lambda d, actor, data: services.deployment_resume(
        d, actor=actor, reason=data["reason"]
    ),
    "widen": lambda d, actor, data: services.deployment_widen(
        d, _percent(data), actor=actor, reason=data["reason"]
    ),
    "pull": lambda d, actor, data: services.deployment_pull(d, actor=actor, reason=data["reason"]),
    # Resume if halted or paused, and make the rollout rule stand aside (needs a reason).
    "override": lambda d, actor, data: services.deployment_resume(
        d, actor=actor, reason=data["reason"], override=True
    ),
}


def _percent(data) -> int:
    if data.get("rollout_percent") is None:
        raise ValidationError({"rollout_percent": "widening needs the new percentage"})
    return data["rollout_percent"]


class DeploymentAction(ProjectScoped, APIView):
    """Pause, resume, override (the rollout rule, with a reason), widen (with
    rollout_percent) or pull a deployment; logged with who."""

    class DeploymentActionIn(serializers.Serializer):
        rollout_percent = serializers.IntegerField(min_value=1, max_value=100, required=False)
        reason = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        request=DeploymentActionIn, responses={200: DeploymentOut}, operation_id="deployment_action"
    )
    def post(self, request, project_id, pk, action):
        self.require_member()
        if action not in DEPLOYMENT_ACTIONS:
            raise NotFound(f"no action {action!r}; use one of {', '.join(DEPLOYMENT_ACTIONS)}")
        deployment = get_object_or_404(Deployment, project=self.project, pk=pk)
        data = self.DeploymentActionIn(data=request.data)
        data.is_valid(raise_exception=True)
        changed = release_errors(
            DEPLOYMENT_ACTIONS[action], deployment, request.user, data.validated_data
        )
        return Response(DeploymentOut(changed).data)


# -- cohorts ----------------------------------------------------------------------------


class CohortList(ProjectScoped, APIView):
    """Cohorts of the project; POST creates one or changes whether it allows downgrades."""

    class CohortListIn(serializers.Serializer):
        slug = serializers.SlugField(max_length=100)
        name = serializers.CharField(max_length=200, required=False, default="")
        allow_downgrades = serializers.BooleanField(required=False, default=False)
        # The rollout-safety rule (README "Rollout safety"); omitted fields keep their values.
        safety_enabled = serializers.BooleanField(required=False)
        min_hours = serializers.FloatField(required=False, min_value=0)
        min_devices = serializers.IntegerField(required=False, min_value=1)
        margin = serializers.FloatField(required=False, min_value=0, max_value=10)
        alpha = serializers.FloatField(required=False, min_value=1e-6, max_value=0.5)
        auto_widen = serializers.BooleanField(required=False)
        widen_after_hours = serializers.FloatField(required=False, min_value=0)

    @extend_schema(responses={200: CohortOut(many=True)})
    def get(self, request, project_id):
        return Response([cohort_out(c) for c in cohort_list(self.project)])

    @extend_schema(request=CohortListIn, responses={201: CohortOut})
    def post(self, request, project_id):
        self.require_member()
        data = self.CohortListIn(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = cohort_get_or_create(
            self.project, data.validated_data["slug"], data.validated_data["name"]
        )
        policy = {k: v for k, v in data.validated_data.items() if k in services.POLICY_FIELDS}
        services.cohort_policy_set(cohort, **policy)
        return Response(cohort_out(cohort), status=status.HTTP_201_CREATED)


class CohortDevices(ProjectScoped, APIView):
    """Move devices into this cohort: by serial (all of them or none), or every device
    matching the given attributes (hardware version, software type and version, cohort)."""

    class CohortDevicesIn(serializers.Serializer):
        serials = serializers.ListField(
            child=serializers.CharField(max_length=128), max_length=10_000, required=False
        )
        hardware_version = serializers.CharField(max_length=128, required=False)
        software_type = serializers.CharField(max_length=128, required=False)
        software_version = serializers.CharField(max_length=128, required=False)
        from_cohort = serializers.SlugField(required=False)

        def validate(self, attrs):
            filters = {k for k in attrs if k != "serials"}
            if bool(attrs.get("serials")) == bool(filters):
                raise ValidationError("send either serials or attributes to match devices by")
            if ("software_type" in attrs) != ("software_version" in attrs):
                raise ValidationError("software_type and software_version go together")
            return attrs

    class CohortDevicesOut(serializers.Serializer):
        moved = serializers.IntegerField()

    @extend_schema(request=CohortDevicesIn, responses={200: CohortDevicesOut})
    def post(self, request, project_id, slug):
        self.require_member()
        data = self.CohortDevicesIn(data=request.data)
        data.is_valid(raise_exception=True)
        cohort = _cohort(self.project, slug)
        if serials := data.validated_data.get("serials"):
            try:
                moved = services.cohort_devices_move(self.project, serials, cohort)
            except (UnknownDevices, InvalidDeviceSerial) as exc:
                raise ValidationError({"serials": str(exc)}) from None
        else:
            moved = self._move_matching(cohort, data.validated_data)
        return Response({"moved": moved})

    def _move_matching(self, cohort, filters: dict) -> int:
        version = None
        if "software_type" in filters:
            version = (filters["software_type"], filters["software_version"])
        source = _cohort(self.project, filters["from_cohort"]) if "from_cohort" in filters else None
        return services.cohort_devices_move_matching(
            self.project,
            cohort,
            hardware_version=filters.get("hardware_version"),
            software_version=version,
            from_cohort=source,
        )
