"""A thread-safe cache of the parsed forms in the forms folder, refreshed when a file changes, and of the
forms stored with process-definition versions (immutable, so cached for good)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from app.forms.definition import FormDefinition, normalize_form_key, parse_form
from app.forms.model import FormDefinitionError

MAX_FORM_FILE_BYTES = 2 * 1024 * 1024


class FormRegistry:
    """Parsed forms by file name; a file is parsed again when its mtime or size changes."""

    def __init__(self, forms_dir: str | Path) -> None:
        self.forms_dir = Path(forms_dir)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[int, int], FormDefinition]] = {}
        self._stored: dict[tuple[int, str], FormDefinition | None] = {}

    def get(self, form_key: str) -> FormDefinition:
        """The form a `camunda:formKey` names.

        :raises FormDefinitionError: bad key, missing file, or a file that does not parse.
        """
        name = normalize_form_key(form_key)
        path = self.forms_dir / name
        try:
            stat = path.stat()
        except OSError:
            raise FormDefinitionError("form not found in the forms folder", form_key=name) from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        # Parsed outside the lock: two threads may both parse a changed file, which is harmless,
        # while a slow parse never blocks requests for other forms.
        form = self._load(path, name)
        with self._lock:
            self._cache[name] = (stamp, form)
        return form

    def stored(self, definition_id: int, key: str, load: Callable[[], str | None]) -> FormDefinition | None:
        """The form `key` deployed with a process-definition version; `load()` reads its JSON text (None:
        not stored). A version never changes, so what was found, or not found, is kept for good (most
        steps have no inline form: asking again for each would cost a query per step).

        :raises FormDefinitionError: the stored text does not parse (it did when it was deployed).
        """
        with self._lock:
            if (definition_id, key) in self._stored:
                return self._stored[(definition_id, key)]
        text = load()
        form = parse_form(text, key=key) if text is not None else None
        with self._lock:
            self._stored[(definition_id, key)] = form
        return form

    def read_text(self, form_key: str) -> str:
        """The JSON text of a form in the folder, to store it with a process version.

        :raises FormDefinitionError: bad key, missing, too large or unreadable file.
        """
        name = normalize_form_key(form_key)
        return self._text(self.forms_dir / name, name)

    def exists(self, form_key: str) -> bool:
        """Whether the key names a file in the folder (an unsafe key simply does not exist)."""
        try:
            return (self.forms_dir / normalize_form_key(form_key)).is_file()
        except FormDefinitionError:
            return False

    def clear(self) -> None:
        """Forget all parsed forms (tests, or after a bulk redeploy)."""
        with self._lock:
            self._cache.clear()
            self._stored.clear()

    @classmethod
    def _load(cls, path: Path, name: str) -> FormDefinition:
        return parse_form(cls._text(path, name), key=name)

    @staticmethod
    def _text(path: Path, name: str) -> str:
        if not path.is_file():
            raise FormDefinitionError("not a file", form_key=name)
        if path.stat().st_size > MAX_FORM_FILE_BYTES:
            raise FormDefinitionError(f"larger than {MAX_FORM_FILE_BYTES} bytes", form_key=name)
        try:
            return path.read_text(encoding="utf-8-sig")  # tolerate a BOM from Windows editors
        except (OSError, UnicodeDecodeError) as exc:
            raise FormDefinitionError(f"cannot read: {exc}", form_key=name) from None
