"""Every link in README.md and docs/*.md leads somewhere, and every page under docs/ is linked from the README.

Relative links must name a file or folder of the repository; a `#anchor` must name a heading of the target
page (GitHub's slugs); external links are only checked for form, never fetched. The negative cases build a
small repository in a temporary folder and break it one way at a time, so the checker is shown to fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold inline code but no brackets.
INLINE_LINK = re.compile(r"!?\[(?P<text>[^\[\]]*)\]\(\s*<?(?P<target>[^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s+.*)?$")
AUTOLINK = re.compile(r"<(?P<target>[a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"(?P<name>[^\"]+)\"", re.IGNORECASE)
LINE_ANCHOR = re.compile(r"^L\d+(-L\d+)?$")
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:\d+)?$")


def documents(root: Path) -> list[Path]:
    """The pages checked: the README and every Markdown file under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None and opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
            fence = None
        elif fence is None:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text, lower case, punctuation dropped, spaces as hyphens."""
    text = INLINE_LINK.sub(lambda match: match.group("text"), heading)
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a page offers: its headings' slugs (repeats get -1, -2, ...) and explicit HTML anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        heading = HEADING.match(line)
        if heading:
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(match.group("name") for match in HTML_ANCHOR.finditer(line))
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every inline link, image, reference definition and autolink outside code."""
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            found.append((number, definition.group("target")))
            continue
        prose = INLINE_CODE.sub(lambda match: "x" * len(match.group(0)), line)
        found.extend((number, match.group("target")) for match in INLINE_LINK.finditer(prose))
        found.extend((number, match.group("target")) for match in AUTOLINK.finditer(prose))
    return found


def external_problem(target: str) -> str | None:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not http or https"
    if not HOST.match(parts.netloc):
        return f"host {parts.netloc!r} is not a host name"
    if any(character.isspace() for character in target):
        return "it contains white space"
    return None


def link_problem(root: Path, page: Path, target: str) -> str | None:
    """What is wrong with one link of `page`, or None."""
    if not target:
        return "empty link"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
        return external_problem(target)
    path_part, _, anchor = target.partition("#")
    path_part = unquote(path_part)
    if not path_part:
        destination = page
    elif path_part.startswith("/"):
        destination = (root / path_part.lstrip("/")).resolve()
    else:
        destination = (page.parent / path_part).resolve()
    if destination != root.resolve() and root.resolve() not in destination.parents:
        return f"{path_part} is outside the repository"
    if not destination.exists():
        return f"{path_part} does not exist"
    if not anchor:
        return None
    if destination.suffix != ".md":
        return None if LINE_ANCHOR.match(anchor) else f"#{anchor}: {path_part} is not a Markdown page"
    if anchor not in anchors(destination):
        return f"#{anchor}: no such heading in {destination.relative_to(root.resolve())}"
    return None


def problems(root: Path) -> list[str]:
    """Every broken link of the README and docs/, and every docs/ page the README does not link to."""
    root = root.resolve()
    found: list[str] = []
    for page in documents(root):
        if not page.exists():
            found.append(f"{page.relative_to(root)}: missing")
            continue
        for number, target in links(page):
            problem = link_problem(root, page, target)
            if problem:
                found.append(f"{page.relative_to(root)}:{number}: ({target}) {problem}")
    readme = root / "README.md"
    if readme.exists():
        linked = {(readme.parent / unquote(target.partition("#")[0])).resolve()
                  for _, target in links(readme) if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target)}
        found.extend(f"{page.relative_to(root)}: not linked from README.md"
                     for page in documents(root)[1:] if page not in linked)
    return found


# -- the repository itself -------------------------------------------------------------------------------


def test_every_link_of_the_readme_and_the_docs_resolves_and_no_docs_page_is_an_orphan() -> None:
    assert problems(ROOT) == []


def test_the_check_sees_the_docs_and_their_links() -> None:
    pages = documents(ROOT)
    assert len(pages) > 1, "docs/ has no Markdown pages"
    assert all(links(page) for page in pages), "a page without any link: is the link pattern still right?"
    # The README's own anchors are checked too: the diagram section is what docs/ points at.
    assert "the-workflow" in anchors(ROOT / "README.md")


# -- the checker, shown to fail --------------------------------------------------------------------------


@pytest.mark.parametrize(("heading", "expected"), [
    ("Quickstart", "quickstart"),
    ("Benchmarks (`make bench`)", "benchmarks-make-bench"),
    ('Why: the AWS procedure and what "safe" means', "why-the-aws-procedure-and-what-safe-means"),
    ("Recovery: every path releases the lock", "recovery-every-path-releases-the-lock"),
    ("The [command line](cli.md) and exit_codes", "the-command-line-and-exit_codes"),
    ("Input & output", "input--output"),
])
def test_slugs_are_githubs(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def small_repository(root: Path) -> Path:
    (root / "docs").mkdir()
    (root / "examples").mkdir()
    (root / "examples" / "new-model.json").write_text("{}\n")
    (root / "README.md").write_text(
        "# Project\n\n## Quickstart\n\nSee [the guide](docs/guide.md#input-fields), [below](#quickstart),\n"
        "[examples](examples/), [a file](examples/new-model.json) and [AWS](https://docs.aws.amazon.com/x.html).\n\n"
        "```sh\n[not a link](nowhere.md)\n```\n\n`[not a link either](nowhere.md)`\n"
    )
    (root / "docs" / "guide.md").write_text(
        "# Guide\n\n## Input fields\n\n## Input fields\n\nBack to the [README](../README.md#quickstart), "
        "the [second heading](#input-fields-1).\n"
    )
    return root


def test_the_small_repository_is_clean(tmp_path: Path) -> None:
    assert problems(small_repository(tmp_path)) == []


BREAKAGES = {
    "missing file": ("README.md", "(examples/new-model.json)", "(examples/old-model.json)", "does not exist"),
    "missing page, which also leaves the page an orphan": ("README.md", "docs/guide.md#", "docs/gide.md#",
                                                          "does not exist"),
    "missing anchor in another page": ("README.md", "#input-fields)", "#input-field)", "no such heading"),
    "missing anchor in the same page": ("README.md", "(#quickstart)", "(#quick-start)", "no such heading"),
    "third repeat of a heading": ("docs/guide.md", "#input-fields-1", "#input-fields-2", "no such heading"),
    "relative to the wrong folder": ("docs/guide.md", "../README.md#quickstart", "README.md#quickstart",
                                     "does not exist"),
    "outside the repository": ("docs/guide.md", "../README.md#quickstart", "../../README.md",
                               "outside the repository"),
    "malformed external link": ("README.md", "https://docs.aws.amazon.com/x.html", "https:///x.html",
                                "is not a host name"),
    "external link without http": ("README.md", "https://docs.aws.amazon.com/x.html", "ftp://example.com/x",
                                   "is not http or https"),
    "anchor on a file that is not a page": ("README.md", "examples/new-model.json", "examples/new-model.json#top",
                                            "is not a Markdown page"),
    "empty link": ("README.md", "(#quickstart)", "()", "empty link"),
}


@pytest.mark.parametrize("case", sorted(BREAKAGES))
def test_a_broken_link_is_reported(tmp_path: Path, case: str) -> None:
    page, old, new, message = BREAKAGES[case]
    root = small_repository(tmp_path)
    text = (root / page).read_text()
    assert old in text
    (root / page).write_text(text.replace(old, new, 1))
    found = problems(root)
    assert found and message in found[0] and found[0].startswith(page), found
    assert len(found) == (2 if "orphan" in case else 1), found


def test_a_docs_page_the_readme_does_not_link_is_reported(tmp_path: Path) -> None:
    root = small_repository(tmp_path)
    (root / "docs" / "orphan.md").write_text("# Orphan\n\nBack to the [README](../README.md).\n")
    assert problems(root) == ["docs/orphan.md: not linked from README.md"]


def test_a_link_from_another_docs_page_does_not_make_an_orphan_linked(tmp_path: Path) -> None:
    root = small_repository(tmp_path)
    (root / "docs" / "orphan.md").write_text("# Orphan\n")
    guide = root / "docs" / "guide.md"
    guide.write_text(guide.read_text() + "\nSee the [orphan](orphan.md).\n")
    assert problems(root) == ["docs/orphan.md: not linked from README.md"]
