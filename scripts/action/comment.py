#!/usr/bin/env python3
"""Creates or updates the migsafe comment on the pull request (GitHub REST API, stdlib only).

The Markdown report starts with the marker `<!-- migsafe-report -->`; the comment of an earlier
run that starts with it is updated in place, so a pull request carries one migsafe comment.

Environment (as GitHub Actions sets it): GITHUB_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY,
GITHUB_EVENT_PATH (the pull request number comes from the event). Usage: comment.py REPORT.md

Exit codes: 0 posted, updated, or nothing to do (not a pull request; a fork's read-only token,
reported as a warning); 2 bad input or an API error, with the reason.
"""

import json
import os
import sys
import urllib.error
import urllib.request

MARKER = "<!-- migsafe-report -->"


def fail(message):
    print(f"::error title=migsafe comment::{message}")
    sys.exit(2)


def api(method, url, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("X-GitHub-Api-Version", "2022-11-28")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
        return json.loads(text) if text else None, response.headers.get("Link", "")


def next_link(link_header):
    """The rel="next" URL of a GitHub Link header, or None."""
    for part in link_header.split(","):
        if 'rel="next"' in part:
            start, end = part.find("<"), part.find(">")
            if start != -1 and end > start:
                return part[start + 1 : end]
    return None


def pull_request_number(event_path):
    try:
        with open(event_path, encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"Failed to read the event file {event_path}: {e}")
    pr = event.get("pull_request") or {}
    number = pr.get("number") or (event.get("issue") or {}).get("number")
    if (event.get("issue") or {}).get("pull_request") is None and not pr:
        return None
    return number


def main(argv):
    if len(argv) != 2:
        fail("usage: comment.py REPORT.md")
    report_path = argv[1]
    try:
        with open(report_path, encoding="utf-8") as f:
            body = f.read()
    except OSError as e:
        fail(f"Failed to read the report {report_path}: {e}; did `migsafe check` run?")
    if not body.startswith(MARKER):
        fail(f"{report_path} does not start with {MARKER}: not a migsafe Markdown report")

    token = os.environ.get("GITHUB_TOKEN", "")
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    api_url = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    event_path = os.environ.get("GITHUB_EVENT_PATH", "")
    if not token:
        fail("GITHUB_TOKEN is empty; pass `github-token` (default: github.token)")
    if not repo or "/" not in repo:
        fail(f"GITHUB_REPOSITORY is {repo!r}; expected owner/name")
    number = pull_request_number(event_path) if event_path else None
    if number is None:
        print("migsafe: not a pull request event; no comment")
        return 0

    try:
        url = f"{api_url}/repos/{repo}/issues/{number}/comments?per_page=100"
        existing = None
        while url and existing is None:
            comments, link = api("GET", url, token)
            for comment in comments or []:
                if (comment.get("body") or "").startswith(MARKER):
                    existing = comment
                    break
            url = next_link(link)
        if existing:
            api("PATCH", f"{api_url}/repos/{repo}/issues/comments/{existing['id']}", token,
                {"body": body})
            print(f"migsafe: updated comment {existing['id']} on #{number}")
        else:
            created, _ = api("POST", f"{api_url}/repos/{repo}/issues/{number}/comments", token,
                             {"body": body})
            print(f"migsafe: posted comment {created.get('id')} on #{number}")
    except urllib.error.HTTPError as e:
        if e.code == 403:
            # Pull requests from forks get a read-only token.
            print(f"::warning title=migsafe comment::GitHub refused the comment (403): "
                  f"a read-only token, as on pull requests from forks; the report is in "
                  f"{report_path}")
            return 0
        fail(f"GitHub API answered {e.code} {e.reason} for {e.url}")
    except urllib.error.URLError as e:
        fail(f"Failed to reach the GitHub API at {api_url}: {e.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
