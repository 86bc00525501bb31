"""The README links into the docs site, and its first command must be the one CI builds with.

`mkdocs build --strict` (in .ci/run) checks every link and anchor inside docs/, but README.md is not part of the
site: these tests check what it points at."""

import re
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(markdown: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", markdown.read_text(encoding="utf-8"), flags=re.S)  # code is not a link
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def test_every_relative_link_in_the_readme_names_a_file_that_exists():
    links = relative_links(REPO / "README.md")
    assert links, "the README links to the docs pages"
    missing = [link for link in links if not (REPO / link.split("#")[0]).is_file()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_a_readme_link_with_an_anchor_names_a_heading_of_that_page():
    for link in relative_links(REPO / "README.md"):
        path, _, anchor = link.partition("#")
        if anchor:
            headings = re.findall(r"^#+ (.+)$", (REPO / path).read_text(encoding="utf-8"), flags=re.M)
            slugs = {re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", h.lower()).strip()) for h in headings}
            assert anchor in slugs, f"README.md: {link}: no such heading in {path}"


def test_the_readmes_first_command_builds_llama_cpp_as_ci_does():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = next(line for line in readme.splitlines() if line.startswith("python3 -m venv .venv"))
    readme_args = next(word for word in shlex.split(first) if word.startswith("CMAKE_ARGS="))
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    ci_args = re.search(r'^CMAKE_ARGS="([^"]+)"', ci, flags=re.M)
    assert ci_args, ".ci/run sets CMAKE_ARGS"
    assert readme_args == f"CMAKE_ARGS={ci_args.group(1)}"
