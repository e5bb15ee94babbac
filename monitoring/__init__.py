"""Operations: /healthz, /metrics and structured logs (see monitoring.views)."""
