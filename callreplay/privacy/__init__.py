"""What is private in what callreplay writes: phone numbers and credentials, found in one place.

:mod:`.phones` finds phone numbers (with ``phonenumbers``), :mod:`.secrets` credentials by shape
and by field name, :mod:`.line_scan` narrows a large trace to the lines worth checking. What
replaces them is the caller's choice: pseudonyms in captures and imports
(:mod:`callreplay.capture.redact`), masks in reports, results and traces (:mod:`callreplay.redact`).
"""
