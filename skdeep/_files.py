"""The ``skdeep`` command's files: guards on ``--output`` and atomic writes.

:func:`check_output_file` and :func:`check_output_folder` run before any
training, so a bad ``--output`` fails in a second rather than after minutes:
an output that is one of the command's inputs, a symbolic link, a folder where
a file is wanted (or the reverse), a missing or read-only folder.
:func:`replaced_atomically` writes through a temporary file in the same folder
and ``os.replace``: a failed write leaves no partial file and the old file
intact, and a symbolic link put at the path meanwhile is replaced, not
followed. Errors meant for the user raise :class:`CLIError`.
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = [
    "CLIError",
    "check_output_file",
    "check_output_folder",
    "replaced_atomically",
]


class CLIError(Exception):
    """An error reported as one line on stderr; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def _same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file (after links, hard links included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK | os.X_OK if path.is_dir() else os.W_OK)


def _refuse_inputs(output: str | Path, inputs: Mapping[str, str | Path | None]):
    """``inputs`` maps a flag to its path; the output may be none of them."""
    for flag, path in inputs.items():
        if path is not None and _same_file(output, path):
            raise CLIError(
                f"--output {output} is the same file as {flag} {path}; "
                "choose another output"
            )


def check_output_file(output: str | Path, inputs: Mapping[str, str | Path | None]):
    """Check that ``output`` can become a new file, before the work starts.

    Parameters
    ----------
    output : str or Path
        The file the command will write (and replace, if it exists).
    inputs : mapping of str to str, Path or None
        The command's input files by flag, such as ``{"--csv": "data.csv"}``;
        ``None`` values are skipped.
    """
    _refuse_inputs(output, inputs)
    path = Path(output)
    if path.is_symlink():
        raise CLIError(
            f"--output {output} is a symbolic link; skdeep does not write "
            "through links: remove it or choose another path"
        )
    if path.is_dir():
        raise CLIError(f"--output {output} is a folder, not a file")
    folder = path.parent
    if not folder.is_dir():
        raise CLIError(f"--output {output}: no such folder {folder}")
    if not _writable(folder):
        raise CLIError(f"--output {output}: folder {folder} is not writable")
    if path.exists() and not _writable(path):
        raise CLIError(f"--output {output} exists and is read-only")


def check_output_folder(
    directory: str | Path, filename: str, inputs: Mapping[str, str | Path | None]
):
    """Check that ``directory`` exists or can be created, and can hold ``filename``.

    Nothing is created here: the folder is made when the results are written.
    """
    _refuse_inputs(directory, inputs)
    path = Path(directory)
    if path.is_symlink() and not path.exists():
        raise CLIError(f"--output {directory} is a broken symbolic link")
    if path.exists() and not path.is_dir():
        raise CLIError(f"--output {directory} is a file, not a folder")
    if path.is_dir():
        if not _writable(path):
            raise CLIError(f"--output {directory}: folder is not writable")
        check_output_file(path / filename, inputs)
        return
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not _writable(ancestor):
        problem = "is not a folder" if not ancestor.is_dir() else "is not writable"
        raise CLIError(f"cannot create --output {directory}: {ancestor} {problem}")


@contextlib.contextmanager
def replaced_atomically(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    The temporary file keeps ``path``'s name as its end, so writers that read
    the extension (joblib's compression) behave as with ``path`` itself. It
    gets the mode a new file would get (or the old file's mode), is flushed to
    disk and renamed over ``path`` with ``os.replace``; on any error it is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(
        dir=path.parent, prefix=".skdeep-", suffix=f"-{path.name}"
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _mode_for(path))
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The old file's permissions, or a new file's (0o666 less the umask)."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the system allows.

    Setting it to read it (the portable way) opens a window in which other
    threads would create files with the wrong permissions.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask
