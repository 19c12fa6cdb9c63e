"""Alert pages: a project's rules and webhooks (members edit rules, admins manage
webhooks, which hold secrets), a webhook's deliveries with a "send test" button, and each
user's notification settings."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from dre.accounts.models import Role
from dre.accounts.selectors import projects_for
from dre.alerts import selectors, services, webhooks
from dre.alerts.models import AlertRule, Webhook
from dre.web.access import project_access
from dre.web.alert_forms import AlertRuleForm, WebhookForm
from dre.web.views.common import render_page


def _page(request, access, **context):
    project = access.project
    context.setdefault("rule_form", AlertRuleForm(project=project))
    context.setdefault("webhook_form", WebhookForm())
    context["rules"] = AlertRule.objects.filter(project=project).prefetch_related(
        "webhooks", "software_types", "cohorts"
    )
    context["webhooks"] = Webhook.objects.filter(project=project).order_by("name")
    setting = selectors.notification_settings_of(request.user, [project]).get(project.pk)
    context["subscribed"] = bool(setting and setting.email)
    return render_page(request, "web/alerts.html", context)


@login_required
@require_http_methods(["GET", "HEAD"])
def alerts(request, org, project):
    return _page(request, project_access(request, org, project))


@login_required
@require_POST
def rule_create(request, org, project):
    access = project_access(request, org, project, needs=Role.MEMBER)
    form = AlertRuleForm(request.POST, project=access.project)
    if not form.is_valid():
        return _page(request, access, rule_form=form)
    rule = form.save(commit=False)
    rule.project = access.project
    data = form.cleaned_data
    try:
        services.rule_save(
            rule,
            software_types=data["software_types"],
            cohorts=data["cohorts"],
            webhooks=data["webhooks"],
        )
    except services.AlertError as error:
        form.add_error(None, str(error))
        return _page(request, access, rule_form=form)
    messages.success(request, f"Alert rule {rule.name!r} saved.")
    return redirect("alerts", org=org, project=project)


@login_required
@require_POST
def rule_delete(request, org, project, rule_id):
    access = project_access(request, org, project, needs=Role.MEMBER)
    get_object_or_404(AlertRule, project=access.project, pk=rule_id).delete()
    messages.success(request, "Alert rule deleted.")
    return redirect("alerts", org=org, project=project)


@login_required
@require_POST
def subscription(request, org, project):
    access = project_access(request, org, project)
    services.notification_setting_set(request.user, access.project, email="email" in request.POST)
    messages.success(request, "Notification settings saved.")
    return redirect("alerts", org=org, project=project)


@login_required
@require_POST
def webhook_create(request, org, project):
    access = project_access(request, org, project, needs=Role.ADMIN)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _page(request, access, webhook_form=form)
    webhook = form.save(commit=False)
    webhook.project, webhook.secret = access.project, webhooks.new_secret()
    webhook.save()
    return redirect("webhook-detail", org=org, project=project, webhook_id=webhook.pk)


@login_required
@require_http_methods(["GET", "HEAD"])
def webhook_detail(request, org, project, webhook_id):
    access = project_access(request, org, project, needs=Role.ADMIN)
    webhook = get_object_or_404(Webhook, project=access.project, pk=webhook_id)
    context = {"webhook": webhook, "deliveries": selectors.webhook_deliveries(webhook)}
    return render_page(request, "web/webhook_detail.html", context)


@login_required
@require_POST
def webhook_test(request, org, project, webhook_id):
    access = project_access(request, org, project, needs=Role.ADMIN)
    webhook = get_object_or_404(Webhook, project=access.project, pk=webhook_id)
    if not webhook.enabled:
        messages.error(request, "The webhook is disabled: enable it to send a test.")
    else:
        delivery = webhooks.delivery_create_test(webhook)
        messages.success(request, f"Test delivery {delivery.delivery_id} queued.")
    return redirect("webhook-detail", org=org, project=project, webhook_id=webhook.pk)


@login_required
@require_POST
def webhook_enable(request, org, project, webhook_id):
    access = project_access(request, org, project, needs=Role.ADMIN)
    services.webhook_enable(get_object_or_404(Webhook, project=access.project, pk=webhook_id))
    messages.success(request, "Webhook enabled.")
    return redirect("webhook-detail", org=org, project=project, webhook_id=webhook_id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notification_settings(request):
    """Every project the user sees, with "email me its alerts" on or off."""
    projects = list(projects_for(request.user).select_related("organization"))
    if request.method == "POST":
        chosen = set(request.POST.getlist("email"))
        for project in projects:
            services.notification_setting_set(
                request.user, project, email=str(project.pk) in chosen
            )
        messages.success(request, "Notification settings saved.")
        return redirect("notification-settings")
    settings_by_project = selectors.notification_settings_of(request.user, projects)
    rows = [(p, getattr(settings_by_project.get(p.pk), "email", False)) for p in projects]
    return render(request, "web/notification_settings.html", {"rows": rows})
