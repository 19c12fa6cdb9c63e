"""The pages, one module per page: issue list, issue, traces and the trace page, the
trace page's JSON endpoints, project settings."""
