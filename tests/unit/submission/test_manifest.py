from __future__ import annotations

import pytest

from pytest_interop.submission.manifest import (
    ManifestError,
    check_digests,
    compute_digests,
    parse_manifest,
    render_manifest,
)


def test_manifest_lists_every_file_but_itself_sorted_in_sha256sum_format(tmp_path):
    (tmp_path / "b.txt").write_text("b")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    (tmp_path / "MANIFEST").write_text("old")
    (tmp_path / "MANIFEST.sig").write_text("old")
    text = render_manifest(compute_digests(tmp_path))
    assert text.splitlines() == [
        "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.txt",
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a  sub/a.json",
    ]
    assert parse_manifest(text) == compute_digests(tmp_path)


@pytest.mark.parametrize(
    "line",
    [
        "abc  file",
        f"{'0' * 64} file",
        f"{'0' * 64}  ../outside",
        f"{'0' * 64}  /etc/passwd",
        f"{'A' * 64}  file",
    ],
)
def test_malformed_or_unsafe_lines_are_refused(line):
    with pytest.raises(ManifestError):
        parse_manifest(line + "\n")


def test_duplicate_entries_are_refused():
    line = f"{'0' * 64}  file\n"
    with pytest.raises(ManifestError, match="twice"):
        parse_manifest(line + line)


def test_check_names_changed_missing_added_and_symlinked_files(tmp_path):
    for name in ("keep", "change", "remove", "link"):
        (tmp_path / name).write_text(name)
    listed = compute_digests(tmp_path)
    (tmp_path / "change").write_text("changed")
    (tmp_path / "remove").unlink()
    (tmp_path / "added").write_text("new")
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to(tmp_path / "keep")
    result = check_digests(tmp_path, listed)
    assert not result.ok
    assert result.problems() == [
        "change: sha256 differs from MANIFEST (file changed)",
        "remove: listed in MANIFEST but missing",
        "added: not listed in MANIFEST (file added)",
        "link: not a regular file",
    ]
