"""Builders of the stack's Grafana dashboards (grafana/dashboards/*.json); see render.py."""
