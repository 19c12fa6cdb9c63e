from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from dre.accounts.selectors import projects_for


@login_required
def home(request):
    projects = list(projects_for(request.user).order_by("organization__slug", "slug"))
    if len(projects) == 1:
        return redirect("issue-list", org=projects[0].organization.slug, project=projects[0].slug)
    return render(request, "web/home.html", {"projects": projects})
