"""Output shapes of the REST API. Inputs are validated in the views' own serializers."""

from rest_framework import serializers

from dre.accounts.models import Project
from dre.crashes.models import Coredump, Issue, Trace
from dre.fleet.models import Device
from dre.symbols.models import SymbolFile


class ProjectOut(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Project
        fields = ["id", "organization", "slug", "name", "created"]


class DeviceOut(serializers.ModelSerializer):
    hardware_version = serializers.StringRelatedField()
    software_version = serializers.SlugRelatedField(slug_field="version", read_only=True)
    cohort = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Device
        fields = [
            "id",
            "serial",
            "hardware_version",
            "software_version",
            "cohort",
            "first_seen",
            "last_seen",
        ]


class SoftwareVersionOut(serializers.Serializer):
    software_type = serializers.CharField(source="software_type.name")
    version = serializers.CharField()


class SymbolFileOut(serializers.ModelSerializer):
    software_version = SoftwareVersionOut(allow_null=True, read_only=True)

    class Meta:
        model = SymbolFile
        fields = [
            "id",
            "name",
            "build_id",
            "software_version",
            "size",
            "md5",
            "state",
            "error",
            "traceback",
            "attempts",
            "created",
        ]


class CoredumpOut(serializers.ModelSerializer):
    device = serializers.SlugRelatedField(slug_field="serial", read_only=True)
    software_version = SoftwareVersionOut(allow_null=True, read_only=True)
    hardware_version = serializers.StringRelatedField()
    trace = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Coredump
        fields = [
            "id",
            "device",
            "software_version",
            "hardware_version",
            "source",
            "format",
            "build_id",
            "trace_reason",
            "size",
            "md5",
            "received",
            "state",
            "error",
            "traceback",
            "attempts",
            "trace",
        ]


class TraceOut(serializers.ModelSerializer):
    class Meta:
        model = Trace
        fields = [
            "id",
            "coredump",
            "issue",
            "title",
            "fingerprint",
            "grouping",
            "data",
            "created",
        ]


class TraceSummaryOut(serializers.ModelSerializer):
    class Meta:
        model = Trace
        fields = ["id", "coredump", "issue", "title", "fingerprint", "created"]


class IssueOut(serializers.ModelSerializer):
    software_versions = SoftwareVersionOut(many=True, read_only=True)

    class Meta:
        model = Issue
        fields = [
            "id",
            "title",
            "state",
            "first_seen",
            "last_seen",
            "trace_count",
            "device_count",
            "software_versions",
        ]
