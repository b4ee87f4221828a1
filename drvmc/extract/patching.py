"""Applying a unified diff to in-memory copies of the driver's sources.

unidiff parses the patch (git format-patch mail, `diff -u`, `git diff`); each hunk is applied
where its old lines stand, searched first at the line the hunk names and then outward from it
(as `patch` does with an offset), never with fuzz: a hunk whose context is not in the file is an
error naming the patch, the file and the hunk. The files on disk are never touched.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from drvmc.checker.errors import UsageError


class PatchError(UsageError):
    """A patch that cannot be read or does not apply (exit code 3, like every bad input)."""


def subject(text: str, fallback: str) -> str:
    """The patch's subject line (`Subject: [PATCH v2] foo: fix ...` → `foo: fix ...`)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Subject:"):
            s = line.removeprefix("Subject:").strip()
            # a folded header continues on indented lines
            for more in lines[i + 1:]:
                if not more.startswith((" ", "\t")):
                    break
                s += " " + more.strip()
            while s.startswith("["):
                s = s[s.find("]") + 1:].strip() if "]" in s else s[1:]
            return s or fallback
    for line in lines:
        if line.strip() and not line.startswith(("diff ", "--- ", "+++ ", "Index:", "===",
                                                  "From ", "@@")):
            return line.strip()
        if line.startswith(("diff ", "--- ")):
            break
    return fallback


def _match(path: str, names: list[str]) -> str | None:
    """The source a patched path refers to: the longest common path suffix wins."""
    parts = PurePosixPath(path).parts
    if parts and parts[0] in ("a", "b"):
        parts = parts[1:]
    best, best_len = None, 0
    for n in names:
        nparts = PurePosixPath(n.replace("\\", "/")).parts
        k = 0
        while k < min(len(parts), len(nparts)) and parts[-1 - k] == nparts[-1 - k]:
            k += 1
        if k > best_len:
            best, best_len = n, k
    return best


def apply_patch(sources: dict[str, str], patch_text: str, patch_name: str) -> dict[str, str]:
    """A copy of `sources` (file name → text) with the patch applied."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet

    try:
        patch = PatchSet(patch_text)
    except (UnidiffParseError, ValueError, IndexError) as e:
        raise PatchError(f"{patch_name}: not a unified diff: {e}") from None
    if not patch:
        raise PatchError(f"{patch_name}: no file changes found (not a unified diff?)")
    out = dict(sources)
    for pf in patch:
        path = pf.target_file if pf.target_file != "/dev/null" else pf.source_file
        name = _match(path, list(out))
        if name is None:
            raise PatchError(f"{patch_name}: changes {pf.path}, which is not one of the "
                             f"source files ({', '.join(out)})")
        lines = out[name].splitlines(keepends=True)
        offset = 0
        for k, hunk in enumerate(pf, start=1):
            old = [_nl(ln.value) for ln in hunk if ln.is_context or ln.is_removed]
            new = [_nl(ln.value) for ln in hunk if ln.is_context or ln.is_added]
            want = max(hunk.source_start - 1, 0) + offset
            at = _find(lines, old, want)
            if at is None:
                header = (f"@@ -{hunk.source_start},{hunk.source_length} "
                          f"+{hunk.target_start},{hunk.target_length} @@")
                raise PatchError(f"{patch_name}: hunk #{k} ({header}) of {pf.path} does not "
                                 f"apply to {name}: its context is not in the file")
            lines[at:at + len(old)] = new
            offset += (at - want) + len(new) - len(old)
        out[name] = "".join(lines)
    return out


def _nl(s: str) -> str:
    return s if s.endswith("\n") else s + "\n"


def _same(a: str, b: str) -> bool:
    return a.rstrip("\r\n") == b.rstrip("\r\n")


def _find(lines: list[str], old: list[str], want: int) -> int | None:
    if not old:
        return min(max(want, 0), len(lines))
    n = len(lines)
    for delta in range(n + 1):
        for at in (want - delta, want + delta) if delta else (want,):
            if 0 <= at <= n - len(old) and all(_same(lines[at + i], old[i])
                                                  for i in range(len(old))):
                return at
    return None
