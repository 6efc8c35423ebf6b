"""A property-based run over the OpenAPI document (schemathesis, bounded examples): no request gets a 5xx.

Every operation of ``/openapi.json`` gets generated requests that fit its
schema and requests that break it, sent to a real server on a copy of the
demo workspace. Whatever the input, the answer is a 2xx, 3xx or 4xx, and an
error never carries a traceback or the token.
"""

from __future__ import annotations

import pytest
from api_helpers import TOKEN

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402

#: Examples per operation and mode (bounded: the whole run takes seconds).
EXAMPLES = 12


def test_no_operation_answers_5xx(served):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    schema = schemathesis.openapi.from_url(served.url + "/openapi.json", headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35  # the whole API is described
    failures: list[tuple] = []
    sent = 0
    for op in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(mode))
            def call(case) -> None:
                nonlocal sent
                response = case.call(base_url=served.url, headers=auth, timeout=60)
                sent += 1
                text = response.text
                if response.status_code >= 500 or "Traceback" in text or TOKEN in text:
                    failures.append((case.method, case.path, case.path_parameters, response.status_code, text[:300]))

            try:
                call()
            except Unsatisfiable:  # nothing to break (an operation without parameters or body)
                continue
    assert sent > len(operations) * EXAMPLES
    assert failures == []
