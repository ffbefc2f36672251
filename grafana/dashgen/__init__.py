"""Generator of the stack's Grafana dashboards (grafana/dashboards/*.json); see generate.py."""
