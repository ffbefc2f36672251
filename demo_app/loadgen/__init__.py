"""Demo load and incident scenarios for rag-api.

`python -m demo_app.loadgen list` shows the scenarios in `scenarios.yaml`;
`python -m demo_app.loadgen run <scenario>` sets the scenario's faults through `/admin/faults`,
drives traffic with Locust (headless, as a subprocess) and always clears the faults at the end.

Locust is only ever run as a subprocess (`locustfile.py`); nothing in this package imports it,
so the package is safe to import from pytest.
"""
