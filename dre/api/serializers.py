"""Output shapes of the REST API. Inputs are validated in the views' own serializers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dre.accounts.models import Project
from dre.crashes import grouping
from dre.crashes.models import Coredump, GroupingRules, Issue, Trace
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
            "kind",
            "title",
            "state",
            "first_seen",
            "last_seen",
            "culprit",
            "trace_count",
            "device_count",
            "software_versions",
        ]


class AppRuleOut(serializers.Serializer):
    text = serializers.CharField()
    label = serializers.CharField()


class GroupingRulesOut(serializers.ModelSerializer):
    grouping_config = serializers.SerializerMethodField()
    default_rules = serializers.SerializerMethodField()

    class Meta:
        model = GroupingRules
        fields = [
            "grouping_config",
            "default_rules",
            "not_in_app",
            "ignore_functions",
            "max_frames",
            "updated",
        ]

    def get_grouping_config(self, rules) -> str:
        return grouping.DEFAULT_CONFIG

    @extend_schema_field(AppRuleOut(many=True))
    def get_default_rules(self, rules) -> list[dict]:
        config = grouping.CONFIGS[grouping.DEFAULT_CONFIG]
        return [{"text": r.text, "label": r.label} for r in config.default_rules]
