"""The built-in tracker's Jira REST v2 dialect (``/rest/api/2``)."""
